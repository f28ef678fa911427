from __future__ import annotations

import time

from robot.api import logger
from robot.api.deco import keyword

from ..agent.udp import describe, EthernetErr
from .timeouts import Timeout, secs


class DhcpKeywords:
    """``EthernetNetIf`` in DHCP mode against a scriptable DHCP server on the bench host."""

    def __init__(self, lib):
        self.lib = lib
        self.server = None

    @keyword("Start DHCP Server")
    def start_dhcp_server(self, pool_start: str = "192.0.2.100", pool_end: str = "192.0.2.150",
                          lease: int = 3600, t1: int | None = None, t2: int | None = None):
        """Start a DHCP server on the bench host (stopped, its messages logged, at test end).

        It offers addresses from the pool with options 1 (mask), 3 (router = the host),
        6 (DNS = the host), 51/58/59 (lease, T1, T2) and 54 (server id)."""
        from ..peers.dhcp import DhcpServer

        server = DhcpServer(self.lib.bench.net, pool=(pool_start, pool_end), lease=int(lease),
                            t1=None if t1 is None else int(t1),
                            t2=None if t2 is None else int(t2)).start()
        self.server = server
        self.lib.cleanups.append(lambda: setattr(self, "server", None))  # runs after the stop
        return self.lib.own_peer(server, "DHCP", lambda: (
            f"{r.direction} {r.type} xid={r.xid:08x} {r.chaddr} yiaddr={r.yiaddr} "
            f"host_name={r.host_name} {r.note}" for r in server.messages()))

    def _server(self):
        if self.server is None:
            raise AssertionError("no DHCP server is running: use Start DHCP Server first")
        return self.server

    @keyword("Set DHCP Server Behaviour")
    def set_dhcp_server_behaviour(self, behaviour: str, times: int | None = None,
                                  address: str | None = None):
        """Script the server: ``ignore discover``, ``ignore request``, ``ignore all``,
        ``answer`` (undo ignore), ``nak next`` (NAK the next ``times`` REQUESTs, default 1),
        ``offer address`` (offer ``address`` the next ``times`` times, e.g. one in use)."""
        s = self._server()
        b = behaviour.lower()
        n = None if times is None else int(times)
        if b.startswith("ignore "):
            s.ignore(b.split(" ", 1)[1], n)
        elif b == "answer":
            s.unignore()
        elif b == "nak next":
            s.nak_next(n or 1)
        elif b == "offer address":
            if not address:
                raise AssertionError("offer address needs address=")
            s.offer_address(address, times=n)
        else:
            raise AssertionError(f"unknown DHCP behaviour {behaviour!r}")

    @keyword("Malform DHCP Offers")
    def malform_dhcp_offers(self, kind: str, times: int = 1):
        """Send the next ``times`` OFFERs malformed: ``no server id``, ``no subnet mask``,
        ``bad mask length``, ``option overflow``, ``no end``, ``bad cookie``,
        ``truncated``, ``wrong xid``, ``wrong chaddr``, ``boot request``."""
        from ..peers import dhcpmsg as m

        kinds = {
            "no server id": lambda: m.drop_option(54),
            "no subnet mask": lambda: m.drop_option(1),
            "bad mask length": lambda: m.bad_length(1, 3),
            "option overflow": lambda: m.overflow(),
            "no end": lambda: m.no_end(),
            "bad cookie": lambda: m.bad_cookie(),
            "truncated": lambda: m.truncate(200),
            "wrong xid": lambda: m.set_field(xid=0x12345678),
            "wrong chaddr": lambda: m.set_field(chaddr=bytes.fromhex("02aabbccddee")),
            "boot request": lambda: m.set_field(op=1),
        }
        if kind not in kinds:
            raise AssertionError(f"unknown malformation {kind!r}; known: {', '.join(kinds)}")
        self._server().mutate("offer", kinds[kind](), times=int(times))

    @keyword("DHCP Server Should Receive")
    def dhcp_server_should_receive(self, message: str, count: int = 1, timeout: Timeout = 5.0,
                                   board_time: bool = False, name: str | None = None):
        """Wait until the server received ``count`` messages of type ``message`` (DISCOVER,
        REQUEST, DECLINE, RELEASE ...); returns them.  ``board_time=True`` lets idle board
        time pass faster (for waits on the board's own timers, e.g. T1)."""
        s = self._server()
        board = self.lib.bench.board(name or None)
        if board_time:
            with board.skipping_idle_time():
                got = s.wait_message(message, "rx", int(count), secs(timeout))
        else:
            got = s.wait_message(message, "rx", int(count), secs(timeout))
        if len(got) < int(count):
            raise AssertionError(f"the DHCP server received {len(got)} {message} within "
                                 f"{secs(timeout):g} s, expected {count}")
        return got

    @keyword("DHCP Messages Received")
    def dhcp_messages_received(self, message: str | None = None):
        """Messages the server received so far (optionally of one type)."""
        return self._server().messages(message, "rx")

    @keyword("Start Board Network With DHCP")
    def start_board_network_with_dhcp(self, hostname: str = "", timeout_ms: int = 15000,
                                      board_time: bool = False, name: str | None = None) -> int:
        """Create ``EthernetNetIf(hostname)`` (DHCP) and run ``setup(timeout_ms)``; returns the
        ``EthernetErr`` (``ETH_OK`` or ``ETH_TIMEOUT``).  On success the board's address is
        the leased one.  ``board_time=True`` for waits no host peer takes part in."""
        board = self.lib.bench.board(name or None)
        target = self.lib.bench.config.targets[board.name]
        t0 = time.monotonic()
        reply = board.configure_dhcp(hostname, int(timeout_ms), mac=target.mac,
                                     board_time=board_time)
        logger.info(f"setup() returned {describe(reply['result'], EthernetErr)} after "
                    f"{time.monotonic() - t0:.3f} s wall; address {reply['ip']}")
        return reply["result"]

    @keyword("Board Interface Info")
    def board_interface_info(self, name: str | None = None) -> dict:
        """The interface's ``ip``, ``netmask``, ``gateway``, ``dns`` and ``hostname``."""
        m = self.lib.bench.board(name or None).require_ready().request("NET_INFO")
        return dict(m.fields)
