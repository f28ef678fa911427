"""Host-side pieces that need no board: the console, the CLI's errors (bench files:
test_bench_file.py)."""

import subprocess
import sys
import threading
import time

import pytest

from hil.build import REPO
from hil.console import Console, ConsoleTimeout


def test_console_lines_and_cursor(tmp_path):
    c = Console("b", tmp_path / "b.log")
    c.feed(b"hello wor")
    c.feed(b"ld\r\nsecond line\npart")
    assert c.wait_for_line("world", timeout=0.1) == "hello world"
    with pytest.raises(ConsoleTimeout, match="last lines"):
        c.wait_for_line("world", timeout=0.05)  # consumed: each line satisfies one wait
    threading.Timer(0.05, lambda: c.feed(b"ial\n")).start()
    assert c.wait_for_line(r"part\w+", timeout=2, regex=True) == "partial"
    c.close()
    assert "second line" in (tmp_path / "b.log").read_text()


def test_emulate_missing_image_is_one_line():
    p = subprocess.run([sys.executable, "-m", "hil.cli", "emulate", "/nonexistent/fw.elf"],
                       capture_output=True, text=True, cwd=REPO, timeout=60)
    assert p.returncode == 2
    assert p.stderr.strip().count("\n") == 0 and "does not exist" in p.stderr
