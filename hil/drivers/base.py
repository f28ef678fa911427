"""The one board interface tests speak to, whatever stands behind it.

A :class:`Board` is the protocol tests use: lifecycle, the agent link, the console, the
LEDs, the board's network address.  A *driver* is a subclass that says how the bench
reaches one kind of board (:mod:`hil.drivers.emulated` today; a real mbed on USB serial,
labgrid or QEMU later).  A driver supplies only three things:

* ``_power_on()``: load the image and power the board on (held, if it can be, until
  ``_release()``), and return the pyserial URL of its UART;
* ``_reset()``: a hardware reset;
* ``_power_off()``.

Everything between the serial URL and a ready board is shared here: the serial link,
framing and :class:`~hil.agent.client.AgentClient`, the HELLO handshake, console capture
and events.  Where a board is in its life is an explicit :class:`BoardState`.
"""

from __future__ import annotations

import abc
import contextlib
import enum
import time
from pathlib import Path
from typing import Optional

from pydantic import BaseModel, ConfigDict

from ..agent.client import AgentClient, AgentError
from ..board_spec import BoardSpec
from ..console import Console

#: The MAC a NET_STATIC / MAC_SET request gives to mean "the board's own".
OWN_MAC = "00:00:00:00:00:00"


class BoardState(enum.Enum):
    OFF = "off"            # not started, or stopped
    BOOTING = "booting"    # image running, agent not answering yet
    READY = "ready"        # agent answered HELLO
    FAULTED = "faulted"    # the image crashed (emulator) or the link died


class BoardError(Exception):
    """Something a user must fix (missing image, board did not boot); the message says what."""


class DriverOptions(BaseModel):
    """A driver's own keys in a bench file target (none by default).  A driver that has
    some subclasses this as its ``Options``; the bench file is checked against it."""
    model_config = ConfigDict(extra="forbid")


class Board(abc.ABC):
    Options: type[DriverOptions] = DriverOptions

    def __init__(self, name: str, spec: BoardSpec, image: Path, workdir: Path, *, net=None,
                 index: int = 0, agent: bool = True, boot_timeout: float = 10.0):
        self.name = name
        self.spec = spec
        self.image = Path(image)
        self.net = net
        self.index = index
        self.has_agent = agent  # False: an application image, seen only through its console
        self.boot_timeout = boot_timeout
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.state = BoardState.OFF
        self.console = Console(name, self.workdir / f"{name}.console.log")
        self.agent: Optional[AgentClient] = None
        self.fault: Optional[str] = None
        self.boot_s: Optional[float] = None  # power on -> agent answered
        self._serial_url: Optional[str] = None
        self._ip: Optional[str] = None
        self._mac: Optional[str] = None

    @classmethod
    def check_board(cls, spec: BoardSpec) -> None:
        """Raise ValueError when this driver cannot reach a board of kind ``spec``."""

    # -- what a driver supplies ------------------------------------------------------------

    @abc.abstractmethod
    def _power_on(self) -> str:
        """Load the image and power the board on; return the pyserial URL of its UART.
        A board that can be held (the emulator) stays held until :meth:`_release`."""

    def _release(self) -> None:
        """Let a held board run: called once the serial port is open, so the boot banner
        lands in the console log."""

    @abc.abstractmethod
    def _reset(self) -> None:
        """Hardware reset (the agent's HELLO is awaited by the caller)."""

    @abc.abstractmethod
    def _power_off(self) -> None:
        """Power off / disconnect.  Safe to call twice."""

    def _check_alive(self) -> None:
        """Raise a :class:`BoardError` saying why, if the board is known to have died."""

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def serial_url(self) -> str:
        """pyserial URL of the board's console/agent link."""
        if not self._serial_url:
            raise BoardError(f"board {self.name} is not running")
        return self._serial_url

    def start(self) -> None:
        """Power on (or connect to) the board and wait until the agent answers."""
        if self.state is not BoardState.OFF:
            return
        if not self.image.is_file():
            raise BoardError(f"image {self.image} does not exist (build it with `hil build`)")
        t0 = time.monotonic()
        self.state = BoardState.BOOTING
        self.fault = None
        try:
            self._serial_url = self._power_on()
            self.agent = AgentClient(self._serial_url, console=self.console, name=self.name)
            self._release()
            if self.has_agent:
                self.agent.hello(attempts=int(self.boot_timeout / 0.25))
        except AgentError as exc:
            try:
                self._check_alive()
            finally:
                self.stop()
            raise BoardError(f"board {self.name} did not boot: {exc}") from None
        except BaseException:
            self.stop()
            raise
        self.boot_s = time.monotonic() - t0
        self.state = BoardState.READY

    def stop(self) -> None:
        """Power off / disconnect.  Safe to call twice."""
        if self.state is not BoardState.FAULTED:
            self.state = BoardState.OFF      # first: powering off is no fault to report
        if self.agent:
            self.agent.close()
            self.agent = None
        self._power_off()
        self._serial_url = None
        self.console.close()

    def reset(self) -> None:
        """Hardware reset, then wait until the agent answers again.  ``ip`` and ``mac`` keep
        the values the board had: they are its again once its network is configured."""
        agent = self.require_ready()
        agent.discard_events()
        self.state = BoardState.BOOTING
        self._reset()
        if self.has_agent:
            agent.hello(attempts=int(self.boot_timeout / 0.25))
        self.state = BoardState.READY

    def _lost(self, reason: str) -> None:
        """The driver saw the board die (a crash, a closed link): fail what waits on it."""
        if self.state in (BoardState.READY, BoardState.BOOTING):
            self.fault = reason
            self.state = BoardState.FAULTED
            if self.agent:
                self.agent._fail(reason)

    # -- the board's address: set only here, from what the board itself reports -----------

    @property
    def ip(self) -> Optional[str]:
        """The board's IPv4 address once its network is up (None before)."""
        return self._ip

    @property
    def mac(self) -> Optional[str]:
        """The board's MAC address once its network is up (None before)."""
        return self._mac

    def configure_network(self, ip: str, netmask: str, gateway: str, dns: str,
                          mac: str = OWN_MAC) -> str:
        """Create the board's ``EthernetNetIf`` with a static address and run ``setup()``;
        returns the address the board reports.  ``mac`` "board" or the zero MAC keeps the
        board's own."""
        reply = self.require_ready().request(
            "NET_STATIC", ip=ip, netmask=netmask, gateway=gateway, dns=dns,
            mac=OWN_MAC if mac == "board" else mac)
        if reply["result"] != 0:
            raise BoardError(f"board {self.name}: EthernetNetIf::setup() returned {reply['result']}")
        self._ip, self._mac = reply["ip"], reply["mac"]
        return self._ip

    def configure_dhcp(self, hostname: str = "", timeout_ms: int = 15000,
                       mac: str = OWN_MAC, board_time: bool = False):
        """Create ``EthernetNetIf(hostname)`` (DHCP) and run ``setup(timeout_ms)``; returns the
        agent's reply (``result`` is the ``EthernetErr``).  On success the board's address is
        the leased one.  ``board_time=True`` skips idle board time while it waits."""
        agent = self.require_ready()
        agent.request("MAC_SET", mac=OWN_MAC if mac == "board" else mac)
        wall_limit = int(timeout_ms) / 1000 * 2 + 5
        with (self.skipping_idle_time() if board_time else contextlib.nullcontext()):
            reply = agent.request("NET_DHCP", timeout=wall_limit, timeout_ms=int(timeout_ms),
                                  hostname=hostname)
        if reply["result"] == 0:
            self._ip = reply["ip"]
            self._mac = reply["mac"]
        return reply

    def set_address(self, ip: str, mac: Optional[str] = None) -> None:
        """Record the address an application image gives itself (it has no agent to ask,
        e.g. the example images' static 192.0.2.20)."""
        if self.has_agent:
            raise BoardError(f"board {self.name} runs the agent: configure its network instead")
        self._ip, self._mac = ip, mac

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
