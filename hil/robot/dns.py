from __future__ import annotations

import time

from robot.api import logger
from robot.api.deco import keyword

from ..agent.client import AgentTimeout
from ..agent.dns import DNSReply, DNSRequest
from ..agent.udp import CallbackMode
from .timeouts import Timeout, secs


class DnsKeywords:
    """``DNSRequest`` on the board, against a scriptable DNS server on the host side.

    The board's DNS server is the bench host (192.0.2.1), set through ``EthernetNetIf``'s
    static ``dns`` argument, so `Start DNS Server` is all a test needs on the host side."""

    def __init__(self, lib):
        self.lib = lib
        self.server = None

    # -- the host's DNS server -------------------------------------------------------------

    @keyword("Start DNS Server")
    def start_dns_server(self, port: int = 53, default: str = "nxdomain"):
        """Start a DNS server on the bench host (stopped, and its queries logged, at test end).

        Unknown names get ``default`` (``nxdomain``, ``servfail``, ``silent``, ...)."""
        from ..peers.dns import DnsServer

        server = DnsServer(self.lib.bench.net, port=int(port), default=default).start()
        self.server = server
        self.lib.cleanups.append(lambda: setattr(self, "server", None))  # runs after the stop
        return self.lib.own_peer(server, "DNS", lambda: (
            f"query id={q.id} {q.name} {q.qtype} from {q.source}" for q in server.queries()))

    def _server(self):
        if self.server is None:
            raise AssertionError("no DNS server is running: use Start DNS Server first")
        return self.server

    @keyword("Add DNS Record")
    def add_dns_record(self, name: str, *addresses: str, ttl: int = 300):
        """Answer ``name`` with A record(s)."""
        self._server().add_a(name, list(addresses), ttl=int(ttl))

    @keyword("Add DNS Alias")
    def add_dns_alias(self, name: str, target: str, ttl: int = 300):
        """Answer ``name`` with a CNAME to ``target``."""
        self._server().add_cname(name, target, ttl=int(ttl))

    @keyword("Set DNS Behaviour")
    def set_dns_behaviour(self, name: str, behaviour: str = "answer", delay: Timeout | None = None,
                          times: int | None = None, follow: bool = False):
        """Script the replies for ``name``: ``answer``, ``nxdomain``, ``servfail``, ``silent``,
        ``truncated``, ``wrong_id``, ``wrong_name`` ...; ``delay`` in seconds; ``times`` = only
        the next N queries; ``follow`` = send the right reply after the wrong one."""
        self._server().set_behaviour(name, behaviour,
                                     delay=None if delay is None else secs(delay),
                                     times=None if times is None else int(times),
                                     follow=bool(follow))

    @keyword("Set Malformed DNS Reply")
    def set_malformed_dns_reply(self, name: str, kind: str):
        """Reply to ``name`` with a malformed message: ``compression_loop``,
        ``pointer_past_end``, ``label_past_end``, ``lying_counts``, ``oversized_name``,
        ``label_too_long``, ``rdlength_past_end``, ``short_header`` or ``garbage``."""
        from ..peers import dnsraw

        if kind not in dnsraw.__all__ or kind in ("valid_reply", "answer_offset"):
            raise AssertionError(f"unknown malformation {kind!r}")
        self._server().set_raw(name, getattr(dnsraw, kind))

    @keyword("DNS Queries For")
    def dns_queries_for(self, name: str) -> int:
        """How many queries for ``name`` the server has received."""
        return len(self._server().queries(name))

    @keyword("Wait For DNS Queries")
    def wait_for_dns_queries(self, name: str, count: int = 1, timeout: Timeout = 5.0):
        """Wait until the server received ``count`` queries for ``name``; returns them."""
        qs = self._server().wait_queries(int(count), name, secs(timeout))
        if len(qs) < int(count):
            raise AssertionError(f"{len(qs)} queries for {name} within {secs(timeout):g} s, "
                                 f"expected {count}")
        return qs

    # -- the board's DNSRequest --------------------------------------------------------------

    @keyword("Open DNS Request On Board")
    def open_dns_request_on_board(self, callback: str = "member", name: str | None = None):
        """Create a ``DNSRequest`` with its ``setOnReply`` callback (``member``/``function``)."""
        agent = self.lib.bench.board(name or None).require_ready()
        req = DNSRequest(agent, CallbackMode[callback.upper()])
        self.lib.cleanups.append(req.delete)
        return req

    @keyword("Resolve On Board")
    def resolve_on_board(self, req: DNSRequest, hostname: str, host_form: bool = False) -> int:
        """``resolve(const char*)``, or ``resolve(Host*)`` with ``host_form=True``; returns
        the ``DNSRequestErr``."""
        return req.resolve(hostname, bool(host_form))

    @keyword("Wait For DNS Reply")
    def wait_for_dns_reply(self, req: DNSRequest, timeout: Timeout = 10.0, board_time: bool = False,
                           name: str | None = None) -> str:
        """Wait for the reply callback; returns its ``DNSReply`` name (``DNS_FOUND`` ...).

        ``board_time=True``: the wait is a board-side timeout no host peer takes part in
        (a silent server), so idle board time may pass faster than real time."""
        board = self.lib.bench.board(name or None)
        t0 = time.monotonic()
        try:
            if board_time:
                with board.skipping_idle_time():
                    r = req.wait_reply(secs(timeout))
            else:
                r = req.wait_reply(secs(timeout))
        except AgentTimeout:
            raise AssertionError(f"no DNS reply callback within {secs(timeout):g} s") from None
        logger.info(f"{r.name} at board time {r.ts_us} us (getResult {r.ip}, Host {r.host_ip}, "
                    f"{r.mode.name.lower()} callback, {time.monotonic() - t0:.3f} s wall)")
        self._last = r
        return DNSReply(r.reply).name

    @keyword("Last DNS Reply")
    def last_dns_reply(self):
        """The last reply `Wait For DNS Reply` saw (fields ts_us, ip, host_ip, mode)."""
        return self._last

    @keyword("No DNS Reply Should Arrive")
    def no_dns_reply_should_arrive(self, req: DNSRequest, timeout: Timeout = 0.5):
        """Fail if the request's reply callback runs within ``timeout`` seconds."""
        try:
            r = req.wait_reply(secs(timeout))
        except AgentTimeout:
            return
        raise AssertionError(f"unexpected reply callback {r.name}")

    @keyword("DNS Result On Board")
    def dns_result_on_board(self, req: DNSRequest):
        """``getResult()``: returns ``[result, address]``."""
        result, ip = req.get_result()
        return [result, ip]

    @keyword("Close DNS Request")
    def close_dns_request(self, req: DNSRequest) -> int:
        """``DNSRequest::close()``; returns its ``DNSRequestErr``."""
        return req.close()

    @keyword("Delete DNS Request")
    def delete_dns_request(self, req: DNSRequest):
        """Destroy the ``DNSRequest`` object now (the agent holds four at a time)."""
        return req.delete()

    @keyword("Board Time")
    def board_time(self, name: str | None = None) -> int:
        """The board's clock now, in microseconds since reset."""
        return self.lib.bench.board(name or None).board_time_us()
