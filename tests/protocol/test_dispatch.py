"""The agent's request dispatch is generated from the definition (hil/protocol/codegen.py):
every command has exactly one hand-written handler, the generated files are deterministic
and are what the build uses, and the dispatch, compiled for the host, routes every request
to its handler and answers on the wire as the host expects."""

import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from hil.protocol import codec, codegen
from hil.protocol import definition as d

REPO = Path(__file__).resolve().parents[2]
AGENT = REPO / "firmware" / "agent"
BAD_HANDLE = 0xEE


def _handler_definitions() -> dict[str, list[str]]:
    """handle_<command> functions defined (not declared) in firmware/agent, by name."""
    found: dict[str, list[str]] = {}
    for src in sorted(AGENT.glob("*.cpp")):
        text = src.read_text()
        for m in re.finditer(r"^uint8_t (handle_\w+)\((?:[^;{]*)\)\s*\{", text, flags=re.M):
            found.setdefault(m.group(1), []).append(src.name)
    return found


def test_every_command_has_exactly_one_handler():
    defined = _handler_definitions()
    wanted = {codegen.handler_name(c) for c in d.COMMANDS}
    missing = sorted(wanted - set(defined))
    assert not missing, f"commands without a handler in firmware/agent: {missing}"
    stray = sorted(set(defined) - wanted)
    assert not stray, f"handlers for no command of the definition: {stray}"
    twice = {k: v for k, v in defined.items() if len(v) > 1}
    assert not twice, f"handlers defined more than once: {twice}"


def test_handlers_are_the_only_dispatch():
    """No hand-written switch over message codes is left beside the generated one."""
    for src in sorted(AGENT.glob("*.cpp")):
        assert "case proto::MSG_" not in src.read_text(), src.name


def test_generated_files_are_deterministic():
    first = {name: make() for name, make in codegen.GENERATED.items()}
    assert first == {name: make() for name, make in codegen.GENERATED.items()}
    # A fresh interpreter with another hash seed writes the same bytes.
    script = ("import sys, json; from hil.protocol import codegen; "
              "json.dump({n: m() for n, m in codegen.GENERATED.items()}, sys.stdout)")
    import json
    for seed in ("1", "2"):
        out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                             text=True, check=True, env={"PYTHONHASHSEED": seed, "PATH": ""})
        assert json.loads(out.stdout) == first


def test_dispatch_covers_every_command_in_order():
    text = codegen.generate_dispatch()
    cases = re.findall(r"case proto::MSG_(\w+): serve\(id, r, (handle_\w+)\)", text)
    assert cases == [(c.name, codegen.handler_name(c)) for c in d.COMMANDS]
    header = codegen.generate_handlers_header()
    for c in d.COMMANDS:
        assert f"{codegen.handler_name(c)}(const proto::{codegen.camel(c.name)}Req& req" in header


def _stubs() -> str:
    out = []
    for c in d.COMMANDS:
        base = codegen.camel(c.name)
        names = {f.name for f in c.request}
        lines = [f"uint8_t {codegen.handler_name(c)}(const proto::{base}Req& req, "
                 f"proto::{base}Reply& reply) {{",
                 "    (void)req; (void)reply;",
                 f'    fprintf(stderr, "{c.name}\\n");']
        if "handle" in names:
            lines.append(f"    if (req.handle == {BAD_HANDLE}) return proto::ERR_BAD_HANDLE;")
        if any(f.name == "result" and f.type == "i32" for f in c.reply):
            lines.append(f"    reply.result = {c.code};")
        lines += ["    return REPLY;", "}"]
        out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


def _default(f: d.Field):
    return {"ip4": "0.0.0.0", "mac": bytes(6), "bytes": b"", "str": ""}.get(f.type, 0)


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    if not shutil.which("g++"):
        pytest.skip("g++ is not installed (the host C++ compiler builds this check)")
    gen = tmp_path_factory.mktemp("dispatch")
    for name, make in codegen.GENERATED.items():
        (gen / name).write_text(make())
    (gen / "handler_stubs.inc").write_text(_stubs())
    exe = gen / "harness"
    subprocess.run(["g++", "-std=c++17", "-Wall", "-Wextra", "-Werror",
                    "-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
                    f"-I{gen}", f"-I{AGENT}", f"-I{REPO / 'firmware/net/include'}",
                    f"-idirafter{REPO / 'firmware/include'}", '-DBOARD_NAME="host"',
                    str(REPO / "tests/protocol/cpp/dispatch_harness.cpp"),
                    str(AGENT / "dispatch.cpp"), "-o", str(exe)], check=True)
    return exe


def _serve(exe, bodies: list[bytes]):
    data = b"".join(struct.pack("<H", len(b)) + b for b in bodies)
    p = subprocess.run([str(exe)], input=data, capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr.decode()
    out, msgs = p.stdout, []
    while out:
        (n,) = struct.unpack_from("<H", out)
        msgs.append(codec.decode_body(out[2:2 + n]))
        out = out[2 + n:]
    return msgs, p.stderr.decode().split()


def test_each_request_reaches_its_handler_and_gets_its_reply(harness):
    bodies = [codec.encode_request(c.name, 100 + i, **{f.name: 1 if f.name == "handle"
                                                       else _default(f) for f in c.request})
              for i, c in enumerate(d.COMMANDS)]
    msgs, called = _serve(harness, bodies)
    assert called == [c.name for c in d.COMMANDS]
    assert [(m.code, m.req_id) for m in msgs] == [
        (c.reply_code, 100 + i) for i, c in enumerate(d.COMMANDS)]
    for c, m in zip(d.COMMANDS, msgs):
        if "result" in m.fields:
            assert m["result"] == c.code


def test_errors_on_the_wire(harness):
    with_handle = [c for c in d.COMMANDS if c.request and c.request[0].name == "handle"]
    bodies = [codec.encode_request(c.name, 7, **{f.name: BAD_HANDLE if f.name == "handle"
                                                  else _default(f) for f in c.request})
              for c in with_handle]
    ping = codec.encode_request("ECHO", 9, data=b"x")
    bodies += [
        bytes([0x3B, 1, 0]),          # a request code the definition leaves free
        ping + b"\x00",               # one byte too many
        ping[:-1],                    # one byte short
        b"\x02\x05",                  # shorter than type + id
    ]
    msgs, _ = _serve(harness, bodies)
    errors = [(m.code, m.req_id, m["code"]) for m in msgs]
    assert errors == [(d.ERROR_CODE, 7, d.ERRORS["BAD_HANDLE"])] * len(with_handle) + [
        (d.ERROR_CODE, 1, d.ERRORS["UNKNOWN_TYPE"]),
        (d.ERROR_CODE, 9, d.ERRORS["BAD_PAYLOAD"]),
        (d.ERROR_CODE, 9, d.ERRORS["BAD_PAYLOAD"]),
        (d.ERROR_CODE, 0, d.ERRORS["BAD_PAYLOAD"]),
    ]
