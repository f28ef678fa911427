"""Host side of the agent link: requests, replies, events and console text over one serial port.

Any pyserial URL works: a device path (a real mbed's ``/dev/ttyACM0``), the pty an
emulated board prints, ``socket://host:port`` or ``rfc2217://...``.  A reader thread
splits the byte stream into frames and console text; requests wait for the reply with
their id, events are kept in arrival order for :meth:`AgentClient.wait_event`, and text
goes to the board's :class:`~hil.console.Console`.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from typing import Callable, Optional

import serial

from ..console import Console
from ..protocol import codec, definition, framing

log = logging.getLogger(__name__)


class AgentError(Exception):
    """The agent answered with an ERROR frame, or the link failed."""


class AgentTimeout(AgentError):
    pass


class LinkClosed(AgentError):
    pass


class AgentClient:
    def __init__(self, url: str, baudrate: int = 115200, console: Optional[Console] = None,
                 name: str = "board"):
        self.name = name
        self.console = console or Console(name)
        try:
            self._ser = serial.serial_for_url(url, baudrate=baudrate, timeout=0.05,
                                              write_timeout=5)
        except (serial.SerialException, ValueError) as exc:
            raise AgentError(f"{name}: cannot open serial port {url}: {exc}") from None
        self.url = url
        self.decoder = framing.FrameDecoder()
        self._ids = itertools.cycle(range(1, 0x10000))
        self._pending: dict[int, list] = {}
        self._lock = threading.Lock()
        self._events: list[codec.Message] = []
        self._events_cv = threading.Condition()
        self._closed = False
        self._close_reason = ""
        self.errors: list[str] = []  # unsolicited ERROR frames and damaged frames seen
        self._event_listeners: list[Callable[[codec.Message], None]] = []
        self.boots = 0  # BOOT events seen: objects made on the board before a reset are gone
        self._reader = threading.Thread(target=self._read_loop, name=f"agent-rx-{name}",
                                        daemon=True)
        self._reader.start()

    # -- reader ----------------------------------------------------------------------------

    def _read_loop(self):
        ser = self._ser
        while not self._closed:
            try:
                data = ser.read(ser.in_waiting or 1)
            except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
                if not self._closed:
                    self._fail(f"serial link lost: {exc}")
                return
            if data:
                self._on_bytes(data)

    def _on_bytes(self, data: bytes):
        for kind, item in self.decoder.feed(data):
            if kind == "text":
                self.console.feed(item)
            elif kind == "error":
                self.errors.append(f"damaged frame from the board: {item}")
                log.debug("%s: %s", self.name, item)
            else:
                try:
                    msg = codec.decode_body(item)
                except codec.CodecError as exc:
                    self.errors.append(f"undecodable message from the board: {exc}")
                    continue
                self._dispatch(msg)

    def _dispatch(self, msg: codec.Message):
        if msg.is_event:
            if msg.name == "BOOT":
                self.boots += 1
            with self._events_cv:
                self._events.append(msg)
                self._events_cv.notify_all()
            for fn in list(self._event_listeners):
                fn(msg)
            return
        if msg.is_error and msg.req_id == 0:
            self.errors.append("agent reported " + codec.ERROR_NAMES.get(msg["code"], str(msg["code"])))
            return
        with self._lock:
            slot = self._pending.pop(msg.req_id, None)
        if slot is None:
            self.errors.append(f"reply {msg.name} for unknown request id {msg.req_id}")
            return
        slot[1] = msg
        slot[0].set()

    def _fail(self, reason: str):
        self._close_reason = reason
        self._closed = True
        with self._lock:
            pending, self._pending = self._pending, {}
        for slot in pending.values():
            slot[0].set()
        with self._events_cv:
            self._events_cv.notify_all()

    # -- requests --------------------------------------------------------------------------

    def send_raw(self, data: bytes):
        """Write bytes as they are (tests use it for garbage and broken frames)."""
        self._ser.write(data)

    def request(self, name: str, /, timeout: float = 2.0, **fields) -> codec.Message:
        if self._closed:
            raise LinkClosed(f"{self.name}: {self._close_reason or 'link closed'}")
        req_id = next(self._ids)
        body = codec.encode_request(name, req_id, **fields)
        slot = [threading.Event(), None]
        with self._lock:
            self._pending[req_id] = slot
        try:
            self._ser.write(framing.encode_frame(body))
        except (serial.SerialException, OSError) as exc:
            with self._lock:
                self._pending.pop(req_id, None)
            raise LinkClosed(f"{self.name}: serial write failed: {exc}") from None
        if not slot[0].wait(timeout):
            with self._lock:
                self._pending.pop(req_id, None)
            raise AgentTimeout(f"{self.name}: no reply to {name} within {timeout:g} s")
        msg = slot[1]
        if msg is None:
            raise LinkClosed(f"{self.name}: {self._close_reason or 'link closed'}")
        if msg.is_error:
            raise AgentError(f"{self.name}: agent rejected {name}: "
                             f"{codec.ERROR_NAMES.get(msg['code'], msg['code'])}")
        return msg

    def hello(self, attempts: int = 20, timeout: float = 0.25) -> codec.Message:
        """Handshake: ask until the agent answers (it may still be booting)."""
        last: Exception | None = None
        for _ in range(attempts):
            try:
                msg = self.request("HELLO", timeout=timeout)
            except AgentTimeout as exc:
                last = exc
                continue
            if msg["proto_hash"] != definition.protocol_hash():
                raise AgentError(
                    f"{self.name}: the firmware speaks protocol {msg['version']} "
                    f"(hash {msg['proto_hash']:08x}), the host {definition.PROTOCOL_VERSION} "
                    f"(hash {definition.protocol_hash():08x}): rebuild it with `hil build`")
            return msg
        raise AgentTimeout(f"{self.name}: the agent did not answer HELLO ({last})")

    def stats(self) -> dict[str, int]:
        raw = self.request("STATS")["values"]
        return {name: int.from_bytes(raw[i * 4:i * 4 + 4], "little")
                for i, name in enumerate(definition.STAT_NAMES)}

    # -- events ----------------------------------------------------------------------------

    def add_event_listener(self, fn: Callable[[codec.Message], None]):
        self._event_listeners.append(fn)

    def events(self) -> list[codec.Message]:
        with self._events_cv:
            return list(self._events)

    def take_event(self, match: Callable[[codec.Message], bool], timeout: float) -> codec.Message:
        """Remove and return the oldest event for which ``match`` is true."""
        deadline = time.monotonic() + timeout
        with self._events_cv:
            while True:
                for i, ev in enumerate(self._events):
                    if match(ev):
                        return self._events.pop(i)
                if self._closed:
                    raise LinkClosed(f"{self.name}: {self._close_reason or 'link closed'}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AgentTimeout(f"{self.name}: no matching event within {timeout:g} s")
                self._events_cv.wait(left)

    def discard_events(self, match: Callable[[codec.Message], bool] = lambda ev: True) -> int:
        with self._events_cv:
            keep = [ev for ev in self._events if not match(ev)]
            n = len(self._events) - len(keep)
            self._events = keep
        return n

    def close(self):
        if not self._closed:
            self._closed = True
            self._close_reason = "closed by the host"
        try:
            self._ser.close()
        except Exception:  # noqa: BLE001 - closing a dead port must not raise
            pass
        self._reader.join(timeout=1)
