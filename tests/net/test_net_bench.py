"""The bench network with the real kernel: namespace, veth board links, fd passing, ping, TAP."""

import json
import os
import socket
import struct
import subprocess
import sys
import textwrap
import time

import pytest

from hil.net import BenchNetwork, BenchNetworkError
from .netframes import BCAST, arp, drain, mac, parse_arp, parse_udp, recv_until, udp_frame

BOARD_MAC = mac("02:00:00:00:00:10")
BRIDGE_MAC = mac("02:00:c0:00:02:01")
SIOCGSKNS = 0x894C  # ioctl: the network namespace of a socket, as an fd


def _netns_of(sock):
    import fcntl
    fd = fcntl.ioctl(sock.fileno(), SIOCGSKNS)
    try:
        return os.fstat(fd).st_ino
    finally:
        os.close(fd)


def test_namespace_is_private(net):
    out = net.run(["ip", "-br", "link"], capture_output=True, text=True, check=True).stdout
    names = sorted(l.split()[0] for l in out.splitlines())
    assert names == ["br0", "lo"]
    host_ifaces = set(os.listdir("/sys/class/net")) - {"lo"}
    assert host_ifaces.isdisjoint(names)
    addr = net.run(["ip", "-br", "-4", "addr", "show", "br0"], capture_output=True, text=True).stdout
    assert "192.0.2.1/24" in addr
    assert os.stat(f"/proc/{net.pid}/ns/net").st_ino != os.stat("/proc/self/ns/net").st_ino
    assert os.stat(f"/proc/{net.pid}/ns/user").st_ino != os.stat("/proc/self/ns/user").st_ino
    # No route to the outside world at all.
    routes = net.run(["ip", "-4", "route"], capture_output=True, text=True).stdout
    assert "default" not in routes and "192.0.2.0/24 dev br0" in routes


def test_addresses_and_parameters(tmp_path):
    with BenchNetwork(tmp_path / "b", subnet="10.77.0.0/16", mtu=1400) as net:
        assert (net.host_ip, net.netmask, net.board_ip(0), net.board_ip(3)) == \
            ("10.77.0.1", "255.255.0.0", "10.77.0.10", "10.77.0.13")
        info = json.loads(net.run(["ip", "-j", "addr", "show", "br0"], capture_output=True,
                                  text=True).stdout)[0]
        assert info["mtu"] == 1400
        assert {(a["local"], a["prefixlen"]) for a in info["addr_info"]} == {("10.77.0.1", 16)}
        assert net.ping("10.77.0.1")[0] is not None


def test_socket_lives_in_the_namespace(net):
    s = net.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with s:
        assert (s.family, s.type) == (socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((net.host_ip, 0))  # the address exists only on the bench LAN
        assert _netns_of(s) == os.stat(f"/proc/{net.pid}/ns/net").st_ino
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as mine:
        assert _netns_of(mine) == os.stat("/proc/self/ns/net").st_ino
        with pytest.raises(OSError):
            mine.bind((net.host_ip, 0))
    # bound by the daemon, and a privileged port
    t = net.socket(socket.AF_INET, socket.SOCK_STREAM, bind=(net.host_ip, 80))
    with t:
        assert t.getsockname() == (net.host_ip, 80)


def test_udp_between_namespace_sockets(net):
    a = net.socket(socket.AF_INET, socket.SOCK_DGRAM, bind=(net.host_ip, 0))
    b = net.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with a, b:
        b.settimeout(2)
        a.settimeout(2)
        b.sendto(b"hello", a.getsockname())
        data, src = a.recvfrom(100)
        assert data == b"hello"


def test_arp_through_board_link(net):
    fd = net.add_board_link("board0")
    with socket.socket(fileno=fd) as board:
        assert board.family == socket.AF_PACKET and board.getblocking()
        board.send(arp(1, BOARD_MAC, net.board_ip(0), b"\0" * 6, net.host_ip))
        reply, dt = recv_until(board, lambda f: (a := parse_arp(f)) and a["op"] == 2 and a)
        assert reply is not None, "no ARP reply from the kernel"
        assert reply["sip"] == net.host_ip and reply["smac"] == BRIDGE_MAC
        assert reply["tip"] == net.board_ip(0) and reply["tmac"] == BOARD_MAC
        assert reply["dst"] == BOARD_MAC
        assert dt < 0.5


def test_two_boards_no_duplicate_answers(net):
    """The kernel must not answer on the board ends: exactly one ARP reply, one UDP copy."""
    b0 = socket.socket(fileno=net.add_board_link("board0"))
    b1 = socket.socket(fileno=net.add_board_link("board1"))
    rx = net.socket(socket.AF_INET, socket.SOCK_DGRAM, bind=("0.0.0.0", 5000))
    with b0, b1, rx:
        b0.send(arp(1, BOARD_MAC, net.board_ip(0), b"\0" * 6, net.host_ip))
        frames = drain(b0, 0.2)
        replies = [a for f in frames if (a := parse_arp(f)) and a["op"] == 2]
        assert len(replies) == 1 and replies[0]["smac"] == BRIDGE_MAC
        # board1 saw the broadcast request (flooded by the bridge), and no reply
        seen = [a for f in drain(b1, 0.1) if (a := parse_arp(f))]
        assert [a["op"] for a in seen] == [1]
        # a broadcast datagram from board0 reaches the host stack exactly once
        b0.send(udp_frame(BOARD_MAC, BCAST, net.board_ip(0), net.broadcast, 4000, 5000, b"bcast"))
        rx.settimeout(1)
        assert rx.recvfrom(100)[0] == b"bcast"
        rx.settimeout(0.2)
        with pytest.raises(TimeoutError):
            rx.recvfrom(100)


def test_udp_through_board_link(net):
    """A hand-made board on the veth end exchanges UDP with an ordinary socket."""
    board = socket.socket(fileno=net.add_board_link("board0"))
    srv = net.socket(socket.AF_INET, socket.SOCK_DGRAM, bind=(net.host_ip, 9000))
    with board, srv:
        bip = net.board_ip(0)
        board.send(udp_frame(BOARD_MAC, BRIDGE_MAC, bip, net.host_ip, 1234, 9000, b"ping"))
        srv.settimeout(1)
        data, src = srv.recvfrom(100)
        assert (data, src) == (b"ping", (bip, 1234))
        srv.sendto(b"pong", src)

        def answer(frame):
            a = parse_arp(frame)
            if a and a["op"] == 1 and a["tip"] == bip:  # the kernel asks for the board
                board.send(arp(2, BOARD_MAC, bip, a["smac"], a["sip"]))
                return None
            u = parse_udp(frame)
            return u if u and u["dport"] == 1234 else None
        u, _ = recv_until(board, answer, 2.0)
        assert u and u["payload"] == b"pong" and u["src"] == net.host_ip and u["dmac"] == BOARD_MAC


def test_runt_and_large_frames_reach_the_board_unchanged(net):
    board = socket.socket(fileno=net.add_board_link("board0"))
    inj = net.raw_socket("br0")
    with board, inj:
        runt = BOARD_MAC + BRIDGE_MAC + b"\x88\xb5" + b"R" * 6  # 20 bytes, no padding added
        big = BOARD_MAC + BRIDGE_MAC + b"\x88\xb5" + bytes(1000)  # > the board's 746 MTU
        bad = bytearray(udp_frame(BRIDGE_MAC, BOARD_MAC, net.host_ip, net.board_ip(0), 1, 2, b"x"))
        bad[24] ^= 0xFF  # broken IPv4 header checksum
        for f in (runt, big, bytes(bad)):
            inj.send(f)
            got, _ = recv_until(board, lambda x, f=f: x == f and x)
            assert got == f
        with pytest.raises(OSError):  # the kernel refuses frames above the link MTU
            inj.send(BOARD_MAC + BRIDGE_MAC + b"\x88\xb5" + bytes(1501))


def test_board_link_mtu_and_removal(net):
    fd = net.add_board_link("board0", mtu=746)
    os.close(fd)
    info = json.loads(net.run(["ip", "-j", "link", "show", "board0-p"], capture_output=True,
                              text=True).stdout)[0]
    assert info["mtu"] == 746 and info["master"] == "br0"
    with pytest.raises(BenchNetworkError, match="already exists"):
        net.add_board_link("board0")
    net.remove_board_link("board0")
    out = net.run(["ip", "-br", "link"], capture_output=True, text=True).stdout
    assert "board0" not in out
    with pytest.raises(BenchNetworkError, match="no board link"):
        net.remove_board_link("board0")


def test_board_port_and_route_mtu_are_bench_network_methods(net):
    """What the keywords ask of the LAN (pull a board's cable, a host route with a small MTU)
    is done by BenchNetwork, which alone knows the bridge and port names."""
    os.close(net.add_board_link("board0"))

    def port_up():
        info = json.loads(net.run(["ip", "-j", "link", "show", net.port_name("board0")],
                                  capture_output=True, text=True).stdout)[0]
        return "UP" in info["flags"]

    net.set_board_port("board0", up=False)
    assert not port_up()
    net.set_board_port("board0", up=True)
    assert port_up()
    with pytest.raises(BenchNetworkError, match="nosuch"):
        net.set_board_port("nosuch", up=True)
    ip = net.board_ip(0)
    net.set_route_mtu(ip, 746)
    route = net.run(["ip", "route", "get", ip], capture_output=True, text=True).stdout
    assert f"dev {net.bridge}" in route and "mtu 746" in route
    net.remove_route(ip)
    assert "mtu 746" not in net.run(["ip", "route", "get", ip], capture_output=True,
                                    text=True).stdout
    net.remove_route(ip)  # none left: nothing to do


def test_board_fd_passes_to_a_child_process(net):
    """The emulator gets the board fd with pass_fds (--net fd:N) and uses it as is."""
    fd = net.add_board_link("board0")
    code = textwrap.dedent(f"""
        import os, select, socket, sys
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from netframes import arp, parse_arp, mac
        fd = int(sys.argv[1])
        os.write(fd, arp(1, mac("02:00:00:00:00:10"), "192.0.2.10", bytes(6), "192.0.2.1"))
        while select.select([fd], [], [], 2)[0]:
            a = parse_arp(os.read(fd, 2000))
            if a and a["op"] == 2:
                print(a["smac"].hex()); break
    """)
    try:
        r = subprocess.run([sys.executable, "-c", code, str(fd)], pass_fds=[fd],
                           capture_output=True, text=True, timeout=10)
    finally:
        os.close(fd)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == BRIDGE_MAC.hex()


def test_ping(net):
    rtts = net.ping(net.host_ip, count=3, size=100)
    assert len(rtts) == 3 and all(r is not None and 0 < r < 0.5 for r in rtts)
    t0 = time.monotonic()
    assert net.ping(net.board_ip(50), count=1, timeout=0.3) == [None]  # nobody there
    assert time.monotonic() - t0 < 1.5


def test_ping_a_board_on_the_veth(net):
    """The ICMP echo goes out through br0 and the veth; our board answers by hand."""
    import threading
    board = socket.socket(fileno=net.add_board_link("board0"))
    bip = net.board_ip(0)
    stop = threading.Event()

    def responder():
        while not stop.is_set():
            import select
            if not select.select([board], [], [], 0.05)[0]:
                continue
            f = board.recv(2000)
            a = parse_arp(f)
            if a and a["op"] == 1 and a["tip"] == bip:
                board.send(arp(2, BOARD_MAC, bip, a["smac"], a["sip"]))
            elif len(f) > 34 and f[12:14] == b"\x08\x00" and f[23] == 1 and f[34] == 8:
                ip = bytearray(f[14:34])
                ip[12:16], ip[16:20] = f[30:34], f[26:30]
                icmp = bytearray(f[34:])
                icmp[0] = 0
                icmp[2:4] = b"\0\0"
                from netframes import csum
                icmp[2:4] = struct.pack("!H", csum(bytes(icmp)))
                board.send(f[6:12] + BOARD_MAC + b"\x08\x00" + bytes(ip) + bytes(icmp))
    t = threading.Thread(target=responder, daemon=True)
    t.start()
    try:
        rtts = net.ping(bip, count=3, timeout=1.0)
    finally:
        stop.set()
        t.join()
        board.close()
    assert all(r is not None for r in rtts), rtts


def test_raw_socket_sniffs_the_bridge(net):
    os.close(net.add_board_link("board0"))  # a bridge without ports has no carrier
    sniff = net.raw_socket("br0")
    s = net.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with sniff, s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        s.sendto(b"sniff-me", (net.broadcast, 4444))
        u, _ = recv_until(sniff, lambda f: (u := parse_udp(f)) and u["dport"] == 4444 and u)
        assert u and u["payload"] == b"sniff-me" and u["src"] == net.host_ip
    with pytest.raises(BenchNetworkError, match="no interface 'eth0'"):
        net.raw_socket("eth0")


def test_stop_cleans_up(tmp_path):
    net = BenchNetwork(tmp_path / "b").start()
    pid = net.pid
    assert (tmp_path / "b" / "daemon.sock").exists()
    net.add_board_link("board0")
    net.stop()
    net.stop()  # idempotent
    assert not os.path.exists(f"/proc/{pid}")
    assert not (tmp_path / "b" / "daemon.sock").exists()
    leftovers = [p for p in os.listdir("/proc") if p.isdigit() and _cmdline_has(p, str(tmp_path))]
    assert leftovers == []
    with pytest.raises(BenchNetworkError, match="not running"):
        net.socket()


def _cmdline_has(pid, text):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return text.encode() in f.read()
    except OSError:
        return False


def _dead(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def test_daemon_dies_with_the_host_process(tmp_path):
    code = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(__import__('conftest').ROOT)!r})
        from hil.net import BenchNetwork
        net = BenchNetwork({str(tmp_path / 'b')!r}).start()
        print(net.pid, flush=True)
        time.sleep(60)
    """)
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        pid = int(p.stdout.readline())
        assert not _dead(pid)
        p.kill()  # SIGKILL: no cleanup code runs in the host
        p.wait()
        deadline = time.monotonic() + 3
        while not _dead(pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _dead(pid)
    finally:
        p.kill()
        p.wait()


def test_tap_link(net):
    if not net.tap_available():
        pytest.skip(f"TAP unavailable here ({net.tap_reason}); veth links are the default")
    fd = net.add_board_tap("tap0")
    try:
        os.write(fd, arp(1, BOARD_MAC, net.board_ip(0), b"\0" * 6, net.host_ip))
        import select
        reply = None
        deadline = time.monotonic() + 1
        while reply is None and select.select([fd], [], [], max(0, deadline - time.monotonic()))[0]:
            a = parse_arp(os.read(fd, 2000))
            if a and a["op"] == 2:
                reply = a
        assert reply and reply["sip"] == net.host_ip and reply["tmac"] == BOARD_MAC
        info = json.loads(net.run(["ip", "-j", "link", "show", "tap0"], capture_output=True,
                                  text=True).stdout)[0]
        assert info["master"] == "br0"
    finally:
        os.close(fd)
