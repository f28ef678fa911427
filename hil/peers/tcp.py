"""TCP services as real kernel sockets in the bench namespace (RFC 862/863/864/867).

    with TcpEchoServer(net) as echo, TcpDiscardServer(net) as discard:
        ... the board connects to net.host_ip:7 / :9 ...
        c = discard.wait_closed(1)[0]
        c.bytes_in, c.sha256_in, c.end          # "fin", "rst", "server-fin", "server-rst", ...

Every server serves many connections from one thread (selectors), keeps a
:class:`TcpConnLog` per connection and logs to ``logging`` (``hil.peers.tcp-echo``...).

Behaviours for the TCP error tests, and what they produce on the wire:

``reset_after=N``
    once N bytes were received (echo, discard; chargen and daytime: sent), the server sets
    SO_LINGER {on, 0} and closes: the kernel sends a RST at once and drops whatever is still
    unsent.  The client's next recv()/send() fails with ECONNRESET.  ``reset_after=0`` resets
    right after the accept.
``behaviour="vanish"`` (or :meth:`TcpServer.vanish` at any time)
    connections are accepted by the kernel but the server never reads, writes or closes them.
    The kernel keeps ACKing: the client's data fills the receive buffer, then the advertised
    window drops to 0 and the client's zero-window probes are answered with window 0 forever.
    Use ``rcvbuf=`` (e.g. 2048; the kernel's minimum is about 2.3 kB) to reach zero window
    after a few segments.  On stop() the sockets are closed (RST, as data is unread).
``behaviour="no_accept"``
    the listener is never accept()ed (backlog ``backlog``, default 1): the first connections
    complete the handshake in the kernel and wait in the accept queue (their data is ACKed up
    to the receive buffer); once the queue is full further SYNs are dropped, so the client
    retransmits SYNs and its connect() times out.
``behaviour="close"``
    accept, then close at once: FIN (or RST if the client's data already arrived unread).
A host that vanishes completely (no ACK, no RST) cannot be made with sockets: drop the
traffic on the link (network impairment) for that.
"""

from __future__ import annotations

import hashlib
import os
import selectors
import socket
import time
from dataclasses import dataclass, field

from .base import Peer, PeerError
# Sockets driven by hand live in tcp_client; their names stay importable from here.
from .tcp_client import TcpAcceptor, connect_at_once, listen_socket, net_connect, reset_close

__all__ = ["TcpConnLog", "TcpServer", "TcpEchoServer", "TcpDiscardServer", "TcpChargenServer",
           "TcpDaytimeServer", "TcpAcceptor", "net_connect", "connect_at_once", "reset_close",
           "chargen_bytes", "CHARGEN_LINE"]

_BEHAVIOURS = (None, "vanish", "no_accept", "close")
_CHUNK = 65536
_HIGH_WATER = 256 * 1024


@dataclass
class TcpConnLog:
    """What happened on one accepted connection (updated live while it is open)."""
    id: int
    peer: tuple
    local: tuple
    opened: float                       # time.time() at accept
    opened_mono: float
    closed: float | None = None
    closed_mono: float | None = None
    bytes_in: int = 0
    bytes_out: int = 0
    end: str | None = None              # fin, rst, server-fin, server-rst, stopped, error: ...
    _hin: object = field(default_factory=hashlib.sha256, repr=False, compare=False)
    _hout: object = field(default_factory=hashlib.sha256, repr=False, compare=False)

    @property
    def sha256_in(self) -> str:
        return self._hin.hexdigest()

    @property
    def sha256_out(self) -> str:
        return self._hout.hexdigest()

    @property
    def open(self) -> bool:
        return self.end is None

    def __str__(self) -> str:
        who = f"{self.peer[0]}:{self.peer[1]}"
        return (f"#{self.id} {who} in {self.bytes_in} B sha256 {self.sha256_in[:16]}… out {self.bytes_out} B "
                f"sha256 {self.sha256_out[:16]}… end {self.end or 'open'}")


class _Conn:
    def __init__(self, sock: socket.socket, log: TcpConnLog) -> None:
        self.sock = sock
        self.log = log
        self.out = bytearray()
        self.reading = True
        self.eof = False            # client sent FIN
        self.fin_after_flush = False
        self.serviced = True
        self.mask = 0
        self.state: dict = {}


class TcpServer(Peer):
    """Base of the TCP services: listener + accepted connections, one thread, selectors."""

    name = "tcp"

    def __init__(self, net, port: int, host: str = "0.0.0.0", reset_after: int | None = None,
                 behaviour: str | None = None, rcvbuf: int | None = None, backlog: int | None = None) -> None:
        super().__init__(net, host=host, port=port)
        if behaviour not in _BEHAVIOURS:
            raise PeerError(f"unknown TCP behaviour {behaviour!r} (vanish, no_accept or close)")
        if reset_after is not None and reset_after < 0:
            raise PeerError("reset_after must be >= 0")
        self.reset_after = reset_after
        self.behaviour = behaviour
        self.rcvbuf = rcvbuf
        self.backlog = backlog if backlog is not None else (1 if behaviour == "no_accept" else 16)
        self._conns: dict[socket.socket, _Conn] = {}
        self._all: list[TcpConnLog] = []
        self._ids = 0
        self._vanished = behaviour == "vanish"
        self._sel: selectors.BaseSelector | None = None

    # -- API -----------------------------------------------------------------
    def connections(self) -> list[TcpConnLog]:
        """Every connection accepted so far (open ones update live)."""
        with self._lock:
            return list(self._all)

    def wait_connections(self, count: int = 1, timeout: float = 5.0) -> list[TcpConnLog]:
        self.wait_for(lambda _: len(self._all) >= count, timeout)
        return self.connections()

    def wait_closed(self, count: int = 1, timeout: float = 5.0) -> list[TcpConnLog]:
        """Wait until count connections have ended; returns the ended ones."""
        self.wait_for(lambda _: sum(c.end is not None for c in self._all) >= count, timeout)
        return [c for c in self.connections() if c.end is not None]

    def vanish(self) -> None:
        """From now on, stop serving every connection (see the module doc for the wire)."""
        self._vanished = True
        self.note("vanish: connections are no longer served")
        self._wake()

    # -- hooks for the services ----------------------------------------------
    def _on_accept(self, c: _Conn) -> None:
        pass

    def _on_data(self, c: _Conn, data: bytes) -> None:
        pass

    def _on_eof(self, c: _Conn) -> None:
        self._close(c, "fin")

    def _want_more(self, c: _Conn) -> bool:
        """True when the service has more to write without input (chargen)."""
        return False

    def _produce(self, c: _Conn) -> None:
        pass

    # -- machinery -------------------------------------------------------------
    def _open(self) -> None:
        s = listen_socket(self.net, self.host, self.port, self.backlog, self.rcvbuf)
        self.sockets.append(s)
        s.setblocking(False)

    def _run(self) -> None:
        sel = self._sel = selectors.DefaultSelector()
        listener = self.sockets[0]
        sel.register(self._wake_r, selectors.EVENT_READ)
        if self.behaviour != "no_accept":
            sel.register(listener, selectors.EVENT_READ)
        try:
            while not self._stopping:
                for key, ev in sel.select(self._timer_timeout()):
                    s = key.fileobj
                    if s is self._wake_r:
                        self._drain_wake()
                    elif self._stopping:
                        break
                    elif s is listener:
                        self._accept(listener)
                    elif s in self._conns:
                        c = self._conns[s]
                        if ev & selectors.EVENT_WRITE:
                            self._write(c)
                        if ev & selectors.EVENT_READ and s in self._conns:
                            self._read(c)
                if self._stopping:
                    break
                self._run_timers()
                self._update_interest()
        except BaseException as e:
            self.error = e
            self.logger.exception("%s peer stopped on error", self.name)
        finally:
            for c in list(self._conns.values()):
                self._close(c, "stopped")
            sel.close()
            self._sel = None

    def _update_interest(self) -> None:
        for c in list(self._conns.values()):
            mask = 0
            if not self._vanished and c.serviced:
                if c.reading and not c.eof and len(c.out) < _HIGH_WATER:
                    mask |= selectors.EVENT_READ
                if c.out or self._want_more(c):
                    mask |= selectors.EVENT_WRITE
            if mask != c.mask:
                if c.mask and mask:
                    self._sel.modify(c.sock, mask)
                elif mask:
                    self._sel.register(c.sock, mask)
                else:
                    self._sel.unregister(c.sock)
                c.mask = mask

    def _accept(self, listener: socket.socket) -> None:
        try:
            s, addr = listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            self.note(f"accept failed: {e.strerror or e}")
            return
        s.setblocking(False)
        with self._changed:
            self._ids += 1
            log = TcpConnLog(self._ids, addr, s.getsockname(), time.time(), time.monotonic())
            self._all.append(log)
        c = _Conn(s, log)
        self._conns[s] = c
        self.record("note", addr, b"", f"#{log.id} accepted")
        if self._vanished:
            return
        if self.behaviour == "close":
            self._close(c, "server-fin")
            return
        if self.reset_after == 0:
            self._close(c, "server-rst", reset=True)
            return
        self._on_accept(c)

    def _read(self, c: _Conn) -> None:
        n = _CHUNK
        if self.reset_after is not None and self._limit_on_input:
            n = max(1, min(n, self.reset_after - c.log.bytes_in))
        try:
            data = c.sock.recv(n)
        except (BlockingIOError, InterruptedError):
            return
        except ConnectionResetError:
            self._close(c, "rst")
            return
        except OSError as e:
            self._close(c, f"error: {e.strerror or e}")
            return
        if not data:
            c.eof = True
            self.record("note", c.log.peer, b"", f"#{c.log.id} FIN from client")
            self._on_eof(c)
            return
        c.log.bytes_in += len(data)
        c.log._hin.update(data)
        self.record("rx", c.log.peer, data if len(data) <= 64 else b"", f"#{c.log.id} {len(data)} bytes")
        self._on_data(c, data)
        if (self.reset_after is not None and self._limit_on_input and c.sock in self._conns
                and c.log.bytes_in >= self.reset_after):
            self._flush_now(c)
            self._close(c, "server-rst", reset=True)

    _limit_on_input = True

    def _flush_now(self, c: _Conn) -> None:
        try:
            while c.out:
                n = c.sock.send(c.out)
                self._sent(c, c.out[:n])
                del c.out[:n]
        except OSError:
            pass

    def _sent(self, c: _Conn, data: bytes) -> None:
        c.log.bytes_out += len(data)
        c.log._hout.update(data)

    def _write(self, c: _Conn) -> None:
        if not c.out:
            self._produce(c)
        if not c.out:
            if c.fin_after_flush:
                self._finish(c)
            return
        try:
            n = c.sock.send(c.out)
        except (BlockingIOError, InterruptedError):
            return
        except (ConnectionResetError, BrokenPipeError):
            self._close(c, "rst")
            return
        except OSError as e:
            self._close(c, f"error: {e.strerror or e}")
            return
        self._sent(c, bytes(c.out[:n]))
        del c.out[:n]
        if not self._limit_on_input and self.reset_after is not None and c.log.bytes_out >= self.reset_after:
            self._close(c, "server-rst", reset=True)
            return
        if not c.out and c.fin_after_flush:
            self._finish(c)

    def _finish(self, c: _Conn) -> None:
        """Orderly end from the server side: FIN after everything queued was written."""
        if c.out:
            c.fin_after_flush = True
            return
        if c.eof:
            self._close(c, "fin")
        else:
            self._close(c, "server-fin")

    def _close(self, c: _Conn, how: str, reset: bool = False) -> None:
        if c.sock not in self._conns:
            return
        del self._conns[c.sock]
        if c.mask and self._sel is not None:
            try:
                self._sel.unregister(c.sock)
            except (KeyError, ValueError):
                pass
        if reset:
            reset_close(c.sock)
        else:
            c.sock.close()
        with self._changed:
            c.log.closed, c.log.closed_mono = time.time(), time.monotonic()
            c.log.end = how
        self.record("note", c.log.peer, b"", f"closed {c.log}")


class TcpEchoServer(TcpServer):
    """RFC 862 echo: every byte is sent back; on the client's FIN the rest is flushed, then FIN."""
    name = "tcp-echo"

    def __init__(self, net, port: int = 7, **kw) -> None:
        super().__init__(net, port, **kw)

    def _on_data(self, c, data):
        c.out += data

    def _on_eof(self, c):
        self._finish(c)


class TcpDiscardServer(TcpServer):
    """RFC 863 discard: reads and counts (bytes_in, sha256_in per connection), never answers."""
    name = "tcp-discard"

    def __init__(self, net, port: int = 9, **kw) -> None:
        super().__init__(net, port, **kw)


#: The 95 printable ASCII characters RFC 864 rotates through.
_PRINTABLE = bytes(range(32, 127))
CHARGEN_LINE = 72


def _chargen_block() -> bytes:
    ring = _PRINTABLE * 2
    return b"".join(ring[i:i + CHARGEN_LINE] + b"\r\n" for i in range(len(_PRINTABLE)))


_BLOCK = _chargen_block()       # 95 lines of 74 bytes: the pattern repeats after it


def chargen_bytes(n: int, start: int = 0) -> bytes:
    """Bytes start..start+n of the RFC 864 stream (72 characters + CRLF per line, shifting by one)."""
    reps = (start % len(_BLOCK) + n) // len(_BLOCK) + 1
    s = start % len(_BLOCK)
    return (_BLOCK * (reps + 1))[s:s + n]


class TcpChargenServer(TcpServer):
    """RFC 864 chargen: the rotating 72-character line pattern, as fast as the client reads.

    limit: send exactly that many bytes, then FIN.  reset_after counts bytes sent.  Input is
    read and discarded (counted in bytes_in).
    """
    name = "tcp-chargen"
    _limit_on_input = False

    def __init__(self, net, port: int = 19, limit: int | None = None, **kw) -> None:
        super().__init__(net, port, **kw)
        self.limit = limit

    def _on_accept(self, c):
        c.state["pos"] = 0

    def _cap(self, c) -> int | None:
        caps = [x for x in (self.limit, self.reset_after) if x is not None]
        return min(caps) if caps else None

    def _want_more(self, c):
        cap = self._cap(c)
        return not c.fin_after_flush and (cap is None or c.state.get("pos", 0) < cap)

    def _produce(self, c):
        cap = self._cap(c)
        pos = c.state.get("pos", 0)
        n = _CHUNK if cap is None else min(_CHUNK, cap - pos)
        if n > 0:
            c.out += chargen_bytes(n, pos)
            c.state["pos"] = pos + n
        if self.limit is not None and c.state["pos"] >= self.limit and (
                self.reset_after is None or self.limit < self.reset_after):
            c.fin_after_flush = True

    def _on_eof(self, c):
        self._close(c, "fin")


class TcpDaytimeServer(TcpServer):
    """RFC 867 daytime: one line with the date and time, then the server closes (FIN).

    fmt is a time.strftime format applied to UTC (default like
    ``Tuesday, November 24, 2026 23:20:25-UTC``); clock returns the time to send.
    """
    name = "tcp-daytime"
    _limit_on_input = False
    FORMAT = "%A, %B %d, %Y %H:%M:%S-UTC"

    def __init__(self, net, port: int = 13, fmt: str | None = None, clock=time.time, **kw) -> None:
        super().__init__(net, port, **kw)
        self.fmt = fmt or self.FORMAT
        self.clock = clock

    def daytime(self) -> bytes:
        return time.strftime(self.fmt, time.gmtime(self.clock())).encode("ascii") + b"\r\n"

    def _on_accept(self, c):
        c.out += self.daytime()
        self._flush_now(c)
        self._finish(c)
