"""Base class of the protocol peers a test starts on the bench network.

A peer is started per test, binds its socket(s) inside the bench namespace
(through :meth:`hil.net.BenchNetwork.socket`), serves from one thread, and
records every exchange with timestamps in :attr:`Peer.log` (and to the
``logging`` module, logger ``hil.peers.<name>``).  Later peers (DNS, DHCP,
TCP echo/discard/chargen/daytime, multicast senders) subclass it and only
implement :meth:`Peer._open` and :meth:`Peer._on_readable`.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import select
import socket
import threading
import time
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Exchange:
    """One logged event of a peer: a datagram/segment received or sent, or a note."""
    wall: float          # time.time()
    mono: float          # time.monotonic(), for intervals
    direction: str       # "rx", "tx" or "note"
    peer: tuple | None   # remote address
    data: bytes
    note: str = ""

    def __str__(self) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(self.wall)) + f".{int(self.wall % 1 * 1e6):06d}"
        who = f"{self.peer[0]}:{self.peer[1]}" if self.peer else "-"
        text = f"{stamp} {self.direction} {who} {len(self.data)} bytes"
        return text + (f" ({self.note})" if self.note else "")


class PeerError(RuntimeError):
    """A peer cannot start (port taken, network not running...)."""


class Peer:
    """Thread-based peer on the bench network; use as a context manager or start()/stop()."""

    name = "peer"

    def __init__(self, net, host: str = "0.0.0.0", port: int = 0) -> None:
        self.net = net
        self.host = host
        self.port = port
        self.log_entries: list[Exchange] = []
        self.logger = logging.getLogger(f"hil.peers.{self.name}")
        self.sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._stopping = False
        self.error: BaseException | None = None
        self._timers: list = []          # heap of (due monotonic, seq, callable)
        self._timer_seq = itertools.count()

    # -- to implement -----------------------------------------------------
    def _open(self) -> None:
        """Create and bind self.sockets (inside the namespace); runs in start()."""
        raise NotImplementedError

    def _on_readable(self, sock: socket.socket) -> None:
        """Handle one readable socket of self.sockets; runs in the peer thread."""
        raise NotImplementedError

    # -- life cycle -------------------------------------------------------
    @property
    def address(self) -> tuple:
        """(host, port) actually bound by the first socket."""
        return self.sockets[0].getsockname()

    def start(self) -> "Peer":
        if self._thread is not None:
            raise PeerError(f"{self.name} peer already started")
        self._stopping = False
        try:
            self._open()
        except OSError as e:
            self._close_sockets()
            raise PeerError(f"{self.name} peer cannot bind {self.host}:{self.port}: {e.strerror or e}") from None
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread = threading.Thread(target=self._run, name=f"peer-{self.name}", daemon=True)
        self._thread.start()
        self.note(f"listening on {self.address[0]}:{self.address[1]}")
        return self

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stopping = True
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        self._thread.join(5.0)
        self._thread = None
        with self._lock:
            self._timers.clear()
        self._close_sockets()
        for s in (self._wake_r, self._wake_w):
            s.close()
        self._wake_r = self._wake_w = None

    def _close_sockets(self) -> None:
        for s in self.sockets:
            s.close()
        self.sockets = []

    def __enter__(self) -> "Peer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            while not self._stopping:
                ready, _, _ = select.select([self._wake_r, *self.sockets], [], [],
                                            self._timer_timeout())
                for s in ready:
                    if s is self._wake_r:
                        self._drain_wake()
                        continue
                    if self._stopping:
                        continue
                    self._on_readable(s)
                if not self._stopping:
                    self._run_timers()
        except BaseException as e:  # keep it for the test, and log it
            self.error = e
            self.logger.exception("%s peer stopped on error", self.name)

    # -- timers (run in the peer thread) ----------------------------------
    def call_later(self, delay: float, fn: Callable[[], object]) -> None:
        """Run fn() in the peer thread after delay seconds (a delayed reply, a periodic send)."""
        with self._lock:
            heapq.heappush(self._timers, (time.monotonic() + max(0.0, delay), next(self._timer_seq), fn))
        self._wake()

    def _wake(self) -> None:
        w = self._wake_w
        if w is not None and threading.current_thread() is not self._thread:
            try:
                w.send(b"t")
            except OSError:
                pass

    def _drain_wake(self) -> None:
        try:
            self._wake_r.setblocking(False)
            while self._wake_r.recv(512):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    def _timer_timeout(self) -> float | None:
        with self._lock:
            if not self._timers:
                return None
            return max(0.0, self._timers[0][0] - time.monotonic())

    def _run_timers(self) -> None:
        while True:
            with self._lock:
                if not self._timers or self._timers[0][0] > time.monotonic():
                    return
                _, _, fn = heapq.heappop(self._timers)
            fn()

    # -- the exchange log -------------------------------------------------
    def record(self, direction: str, peer: tuple | None, data: bytes = b"", note: str = "") -> Exchange:
        ex = Exchange(time.time(), time.monotonic(), direction, peer, bytes(data), note)
        with self._changed:
            self.log_entries.append(ex)
            self._changed.notify_all()
        self.logger.info("%s %s", self.name, ex)
        return ex

    def note(self, text: str) -> Exchange:
        return self.record("note", None, b"", text)

    @property
    def log(self) -> list[Exchange]:
        """A copy of the exchange log."""
        with self._lock:
            return list(self.log_entries)

    def received(self) -> list[Exchange]:
        return [e for e in self.log if e.direction == "rx"]

    def wait_for(self, predicate: Callable[[list[Exchange]], bool], timeout: float = 5.0) -> bool:
        """Wait until predicate(log) is true; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self.log_entries), timeout)
