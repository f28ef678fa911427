"""An installed copy (a wheel, `pip install .`, tox) finds its firmware: the wheel carries
firmware/, fixtures/ and suites/, and `hil build` from it gives the checkout's image.

About 10 s: a wheel built from a copy of the sources, installed with `--no-deps` into a
fresh virtual environment that borrows this interpreter's dependencies."""

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest


CHECKOUT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "hil", "emulator",
           "firmware", "fixtures", "suites")

pytestmark = pytest.mark.skipif(not (CHECKOUT / "pyproject.toml").is_file(),
                                reason="needs the project's sources")


@pytest.fixture(scope="module")
def src(tmp_path_factory) -> Path:
    """A copy of the sources (the checkout may change while the test runs)."""
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        p = CHECKOUT / name
        if p.is_dir():
            shutil.copytree(p, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif p.is_file():
            shutil.copy2(p, src / name)
    return src


@pytest.fixture(scope="module")
def wheel(src, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    p = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out),
                        str(src)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    (whl,) = out.glob("lpc_netbench-*.whl")
    return whl


def test_wheel_carries_firmware_boards_benches_and_suites(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for board_json in (CHECKOUT / "firmware" / "boards").glob("*/board.json"):
        assert f"hil/_data/{board_json.relative_to(CHECKOUT)}" in names
    for needed in ("hil/_data/firmware/images.json", "hil/_data/firmware/agent/main.cpp",
                   "hil/_data/firmware/net/src/tcp.cpp", "hil/_data/firmware/include/board.h",
                   "hil/_data/fixtures/benches/emulated.yaml", "hil/_data/suites/udp.robot",
                   "hil/paths.py", "emulator/__main__.py"):
        assert needed in names
    assert not any("__pycache__" in n for n in names)


def test_hil_build_from_the_installed_copy(src, wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    p = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                        "--no-deps", str(wheel)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    # The dependencies come from this interpreter (after the venv's own site-packages, so
    # the installed hil wins over any editable one).
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], capture_output=True, text=True, check=True)
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site.stdout.strip()) / "_deps.pth").write_text("\n".join(sorted(deps)) + "\n")

    work = tmp_path / "work"
    work.mkdir()
    p = subprocess.run([str(venv / "bin" / "hil"), "build", "agent"], capture_output=True,
                       text=True, cwd=work, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    where = subprocess.run([str(python), "-c", "import hil.paths as p; print(p.ROOT)"],
                           capture_output=True, text=True, cwd=work, check=True).stdout.strip()
    assert where.endswith("hil/_data") and str(venv) in where
    built = work / "build" / "lpc1768" / "default" / "agent.bin"
    assert built.is_file(), p.stdout
    # The same sources built as a checkout give the same image.
    p = subprocess.run([sys.executable, "-m", "hil.cli", "build", "agent"], capture_output=True,
                       text=True, cwd=src, env={**os.environ, "PYTHONPATH": str(src)},
                       timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    here = src / "build" / "lpc1768" / "default" / "agent.bin"
    assert built.read_bytes() == here.read_bytes(), "installed and checkout builds differ"
