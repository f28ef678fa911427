"""The firmware's framing code and the generated C++ header, compiled for the host with g++,
must agree byte for byte with the Python side."""

import random
import shutil
import subprocess
from pathlib import Path

import pytest

from hil.protocol import codec, codegen, framing

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def roundtrip(tmp_path_factory):
    if not shutil.which("g++"):
        pytest.skip("g++ is not installed (the host C++ compiler builds this check)")
    d = tmp_path_factory.mktemp("proto")
    (d / "agent_proto.h").write_text(codegen.generate_header())
    exe = d / "roundtrip"
    subprocess.run(["g++", "-std=c++17", "-Wall", "-Wextra", "-Werror", "-fsanitize=address,undefined",
                    f"-I{d}", f"-I{REPO / 'firmware/agent'}",
                    str(REPO / "tests/protocol/cpp/frame_roundtrip.cpp"),
                    str(REPO / "firmware/agent/framing.cpp"), "-o", str(exe)], check=True)
    return exe


def run(exe, data: bytes):
    p = subprocess.run([str(exe)], input=data, capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return p.stdout, p.stderr.decode()


def test_cpp_reencodes_python_frames_identically(roundtrip):
    rnd = random.Random(3)
    frames = [framing.encode_frame(codec.encode_request(
        "UDP_SENDTO", i, handle=i % 8, ip="192.0.2.%d" % (i % 250), port=i,
        data=bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 1500)))))
        for i in range(1, 40)]
    out, err = run(roundtrip, b"".join(frames))
    assert "MISMATCH" not in err and "DECODE-FAIL" not in err and "BAD" not in err
    assert out == b"".join(frames)


def test_cpp_resynchronises_like_python(roundtrip):
    good = framing.encode_frame(codec.encode_request("ECHO", 5, data=b"ok"))
    stream = b"\x00\xde\xad" + good + b"\x00\x05\x01" + good + b"\x00" + bytes(5000) + good
    out, err = run(roundtrip, stream)
    assert out == good * 3
    assert err.count("BAD") >= 2


def test_cpp_rejects_bad_crc(roundtrip):
    body = codec.encode_request("ECHO", 5, data=b"abc")
    wrong = (framing.crc16(body) ^ 0x0100).to_bytes(2, "little")
    out, err = run(roundtrip, b"\x00" + framing.cobs_encode(body + wrong) + b"\x00")
    assert out == b"" and "BAD 2" in err
