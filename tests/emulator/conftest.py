"""Fixtures for the emulator tests: build test firmware with the ziglang wheel, run the
emulator as its own process (exactly as hil will), talk to it over pty/control socket."""

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FW_DIR = Path(__file__).resolve().parent / "fw"
CACHE = ROOT / "build" / "test-fw"

#: The board the test firmware is built for (its flags, link and checksum: board.json).
BOARD = "lpc1768"


def build_into(build_dir, image, sources, ld="lpc1768.ld", defines=(), **build_args):
    """Build test firmware as ``hil build`` builds every image (:meth:`hil.build.Build.
    build_sources`: board.json's flags and checksum) with this folder's linker script."""
    from hil.build import Build

    build_args.setdefault("log", lambda msg: None)
    build = Build(board=BOARD, build_dir=Path(build_dir), **build_args)
    return build.build_sources(image, [FW_DIR / s for s in sources],
                               defines=list(defines), linker_script=FW_DIR / ld)


def build_firmware(name, sources=None, ld="lpc1768.ld", defines=(), variant=""):
    """Build ``name.c`` (or *sources*); *defines* (``-D``) make a *variant* of it.  The ELF
    is cached under build/test-fw by a hash of everything that goes into it (and built in a
    folder of its own, so concurrent test runs do not share half-written files)."""
    from hil import build as hil_build
    from hil import board_spec

    sources = sources or [f"{name}.c"]
    image = f"{name}-{variant}" if variant else name
    digest = hashlib.sha256()
    for f in [FW_DIR / s for s in sources] + [FW_DIR / ld, Path(hil_build.__file__),
                                               board_spec.load(BOARD).dir / "board.json"]:
        digest.update(f.read_bytes())
    digest.update(" ".join(defines).encode())
    out = CACHE / f"{image}-{digest.hexdigest()[:12]}.elf"
    if out.exists():
        return out
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE, prefix="work-") as work:
        try:
            result = build_into(work, image, sources, ld, defines)
        except hil_build.BuildError as exc:
            raise RuntimeError(f"firmware build failed:\n{exc}") from None
        os.replace(result.elf, out)
    return out


@pytest.fixture(scope="session")
def testfw():
    return build_firmware("testfw")


@pytest.fixture(scope="session")
def testfw_hardfault():
    """testfw with a HardFault handler that reports the fault registers (see testfw.c)."""
    return build_firmware("testfw", defines=["TESTFW_HARDFAULT"], variant="hardfault")


class Emulator:
    """One emulator process started with --ready-fd; serial via pyserial, control socket."""

    def __init__(self, image, *args, pass_fds=(), ready=True):
        self.tmp = tempfile.mkdtemp(prefix="emu-test-")
        self.control_path = os.path.join(self.tmp, "ctl.sock")
        r, w = os.pipe()
        cmd = [sys.executable, "-m", "emulator", str(image), "--control", self.control_path,
               "--ready-fd", str(w), *(("--paused",) if ready else ()), *args]
        self.t_start = time.monotonic()
        self.proc = subprocess.Popen(cmd, cwd=ROOT, pass_fds=(w, *pass_fds),
                                     stderr=subprocess.PIPE)
        os.close(w)
        self.serial = None
        self._ctl = None
        with os.fdopen(r) as f:
            line = f.readline()
        self.t_ready = time.monotonic()
        if not line:
            err = self.proc.stderr.read().decode(errors="replace")
            raise RuntimeError(f"emulator did not start: {err}")
        self.info = json.loads(line)
        if ready:
            # open the port first (pyserial flushes pending input on open), then run
            self.open_serial()
            assert self.control({"cmd": "resume"}) == {"ok": True}

    def open_serial(self):
        import serial

        self.serial = serial.serial_for_url(self.info["serial"], baudrate=115200, timeout=5)
        return self.serial

    def read_until(self, token, timeout=5.0):
        deadline = time.monotonic() + timeout
        buf = b""
        while time.monotonic() < deadline:
            chunk = self.serial.read(self.serial.in_waiting or 1)
            buf += chunk
            if token in buf:
                return buf
        raise AssertionError(f"timed out waiting for {token!r}; got {buf!r}")

    def command(self, cmd, token=b"\n", timeout=5.0):
        self.serial.write(cmd)
        return self.read_until(token, timeout)

    def control(self, obj, raw=None):
        if self._ctl is None:
            self._ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._ctl.settimeout(5)
            self._ctl.connect(self.control_path)
            self._ctl_file = self._ctl.makefile("rb")
        self._ctl.sendall(raw if raw is not None else (json.dumps(obj) + "\n").encode())
        line = self._ctl_file.readline()
        return json.loads(line)

    def wait(self, timeout=10):
        code = self.proc.wait(timeout)
        err = self.proc.stderr.read().decode(errors="replace")
        return code, err

    def close(self):
        if self.serial is not None:
            self.serial.close()
        if self._ctl is not None:
            self._ctl.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stderr:
            self.proc.stderr.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.fixture
def emulator():
    started = []

    def start(image, *args, **kw):
        emu = Emulator(image, *args, **kw)
        started.append(emu)
        return emu

    yield start
    for emu in started:
        emu.close()


def run_emulator_cli(*args, timeout=20):
    """Run the CLI to completion; returns (exit code, stderr text)."""
    res = subprocess.run([sys.executable, "-m", "emulator", *map(str, args)], cwd=ROOT,
                         capture_output=True, text=True, timeout=timeout,
                         stdin=subprocess.DEVNULL)
    return res.returncode, res.stderr
