"""The emulator as a board driver: any board whose ``board.json`` names an emulator model.

It reaches the emulator only through its process interface, as it would reach QEMU:
the command line, the serial URL the emulator reports, the JSON control socket, and an
Ethernet link handed over as a file descriptor.  Nothing here imports ``emulator``.
The agent link on top of the serial URL is :class:`~hil.drivers.base.Board`'s.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Literal, Optional

from benchwire.control import ControlRequestError, check_request

from ..board_spec import BoardSpec
from .base import Board, BoardError, BoardState, DriverOptions
from ..children import die_with_parent

EMULATOR_EXIT_FAULT = 3
EMULATOR_EXIT_USAGE = 2


def emulator_env() -> dict:
    """The environment an emulator process needs: this checkout on its import path (the
    emulator is a separate program; installed or not, it runs from the same tree)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).resolve().parents[2])] +
        ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return env


class ControlClient:
    """The emulator's control channel: one JSON request per line, one JSON reply per line.
    Requests are checked against the channel's definition (:mod:`benchwire.control`)
    before they are sent: a wrong one is a :class:`BoardError` here, not in the emulator."""

    def __init__(self, path: Path, timeout: float = 5.0):
        self.path = path
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        self._sock.connect(str(path))
        self._file = self._sock.makefile("rb")
        self._lock = threading.Lock()

    def call(self, cmd: str, **args) -> dict:
        request = {"cmd": cmd, **args}
        try:
            check_request(request)
        except ControlRequestError as exc:
            raise BoardError(f"bad emulator control request: {exc}") from None
        with self._lock:
            self._sock.sendall(json.dumps(request).encode() + b"\n")
            line = self._file.readline()
        if not line:
            raise BoardError(f"emulator control channel closed during {cmd!r}")
        reply = json.loads(line)
        if not reply.get("ok"):
            raise BoardError(f"emulator refused {cmd!r}: {reply.get('error')}")
        return reply

    def close(self):
        try:
            self._file.close()
            self._sock.close()
        except OSError:
            pass


class EmulatedOptions(DriverOptions):
    idle: Literal["realtime", "skip"] = "realtime"   # skip: jump over idle board time


class EmulatedBoard(Board):
    """An emulator process running ``image``, its Ethernet on the bench network."""

    Options = EmulatedOptions

    def __init__(self, name: str, spec: BoardSpec, image: Path, workdir: Path, *, net=None,
                 index: int = 0, agent: bool = True, boot_timeout: float = 10.0,
                 idle: str = "realtime", pcap: bool = True):
        super().__init__(name, spec, image, workdir, net=net, index=index, agent=agent,
                         boot_timeout=boot_timeout)
        self.idle = idle
        self.pcap = self.workdir / f"{name}.pcap" if pcap else None
        self.proc: Optional[subprocess.Popen] = None
        self.control: Optional[ControlClient] = None
        self._stderr_path = self.workdir / f"{name}.emulator.log"
        self._link_fd: Optional[int] = None

    @classmethod
    def check_board(cls, spec: BoardSpec) -> None:
        if not spec.emulator:
            raise ValueError(f"the emulator has no model of board {spec.name!r} "
                             "(its board.json names no 'emulator')")

    def _command(self, ready_w: int) -> list[str]:
        cmd = [sys.executable, "-m", "emulator", str(self.image), "--board", self.spec.emulator,
               "--serial", "pty", "--control", str(self.workdir / f"{self.name}.ctl"),
               "--ready-fd", str(ready_w), "--idle", self.idle,
               # Paused until the serial port is open: opening a port discards waiting
               # bytes, and the boot banner belongs in the console log.
               "--paused"]
        if self._link_fd is not None:
            cmd += ["--net", f"fd:{self._link_fd}"]
        if self.pcap:
            cmd += ["--pcap", str(self.pcap)]
        return cmd

    def _power_on(self) -> str:
        self.check_board(self.spec)
        if self.net is not None:
            self._link_fd = self.net.add_board_link(self.name)
        ready_r, ready_w = os.pipe()
        fds = [ready_w] + ([self._link_fd] if self._link_fd is not None else [])
        with open(self._stderr_path, "wb") as err:
            self.proc = subprocess.Popen(self._command(ready_w), stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=err, pass_fds=fds,
                                         env=emulator_env(), preexec_fn=die_with_parent())
        os.close(ready_w)
        try:
            info = self._read_ready(ready_r)
        finally:
            os.close(ready_r)
        self.control = ControlClient(Path(info["control"]))
        threading.Thread(target=self._watch, args=(self.proc,), name=f"watch-{self.name}",
                         daemon=True).start()
        return info["serial"]

    def _release(self) -> None:
        self._control().call("resume")

    def _reset(self) -> None:
        self._control().call("reset")

    def _check_alive(self) -> None:
        """Called when the agent link failed: the emulator's own word on why.  A guest
        that took a fault and still runs (its HardFault handler spins) is named from the
        status; a faulting image ends the emulator (exit status 3, the fault on its last
        stderr line) a moment after the serial link closes, so wait for that."""
        if self.control is not None and (self.proc is None or self.proc.poll() is None):
            try:
                st = self.control.call("status")
            except (BoardError, OSError, ValueError):
                st = None
            if st is not None:
                if st.get("last_fault"):
                    where = f"; it is in {st['exception']}" if st.get("exception") else ""
                    raise BoardError(f"board {self.name}: {st['last_fault']}{where}")
                return
        self._check_exit(wait=2.0)

    def _read_ready(self, fd: int) -> dict:
        deadline = time.monotonic() + self.boot_timeout
        buf = b""
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise BoardError(f"emulator for {self.name} did not start within "
                                 f"{self.boot_timeout:g} s (log: {self._stderr_path})")
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            buf += chunk
        if b"\n" not in buf:
            self._check_exit(wait=2.0)
            raise BoardError(f"emulator for {self.name} exited before it was ready")
        return json.loads(buf.split(b"\n", 1)[0])

    def _emulator_message(self) -> str:
        try:
            lines = [l for l in self._stderr_path.read_text(errors="replace").splitlines() if l.strip()]
        except OSError:
            return ""
        return lines[-1] if lines else ""

    def _check_exit(self, wait: float = 0.0):
        """If the emulator has exited, raise its own one-line message."""
        if self.proc is None:
            return
        try:
            code = self.proc.wait(wait) if wait else self.proc.poll()
        except subprocess.TimeoutExpired:
            code = None
        if code is None:
            return
        msg = self._emulator_message() or f"emulator exited with status {code}"
        self.fault = msg
        self.state = BoardState.FAULTED if code == EMULATOR_EXIT_FAULT else BoardState.OFF
        raise BoardError(f"board {self.name}: {msg}")

    def _watch(self, proc: subprocess.Popen):
        code = proc.wait()
        if proc is self.proc:
            self._lost(self._emulator_message() or f"emulator exited with status {code}")

    def status(self) -> dict:
        if not self.control:
            raise BoardError(f"board {self.name} is not running")
        return self.control.call("status")

    def leds(self) -> list[bool]:
        return [bool(x) for x in self.status()["leds"]]

    @contextlib.contextmanager
    def skipping_idle_time(self):
        if not self.control:
            raise BoardError(f"board {self.name} is not running")
        self.control.call("idle", mode="skip")
        try:
            yield
        finally:
            if self.control:
                self.control.call("idle", mode=self.idle)

    def inject_frame(self, frame: bytes, fcs: str = "good") -> str:
        if not self.control:
            raise BoardError(f"board {self.name} is not running")
        return self.control.call("inject", frame=bytes(frame).hex(), fcs=fcs)["outcome"]

    def board_time_us(self) -> int:
        if not self.has_agent:                 # an example image: ask the machine
            return int(self.status()["board_time_us"])
        return super().board_time_us()

    def _control(self) -> ControlClient:
        if not self.control:
            raise BoardError(f"board {self.name} is not running")
        return self.control

    def impair_link(self, direction: str, impairment, seed: int) -> dict:
        return self._control().call("impair", direction=direction, seed=int(seed),
                                    **impairment.as_options())["impair"]

    def flap_link(self, flap) -> dict:
        count = {} if flap.count is None else {"count": flap.count}
        return self._control().call("flap", down_ms=flap.down_ms, up_ms=flap.up_ms, **count)

    def clear_link_impairment(self) -> dict:
        if not self.control:
            return {}                   # stopped: nothing left to clear
        return self.control.call("impair", clear=True).get("impair", {})

    def link_impairment(self) -> dict:
        return self.status().get("impair", {})

    def evidence(self) -> dict:
        ev = super().evidence()
        ev["emulator"] = self._stderr_path
        if self.pcap:
            ev["pcap"] = self.pcap
        return ev

    def _power_off(self) -> None:
        if self.control:
            try:
                if self.proc and self.proc.poll() is None:
                    self.control.call("stop")
            except (BoardError, OSError, ValueError):
                pass
            self.control.close()
            self.control = None
        if self.proc:
            try:
                self.proc.wait(2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        if self._link_fd is not None:
            os.close(self._link_fd)
            self._link_fd = None
            if self.net is not None:
                try:
                    self.net.remove_board_link(self.name)
                except Exception:  # noqa: BLE001 - the namespace may already be gone
                    pass
