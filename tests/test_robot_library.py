"""The Robot library loads, and every keyword has documentation for libdoc's manual."""

import json
import subprocess
import sys

import pytest

from hil.build import REPO
from hil.robot.board import BoardKeywords


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    out = tmp_path_factory.mktemp("libdoc") / "NetBench.json"
    p = subprocess.run([sys.executable, "-m", "robot.libdoc", "hil.robot.NetBench", str(out)],
                       capture_output=True, text=True, cwd=REPO, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    return json.loads(out.read_text())


def test_libdoc_lists_documented_keywords(spec):
    names = {kw["name"]: kw for kw in spec["keywords"]}
    for expected in ("Ping Board", "Open UDP Socket On Board", "Bind UDP Socket",
                     "Wait For Line On Uart", "Result Should Be", "Send Raw Frame To Board"):
        assert expected in names
    undocumented = [n for n, kw in names.items() if not kw["doc"].strip()]
    assert not undocumented, f"keywords without documentation: {undocumented}"


def test_suites_parse_and_use_only_known_keywords(tmp_path):
    p = subprocess.run([sys.executable, "-m", "robot", "--dryrun", "--output", "NONE",
                        "--report", "NONE", "--log", "NONE", str(REPO / "suites")],
                       capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert p.returncode == 0, p.stdout[-3000:]


# -- Result Should Be ---------------------------------------------------------------------------


@pytest.mark.parametrize("result, expected, message", [
    (0, "UDPSOCKET_INUSE", "expected UDPSOCKET_INUSE (-65531), got 0 (UDPSOCKET_OK)"),
    (-65534, "ETH_OK", "expected ETH_OK (0), got -65534 (ETH_TIMEOUT)"),
    (-65528, "TCPSOCKET_OK", "expected TCPSOCKET_OK (0), got -65528 (TCPSOCKET_RST)"),
    (0, "DNS_PROCESSING", "expected DNS_PROCESSING (-65530), got 0 (DNS_OK)"),
    (12, "UDPSOCKET_OK", "expected UDPSOCKET_OK (0), got 12"),
])
def test_result_should_be_names_the_value_in_the_expected_enum(result, expected, message):
    with pytest.raises(AssertionError) as exc:
        BoardKeywords(None).result_should_be(result, expected)
    assert str(exc.value) == message


def test_result_should_be_passes_on_a_match():
    BoardKeywords(None).result_should_be(-65531, "UDPSOCKET_INUSE")
    BoardKeywords(None).result_should_be("0", "TCPSOCKET_OK")
    BoardKeywords(None).result_should_be(5, "5")


# -- Robot conventions --------------------------------------------------------------------------

_TIME_ARGS = ("timeout", "settle", "seconds", "delay")


def test_every_time_argument_takes_a_robot_time_string(spec):
    from robot.running.arguments.typeconverters import TypeConverter
    from robot.running.arguments.typeinfo import TypeInfo

    checked = []
    for kw in spec["keywords"]:
        for arg in kw["args"]:
            if arg["name"] in _TIME_ARGS:
                checked.append(kw["name"])
                info = TypeInfo.from_type_hint(_hint(arg["type"]))
                for text in ("2s", "500 ms", "1.5"):
                    assert TypeConverter.converter_for(info).convert(text, arg["name"]) \
                        is not None, f"{kw['name']}: {arg['name']}={text!r}"
    assert len(checked) > 30


def _hint(t):
    names = {"str": str, "float": float, "int": int, "None": type(None),
             "timedelta": __import__("datetime").timedelta}
    if t is None:
        return str
    if t["union"]:
        import typing

        return typing.Union[tuple(_hint(n) for n in t["nested"])]
    return names.get(t["name"], str)


def test_the_time_helper_reads_robot_time_strings():
    from hil.robot.timeouts import secs

    assert secs("2s") == 2.0 and secs("500 ms") == 0.5 and secs(3) == 3.0 and secs("1.5") == 1.5


def test_one_verb_for_receiving(spec):
    names = [kw["name"] for kw in spec["keywords"]]
    assert not [n for n in names if n.split()[0].lower() in ("recv", "recvfrom")], names
    assert {"Receive From UDP Socket", "Receive From TCP Socket"} <= set(names)


def test_suite_scenarios_live_in_suite_resources(spec):
    names = {kw["name"] for kw in spec["keywords"]}
    assert "Fourth Client Is Not Served" not in names
    assert (REPO / "suites" / "resources" / "echo_server.resource").is_file()


def test_import_arguments_are_documented(spec):
    doc = spec["inits"][0]["doc"]
    assert "bench" in doc and "workdir" in doc and "HIL_BENCH" in doc and "HIL_WORKDIR" in doc


def test_pytest_fixtures_are_documented():
    import hil.pytest_plugin as plugin

    for name in ("hil_bench", "board", "udp_socket", "host_udp"):
        fn = getattr(plugin, name)
        assert (getattr(fn, "__wrapped__", fn).__doc__ or "").strip(), name


def test_plugin_collects_robot_files_only_in_its_configured_paths(tmp_path):
    (tmp_path / "stray.robot").write_text("*** Test Cases ***\nStray\n    No Operation\n")
    (tmp_path / "test_plain.py").write_text("def test_plain():\n    pass\n")
    p = _collect(tmp_path)
    assert "test_plain" in p.stdout, p.stdout + p.stderr
    assert "stray" not in p.stdout.lower(), p.stdout


def test_plugin_collects_the_configured_robot_paths(tmp_path):
    mine = tmp_path / "mysuites"
    mine.mkdir()
    (mine / "mine.robot").write_text("*** Test Cases ***\nMine\n    No Operation\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\nhil_robot_paths = mysuites\n")
    p = _collect(tmp_path)
    assert "mine.robot" in p.stdout, p.stdout + p.stderr


def _collect(project):
    """``pytest --collect-only`` run in ``project`` as its own root."""
    return subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p",
                           "no:cacheprovider", str(project)], capture_output=True, text=True,
                          cwd=project, timeout=120)


#: What a keyword must leave to the layers below it (hil.net, hil.net.frames, hil.peers):
#: packing bytes, running `ip`, and the bench LAN's bridge and port names.
_LOWER_LAYERS = {
    "packs bytes with struct (use hil.net.frames or hil.peers)": r"\bstruct\.|\bimport struct\b",
    "runs ip (use a hil.net.BenchNetwork method)":
        r"""[\[(]\s*["']ip["']\s*,|["']ip\s+(link|route|addr|neigh)\b""",
    "names the bridge (only hil.net knows it)": r"\bbr0\b",
    "names a bridge port (BenchNetwork.port_name)": r"""-p["']""",
}


def test_keywords_leave_frames_and_ip_commands_to_the_layers_below():
    import re

    found = []
    for path in sorted((REPO / "hil" / "robot").glob("*.py")):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            for why, pattern in _LOWER_LAYERS.items():
                if re.search(pattern, line):
                    found.append(f"{path.relative_to(REPO)}:{n}: {why}: {line.strip()}")
    assert not found, "\n".join(found)


def test_the_layer_rule_catches_what_it_names():
    import re

    caught = ['hdr = struct.pack("!H", 1)', 'net.run(["ip", "link", "set", x])',
              'cmd = "ip route replace 1.2.3.4 dev x"', 'raw_socket("br0")', 'f"{board}-p"']
    for line in caught:
        assert any(re.search(p, line) for p in _LOWER_LAYERS.values()), line
    for line in ['return m["ip"]', "reply['ip']", "board.ip", "skip", '"-pipe"']:
        assert not any(re.search(p, line) for p in _LOWER_LAYERS.values()), line
