"""Python mirror of the device's ``TCPSocket`` (netservices.md 2.7, 5.2), through the agent.

Methods return the C++ call's result unchanged (``TCPSocketErr`` values).  Callbacks run on
the board and arrive as events with the board time; :meth:`TCPSocket.wait_event` waits for
them.  The stream modes move data inside the board's own callbacks (echo, sink with SHA-256,
source of a known pattern), so bulk transfers do not cross the serial link.
"""

from __future__ import annotations

import enum
import hashlib
import socket
from dataclasses import dataclass

from ..protocol import definition
from .client import AgentClient, AgentError
from .udp import CallbackMode, describe

TCPSocketErr = enum.IntEnum("TCPSocketErr", definition.TCPSOCKET_ERRORS)
TCPSocketEvent = enum.IntEnum("TCPSocketEvent", definition.TCPSOCKET_EVENTS)


class StreamMode(enum.IntEnum):
    OFF = 0
    ECHO = 1     # send back everything that arrives
    SINK = 2     # count and SHA-256 what arrives
    SOURCE = 3   # send `count` bytes of the pattern i % 251, then close


def source_pattern(n: int) -> bytes:
    """The bytes StreamMode.SOURCE sends: byte i is i % 251."""
    block = bytes(range(251))
    return (block * (n // 251 + 1))[:n]


@dataclass(frozen=True)
class TcpEvent:
    ts_us: int
    event: int
    mode: CallbackMode

    @property
    def name(self) -> str:
        return describe(self.event, TCPSocketEvent)


@dataclass(frozen=True)
class Accepted:
    result: int
    socket: "TCPSocket | None"
    ip: str
    port: int
    ts_us: int = 0


class TCPSocket:
    def __init__(self, agent: AgentClient, handle: int | None = None):
        self.agent = agent
        if handle is None:
            handle = agent.request("TCP_NEW")["result"]
            if handle < 0:
                raise AgentError(f"the agent has no room for another TCPSocket "
                                 f"({describe(handle, TCPSocketErr)})")
        self.handle = handle
        self.generation = agent.boots
        self.deleted = False

    def _call(self, msg, /, timeout: float = 2.0, **fields):
        return self.agent.request(msg, timeout=timeout, handle=self.handle, **fields)

    def bind(self, port: int, ip: str = "0.0.0.0") -> int:
        return self._call("TCP_BIND", ip=ip, port=port)["result"]

    def listen(self) -> int:
        return self._call("TCP_LISTEN")["result"]

    def connect(self, ip: str, port: int) -> int:
        return self._call("TCP_CONNECT", ip=ip, port=port)["result"]

    def accept(self) -> Accepted:
        m = self._call("TCP_ACCEPT")
        sock = TCPSocket(self.agent, m["new_handle"]) if m["result"] == 0 else None
        return Accepted(m["result"], sock, m["ip"], m["port"])

    def send(self, data: bytes) -> int:
        return self._call("TCP_SEND", data=bytes(data))["result"]

    def recv(self, maxlen: int = definition.MAX_PAYLOAD) -> tuple[int, bytes]:
        m = self._call("TCP_RECV", maxlen=maxlen)
        return m["result"], m["data"]

    def close(self) -> int:
        return self._call("TCP_CLOSE")["result"]

    def set_on_event(self, mode: CallbackMode = CallbackMode.MEMBER) -> int:
        return self._call("TCP_ON_EVENT", mode=int(mode))["result"]

    def reset_on_event(self) -> int:
        return self.set_on_event(CallbackMode.NONE)

    def stream(self, mode: StreamMode, count: int = 0) -> int:
        return self._call("TCP_STREAM", mode=int(mode), count=count)["result"]

    def stream_status(self) -> tuple[int, int, bytes]:
        m = self._call("TCP_STREAM_STATUS")
        return m["rx_bytes"], m["tx_bytes"], m["sha256"]

    def auto_accept(self, on: bool = True, stream: StreamMode = StreamMode.OFF) -> int:
        return self._call("TCP_AUTO_ACCEPT", on=int(on), stream=int(stream))["result"]

    def _mine(self, event=None):
        def match(m):
            return (m.name == "TCP_EVENT" and m["handle"] == self.handle
                    and (event is None or m["event"] == int(event)))
        return match

    def wait_event(self, event: int | None = None, timeout: float = 2.0) -> TcpEvent:
        m = self.agent.take_event(self._mine(event), timeout)
        return TcpEvent(m["ts_us"], m["event"], CallbackMode(m["mode"]))

    def wait_accepted(self, timeout: float = 2.0) -> Accepted:
        """Next connection the listener accepted by itself (see :meth:`auto_accept`)."""
        m = self.agent.take_event(
            lambda ev: ev.name == "TCP_ACCEPTED" and ev["listener"] == self.handle, timeout)
        sock = TCPSocket(self.agent, m["new_handle"]) if m["result"] == 0 else None
        return Accepted(m["result"], sock, m["ip"], m["port"], m["ts_us"])

    def events(self) -> list[TcpEvent]:
        return [TcpEvent(m["ts_us"], m["event"], CallbackMode(m["mode"]))
                for m in self.agent.events() if self._mine()(m)]

    def delete(self) -> int:
        if self.agent.boots != self.generation or self.deleted:
            return 0  # gone with a board reset, or deleted already
        self.deleted = True
        result = self._call("TCP_DELETE")["result"]
        self.agent.discard_events(self._mine())
        return result


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


class TransferError(Exception):
    pass


def echo_transfer(conn, data: bytes, chunk: int = 16384, timeout: float = 120.0,
                  half_close: bool = False) -> float:
    """Send ``data`` on a host connection whose far end echoes, reading the echo back at
    the same time; checks the echo byte for byte (SHA-256).  Returns the seconds taken.

    With ``half_close`` the client behaves as socat or ncat do: it sends FIN
    (``shutdown(SHUT_WR)``) as soon as its input is sent, while the echo is still coming
    back, then reads until the far end closes; every byte must come back before that EOF."""
    import selectors
    import time

    conn.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(conn, selectors.EVENT_READ | selectors.EVENT_WRITE)
    sent = got = 0
    eof = False
    back = hashlib.sha256()
    t0 = time.perf_counter()
    try:
        while not eof if half_close else got < len(data):
            if time.perf_counter() - t0 > timeout:
                raise TransferError(f"echo stalled: {sent} bytes sent, {got} back in {timeout:g} s")
            for _, ev in sel.select(1.0):
                if ev & selectors.EVENT_WRITE and sent < len(data):
                    try:
                        sent += conn.send(data[sent:sent + chunk])
                    except BlockingIOError:
                        pass
                    except (ConnectionResetError, BrokenPipeError) as exc:
                        raise TransferError(f"connection reset while sending ({exc.strerror}): "
                                            f"{sent} bytes sent, {got} back") from None
                    if sent >= len(data):
                        sel.modify(conn, selectors.EVENT_READ)
                        if half_close:
                            conn.shutdown(socket.SHUT_WR)
                if ev & selectors.EVENT_READ:
                    try:
                        b = conn.recv(65536)
                    except BlockingIOError:
                        continue
                    except ConnectionResetError:
                        raise TransferError(f"connection reset after {got} of {len(data)} "
                                            f"bytes came back ({sent} sent)") from None
                    if not b:
                        if half_close and sent >= len(data):
                            eof = True
                            break
                        raise TransferError(f"connection closed after {got} of {len(data)} "
                                            f"bytes came back ({sent} sent)")
                    back.update(b)
                    got += len(b)
    finally:
        sel.close()
        conn.setblocking(True)
    if got != len(data):
        raise TransferError(f"{got} of {len(data)} bytes came back before the far end closed "
                            f"({len(data) - got} lost)")
    if back.digest() != hashlib.sha256(data).digest():
        raise TransferError("the echoed bytes differ from the bytes sent (SHA-256)")
    return time.perf_counter() - t0
