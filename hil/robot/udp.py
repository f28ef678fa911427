from __future__ import annotations

import socket

from robot.api import logger
from robot.api.deco import keyword

from ..agent.client import AgentTimeout
from ..agent.udp import CallbackMode, UDPSocket, UDPSocketEvent
from .timeouts import Timeout, secs


def _bytes(data) -> bytes:
    return data if isinstance(data, (bytes, bytearray)) else str(data).encode()


class UdpKeywords:
    """``UDPSocket`` on the board, and plain UDP sockets on the host side of the bench."""

    def __init__(self, lib):
        self.lib = lib
        self._host_socks: dict[int, socket.socket] = {}

    # -- board side ------------------------------------------------------------------------

    def _agent(self, name=None):
        return self.lib.bench.board(name or None).require_ready()

    @keyword("Open UDP Socket On Board")
    def open_udp_socket_on_board(self, callback: str = "member", name: str | None = None) -> UDPSocket:
        """Create a ``UDPSocket`` on the board and return it for the other keywords.

        ``callback``: ``member`` (``setOnEvent(obj, method)``), ``function``
        (``setOnEvent(fn)``) or ``none``.  The socket is deleted when the test ends."""
        sock = UDPSocket(self._agent(name))
        self.lib.cleanups.append(lambda: sock.delete())
        if callback.lower() != "none":
            sock.set_on_event(CallbackMode[callback.upper()])
        return sock

    @keyword("Bind UDP Socket")
    def bind_udp_socket(self, sock: UDPSocket, port: int, ip: str = "0.0.0.0") -> int:
        """``UDPSocket::bind(Host(ip, port))``; returns its result."""
        return sock.bind(int(port), ip)

    @keyword("Send UDP From Board")
    def send_udp_from_board(self, sock: UDPSocket, data, ip: str, port: int) -> int:
        """``UDPSocket::sendto``; returns bytes sent or a ``UDPSocketErr``."""
        return sock.sendto(_bytes(data), ip, int(port))

    @keyword("Receive From UDP Socket")
    def receive_from_udp_socket(self, sock: UDPSocket, maxlen: int = 1600) -> int:
        """``UDPSocket::recvfrom``, once, without waiting; returns its result (bytes copied,
        0, or an error).  `Receive UDP On Board` waits for a datagram and returns its data."""
        return sock.recvfrom(int(maxlen)).result

    @keyword("Receive UDP On Board")
    def receive_udp_on_board(self, sock: UDPSocket, timeout: Timeout = 2.0, maxlen: int = 1600):
        """Wait for ``UDPSOCKET_READABLE`` on the socket, then ``recvfrom``.

        Returns the data; the sender is logged.  Fails if nothing arrives in time."""
        try:
            sock.wait_event(UDPSocketEvent.UDPSOCKET_READABLE, secs(timeout))
        except AgentTimeout:
            raise AssertionError(f"no UDPSOCKET_READABLE on the board within {secs(timeout):g} s") from None
        d = sock.recvfrom(int(maxlen))
        if d.result <= 0:
            raise AssertionError(f"recvfrom returned {d.result} after UDPSOCKET_READABLE")
        logger.info(f"board received {d.result} bytes from {d.ip}:{d.port}")
        return d.data

    @keyword("Close UDP Socket")
    def close_udp_socket(self, sock: UDPSocket) -> int:
        """``UDPSocket::close``; returns its result."""
        return sock.close()

    @keyword("Set UDP Callback")
    def set_udp_callback(self, sock: UDPSocket, mode: str = "member") -> int:
        """``setOnEvent`` in the given form (``member``/``function``) or ``resetOnEvent`` (``none``)."""
        return sock.set_on_event(CallbackMode[mode.upper()])

    @keyword("Wait For UDP Event")
    def wait_for_udp_event(self, sock: UDPSocket, event: str = "UDPSOCKET_READABLE",
                           timeout: Timeout = 2.0):
        """Wait for the socket's callback to run with ``event``; returns the board timestamp (µs)."""
        try:
            ev = sock.wait_event(UDPSocketEvent[event], secs(timeout))
        except AgentTimeout:
            raise AssertionError(f"no {event} callback within {secs(timeout):g} s") from None
        logger.info(f"{ev.name} at board time {ev.ts_us} us via the {ev.mode.name.lower()} callback")
        return ev.ts_us

    @keyword("No UDP Event Should Arrive")
    def no_udp_event_should_arrive(self, sock: UDPSocket, timeout: Timeout = 0.3):
        """Fail if the socket's callback runs within ``timeout`` seconds."""
        try:
            ev = sock.wait_event(None, secs(timeout))
        except AgentTimeout:
            return
        raise AssertionError(f"unexpected callback {ev.name} at board time {ev.ts_us} us")

    @keyword
    def enable_echo_on_board(self, sock: UDPSocket):
        """Make the socket's own callback send every datagram back to its sender."""
        return sock.set_echo(True)

    # -- host side -------------------------------------------------------------------------

    @keyword("Start UDP Echo Peer")
    def start_udp_echo_peer(self, port: int = 7):
        """Start an RFC 862 UDP echo service on the host side of the bench (stopped when
        the test ends).  Every exchange is logged in the test's log."""
        from ..peers.echo import UdpEchoPeer

        return self.lib.own_peer(UdpEchoPeer(self.lib.bench.net, port=int(port)).start(),
                                 "echo peer")

    def _host_sock(self, port: int) -> socket.socket:
        s = self._host_socks.get(port)
        if s is None:
            s = self.lib.bench.net.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((self.lib.bench.host_ip, port))
            port = s.getsockname()[1]
            self._host_socks[port] = s

            def drop(p=port):
                sock = self._host_socks.pop(p, None)
                if sock:
                    sock.close()
            self.lib.cleanups.append(drop)
        return s

    @keyword("Open UDP Socket On Host")
    def open_udp_socket_on_host(self, port: int = 0) -> int:
        """Bind a UDP socket on the host side of the bench; returns its port."""
        return self._host_sock(int(port)).getsockname()[1]

    @keyword("Send UDP From Host")
    def send_udp_from_host(self, data, port: int, from_port: int = 0, name: str | None = None):
        """Send a datagram from the host (``from_port``, 0 = any) to the board's ``port``."""
        board = self.lib.bench.board(name or None)
        s = self._host_sock(int(from_port))
        s.sendto(_bytes(data), (board.ip, int(port)))
        return s.getsockname()[1]

    @keyword("UDP To Board Port Should Be Refused")
    def udp_to_board_port_should_be_refused(self, port: int, timeout: Timeout = 2.0,
                                            name: str | None = None):
        """Send a datagram to the board's ``port`` from a connected host socket; the board
        must answer with ICMP port unreachable, which the host's kernel reports as
        ``ECONNREFUSED`` on the socket (RFC 1122 3.2.2.1)."""
        board = self.lib.bench.board(name or None)
        s = self.lib.bench.net.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.settimeout(secs(timeout))
            s.connect((board.ip, int(port)))
            s.send(b"anyone listening?")
            try:
                data = s.recv(2048)
            except ConnectionRefusedError:
                logger.info(f"port {port}: ICMP port unreachable (connection refused)")
                return
            except socket.timeout:
                raise AssertionError(f"no ICMP port unreachable for UDP port {port} within "
                                     f"{secs(timeout):g} s") from None
            raise AssertionError(f"UDP port {port} answered: {data[:64]!r}")
        finally:
            s.close()

    @keyword("Send UDP Burst To Board")
    def send_udp_burst_to_board(self, count: int, first_port: int, name: str | None = None):
        """Send ``count`` datagrams at once, one each to ports ``first_port`` ... (for
        closed-port and rate-limit tests)."""
        board = self.lib.bench.board(name or None)
        s = self.lib.bench.net.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            for i in range(int(count)):
                s.sendto(b"x", (board.ip, int(first_port) + i))
        finally:
            s.close()

    @keyword("Receive UDP On Host")
    def receive_udp_on_host(self, port: int, timeout: Timeout = 2.0):
        """Wait for a datagram on the host socket bound to ``port``; returns its data."""
        s = self._host_sock(int(port))
        s.settimeout(secs(timeout))
        try:
            data, src = s.recvfrom(65535)
        except socket.timeout:
            raise AssertionError(f"no datagram on host port {port} within {secs(timeout):g} s") from None
        logger.info(f"host port {port} received {len(data)} bytes from {src[0]}:{src[1]}")
        return data
