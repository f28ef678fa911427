"""The Robot library loads, and every keyword has documentation for libdoc's manual."""

import json
import subprocess
import sys

from hil.build import REPO


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
