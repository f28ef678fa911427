"""IPv4 multicast peers on the bench LAN: a sender and a listener.

    with MulticastListener(net, "239.1.2.3", 5000) as ml, \\
            MulticastSender(net, "239.1.2.3", 5000, b"hello", interval=0.1, count=5) as ms:
        ml.wait_datagrams(5)
        [(d.source, d.data) for d in ml.datagrams()]

Both leave through / listen on the bridge br0 (IP_MULTICAST_IF and IP_ADD_MEMBERSHIP use the
host address).  The bridge has multicast snooping off, so every board hears every group.
"""

from __future__ import annotations

import socket
import struct
import time
from dataclasses import dataclass
from typing import Callable, Union

from .base import Peer, PeerError

__all__ = ["Datagram", "MulticastListener", "MulticastSender"]

Payload = Union[bytes, Callable[[int], bytes]]


def _check_group(group: str) -> bytes:
    try:
        b = socket.inet_aton(group)
    except OSError:
        raise PeerError(f"not an IPv4 address: {group!r}") from None
    if not 224 <= b[0] <= 239:
        raise PeerError(f"{group} is not a multicast group (224.0.0.0/4)")
    return b


@dataclass(frozen=True)
class Datagram:
    wall: float
    mono: float
    source: tuple
    data: bytes

    @property
    def time(self) -> float:
        return self.wall


class MulticastSender(Peer):
    """Sends payload to group:port, once at start (interval=None) or every interval seconds.

    payload: bytes, or a callable(seq) -> bytes (seq counts from 0).  count: stop after that
    many periodic sends.  ttl: IP TTL (IP_MULTICAST_TTL).  loop: the host's own sockets hear
    the datagrams too (IP_MULTICAST_LOOP).  Unicast answers to the sender's port are recorded
    ("rx" in the log, :meth:`replies`).
    """

    name = "mcast-send"

    def __init__(self, net, group: str, port: int, payload: Payload = b"", interval: float | None = None,
                 ttl: int = 1, count: int | None = None, source_port: int = 0, loop: bool = True,
                 source: str | None = None) -> None:
        super().__init__(net, host=source or net.host_ip, port=source_port)
        _check_group(group)
        if interval is not None and interval <= 0:
            raise PeerError(f"multicast interval must be > 0, not {interval}")
        self.group, self.dport = group, int(port)
        self.payload, self.interval, self.count = payload, interval, count
        self.ttl, self.loop = int(ttl), loop
        self.sent = 0

    def _open(self) -> None:
        s = self.net.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sockets.append(s)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, self.ttl)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(self.host))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, int(self.loop))
        s.bind((self.host, self.port))

    def start(self) -> "MulticastSender":
        super().start()
        if self.interval is None:
            self.call_later(0, self._send_one)
        else:
            self._due = time.monotonic()
            self.call_later(0, self._tick)
        return self

    def _tick(self) -> None:
        if self.count is not None and self.sent >= self.count:
            self.note(f"sent {self.sent} datagrams, done")
            return
        self._send_one()
        self._due += self.interval             # a fixed schedule: no drift
        self.call_later(self._due - time.monotonic(), self._tick)

    def _send_one(self, payload: bytes | None = None) -> None:
        if payload is None:
            payload = self.payload(self.sent) if callable(self.payload) else self.payload
        dest = (self.group, self.dport)
        try:
            self.sockets[0].sendto(payload, dest)
        except OSError as e:
            self.record("note", dest, payload, f"send failed: {e.strerror or e}")
            return
        self.sent += 1
        self.record("tx", dest, payload, f"#{self.sent} ttl {self.ttl}")

    def send(self, payload: bytes | None = None) -> None:
        """Send one datagram now (payload, or the configured one), from the peer thread."""
        if self._thread is None:
            raise PeerError("multicast sender is not started")
        self.call_later(0, lambda: self._send_one(payload))

    def wait_sent(self, count: int, timeout: float = 5.0) -> bool:
        return self.wait_for(lambda log: sum(e.direction == "tx" for e in log) >= count, timeout)

    def replies(self) -> list[Datagram]:
        return [Datagram(e.wall, e.mono, e.peer, e.data) for e in self.received()]

    def _on_readable(self, sock: socket.socket) -> None:
        data, addr = sock.recvfrom(65535)
        self.record("rx", addr, data, "reply to the sender")


class MulticastListener(Peer):
    """Joins group on the bench LAN (br0, through the host address) and records datagrams to port."""

    name = "mcast-listen"

    def __init__(self, net, group: str, port: int, interface_ip: str | None = None,
                 bufsize: int = 65535) -> None:
        super().__init__(net, host=group, port=port)
        self._group = _check_group(group)
        self.group = group
        self.interface_ip = interface_ip or net.host_ip
        self.bufsize = bufsize

    def _open(self) -> None:
        s = self.net.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sockets.append(s)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.group, self.port))      # only this group's datagrams to this port
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                     struct.pack("4s4s", self._group, socket.inet_aton(self.interface_ip)))

    def _on_readable(self, sock: socket.socket) -> None:
        data, addr = sock.recvfrom(self.bufsize)
        self.record("rx", addr, data)

    def datagrams(self) -> list[Datagram]:
        return [Datagram(e.wall, e.mono, e.peer, e.data) for e in self.received()]

    def wait_datagrams(self, count: int = 1, timeout: float = 5.0) -> list[Datagram]:
        """Wait until count datagrams arrived; returns all received (fewer on timeout)."""
        self.wait_for(lambda log: sum(e.direction == "rx" for e in log) >= count, timeout)
        return self.datagrams()
