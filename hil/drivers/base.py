"""The one board interface tests speak to, whatever stands behind it.

A *board* is a driver: the emulated LPC1768 (:mod:`hil.drivers.emulated`) today, a real
mbed on USB serial later.  Tests use only what is here: lifecycle, the agent link, the
console and the LEDs.  Where a board is in its life is an explicit state.
"""

from __future__ import annotations

import abc
import contextlib
import enum
from pathlib import Path
from typing import Optional

from ..agent.client import AgentClient
from ..console import Console


class BoardState(enum.Enum):
    OFF = "off"            # not started, or stopped
    BOOTING = "booting"    # image running, agent not answering yet
    READY = "ready"        # agent answered HELLO
    FAULTED = "faulted"    # the image crashed (emulator) or the link died


class BoardError(Exception):
    """Something a user must fix (missing image, board did not boot); the message says what."""


class Board(abc.ABC):
    def __init__(self, name: str, workdir: Path):
        self.name = name
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.state = BoardState.OFF
        self.console = Console(name, self.workdir / f"{name}.console.log")
        self.agent: Optional[AgentClient] = None
        self.ip: Optional[str] = None
        self.fault: Optional[str] = None

    @property
    @abc.abstractmethod
    def serial_url(self) -> str:
        """pyserial URL of the board's console/agent link."""

    @abc.abstractmethod
    def start(self) -> None:
        """Power on (or connect to) the board and wait until the agent answers."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Power off / disconnect.  Safe to call twice."""

    @abc.abstractmethod
    def reset(self) -> None:
        """Hardware reset, then wait until the agent answers again."""

    @abc.abstractmethod
    def leds(self) -> list[bool]:
        """LED1..LED4 as the board shows them right now."""

    @contextlib.contextmanager
    def skipping_idle_time(self):
        """Inside this block the board's idle stretches may pass faster than real time
        (the emulator jumps its clock to the next timer); a real board just runs.  Use it
        while waiting for a board-side timeout that no host peer takes part in."""
        yield

    def board_time_us(self) -> int:
        """The board's clock now (microseconds since reset)."""
        return self.require_ready().request("TIME")["now_us"]

    def inject_frame(self, frame: bytes, fcs: str = "good") -> str:
        """Deliver one frame to the board's MAC exactly as given: a runt stays a runt,
        ``fcs="bad"`` gives it a wrong frame check sequence.  Only boards whose wire the
        bench controls can do this (an ordinary NIC pads short frames and computes FCS)."""
        raise BoardError(f"board {self.name}: wire-level injection needs an emulated board")

    # -- link impairment (hil.impairment parses and checks what a test asks for) ----------
    def impair_link(self, direction: str, impairment, seed: int) -> dict:
        """Make the board's Ethernet lossy/slow/reordering in ``direction`` ("to_board",
        "from_board" or "both"), its random choices drawn from ``seed``."""
        raise BoardError(f"board {self.name}: this driver cannot impair its link")

    def flap_link(self, flap) -> dict:
        """Take the link down and up on a schedule (a :class:`hil.impairment.Flap`)."""
        raise BoardError(f"board {self.name}: this driver cannot flap its link")

    def clear_link_impairment(self) -> dict:
        """A clean, steady link again; returns the counters of what was done to frames."""
        return {}

    def link_impairment(self) -> dict:
        """The impairment in force and its counters, per direction."""
        return {}

    def evidence(self) -> dict[str, Path]:
        """Files worth attaching to a failed test (console log, pcap, ...)."""
        return {"console": self.workdir / f"{self.name}.console.log"}

    def require_ready(self) -> AgentClient:
        if self.state is not BoardState.READY or self.agent is None:
            detail = f": {self.fault}" if self.fault else ""
            raise BoardError(f"board {self.name} is {self.state.value}{detail}")
        return self.agent

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
