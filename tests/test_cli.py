"""The ``hil`` command line: Robot's and pytest's options mean what they mean there."""

import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest

from hil.build import REPO

SUITE = """*** Test Cases ***
{name} Passes
    Should Be Equal    %{{HIL_WORKDIR}}    ${{OUTPUT DIR}}${{/}}bench
"""


def tmp_cwd():
    import tempfile

    return tempfile.mkdtemp(prefix="hil-cli-test-")


def hil(*args, cwd=None, timeout=120):
    env = {k: v for k, v in os.environ.items() if k not in ("HIL_WORKDIR", "HIL_BENCH")}
    return subprocess.run([sys.executable, "-m", "hil.cli", *args], capture_output=True,
                          text=True, cwd=cwd or tmp_cwd(), env=env, timeout=timeout)


@pytest.fixture
def suites(tmp_path):
    folder = tmp_path / "suites"
    folder.mkdir()
    (folder / "alpha.robot").write_text(SUITE.format(name="Alpha"))
    (folder / "beta.robot").write_text(SUITE.format(name="Beta"))
    return folder


def _tests_run(output_xml):
    return sorted(t.get("name") for t in ET.parse(output_xml).getroot().iter("test"))


def test_run_output_is_robots_output_file_not_the_output_dir(tmp_path, suites):
    out = tmp_path / "out"
    p = hil("run", "-d", str(out), "--output", "custom.xml", str(suites))
    assert p.returncode == 0, p.stdout + p.stderr
    assert (out / "custom.xml").is_file()


def test_run_suite_selects_by_name_and_paths_are_positional(tmp_path, suites):
    out = tmp_path / "out"
    p = hil("run", "--outputdir", str(out), "--suite", "Alpha", str(suites))
    assert p.returncode == 0, p.stdout + p.stderr
    assert _tests_run(out / "output.xml") == ["Alpha Passes"]


def test_run_evidence_and_printed_paths_follow_the_output_dir(tmp_path, suites):
    out = tmp_path / "elsewhere"
    p = hil("run", "-d", str(out), "--log", "NONE", str(suites / "alpha.robot"))
    assert p.returncode == 0, p.stdout + p.stderr  # the suite checks HIL_WORKDIR is out/bench
    printed = [w for line in p.stdout.splitlines() if line.startswith("results:")
               for w in line.split()[1:]]
    assert printed, p.stdout
    assert all(os.path.exists(w) and w.startswith(str(out)) for w in printed), printed
    assert str(out / "report.html") in printed and not any("log.html" in w for w in printed)


def test_run_with_a_missing_suite_is_one_line_and_status_2(tmp_path):
    p = hil("run", "-d", str(tmp_path / "out"), str(tmp_path / "no_such.robot"))
    assert p.returncode == 2
    assert "results:" not in p.stdout
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hil: error:") and "no_such.robot" in lines[0]


@pytest.mark.parametrize("cmd, says", [("run", "robot"), ("test", "pytest")])
def test_help_says_what_passes_through(cmd, says):
    p = hil(cmd, "--help")
    assert p.returncode == 0
    assert f"passed to {says} unchanged" in " ".join(p.stdout.split())


# -- children end with hil ----------------------------------------------------------------------

def _children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except FileNotFoundError:
        return []


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL, signal.SIGHUP])
def test_emulator_ends_with_hil_emulate(sig):
    proc = subprocess.Popen([sys.executable, "-m", "hil.cli", "emulate", "agent"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            cwd=tmp_cwd())
    emulators = []
    try:
        deadline = time.monotonic() + 60
        while not emulators and time.monotonic() < deadline:
            time.sleep(0.1)
            emulators = [c for c in _children(proc.pid)
                         if b"emulator" in open(f"/proc/{c}/cmdline", "rb").read()]
        assert emulators, "hil emulate started no emulator"
        time.sleep(0.5)  # the emulator is up and running the image
        proc.send_signal(sig)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 5
        while any(map(_alive, emulators)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(map(_alive, emulators)), f"emulator outlived hil ({sig.name})"
        if sig != signal.SIGKILL:
            assert proc.returncode == 128 + sig, proc.returncode
    finally:
        proc.kill()
        for c in emulators:
            if _alive(c):
                os.kill(c, signal.SIGKILL)


# -- the bench's own work folder ----------------------------------------------------------------

def test_bench_work_folder_removed_after_a_pass_and_kept_after_a_failure(capsys):
    from hil.bench import Bench, BenchConfig

    passed = Bench(BenchConfig.load(None))
    passed.stop(failed=False)
    assert not passed.workdir.exists()
    failed = Bench(BenchConfig.load(None))
    failed.stop(failed=True)
    assert failed.workdir.is_dir()
    assert str(failed.workdir) in capsys.readouterr().err
    import shutil

    shutil.rmtree(failed.workdir)
