"""The DHCP server, driven by small clients written here: a namespace UDP socket on port 68
(broadcast flag set) and a board on a veth speaking through hand-made frames."""

import select
import socket
import struct
import time

import pytest

from hil.peers import DhcpServer, PeerError
from hil.peers.dhcpmsg import (BOOTREPLY, MAGIC, OPTIONS_OFFSET, DhcpError, DhcpMessage, apply_mutations,
                               bad_cookie, bad_length, drop_option, no_end, option_spans, overflow,
                               overload, set_field, set_option, truncate)
from ..net.netframes import BCAST, mac, parse_udp, recv_until, udp_frame

MAC = bytes.fromhex("020000000042")
MACS = "02:00:00:00:00:42"


class Client:
    """DHCP client on a namespace socket bound to 0.0.0.0:68 on br0 (sets the BROADCAST flag)."""

    def __init__(self, net, chaddr=MAC):
        self.s = net.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"br0")
        self.s.bind(("0.0.0.0", 68))
        self.chaddr = chaddr
        self.xid = 0x12345670

    def send(self, mtype, options=(), ciaddr="0.0.0.0", flags=0x8000, dest="255.255.255.255"):
        self.xid += 1
        m = DhcpMessage(xid=self.xid, chaddr=self.chaddr, flags=flags, ciaddr=ciaddr,
                        options=[(53, bytes([mtype])), *options])
        self.s.sendto(m.pack(), (dest, 67))
        return m

    def recv(self, timeout=1.0, raw=False):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.s], [], [], left)[0]:
                return None
            data, _ = self.s.recvfrom(4096)
            if raw:
                return data
            m = DhcpMessage.parse(data)
            if m.op == BOOTREPLY and m.xid == self.xid:
                return m

    def close(self):
        self.s.close()


@pytest.fixture
def client(net, board_link):
    c = Client(net)
    yield c
    c.close()


def ip(b):
    return socket.inet_ntoa(b)


def test_message_round_trip_and_strict_parsing():
    m = DhcpMessage(xid=7, chaddr=MAC, flags=0x8000, options=[(53, b"\x01"), (12, b"board"), (43, b"x" * 300)])
    data = m.pack()
    assert len(data) == 240 + 3 + 7 + (2 + 255) + (2 + 45) + 1   # no padding needed past 300
    assert len(DhcpMessage(options=[(53, b"\x01")]).pack()) == 300
    assert data[236:240] == MAGIC and data[OPTIONS_OFFSET:OPTIONS_OFFSET + 3] == b"\x35\x01\x01"
    back = DhcpMessage.parse(data)
    assert (back.xid, back.mac, back.type_name, back.host_name, back.broadcast) == (7, MACS, "DISCOVER", "board", True)
    assert back.option(43) == b"x" * 300           # split in 255 + 45 and joined back (RFC 3396)
    assert [c for c, _, _ in option_spans(data)] == [53, 12, 43, 43]
    with pytest.raises(DhcpError, match="too short"):
        DhcpMessage.parse(data[:200])
    with pytest.raises(DhcpError, match="runs past the end"):
        DhcpMessage.parse(data[:OPTIONS_OFFSET + 5])
    with pytest.raises(DhcpError, match="without an END"):
        DhcpMessage.parse(data[:OPTIONS_OFFSET + 3])


def test_dora_with_options_and_host_name(net, client):
    with DhcpServer(net, lease=3600, router="192.0.2.254", dns=["192.0.2.53", "192.0.2.54"],
                    domain="bench.test") as dhcp:
        t0 = time.time()
        client.send(1, [(12, b"mbed-board"), (55, bytes([1, 3, 6, 12, 51]))])
        offer = client.recv()
        assert offer and offer.type_name == "OFFER" and offer.yiaddr == "192.0.2.100"
        assert offer.server_id == net.host_ip and offer.lease_time == 3600
        assert ip(offer.option(1)) == "255.255.255.0" and ip(offer.option(3)) == "192.0.2.254"
        assert offer.option(6) == socket.inet_aton("192.0.2.53") + socket.inet_aton("192.0.2.54")
        assert offer.option(12) == b"mbed-board" and offer.option(15) == b"bench.test"
        assert struct.unpack("!I", offer.option(58))[0] == 1800 and struct.unpack("!I", offer.option(59))[0] == 3150
        client.send(3, [(50, socket.inet_aton(offer.yiaddr)), (54, socket.inet_aton(net.host_ip)),
                        (12, b"mbed-board")])
        ack = client.recv()
        assert ack.type_name == "ACK" and ack.yiaddr == "192.0.2.100" and ack.xid == client.xid
        assert dhcp.lease_of(MACS) == "192.0.2.100"
        dhcp.wait_message("ACK", "tx")
        recs = dhcp.messages()
        assert [(r.direction, r.type) for r in recs] == [("rx", "DISCOVER"), ("tx", "OFFER"),
                                                         ("rx", "REQUEST"), ("tx", "ACK")]
        d = recs[0]
        assert (d.chaddr, d.host_name, d.ciaddr, d.requested_ip) == (MACS, "mbed-board", "0.0.0.0", None)
        assert recs[2].requested_ip == "192.0.2.100" and t0 <= d.time <= time.time()
        assert "broadcast to 255.255.255.255" in recs[1].note
        # a second client gets the next address; renewal by unicast from ciaddr is acked
        other = bytes.fromhex("020000000043")
        client.chaddr = other
        client.send(1)
        assert client.recv().yiaddr == "192.0.2.101"
        client.chaddr = MAC
        client.send(3, ciaddr="192.0.2.100", flags=0x8000)
        assert client.recv().type_name == "ACK"
        client.send(3, ciaddr="192.0.2.120")                # not its lease: NAK
        assert client.recv().type_name == "NAK"
    assert dhcp.error is None


def test_nak_modes_and_request_for_another_server(net, client):
    with DhcpServer(net) as dhcp:
        client.send(1)
        offer = client.recv()
        req = [(50, socket.inet_aton(offer.yiaddr)), (54, socket.inet_aton(net.host_ip))]
        dhcp.nak_next()
        client.send(3, req)
        nak = client.recv()
        assert nak.type_name == "NAK" and nak.yiaddr == "0.0.0.0" and nak.server_id == net.host_ip
        assert nak.option(51) is None
        client.send(3, req)
        assert client.recv().type_name == "ACK"            # only the next one
        dhcp.nak_for(MACS)
        client.send(3, [(50, socket.inet_aton(offer.yiaddr))])
        assert client.recv().type_name == "NAK"
        dhcp.nak_for(MACS, False)
        client.send(3, [(50, socket.inet_aton("192.0.2.99"))])   # INIT-REBOOT outside the pool
        assert client.recv().type_name == "NAK"
        client.send(3, [(50, socket.inet_aton(offer.yiaddr)), (54, socket.inet_aton("192.0.2.250"))])
        assert client.recv(0.3) is None                     # chose another server: silence
        assert any("client chose server 192.0.2.250" in e.note for e in dhcp.log)


def test_silence_modes(net, client):
    with DhcpServer(net) as dhcp:
        dhcp.ignore("discover", times=2)
        client.send(1)
        assert client.recv(0.3) is None
        client.send(1)
        assert client.recv(0.3) is None
        client.send(1)
        offer = client.recv()
        assert offer.type_name == "OFFER"
        dhcp.ignore("request")
        client.send(3, [(50, socket.inet_aton(offer.yiaddr)), (54, socket.inet_aton(net.host_ip))])
        assert client.recv(0.3) is None
        assert [r.note for r in dhcp.messages("DISCOVER")][:2] == ["ignored (silence)"] * 2
        assert dhcp.messages("REQUEST")[0].note == "ignored (silence)"
        dhcp.unignore()
        client.send(3, [(50, socket.inet_aton(offer.yiaddr)), (54, socket.inet_aton(net.host_ip))])
        assert client.recv().type_name == "ACK"


def test_short_lease_scripted_address_and_decline(net, client):
    with DhcpServer(net, lease=10) as dhcp:
        client.send(1)
        o = client.recv()
        assert (o.lease_time, o.option(58), o.option(59)) == (10, struct.pack("!I", 5), struct.pack("!I", 8))
        dhcp.set_lease(20, t1=4, t2=6)
        dhcp.offer_address("192.0.2.120", times=1)          # e.g. an address someone else holds
        client.send(1)
        o = client.recv()
        assert o.yiaddr == "192.0.2.120" and o.lease_time == 20 and o.option(58) == struct.pack("!I", 4)
        client.send(4, [(50, socket.inet_aton("192.0.2.120")), (54, socket.inet_aton(net.host_ip))])
        dhcp.wait_message("DECLINE")
        client.send(1)
        assert client.recv().yiaddr == "192.0.2.100"         # declined address is not offered again
        assert "192.0.2.120" in dhcp.declined


def test_malformed_offer_mutations_produce_the_bytes_they_claim(net, client):
    base = DhcpMessage(op=2, xid=1, chaddr=MAC, options=[(53, b"\x02"), (54, b"\xc0\0\2\1"),
                                                          (1, b"\xff\xff\xff\0"), (3, b"\xc0\0\2\1")])
    plain = base.pack()
    d = apply_mutations(base, [drop_option(54)])
    assert [c for c, _, _ in option_spans(d)] == [53, 1, 3]
    d = apply_mutations(base, [set_option(1, b"\xff\xff\xff")])
    assert DhcpMessage.parse(d).option(1) == b"\xff\xff\xff"
    d = apply_mutations(base, [bad_length(1, 40)])
    spans = option_spans(plain)
    off = [o for c, o, _ in spans if c == 1][0]
    assert d[off + 1] == 40 and d[:off + 1] == plain[:off + 1] and d[off + 2:] == plain[off + 2:]
    d = apply_mutations(base, [overflow(43, 255, 8)])
    end = spans[-1][1] + 2 + spans[-1][2]
    assert d == plain[:end] + b"\x2b\xff" + b"\xee" * 8
    with pytest.raises(DhcpError, match="option 43 length 255 runs past the end"):
        DhcpMessage.parse(d)
    d = apply_mutations(base, [no_end()])
    assert d == plain[:end] and 255 not in d[OPTIONS_OFFSET:] or d[-1] != 255
    with pytest.raises(DhcpError, match="END"):
        DhcpMessage.parse(d)
    assert DhcpMessage.parse(d, strict=False).option(3) == b"\xc0\0\2\1"
    d = apply_mutations(base, [bad_cookie()])
    assert d[236:240] == b"\x63\x82\x53\x00"
    assert apply_mutations(base, [truncate(100)]) == plain[:100]
    d = apply_mutations(base, [overload((1, 3), where=1)])
    assert d[108:108 + 12] == b"\x01\x04\xff\xff\xff\x00\x03\x04\xc0\x00\x02\x01" and d[120] == 255
    back = DhcpMessage.parse(d)
    assert back.option(52) == b"\x01" and back.option(1) == b"\xff\xff\xff\x00"
    assert apply_mutations(base, [set_field(xid=99)])[4:8] == struct.pack("!I", 99)

    # and the server sends them
    with DhcpServer(net) as dhcp:
        dhcp.mutate("offer", drop_option(54, 51), times=1)
        client.send(1)
        o = client.recv()
        assert o.server_id is None and o.lease_time is None and o.option(1) is not None
        dhcp.mutate("offer", bad_length(1, 200))
        client.send(1)
        raw = client.recv(raw=True)
        with pytest.raises(DhcpError, match="option 1 length 200"):
            DhcpMessage.parse(raw)
        assert "option 1 length byte 200" in dhcp.wait_message("OFFER", "tx", count=2)[-1].note
        with pytest.raises(PeerError):
            dhcp.mutate("bogus", no_end())


def test_unicast_offer_to_a_board_without_broadcast_flag(net, board_link):
    """A board on the veth, no BROADCAST flag: the OFFER is unicast to yiaddr at chaddr."""
    bmac = mac("02:00:00:00:00:10")
    with DhcpServer(net) as dhcp:
        disc = DhcpMessage(xid=0xABCD, chaddr=bmac, options=[(53, b"\x01"), (12, b"lpc1768")])
        board_link.send(udp_frame(bmac, BCAST, "0.0.0.0", "255.255.255.255", 68, 67, disc.pack()))

        def offer(f):
            u = parse_udp(f)
            return u if u and u["dport"] == 68 else None
        u, _ = recv_until(board_link, offer, 2.0)
        assert u and u["dst"] == "192.0.2.100" and u["src"] == net.host_ip and u["sport"] == 67
        assert u["dmac"] == bmac
        o = DhcpMessage.parse(u["payload"])
        assert o.type_name == "OFFER" and o.xid == 0xABCD and o.host_name == "lpc1768"
        rx = dhcp.messages(direction="rx")[0]
        assert rx.peer == ("0.0.0.0", 68) and rx.host_name == "lpc1768"
        assert "chaddr to 192.0.2.100 at 02:00:00:00:00:10" in dhcp.wait_message("OFFER", "tx")[0].note
        # NAKs are always broadcast
        dhcp.nak_next()
        req = DhcpMessage(xid=0xABCE, chaddr=bmac, options=[(53, b"\x03"), (50, socket.inet_aton(o.yiaddr)),
                                                           (54, socket.inet_aton(net.host_ip))])
        board_link.send(udp_frame(bmac, BCAST, "0.0.0.0", "255.255.255.255", 68, 67, req.pack()))
        u, _ = recv_until(board_link, offer, 2.0)
        assert u["dst"] == "255.255.255.255" and u["dmac"] == BCAST
        assert DhcpMessage.parse(u["payload"]).type_name == "NAK"
        # garbage is recorded, not fatal
        board_link.send(udp_frame(bmac, BCAST, "0.0.0.0", "255.255.255.255", 68, 67, b"\x01" * 50))
        assert dhcp.wait_for(lambda log: any("malformed" in e.note for e in log), 2)
        assert dhcp.error is None


def test_inform_release_and_pool_exhaustion(net, client):
    with DhcpServer(net, pool=("192.0.2.100", "192.0.2.100")) as dhcp:
        client.send(8, ciaddr=net.host_ip, flags=0)          # INFORM: ACK unicast to ciaddr, no lease
        ack = client.recv()
        assert ack.type_name == "ACK" and ack.yiaddr == "0.0.0.0" and ack.lease_time is None
        assert ack.option(1) is not None
        assert "unicast to 192.0.2.1" in dhcp.wait_message("ACK", "tx")[0].note
        client.send(1)
        o = client.recv()
        client.send(3, [(50, socket.inet_aton(o.yiaddr)), (54, socket.inet_aton(net.host_ip))])
        assert client.recv().type_name == "ACK" and dhcp.lease_of(MACS) == "192.0.2.100"
        client.chaddr = bytes.fromhex("020000000099")
        client.send(1)
        assert client.recv(0.3) is None                      # the only address is leased
        assert any("pool exhausted" in e.note for e in dhcp.log)
        client.chaddr = MAC
        client.send(7, ciaddr="192.0.2.100", flags=0)        # RELEASE
        dhcp.wait_message("RELEASE")
        assert dhcp.lease_of(MACS) is None
        client.chaddr = bytes.fromhex("020000000099")
        client.send(1)
        assert client.recv().yiaddr == "192.0.2.100"
