"""Live capture on the bench network: what crossed the bridge, decoded enough for tests.

The emulator also writes a pcap of each board's link; a live capture is what a test uses
to wait for something on the wire (an IGMP report, a gratuitous ARP) while it happens.
"""

from __future__ import annotations

import select
import socket
import struct
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Frame:
    time: float
    data: bytes

    @property
    def ethertype(self) -> int:
        return struct.unpack_from("!H", self.data, 12)[0] if len(self.data) >= 14 else -1

    @property
    def src_mac(self) -> str:
        return ":".join(f"{b:02x}" for b in self.data[6:12])

    def ipv4(self):
        """(src, dst, proto, ttl, header_len, payload) or None."""
        d = self.data
        if self.ethertype != 0x0800 or len(d) < 34:
            return None
        ihl = (d[14] & 0x0F) * 4
        total = struct.unpack_from("!H", d, 16)[0]
        return (socket.inet_ntoa(d[26:30]), socket.inet_ntoa(d[30:34]), d[23], d[22], ihl,
                d[14 + ihl:14 + total])

    def igmp(self):
        """(type, group, ip_dst, ttl, has_router_alert) for IGMP frames, else None."""
        ip = self.ipv4()
        if not ip or ip[2] != 2 or len(ip[5]) < 8:
            return None
        src, dst, _, ttl, ihl, payload = ip
        options = self.data[34:14 + ihl]
        router_alert = b"\x94\x04\x00\x00" in options
        return payload[0], socket.inet_ntoa(payload[4:8]), dst, ttl, router_alert

    def udp(self):
        """(src, dst, sport, dport, payload) for IPv4/UDP frames, else None."""
        ip = self.ipv4()
        if not ip or ip[2] != 17 or len(ip[5]) < 8:
            return None
        sport, dport = struct.unpack_from("!HH", ip[5])
        return ip[0], ip[1], sport, dport, ip[5][8:]

    def icmp(self):
        """(src, dst, type, code, quoted) for IPv4/ICMP frames, else None; ``quoted`` is
        what an error message carries (the offending datagram's IP header and more)."""
        ip = self.ipv4()
        if not ip or ip[2] != 1 or len(ip[5]) < 8:
            return None
        return ip[0], ip[1], ip[5][0], ip[5][1], ip[5][8:]

    def arp(self):
        """(op, sender_ip, target_ip, sender_mac) for ARP frames, else None."""
        d = self.data
        if self.ethertype != 0x0806 or len(d) < 42:
            return None
        op = struct.unpack_from("!H", d, 20)[0]
        return op, socket.inet_ntoa(d[28:32]), socket.inet_ntoa(d[38:42]), \
            ":".join(f"{b:02x}" for b in d[22:28])


class Capture:
    """Frames seen on a bench interface (``br0``: everything the host and boards exchange)."""

    def __init__(self, net, ifname: str = "br0"):
        self.sock = net.raw_socket(ifname)
        self.frames: list[Frame] = []
        self._cv = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="capture", daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop:
            try:
                if not select.select([self.sock], [], [], 0.1)[0]:
                    continue
                data = self.sock.recv(65535)
            except OSError:
                return
            with self._cv:
                self.frames.append(Frame(time.monotonic(), data))
                self._cv.notify_all()

    def wait_for(self, match, timeout: float = 5.0, since: int = 0):
        """First frame (from index ``since``) for which ``match(frame)`` is truthy."""
        deadline = time.monotonic() + timeout
        with self._cv:
            i = since
            while True:
                while i < len(self.frames):
                    if match(self.frames[i]):
                        return self.frames[i]
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cv.wait(left)

    def stop(self):
        self._stop = True
        self._thread.join(timeout=1)
        self.sock.close()
