"""Python mirror of the device's ``UDPSocket`` (netservices.md 2.6), driven through the agent.

Every method makes the matching C++ call on the board and returns its result unchanged,
so tests compare against the contract's numbers (``UDPSocketErr.UDPSOCKET_INUSE`` is
-65531 here too).  Callbacks run on the board; each one arrives here as an event with
the board's timestamp, which :meth:`UDPSocket.wait_event` waits for.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ..protocol import definition
from .client import AgentClient, AgentError

UDPSocketErr = enum.IntEnum("UDPSocketErr", definition.UDPSOCKET_ERRORS)
UDPSocketEvent = enum.IntEnum("UDPSocketEvent", definition.UDPSOCKET_EVENTS)
EthernetErr = enum.IntEnum("EthernetErr", definition.ETHERNET_ERRORS)


class CallbackMode(enum.IntEnum):
    NONE = 0       # resetOnEvent()
    FUNCTION = 1   # setOnEvent(void (*)(UDPSocketEvent))
    MEMBER = 2     # setOnEvent(T*, void (T::*)(UDPSocketEvent))


def describe(code: int, enum_cls=UDPSocketErr) -> str:
    try:
        return f"{enum_cls(code).name} ({code})"
    except ValueError:
        return str(code)


@dataclass(frozen=True)
class SocketEvent:
    ts_us: int
    event: int
    mode: CallbackMode

    @property
    def name(self) -> str:
        return describe(self.event, UDPSocketEvent)


@dataclass(frozen=True)
class Datagram:
    result: int       # recvfrom's return value
    data: bytes
    ip: str
    port: int


class UDPSocket:
    """One ``UDPSocket`` object on the board (created by UDP_NEW, destroyed by :meth:`delete`)."""

    def __init__(self, agent: AgentClient):
        self.agent = agent
        result = agent.request("UDP_NEW")["result"]
        if result < 0:
            raise AgentError(f"the agent has no room for another UDPSocket ({describe(result)})")
        self.handle = result
        self.generation = agent.boots
        self.deleted = False

    def _call(self, msg, /, **fields):
        return self.agent.request(msg, handle=self.handle, **fields)

    def bind(self, port: int, ip: str = "0.0.0.0") -> int:
        return self._call("UDP_BIND", ip=ip, port=port)["result"]

    def sendto(self, data: bytes, ip: str, port: int) -> int:
        return self._call("UDP_SENDTO", ip=ip, port=port, data=bytes(data))["result"]

    def recvfrom(self, maxlen: int = definition.MAX_PAYLOAD) -> Datagram:
        m = self._call("UDP_RECVFROM", maxlen=maxlen)
        return Datagram(m["result"], m["data"], m["ip"], m["port"])

    def close(self) -> int:
        return self._call("UDP_CLOSE")["result"]

    def set_on_event(self, mode: CallbackMode = CallbackMode.MEMBER) -> int:
        return self._call("UDP_ON_EVENT", mode=int(mode))["result"]

    def reset_on_event(self) -> int:
        return self.set_on_event(CallbackMode.NONE)

    def set_echo(self, on: bool = True) -> int:
        return self._call("UDP_ECHO", on=int(on))["result"]

    def _mine(self, event=None):
        def match(m):
            return (m.name == "UDP_EVENT" and m["handle"] == self.handle
                    and (event is None or m["event"] == int(event)))
        return match

    def wait_event(self, event: int | None = UDPSocketEvent.UDPSOCKET_READABLE,
                   timeout: float = 2.0) -> SocketEvent:
        """Wait for the next callback on this socket (of kind ``event``; None = any)."""
        m = self.agent.take_event(self._mine(event), timeout)
        return SocketEvent(m["ts_us"], m["event"], CallbackMode(m["mode"]))

    def pending_events(self) -> int:
        return sum(1 for m in self.agent.events() if self._mine()(m))

    def delete(self) -> int:
        """Destroy the C++ object (its destructor closes the socket).

        After a board reset the object no longer exists: nothing to do (returns 0)."""
        if self.agent.boots != self.generation or self.deleted:
            return 0  # gone with a board reset, or deleted already
        self.deleted = True
        result = self._call("UDP_DELETE")["result"]
        self.agent.discard_events(self._mine())
        return result
