"""RFC 862 echo over UDP."""

from __future__ import annotations

import socket

from .base import Peer


class UdpEchoPeer(Peer):
    """RFC 862 echo service over UDP: every datagram is sent back to its sender.

    Binds 0.0.0.0:port inside the bench namespace by default (so broadcasts
    are echoed too; the reply always comes from the host address).
    """

    name = "udp-echo"

    def __init__(self, net, port: int = 7, host: str = "0.0.0.0", bufsize: int = 65535) -> None:
        super().__init__(net, host=host, port=port)
        self.bufsize = bufsize

    def _open(self) -> None:
        s = self.net.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sockets.append(s)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        s.bind((self.host, self.port))

    def _on_readable(self, sock: socket.socket) -> None:
        data, addr = sock.recvfrom(self.bufsize)
        self.record("rx", addr, data)
        try:
            sock.sendto(data, addr)
        except OSError as e:
            self.record("note", addr, data, f"echo failed: {e.strerror or e}")
            return
        self.record("tx", addr, data)
