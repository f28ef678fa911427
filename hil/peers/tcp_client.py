"""TCP sockets the test drives by hand in the bench namespace: connections to the board
(:func:`net_connect`, :func:`connect_at_once` for a burst of clients), the board's
connections to the host (:class:`TcpAcceptor`), and closing with a reset
(:func:`reset_close`).  The services that answer by themselves are in :mod:`hil.peers.tcp`.
"""

from __future__ import annotations

import errno
import os
import selectors
import socket
import struct
import time

from .base import Peer, PeerError

__all__ = ["TcpAcceptor", "listen_socket", "net_connect", "connect_at_once", "reset_close"]


def reset_close(sock: socket.socket) -> None:
    """Close ``sock`` with a RST instead of a FIN (SO_LINGER {on, 0}): the kernel sends the
    reset at once and drops whatever is still unsent."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass  # already reset by the other side: closing is all that is left
    sock.close()


def listen_socket(net, host: str, port: int, backlog: int,
                  rcvbuf: int | None = None) -> socket.socket:
    """A listening TCP socket inside the bench namespace (SO_REUSEADDR; ``rcvbuf`` sets the
    receive buffer its connections inherit, so a small one reaches zero window soon)."""
    s = net.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, int(rcvbuf))
        s.bind((host, port))
        s.listen(backlog)
    except OSError:
        s.close()
        raise
    return s


class TcpAcceptor(Peer):
    """Accepts the board's connections and hands the sockets to the test to drive by hand.

        with TcpAcceptor(net, 5000) as acc:
            s = acc.wait_accept(5.0)      # a blocking socket in the namespace
            s.sendall(b"hello"); s.recv(100)

    Accepted sockets still open are closed by stop().
    """
    name = "tcp-acceptor"

    def __init__(self, net, port: int, host: str = "0.0.0.0", backlog: int = 8,
                 rcvbuf: int | None = None) -> None:
        super().__init__(net, host=host, port=port)
        self.backlog = backlog
        self.rcvbuf = rcvbuf
        self._queue: list[tuple[socket.socket, tuple]] = []
        self.accepted: list[tuple[socket.socket, tuple]] = []

    def _open(self) -> None:
        self.sockets.append(listen_socket(self.net, self.host, self.port, self.backlog,
                                          self.rcvbuf))

    def _on_readable(self, sock: socket.socket) -> None:
        try:
            s, addr = sock.accept()
        except OSError as e:
            self.note(f"accept failed: {e.strerror or e}")
            return
        s.setblocking(True)
        with self._changed:
            self._queue.append((s, addr))
            self.accepted.append((s, addr))
        self.record("note", addr, b"", "accepted")

    def wait_accept(self, timeout: float = 5.0) -> socket.socket:
        """The next accepted connection (blocking socket); PeerError when none came in time."""
        with self._changed:
            if not self._changed.wait_for(lambda: self._queue, timeout):
                raise PeerError(f"no connection to port {self.port} within {timeout:g} s")
            return self._queue.pop(0)[0]

    def stop(self) -> None:
        super().stop()
        for s, _ in self.accepted:
            s.close()


def net_connect(net, ip: str, port: int, timeout: float = 5.0, source: tuple | None = None) -> socket.socket:
    """A TCP socket inside the bench namespace connected to ip:port (the kernel is the peer).

    The socket keeps `timeout` for its later operations.  PeerError (one line) on failure.
    """
    s = net.socket(socket.AF_INET, socket.SOCK_STREAM, bind=source)
    s.settimeout(timeout)
    try:
        s.connect((ip, port))
    except socket.timeout:
        s.close()
        raise PeerError(f"cannot connect to {ip}:{port}: no answer within {timeout:g} s") from None
    except OSError as e:
        s.close()
        raise PeerError(f"cannot connect to {ip}:{port}: {e.strerror or e}") from None
    return s


def connect_at_once(net, ip: str, port: int, n: int, timeout: float = 5.0) -> list:
    """``n`` TCP connects to ip:port issued in one burst (non-blocking, all SYNs out within
    microseconds of each other), as a crowd of clients starting together would.

    Returns one entry per client, in order: a connected socket (blocking, ``timeout`` kept
    for later operations) or the :class:`PeerError` that client got."""
    socks = [net.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(n)]
    results: list = [None] * n
    sel = selectors.DefaultSelector()
    try:
        for i, s in enumerate(socks):
            s.setblocking(False)
            rc = s.connect_ex((ip, port))
            if rc in (0, errno.EINPROGRESS):
                sel.register(s, selectors.EVENT_WRITE, i)
            else:
                results[i] = PeerError(f"client {i}: cannot connect to {ip}:{port}: "
                                       f"{os.strerror(rc)}")
        deadline = time.monotonic() + timeout
        while sel.get_map() and time.monotonic() < deadline:
            for key, _ in sel.select(max(0.0, deadline - time.monotonic())):
                s, i = key.fileobj, key.data
                sel.unregister(s)
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                results[i] = s if err == 0 else PeerError(
                    f"client {i}: cannot connect to {ip}:{port}: {os.strerror(err)}")
        for key in list(sel.get_map().values()):
            results[key.data] = PeerError(f"client {key.data}: cannot connect to {ip}:{port}: "
                                          f"no answer within {timeout:g} s")
    finally:
        sel.close()
    for i, s in enumerate(socks):
        if results[i] is s:
            s.setblocking(True)
            s.settimeout(timeout)
        else:
            s.close()
    return results
