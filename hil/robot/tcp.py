from __future__ import annotations

import hashlib
import socket
import time

from robot.api import logger
from robot.api.deco import keyword

from ..agent.client import AgentTimeout
from ..agent.tcp import (StreamMode, TCPSocket, TCPSocketEvent, TransferError, echo_transfer,
                         source_pattern)
from ..agent.udp import CallbackMode
from .timeouts import Timeout, secs


class TcpKeywords:
    """``TCPSocket`` on the board; the Linux kernel's TCP on the host side as its peer."""

    def __init__(self, lib):
        self.lib = lib

    # -- board side --------------------------------------------------------------------------

    def _agent(self, name=None):
        return self.lib.bench.board(name or None).require_ready()

    def _own(self, sock: TCPSocket) -> TCPSocket:
        self.lib.cleanups.append(sock.delete)
        return sock

    @keyword("Open TCP Socket On Board")
    def open_tcp_socket_on_board(self, callback: str = "member", name: str | None = None):
        """Create a ``TCPSocket`` (callback ``member``, ``function`` or ``none``); deleted
        when the test ends."""
        sock = self._own(TCPSocket(self._agent(name)))
        if callback.lower() != "none":
            sock.set_on_event(CallbackMode[callback.upper()])
        return sock

    @keyword("Bind TCP Socket")
    def bind_tcp_socket(self, sock: TCPSocket, port: int, ip: str = "0.0.0.0") -> int:
        """``TCPSocket::bind``; returns its result."""
        return sock.bind(int(port), ip)

    @keyword("Listen On Board")
    def listen_on_board(self, sock: TCPSocket) -> int:
        """``TCPSocket::listen``; returns its result."""
        return sock.listen()

    @keyword("Connect From Board")
    def connect_from_board(self, sock: TCPSocket, ip: str, port: int) -> int:
        """``TCPSocket::connect`` (non-blocking: the outcome is an event); returns its result."""
        return sock.connect(ip, int(port))

    @keyword("Accept On Board")
    def accept_on_board(self, sock: TCPSocket):
        """``TCPSocket::accept``; returns ``[result, new socket or None, client ip, port]``.
        The new socket has no callback yet (`Set TCP Callback`)."""
        a = sock.accept()
        if a.socket is not None:
            self._own(a.socket)
        return [a.result, a.socket, a.ip, a.port]

    @keyword("Send TCP From Board")
    def send_tcp_from_board(self, sock: TCPSocket, data) -> int:
        """``TCPSocket::send``; returns bytes accepted (may be fewer, or 0) or an error."""
        return sock.send(data if isinstance(data, bytes) else str(data).encode())

    @keyword("Receive From TCP Socket")
    def receive_from_tcp_socket(self, sock: TCPSocket, maxlen: int = 1600):
        """``TCPSocket::recv``, once, without waiting; returns ``[result, data]``."""
        result, data = sock.recv(int(maxlen))
        return [result, data]

    @keyword("Close TCP Socket")
    def close_tcp_socket(self, sock: TCPSocket) -> int:
        """``TCPSocket::close``; returns its result."""
        return sock.close()

    @keyword("Set TCP Callback")
    def set_tcp_callback(self, sock: TCPSocket, mode: str = "member") -> int:
        """``setOnEvent`` (``member``/``function``) or ``resetOnEvent`` (``none``)."""
        return sock.set_on_event(CallbackMode[mode.upper()])

    @keyword("Wait For TCP Event")
    def wait_for_tcp_event(self, sock: TCPSocket, event: str, timeout: Timeout = 3.0,
                           board_time: bool = False, name: str | None = None) -> int:
        """Wait for the socket's callback with ``event`` (e.g. ``TCPSOCKET_CONNECTED``);
        returns the board time (µs).  ``board_time=True`` for board-side timeouts (TCP
        retransmissions giving up): idle board time may pass faster than real time."""
        want = TCPSocketEvent[event]
        try:
            if board_time:
                with self.lib.bench.board(name or None).skipping_idle_time():
                    ev = sock.wait_event(want, secs(timeout))
            else:
                ev = sock.wait_event(want, secs(timeout))
        except AgentTimeout:
            seen = ", ".join(e.name for e in sock.events()) or "none"
            raise AssertionError(f"no {event} within {secs(timeout):g} s (other events: {seen})") from None
        logger.info(f"{ev.name} at board time {ev.ts_us} us")
        return ev.ts_us

    @keyword("Next TCP Event Should Be")
    def next_tcp_event_should_be(self, sock: TCPSocket, event: str, timeout: Timeout = 3.0):
        """The very next callback on the socket must be ``event`` (checks the order)."""
        try:
            ev = sock.wait_event(None, secs(timeout))
        except AgentTimeout:
            raise AssertionError(f"no event within {secs(timeout):g} s, expected {event}") from None
        if ev.name.split(" ")[0] != event:
            raise AssertionError(f"next event was {ev.name}, expected {event}")
        return ev.ts_us

    @keyword("No TCP Event Should Arrive")
    def no_tcp_event_should_arrive(self, sock: TCPSocket, timeout: Timeout = 0.5,
                                   event: str | None = None):
        """Fail if the socket's callback runs (with ``event``, or any) within ``timeout``."""
        want = TCPSocketEvent[event] if event else None
        try:
            ev = sock.wait_event(want, secs(timeout))
        except AgentTimeout:
            return
        raise AssertionError(f"unexpected callback {ev.name} at board time {ev.ts_us} us")

    @keyword("Enable Auto Accept")
    def enable_auto_accept(self, sock: TCPSocket, stream: str = "off") -> int:
        """Make the listener ``accept()`` inside its own ACCEPT callback, as a server does;
        new sockets get the member callback and stream mode ``stream``
        (``off``/``echo``/``sink``/``source``)."""
        return sock.auto_accept(True, StreamMode[stream.upper()])

    @keyword("Wait For Accepted Connection")
    def wait_for_accepted_connection(self, listener: TCPSocket, timeout: Timeout = 3.0):
        """The next connection the listener accepted by itself; returns the new socket."""
        try:
            a = listener.wait_accepted(secs(timeout))
        except AgentTimeout:
            raise AssertionError(f"no connection accepted within {secs(timeout):g} s") from None
        if a.socket is None:
            raise AssertionError(f"accept() in the callback returned {a.result}")
        logger.info(f"accepted {a.ip}:{a.port} as handle {a.socket.handle}")
        return self._own(a.socket)

    @keyword("Start TCP Stream On Board")
    def start_tcp_stream_on_board(self, sock: TCPSocket, mode: str, count: int = 0) -> int:
        """Move data inside the socket's own callbacks: ``echo``, ``sink`` (count + SHA-256)
        or ``source`` (``count`` bytes of the pattern i % 251, then close)."""
        return sock.stream(StreamMode[mode.upper()], int(count))

    @keyword("TCP Stream Status")
    def tcp_stream_status(self, sock: TCPSocket):
        """``[bytes received, bytes sent, SHA-256 hex of the bytes received]``."""
        rx, tx, sha = sock.stream_status()
        return [rx, tx, sha.hex()]

    # -- host side ---------------------------------------------------------------------------

    @keyword("Connect To Board From Host")
    def connect_to_board_from_host(self, port: int, timeout: Timeout = 5.0, name: str | None = None):
        """Open a TCP connection from the host's kernel to the board's ``port``; returns the
        host socket (closed when the test ends)."""
        from ..peers.tcp_client import PeerError, net_connect

        board = self.lib.bench.board(name or None)
        try:
            s = net_connect(self.lib.bench.net, board.ip, int(port), secs(timeout))
        except PeerError as exc:
            raise AssertionError(str(exc)) from None
        self.lib.cleanups.append(s.close)
        return s

    @keyword("Connecting To Board Should Be Refused")
    def connecting_to_board_should_be_refused(self, port: int, name: str | None = None):
        """A host connect to ``port`` must fail with connection refused (the board's RST)."""
        board = self.lib.bench.board(name or None)
        s = self.lib.bench.net.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(3)
        try:
            s.connect((board.ip, int(port)))
        except ConnectionRefusedError:
            return
        except OSError as exc:
            raise AssertionError(f"connect failed but not refused: {exc}") from None
        finally:
            s.close()
        raise AssertionError(f"connect to port {port} succeeded")

    @keyword("Send From Host")
    def send_from_host(self, conn: socket.socket, data):
        """Send all of ``data`` on a host connection."""
        conn.sendall(data if isinstance(data, bytes) else str(data).encode())

    @keyword("Receive On Host")
    def receive_on_host(self, conn: socket.socket, size: int, timeout: Timeout = 5.0) -> bytes:
        """Receive exactly ``size`` bytes on a host connection (fails on EOF or timeout)."""
        conn.settimeout(secs(timeout))
        buf = bytearray()
        try:
            while len(buf) < int(size):
                chunk = conn.recv(int(size) - len(buf))
                if not chunk:
                    raise AssertionError(f"connection closed after {len(buf)} of {size} bytes")
                buf += chunk
        except socket.timeout:
            raise AssertionError(f"{len(buf)} of {size} bytes within {secs(timeout):g} s") from None
        return bytes(buf)

    @keyword("Host Should See End Of Stream")
    def host_should_see_end_of_stream(self, conn: socket.socket, timeout: Timeout = 5.0):
        """The board closed its side: the host reads EOF (after any remaining data)."""
        conn.settimeout(secs(timeout))
        try:
            while conn.recv(65536):
                pass
        except socket.timeout:
            raise AssertionError(f"no FIN from the board within {secs(timeout):g} s") from None

    @keyword("Host Should See Reset")
    def host_should_see_reset(self, conn: socket.socket, timeout: Timeout = 5.0):
        """The board reset the connection: the host's next read fails with ECONNRESET."""
        conn.settimeout(secs(timeout))
        try:
            while conn.recv(65536):
                pass
        except ConnectionResetError:
            return
        except socket.timeout:
            raise AssertionError(f"no RST within {secs(timeout):g} s") from None
        raise AssertionError("the board closed gracefully (FIN), expected a reset")

    @keyword("Close Host Connection")
    def close_host_connection(self, conn: socket.socket, reset: bool = False):
        """Close a host connection: with FIN, or with ``reset=True`` an RST (SO_LINGER 0)."""
        from ..peers.tcp_client import reset_close

        if reset:
            reset_close(conn)
        else:
            conn.close()

    @keyword("Half Close Host Connection")
    def half_close_host_connection(self, conn: socket.socket):
        """Send FIN from the host but keep reading (shutdown(SHUT_WR))."""
        conn.shutdown(socket.SHUT_WR)

    @keyword("Start TCP Acceptor")
    def start_tcp_acceptor(self, port: int, rcvbuf: int | None = None):
        """Listen on the host for the board's connections (`Accept Board Connection`)."""
        from ..peers.tcp_client import TcpAcceptor

        acc = TcpAcceptor(self.lib.bench.net, int(port),
                          rcvbuf=None if rcvbuf is None else int(rcvbuf)).start()
        self.lib.cleanups.append(acc.stop)
        return acc

    @keyword("Accept Board Connection")
    def accept_board_connection(self, acceptor, timeout: Timeout = 5.0):
        """The next connection the board made to the acceptor; returns the host socket."""
        from ..peers.tcp import PeerError

        try:
            return acceptor.wait_accept(secs(timeout))
        except PeerError as exc:
            raise AssertionError(str(exc)) from None

    @keyword("Start TCP Service")
    def start_tcp_service(self, kind: str, port: int, reset_after: int | None = None):
        """Start an RFC service on the host: ``echo`` (862), ``discard`` (863), ``chargen``
        (864) or ``daytime`` (867); ``reset_after`` = RST after that many bytes."""
        from ..peers import tcp as peers

        cls = {"echo": peers.TcpEchoServer, "discard": peers.TcpDiscardServer,
               "chargen": peers.TcpChargenServer, "daytime": peers.TcpDaytimeServer}[kind.lower()]
        kw = {} if reset_after is None else {"reset_after": int(reset_after)}
        srv = cls(self.lib.bench.net, port=int(port), **kw).start()
        return self.lib.own_peer(srv, kind, lambda: map(str, srv.connections()))

    @keyword("Transfer Through Board Echo")
    def transfer_through_board_echo(self, conn: socket.socket, size: int, chunk: int = 16384,
                                    timeout: Timeout = 120.0, half_close: bool = False) -> float:
        """Send ``size`` pseudo-random bytes and read them back on a connection whose board
        side echoes; checks SHA-256 of what came back.  Returns MB/s.

        With ``half_close=True`` the host sends its FIN as soon as the last byte is sent
        (as ``socat - TCP:...`` and ``ncat`` do when their input ends) and reads until the
        board closes: every byte must come back before the board's FIN."""
        import os

        try:
            dt = echo_transfer(conn, os.urandom(int(size)), int(chunk), secs(timeout),
                               half_close=bool(half_close))
        except TransferError as exc:
            raise AssertionError(str(exc)) from None
        rate = int(size) / dt / 1e6
        how = ", host half-closed at end of input" if half_close else ""
        logger.info(f"{size} bytes echoed in {dt:.3f} s: {rate:.2f} MB/s, SHA-256 matches{how}")
        return rate

    @keyword("Echo On All Connections")
    def echo_on_all_connections(self, conns: list, size: int, timeout: Timeout = 180.0,
                                half_close: bool = False) -> float:
        """Run `Transfer Through Board Echo` on every connection at once (one thread each);
        fails if any echo differs.  Returns the total MB/s."""
        import concurrent.futures

        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(len(conns)) as pool:
            futures = [pool.submit(self.transfer_through_board_echo, c, int(size), 4096,
                                   secs(timeout), bool(half_close)) for c in conns]
            errors = []
            for i, f in enumerate(futures):
                try:
                    f.result()
                except AssertionError as exc:
                    errors.append(f"connection {i}: {exc}")
        if errors:
            raise AssertionError("; ".join(errors))
        rate = len(conns) * int(size) / (time.monotonic() - t0) / 1e6
        logger.info(f"{len(conns)} x {size} bytes echoed: {rate:.2f} MB/s in total")
        return rate

    @keyword("Connect Clients To Board At Once")
    def connect_clients_to_board_at_once(self, count: int, port: int, timeout: Timeout = 5.0,
                                         name: str | None = None):
        """Start ``count`` host connections to the board's ``port`` in one burst (all SYNs
        within microseconds), as a crowd of clients would.  Returns two lists: the
        connected host sockets (closed when the test ends) and, for each client that did
        not connect, why (refused, or no answer within ``timeout``)."""
        from ..peers.tcp_client import connect_at_once

        board = self.lib.bench.board(name or None)
        results = connect_at_once(self.lib.bench.net, board.ip, int(port), int(count),
                                  secs(timeout))
        conns = [r for r in results if isinstance(r, socket.socket)]
        failed = [str(r) for r in results if not isinstance(r, socket.socket)]
        for c in conns:
            self.lib.cleanups.append(c.close)
        logger.info(f"{len(conns)} of {count} clients connected at once"
                    + (f"; not connected: {failed}" if failed else ""))
        return conns, failed

    @keyword("Source Pattern SHA256")
    def source_pattern_sha256(self, size: int) -> str:
        """SHA-256 (hex) of the bytes stream mode ``source`` sends."""
        return hashlib.sha256(source_pattern(int(size))).hexdigest()

    @keyword("Receive All On Host")
    def receive_all_on_host(self, conn: socket.socket, timeout: Timeout = 60.0) -> list:
        """Read until the board closes; returns ``[byte count, SHA-256 hex]``."""
        conn.settimeout(secs(timeout))
        h, n = hashlib.sha256(), 0
        while True:
            b = conn.recv(65536)
            if not b:
                break
            h.update(b)
            n += len(b)
        return [n, h.hexdigest()]

    @keyword("Send Pseudo Random From Host")
    def send_pseudo_random_from_host(self, conn: socket.socket, size: int, close: bool = True) -> str:
        """Send ``size`` pseudo-random bytes (then FIN); returns their SHA-256 hex."""
        import os

        data = os.urandom(int(size))
        conn.settimeout(120)
        conn.sendall(data)
        if close:
            conn.shutdown(socket.SHUT_WR)
        return hashlib.sha256(data).hexdigest()
