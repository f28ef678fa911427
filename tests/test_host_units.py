"""Host-side pieces that need no board: bench files, the console, the CLI's errors."""

import subprocess
import sys
import threading
import time

import pytest

from hil.bench import BenchConfig, BenchConfigError
from hil.build import REPO
from hil.console import Console, ConsoleTimeout


def test_default_bench_file_loads():
    cfg = BenchConfig.load()
    t = cfg.targets["board1"]
    assert (t.driver, t.image, t.ip) == ("emulated", "agent", "192.0.2.10")


@pytest.mark.parametrize("text, message", [
    ("targets: [1, 2]", "expected a mapping"),
    ("targets: {b: {driver: emulated, image: agent, ip: 10.0.0.1}}", "outside 192.0.2.0/24"),
    ("targets: {b: {driver: mbed, image: agent}}", "driver 'mbed' is not available"),
    ("targets: {b: {driver: emulated, image: agent, colour: red}}", "unknown key"),
    ("targets: {b: [", "not valid YAML"),
])
def test_bad_bench_files_give_clear_errors(tmp_path, text, message):
    f = tmp_path / "bench.yaml"
    f.write_text(text)
    with pytest.raises(BenchConfigError, match=message):
        BenchConfig.load(f)


def test_missing_bench_file(tmp_path):
    with pytest.raises(BenchConfigError, match="cannot read bench file"):
        BenchConfig.load(tmp_path / "absent.yaml")


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
