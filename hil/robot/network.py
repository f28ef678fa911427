from __future__ import annotations

from robot.api import logger
from robot.api.deco import keyword

from ..net import BenchNetworkError
from ..net.frames import tcp_frame, udp_frame
from .timeouts import Timeout, secs


class NetworkKeywords:
    """The bench network seen from the host: ping, raw frames, host-side sockets."""

    def __init__(self, lib):
        self.lib = lib

    @keyword("Board IP")
    def board_ip(self, name: str | None = None) -> str:
        """The board's IP address on the bench network."""
        return self.lib.bench.board(name or None).ip

    @keyword("Host IP")
    def host_ip(self) -> str:
        """The host's address on the bench network (the boards' gateway)."""
        return self.lib.bench.host_ip

    @keyword
    def ping_board(self, count: int = 3, timeout: Timeout = 1.0, size: int = 56,
                   name: str | None = None):
        """Send ``count`` ICMP echo requests from the host; fail unless every one is answered.

        Returns the round-trip times in milliseconds."""
        board = self.lib.bench.board(name or None)
        rtts = self.lib.bench.net.ping(board.ip, count=int(count), timeout=secs(timeout),
                                       size=int(size))
        lost = sum(1 for r in rtts if r is None)
        if lost:
            raise AssertionError(f"{lost} of {len(rtts)} echo requests to {board.ip} unanswered")
        ms = [round(r * 1000, 3) for r in rtts]
        logger.info(f"ping {board.ip}: {ms} ms")
        return ms

    @keyword
    def send_raw_frame_to_board(self, frame: bytes | str, name: str | None = None):
        """Put one Ethernet frame on the board's network as it is (no padding, no checks).

        A string is hexadecimal.  Use it for runts, oversized frames and bad checksums."""
        if isinstance(frame, str):
            frame = bytes.fromhex(frame)
        self.lib.bench.board(name or None)
        raw = self.lib.bench.net.raw_socket()
        try:
            raw.send(frame)
        finally:
            raw.close()

    @keyword
    def inject_frame_on_wire(self, frame: bytes | str, fcs: str = "good", name: str | None = None):
        """Deliver a frame to the board's MAC as a faulty wire would: no padding (a runt
        stays a runt), any length, and with ``fcs=bad`` a wrong frame check sequence.

        Emulated boards only: an ordinary host NIC cannot send such frames.  Tag tests
        that use it ``emulated`` so a run on a real rack can exclude them."""
        if isinstance(frame, str):
            frame = bytes.fromhex(frame)
        outcome = self.lib.bench.board(name or None).inject_frame(frame, fcs)
        logger.info(f"injected {len(frame)} bytes (fcs {fcs}): {outcome}")
        return outcome

    @keyword("Send Bad TCP Segment To Board")
    def send_bad_tcp_segment_to_board(self, port: int, kind: str = "checksum",
                                      name: str | None = None):
        """Put one malformed TCP segment for the board's ``port`` on the wire: ``checksum``
        (a SYN with a wrong checksum), ``syn_fin`` or ``syn_rst`` (impossible flags)."""
        import random

        board = self.lib.bench.board(name or None)
        flags = {"checksum": 0x02, "syn_fin": 0x03, "syn_rst": 0x06}[kind]
        frame = bytearray(tcp_frame(board.mac, self.lib.bench.net.host_mac, self.lib.bench.host_ip,
                                    board.ip, random.randrange(20000, 30000), int(port),
                                    random.getrandbits(32), flags))
        if kind == "checksum":
            frame[14 + 20 + 16] ^= 0x5A
        raw = self.lib.bench.net.raw_socket()
        try:
            raw.send(bytes(frame))
        finally:
            raw.close()

    @keyword("Set Host Route MTU To Board")
    def set_host_route_mtu_to_board(self, mtu: int = 746, name: str | None = None):
        """Make the host's kernel send to the board with this MTU (a host route), so its
        datagrams arrive in fragments the board's buffers take (the original's MTU is 746).
        Removed when the test ends."""
        board = self.lib.bench.board(name or None)
        net = self.lib.bench.net
        try:
            net.set_route_mtu(board.ip, int(mtu))
        except BenchNetworkError as exc:
            raise AssertionError(f"cannot set the route MTU: {exc}") from None
        self.lib.cleanups.append(lambda: net.remove_route(board.ip))

    @keyword("Cut Board Link")
    def cut_board_link(self, name: str | None = None):
        """Take the board's port off the bench bridge (its cable is pulled, on the switch
        side): frames in both directions vanish until `Restore Board Link`.  The board's
        own PHY still sees a link, so to the board its peers simply stop answering."""
        board = self.lib.bench.board(name or None)
        self._set_port(board.name, up=False)
        self.lib.cleanups.append(lambda: self._set_port(board.name, up=True))

    @keyword("Restore Board Link")
    def restore_board_link(self, name: str | None = None):
        """Put the board's port back on the bridge."""
        self._set_port(self.lib.bench.board(name or None).name, up=True)

    def _set_port(self, board: str, up: bool):
        try:
            self.lib.bench.net.set_board_port(board, up)
        except BenchNetworkError as exc:
            raise AssertionError(f"cannot set the port of {board} {'up' if up else 'down'}: "
                                 f"{exc}") from None

    @keyword("Send SYN Flood To Board")
    def send_syn_flood_to_board(self, port: int, count: int = 10000, ping_every: int = 1000,
                                name: str | None = None) -> list:
        """Send ``count`` TCP SYNs to the board's ``port`` from a host that never answers
        (192.0.2.250, random source ports), probing the board with ping every
        ``ping_every`` SYNs.  The flood overruns the link (frames are lost, as on a saturated
        wire), so a probe is up to three echo requests: it fails only if none is answered.
        Returns the probes' round-trip times (ms)."""
        import random

        board = self.lib.bench.board(name or None)
        raw = self.lib.bench.net.raw_socket()
        rnd = random.Random(1)
        rtts = []
        try:
            for i in range(int(count)):
                raw.send(tcp_frame(board.mac, "02:00:5e:00:00:fa", "192.0.2.250", board.ip,
                                   rnd.randrange(1024, 65535), int(port),
                                   rnd.getrandbits(32), 0x02))
                if (i + 1) % int(ping_every) == 0:
                    answered = [r for r in self.lib.bench.net.ping(board.ip, count=3,
                                                                    timeout=1.0) if r]
                    if not answered:
                        raise AssertionError(f"the board stopped answering ping after "
                                             f"{i + 1} SYNs")
                    rtts.append(round(answered[0] * 1000, 3))
        finally:
            raw.close()
        logger.info(f"{count} SYNs sent; pings during the flood: {rtts} ms")
        return rtts

    @keyword("Build UDP Frame To Board")
    def build_udp_frame_to_board(self, payload: bytes | str, dst_port: int, src_port: int = 40000,
                                 corrupt: str = "none", name: str | None = None) -> bytes:
        """Return an Ethernet/IPv4/UDP frame from the host to the board.

        ``corrupt``: ``none``, ``ip_checksum`` or ``udp_checksum`` (wrong checksum on purpose).
        The destination MAC is the board's."""
        board = self.lib.bench.board(name or None)
        if isinstance(payload, str):
            payload = payload.encode()
        # From the host's own addresses: a crafted frame must not teach the board's ARP
        # cache a MAC the host does not have.
        return udp_frame(board.mac, self.lib.bench.net.host_mac, self.lib.bench.host_ip,
                         board.ip, int(src_port), int(dst_port), payload, corrupt)
