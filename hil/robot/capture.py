from __future__ import annotations

from robot.api import logger
from robot.api.deco import keyword

from ..capture import Capture
from .timeouts import Timeout, secs

IGMP_TYPES = {"report": 0x16, "leave": 0x17, "query": 0x11, "v1report": 0x12}


class CaptureKeywords:
    """A live capture of the bench network, for what only the wire shows (IGMP, ARP)."""

    def __init__(self, lib):
        self.lib = lib
        self.capture: Capture | None = None

    @keyword("Start Capture")
    def start_capture(self):
        """Capture every frame on the bench bridge from now until the test ends."""
        cap = Capture(self.lib.bench.net)
        self.capture = cap

        def stop():
            cap.stop()
            logger.info(f"capture: {len(cap.frames)} frames")
            if self.capture is cap:
                self.capture = None
        self.lib.cleanups.append(stop)

    def _cap(self) -> Capture:
        if self.capture is None:
            raise AssertionError("no capture is running: use Start Capture first")
        return self.capture

    @keyword("Wait For IGMP")
    def wait_for_igmp(self, kind: str, group: str, timeout: Timeout = 3.0, source: str | None = None):
        """Wait for an IGMP ``report`` / ``leave`` / ``query`` about ``group`` on the wire.

        Checks what RFC 2236 asks of a host's messages: IP TTL 1 and the Router Alert
        option.  Returns the frame's IP destination."""
        want = IGMP_TYPES[kind.lower()]
        ip_src = source or self.lib.bench.board().ip

        def match(f):
            g, ip = f.igmp(), f.ipv4()
            return g and g[0] == want and g[1] == group and (kind == "query" or ip[0] == ip_src)

        f = self._cap().wait_for(match, secs(timeout))
        if f is None:
            raise AssertionError(f"no IGMP {kind} for {group} from {ip_src} within {secs(timeout):g} s")
        typ, grp, dst, ttl, ra = f.igmp()
        if kind != "query" and (ttl != 1 or not ra):
            raise AssertionError(f"IGMP {kind} with TTL {ttl} and router alert {ra}")
        logger.info(f"IGMP {kind} for {grp} to {dst}")
        return dst

    @keyword("No IGMP Should Be Sent")
    def no_igmp_should_be_sent(self, kind: str, group: str, timeout: Timeout = 1.0):
        """Fail if the board sends an IGMP ``kind`` for ``group`` within ``timeout``."""
        try:
            self.wait_for_igmp(kind, group, timeout)
        except AssertionError:
            return
        raise AssertionError(f"the board sent an IGMP {kind} for {group}")

    @keyword("Count IGMP")
    def count_igmp(self, kind: str, group: str) -> int:
        """IGMP ``kind`` messages for ``group`` the board has sent since `Start Capture`."""
        want, src = IGMP_TYPES[kind.lower()], self.lib.bench.board().ip
        return sum(1 for f in self._cap().frames
                   if (g := f.igmp()) and g[0] == want and g[1] == group and f.ipv4()[0] == src)

    @keyword("Send IGMP Query From Host")
    def send_igmp_query_from_host(self, group: str = "0.0.0.0", max_resp_ds: int = 10):
        """Put an IGMPv2 query on the wire (general when ``group`` is 0.0.0.0)."""
        from ..net.frames import igmp_query_frame

        net = self.lib.bench.net
        raw = net.raw_socket()
        try:
            raw.send(igmp_query_frame(net.host_mac, self.lib.bench.host_ip, group,
                                      int(max_resp_ds)))
        finally:
            raw.close()

    @keyword("Wait For UDP On Wire")
    def wait_for_udp_on_wire(self, dst: str, dport: int, src: str | None = None,
                             timeout: Timeout = 5.0, board_time: bool = False):
        """Wait for a UDP datagram to ``dst:dport`` (from ``src`` if given) on the wire;
        returns its payload.  ``board_time=True`` while the board's own timer runs."""
        def match(f):
            u = f.udp()
            return u and u[1] == dst and u[3] == int(dport) and (src is None or u[0] == src)

        if board_time:
            with self.lib.bench.board().skipping_idle_time():
                f = self._cap().wait_for(match, secs(timeout))
        else:
            f = self._cap().wait_for(match, secs(timeout))
        if f is None:
            raise AssertionError(f"no UDP to {dst}:{dport} from {src or 'anyone'} within {secs(timeout):g} s")
        return f.udp()[4]

    @keyword("Count ICMP From Board")
    def count_icmp_from_board(self, type: int = 3, code: int = 3, settle: Timeout = 0.5,
                              name: str | None = None) -> int:
        """The number of ICMP messages of ``type``/``code`` (default 3/3: port unreachable)
        the board has sent since `Start Capture`, counted once the wire has been quiet
        for ``settle`` seconds."""
        import time

        board = self.lib.bench.board(name or None)
        cap = self._cap()
        seen = -1
        while True:
            time.sleep(secs(settle))
            n = len(cap.frames)
            if n == seen:
                break
            seen = n
        count = sum(1 for f in list(cap.frames)
                    if (i := f.icmp()) and i[0] == board.ip and i[2] == int(type)
                    and i[3] == int(code))
        logger.info(f"{count} ICMP type {type} code {code} from {board.ip}")
        return count

    @keyword("Wait For Gratuitous ARP")
    def wait_for_gratuitous_arp(self, ip: str, timeout: Timeout = 3.0):
        """Wait for an ARP announcing ``ip`` (sender = target = ``ip``)."""
        f = self._cap().wait_for(lambda f: (a := f.arp()) and a[1] == ip and a[2] == ip,
                                 secs(timeout))
        if f is None:
            raise AssertionError(f"no gratuitous ARP for {ip} within {secs(timeout):g} s")
