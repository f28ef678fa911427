"""./hilw's first run: it says what it is about to download and lets pip show progress."""

import os
import shutil
import stat
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]  # the checkout: an installed hil has no hilw

FAKE = """#!/bin/sh
echo "$0 $*" >> "{log}"
"""


def test_first_run_names_the_size_and_shows_pips_progress(tmp_path):
    shutil.copy(REPO / "hilw", tmp_path / "hilw")
    (tmp_path / "pyproject.toml").write_text("")
    bindir = tmp_path / ".venv" / "bin"
    bindir.mkdir(parents=True)
    log = tmp_path / "calls.log"
    for name in ("python", "hil"):  # a venv that exists, with pip not yet run
        (bindir / name).write_text(FAKE.format(log=log))
        (bindir / name).chmod(stat.S_IRWXU)
    p = subprocess.run(["sh", str(tmp_path / "hilw"), "--version"], capture_output=True,
                       text=True, timeout=30, env=dict(os.environ))
    assert p.returncode == 0, p.stderr
    pip = [line for line in log.read_text().splitlines() if " -m pip install " in line]
    assert pip, log.read_text()
    assert "--quiet" not in pip[0].split() and "-q" not in pip[0].split()
    assert "GB" in p.stderr or "MB" in p.stderr, p.stderr
    assert "hil --version" in log.read_text().replace(str(bindir) + "/", "")
