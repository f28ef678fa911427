from __future__ import annotations

import time

from robot.api import logger
from robot.api.deco import keyword

from ..agent.client import AgentTimeout
from ..agent.service import NetServiceProbe
from .timeouts import Timeout, secs


class ServiceKeywords:
    """``NetService`` on the board: probes that count their polls and report their deletion."""

    def __init__(self, lib):
        self.lib = lib

    @keyword("Create NetService On Board")
    def create_netservice_on_board(self, owned: bool = True, name: str | None = None):
        """Create a ``NetService(owned)`` probe; it is cleaned up when the test ends."""
        svc = NetServiceProbe(self.lib.bench.board(name or None).require_ready(), bool(owned))
        self.lib.cleanups.append(svc.cleanup)
        return svc

    @keyword("Close NetService")
    def close_netservice(self, svc: NetServiceProbe, from_poll: bool = False):
        """Call the service's ``close()`` now, or from inside its own next ``poll()``."""
        return svc.close(bool(from_poll))

    @keyword("Delete NetService")
    def delete_netservice(self, svc: NetServiceProbe):
        """``delete`` the service object, as the owner of an unowned service does."""
        return svc.delete()

    @keyword("NetService Should Be Deleted By The Pool")
    def netservice_should_be_deleted(self, svc: NetServiceProbe, timeout: Timeout = 2.0):
        """Wait for the service's destructor (run by ``Net::poll()``); returns its poll count."""
        try:
            polls = svc.wait_deleted(secs(timeout))
        except AgentTimeout:
            raise AssertionError(f"the service was not deleted within {secs(timeout):g} s") from None
        if svc.status().alive:
            raise AssertionError("the destructor ran but the service is still registered")
        logger.info(f"deleted after {polls} polls")
        return polls

    @keyword("NetService Should Be Alive")
    def netservice_should_be_alive(self, svc: NetServiceProbe):
        """Fail if the service object was deleted; returns its poll count."""
        st = svc.status()
        if not st.alive:
            raise AssertionError("the service was deleted")
        return st.polls

    @keyword("NetService Should Be Polled Once Per Net Poll")
    def polled_once_per_net_poll(self, svc: NetServiceProbe, seconds: Timeout = 0.2):
        """Compare the service's poll count with ``Net::poll()``'s over ``seconds``."""
        a = svc.status()
        time.sleep(secs(seconds))
        b = svc.status()
        dp, dn = b.polls - a.polls, b.net_polls - a.net_polls
        logger.info(f"{dp} service polls for {dn} Net::poll() calls")
        if dn <= 0 or dp != dn:
            raise AssertionError(f"{dp} service polls for {dn} Net::poll() calls")
        return dp
