"""Protocol peers on the bench network."""

import logging
import socket
import time

import pytest

from hil.peers import Peer, PeerError, UdpEchoPeer
from .netframes import mac, parse_udp, recv_until, udp_frame, arp, parse_arp


def test_udp_echo_answers_a_namespace_socket(net, caplog):
    caplog.set_level(logging.INFO, logger="hil.peers")
    with UdpEchoPeer(net) as peer, net.socket(socket.AF_INET, socket.SOCK_DGRAM) as c:
        assert peer.address == ("0.0.0.0", 7)
        c.settimeout(2)
        t0 = time.time()
        for msg in (b"one", b"two" * 300, b""):
            c.sendto(msg, (net.host_ip, 7))
            data, src = c.recvfrom(2000)
            assert (data, src) == (msg, (net.host_ip, 7))
        assert peer.wait_for(lambda log: sum(e.direction == "tx" for e in log) == 3)
        log = peer.log
        rx = [e for e in log if e.direction == "rx"]
        assert [e.data for e in rx] == [b"one", b"two" * 300, b""]
        assert all(e.peer == (net.host_ip, c.getsockname()[1]) and t0 <= e.wall <= time.time() for e in rx)
        assert [e.mono for e in log] == sorted(e.mono for e in log)
    assert "udp-echo" in caplog.text and "rx 192.0.2.1:" in caplog.text
    assert peer.error is None


def test_udp_echo_answers_a_board_on_the_veth(net):
    board = socket.socket(fileno=net.add_board_link("board0"))
    bmac, bip = mac("02:00:00:00:00:10"), net.board_ip(0)
    with board, UdpEchoPeer(net, port=7) as peer:
        board.send(udp_frame(bmac, mac("02:00:c0:00:02:01"), bip, net.host_ip, 5555, 7, b"rfc862"))

        def answer(f):
            a = parse_arp(f)
            if a and a["op"] == 1 and a["tip"] == bip:
                board.send(arp(2, bmac, bip, a["smac"], a["sip"]))
                return None
            u = parse_udp(f)
            return u if u and u["dport"] == 5555 else None
        u, _ = recv_until(board, answer, 2.0)
        assert u and (u["payload"], u["src"], u["sport"]) == (b"rfc862", net.host_ip, 7)
        assert peer.received()[0].peer == (bip, 5555)


def test_peer_start_stop_and_port_conflict(net):
    p1 = UdpEchoPeer(net, port=7007).start()
    with pytest.raises(PeerError, match="cannot bind 0.0.0.0:7007"):
        UdpEchoPeer(net, port=7007).start()
    p1.stop()
    p1.stop()  # idempotent
    with UdpEchoPeer(net, port=7007):  # port free again
        pass


def test_base_class_is_small_to_extend(net):
    class Upper(Peer):
        name = "upper"

        def _open(self):
            s = self.net.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sockets.append(s)
            s.bind((self.host, self.port))

        def _on_readable(self, sock):
            data, addr = sock.recvfrom(100)
            self.record("rx", addr, data)
            sock.sendto(data.upper(), addr)
            self.record("tx", addr, data.upper())

    with Upper(net, host=net.host_ip) as p, net.socket(socket.AF_INET, socket.SOCK_DGRAM) as c:
        c.settimeout(2)
        c.sendto(b"abc", p.address)
        assert c.recv(10) == b"ABC"
        assert p.wait_for(lambda log: any(e.direction == "tx" for e in log))
        assert "listening on 192.0.2.1:" in str(p.log[0])
