"""The Robot library loads, and every keyword has documentation for libdoc's manual."""

import json
import subprocess
import sys

import pytest

from hil.build import REPO
from hil.robot.board import BoardKeywords


def test_libdoc_lists_documented_keywords(tmp_path):
    out = tmp_path / "NetBench.json"
    p = subprocess.run([sys.executable, "-m", "robot.libdoc", "hil.robot.NetBench", str(out)],
                       capture_output=True, text=True, cwd=REPO, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    spec = json.loads(out.read_text())
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
