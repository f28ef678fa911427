"""Multicast sender and listener on the bench LAN, on the host and through the bridge."""


import pytest

from hil.peers import MulticastListener, MulticastSender, PeerError
from ..net.netframes import mac, parse_udp, recv_until, udp_frame

GROUP = "239.1.2.3"
GMAC = bytes.fromhex("01005e010203")


def test_periodic_sender_heard_by_listener(net, board_link):
    with MulticastListener(net, GROUP, 5000) as ml, MulticastListener(net, "239.9.9.9", 5000) as other, \
            MulticastSender(net, GROUP, 5000, lambda seq: b"tick %d" % seq, interval=0.05, count=3) as ms:
        got = ml.wait_datagrams(3, 2)
        assert [d.data for d in got] == [b"tick 0", b"tick 1", b"tick 2"]
        assert all(d.source == (net.host_ip, ms.address[1]) for d in got)
        tx = [e.mono for e in ms.log if e.direction == "tx"]
        gaps = [b - a for a, b in zip(tx, tx[1:])]
        assert all(0.045 <= g < 0.15 for g in gaps), gaps
        assert ms.wait_for(lambda log: any("sent 3 datagrams, done" in e.note for e in log), 1)
        ms.send(b"extra")
        assert ml.wait_datagrams(4, 2)[-1].data == b"extra"
        assert other.datagrams() == []          # another group on the same port hears nothing


def test_multicast_through_the_bridge(net, board_link):
    bmac, bip = mac("02:00:00:00:00:10"), net.board_ip(0)
    with MulticastListener(net, GROUP, 6000) as ml, \
            MulticastSender(net, GROUP, 6000, b"to the boards", ttl=3, source_port=4000) as ms:
        def mcast(f):
            u = parse_udp(f)
            return (f, u) if u and u["dst"] == GROUP else None
        (frame, u), _ = recv_until(board_link, mcast, 2.0)
        assert u["dmac"] == GMAC and u["src"] == net.host_ip and (u["sport"], u["dport"]) == (4000, 6000)
        assert u["payload"] == b"to the boards" and frame[14 + 8] == 3      # IP TTL
        host_mac = u["smac"]
        # the board talks to the group and answers the sender by unicast
        board_link.send(udp_frame(bmac, GMAC, bip, GROUP, 5555, 6000, b"from the board"))
        got = ml.wait_datagrams(2, 2)
        assert (bip, 5555) in [d.source for d in got]
        assert [d.data for d in got if d.source[0] == bip] == [b"from the board"]
        board_link.send(udp_frame(bmac, host_mac, bip, net.host_ip, 5555, 4000, b"reply"))
        assert ms.wait_for(lambda log: any(e.direction == "rx" for e in log), 2)
        assert [(d.source, d.data) for d in ms.replies()] == [((bip, 5555), b"reply")]


def test_bad_groups(net):
    with pytest.raises(PeerError, match="192.0.2.5 is not a multicast group"):
        MulticastListener(net, "192.0.2.5", 1)
    with pytest.raises(PeerError, match="not an IPv4 address"):
        MulticastSender(net, "nope", 1, b"")


@pytest.mark.parametrize("group, dst", [("0.0.0.0", "224.0.0.1"), ("239.1.2.3", "239.1.2.3")])
def test_igmp_query_frame(group, dst):
    """The query `Send IGMP Query From Host` puts on the wire (RFC 2236: to 224.0.0.1 when
    general, else to the group; TTL 1 and Router Alert; both checksums right)."""
    import socket

    from hil.net.frames import igmp_query_frame, inet_checksum, multicast_mac

    f = igmp_query_frame("02:00:c0:00:02:01", "192.0.2.1", group, max_resp_ds=25)
    assert f[:6] == multicast_mac(dst) and f[6:12] == mac("02:00:c0:00:02:01")
    assert f[12:14] == b"\x08\x00"
    ip, igmp = f[14:38], f[38:]
    assert ip[0] == 0x46 and ip[8] == 1 and ip[9] == 2 and ip[20:24] == b"\x94\x04\x00\x00"
    assert socket.inet_ntoa(ip[12:16]) == "192.0.2.1" and socket.inet_ntoa(ip[16:20]) == dst
    assert inet_checksum(ip) == 0 and inet_checksum(igmp) == 0
    assert igmp[0] == 0x11 and igmp[1] == 25 and socket.inet_ntoa(igmp[4:8]) == group
