"""NetService probes on the board (netservices.md 2.4): the agent's services count their
polls and report their destruction, so tests can watch the pool's deferred deletion."""

from __future__ import annotations

from dataclasses import dataclass

from .client import AgentClient, AgentError


@dataclass(frozen=True)
class ServiceStatus:
    alive: bool
    polls: int       # how often the service's poll() ran
    net_polls: int   # how often Net::poll() ran (the agent's main loop)


class NetServiceProbe:
    def __init__(self, agent: AgentClient, owned: bool = True):
        self.agent = agent
        self.owned = owned
        result = agent.request("SVC_NEW", owned=int(owned))["result"]
        if result < 0:
            raise AgentError("the agent has no room for another NetService")
        self.handle = result
        self.generation = agent.boots

    def status(self) -> ServiceStatus:
        m = self.agent.request("SVC_STATUS", handle=self.handle)
        return ServiceStatus(bool(m["alive"]), m["polls"], m["net_polls"])

    def close(self, from_poll: bool = False) -> int:
        """``NetService::close()`` now, or from inside the service's own next ``poll()``."""
        return self.agent.request("SVC_CLOSE", handle=self.handle, from_poll=int(from_poll))["result"]

    def delete(self) -> int:
        """``delete`` the object (what an unowned service's owner does)."""
        return self.agent.request("SVC_DELETE", handle=self.handle)["result"]

    def wait_deleted(self, timeout: float = 2.0) -> int:
        """Wait for the destructor; returns the poll count it reported."""
        m = self.agent.take_event(
            lambda ev: ev.name == "SVC_DELETED" and ev["handle"] == self.handle, timeout)
        return m["polls"]

    def cleanup(self):
        if self.agent.boots == self.generation and self.status().alive:
            self.delete()
        self.agent.discard_events(lambda ev: ev.name == "SVC_DELETED" and ev["handle"] == self.handle)
