"""Python mirror of the device's ``DNSRequest`` (netservices.md 2.8, 5.3), through the agent."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ..protocol import definition
from .client import AgentClient, AgentError
from .udp import CallbackMode, describe

DNSRequestErr = enum.IntEnum("DNSRequestErr", definition.DNS_ERRORS)
DNSReply = enum.IntEnum("DNSReply", definition.DNS_REPLIES)


@dataclass(frozen=True)
class Reply:
    ts_us: int
    reply: int
    ip: str        # getResult() inside the callback
    host_ip: str   # the Host's address (resolve(Host*) form)
    mode: CallbackMode

    @property
    def name(self) -> str:
        return describe(self.reply, DNSReply)


class DNSRequest:
    def __init__(self, agent: AgentClient, callback: CallbackMode = CallbackMode.MEMBER):
        self.agent = agent
        result = agent.request("DNS_NEW")["result"]
        if result < 0:
            raise AgentError("the agent has no room for another DNSRequest")
        self.handle = result
        self.generation = agent.boots
        self.deleted = False
        if callback is not CallbackMode.NONE:
            self.set_on_reply(callback)

    def _call(self, msg, /, **fields):
        return self.agent.request(msg, handle=self.handle, **fields)

    def resolve(self, name: str, host_form: bool = False) -> int:
        return self._call("DNS_RESOLVE", host_form=int(host_form), name=name)["result"]

    def get_result(self) -> tuple[int, str]:
        m = self._call("DNS_GET_RESULT")
        return m["result"], m["ip"]

    def close(self) -> int:
        return self._call("DNS_CLOSE")["result"]

    def set_on_reply(self, mode: CallbackMode = CallbackMode.MEMBER) -> int:
        return self._call("DNS_ON_REPLY", mode=int(mode))["result"]

    def _mine(self):
        return lambda m: m.name == "DNS_REPLY" and m["handle"] == self.handle

    def wait_reply(self, timeout: float = 10.0) -> Reply:
        m = self.agent.take_event(self._mine(), timeout)
        return Reply(m["ts_us"], m["reply"], m["ip"], m["host_ip"], CallbackMode(m["mode"]))

    def replies(self) -> int:
        return sum(1 for m in self.agent.events() if self._mine()(m))

    def delete(self) -> int:
        if self.agent.boots != self.generation or self.deleted:
            return 0  # gone with a board reset, or deleted already
        self.deleted = True
        result = self._call("DNS_DELETE")["result"]
        self.agent.discard_events(self._mine())
        return result
