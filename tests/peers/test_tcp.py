"""TCP echo/discard/chargen/daytime, the error behaviours, the acceptor and net_connect."""

import hashlib
import os
import re
import select
import socket
import threading
import time
from datetime import datetime, timezone

import pytest

from hil.peers import (PeerError, TcpAcceptor, TcpChargenServer, TcpDaytimeServer, TcpDiscardServer,
                       TcpEchoServer, chargen_bytes, net_connect)

MIB = os.urandom(1 << 20)
MIB_SHA = hashlib.sha256(MIB).hexdigest()


def recv_all(s, timeout=5.0):
    s.settimeout(timeout)
    out = bytearray()
    while True:
        d = s.recv(65536)
        if not d:
            return bytes(out)
        out += d


def test_echo_1mib_integrity_and_connection_log(net):
    with TcpEchoServer(net) as echo:
        t0 = time.time()
        c = net_connect(net, net.host_ip, 7)
        sender = threading.Thread(target=lambda: (c.sendall(MIB), c.shutdown(socket.SHUT_WR)))
        sender.start()
        back = recv_all(c)
        sender.join()
        c.close()
        assert len(back) == len(MIB) and hashlib.sha256(back).hexdigest() == MIB_SHA
        log = echo.wait_closed(1)[0]
        assert (log.bytes_in, log.bytes_out, log.end) == (1 << 20, 1 << 20, "fin")
        assert log.sha256_in == log.sha256_out == MIB_SHA
        assert log.peer[0] == net.host_ip and log.local == (net.host_ip, 7)
        assert t0 <= log.opened <= log.closed <= time.time()
    assert echo.error is None


def test_discard_counts_and_hashes_concurrent_connections(net):
    with TcpDiscardServer(net) as discard:
        clients = [net_connect(net, net.host_ip, 9) for _ in range(3)]
        payloads = [MIB, b"x" * 1000, b""]
        threads = [threading.Thread(target=c.sendall, args=(p,)) for c, p in zip(clients, payloads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for c in clients:
            c.shutdown(socket.SHUT_WR)
            assert recv_all(c) == b""        # discard never answers; FIN after ours
            c.close()
        logs = sorted(discard.wait_closed(3), key=lambda l: l.peer[1])
        by_size = sorted((l.bytes_in, l.sha256_in, l.bytes_out, l.end) for l in logs)
        assert by_size == sorted((len(p), hashlib.sha256(p).hexdigest(), 0, "fin") for p in payloads)


def test_chargen_pattern_and_limit(net):
    line0 = bytes(range(32, 104)) + b"\r\n"
    assert chargen_bytes(74) == line0 and chargen_bytes(74, 74) == bytes(range(33, 105)) + b"\r\n"
    assert chargen_bytes(74, 94 * 74)[:2] == b"~ " and chargen_bytes(10, 95 * 74) == line0[:10]
    assert chargen_bytes(100000, 5) == chargen_bytes(100005)[5:]
    with TcpChargenServer(net) as cg, net_connect(net, net.host_ip, 19) as c:
        got = bytearray()
        while len(got) < 200000:
            got += c.recv(65536)
        assert bytes(got) == chargen_bytes(len(got))
    with TcpChargenServer(net, port=1919, limit=1000) as cg, net_connect(net, net.host_ip, 1919) as c:
        assert recv_all(c) == chargen_bytes(1000)
        log = cg.wait_closed(1)[0]
        assert (log.bytes_out, log.end, log.sha256_out) == (1000, "server-fin",
                                                            hashlib.sha256(chargen_bytes(1000)).hexdigest())


def test_daytime_format(net):
    with TcpDaytimeServer(net) as dt, net_connect(net, net.host_ip, 13) as c:
        line = recv_all(c).decode("ascii")
        m = re.fullmatch(r"(\w+), (\w+) (\d\d), (\d{4}) (\d\d:\d\d:\d\d)-UTC\r\n", line)
        assert m, line
        when = datetime.strptime(line.strip(), "%A, %B %d, %Y %H:%M:%S-UTC").replace(tzinfo=timezone.utc)
        assert abs(when.timestamp() - time.time()) < 5
        assert dt.wait_closed(1)[0].end == "server-fin"
    with TcpDaytimeServer(net, port=1313, fmt="%Y-%m-%dT%H:%M:%SZ", clock=lambda: 0) as dt, \
            net_connect(net, net.host_ip, 1313) as c:
        assert recv_all(c) == b"1970-01-01T00:00:00Z\r\n"


def test_reset_after_gives_econnreset(net):
    with TcpEchoServer(net, reset_after=1000) as echo, net_connect(net, net.host_ip, 7) as c:
        c.sendall(b"a" * 5000)
        with pytest.raises(ConnectionResetError):
            while c.recv(65536):
                pass
        log = echo.wait_closed(1)[0]
        assert (log.bytes_in, log.end) == (1000, "server-rst")
    with TcpChargenServer(net, reset_after=5000) as cg:
        got = 0
        c = net.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.settimeout(5)
        with pytest.raises(ConnectionResetError):  # on loopback the RST may even beat connect()
            c.connect((net.host_ip, 19))
            while True:
                d = c.recv(65536)
                assert d
                got += len(d)
        c.close()
        log = cg.wait_closed(1)[0]
        assert got <= 5000 and (log.bytes_out, log.end) == (5000, "server-rst")
        assert log.sha256_out == hashlib.sha256(chargen_bytes(5000)).hexdigest()
    with TcpDiscardServer(net, reset_after=0) as d, net.socket(socket.AF_INET, socket.SOCK_STREAM) as c:
        c.settimeout(5)
        with pytest.raises(ConnectionResetError):
            c.connect((net.host_ip, 9))
            c.recv(10)
        assert d.wait_closed(1)[0].end == "server-rst"


def test_vanish_zero_window_and_runtime_vanish(net):
    with TcpDiscardServer(net, behaviour="vanish", rcvbuf=2048) as v, net_connect(net, net.host_ip, 9) as c:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        c.setblocking(False)
        sent = 0
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            try:
                sent += c.send(b"z" * 4096)
            except BlockingIOError:
                if not select.select([], [c], [], 0.2)[1]:
                    break            # the window stays shut: nothing more can be sent
        assert 0 < sent < 64 * 1024
        log = v.wait_connections(1)[0]
        assert log.bytes_in == 0 and log.open
    with TcpEchoServer(net) as echo, net_connect(net, net.host_ip, 7, timeout=0.3) as c:
        c.sendall(b"ping")
        assert c.recv(10) == b"ping"
        echo.vanish()
        time.sleep(0.05)
        c.sendall(b"pong")
        with pytest.raises(socket.timeout):
            c.recv(10)
        assert echo.connections()[0].bytes_in == 4


def test_no_accept_and_close_behaviours(net):
    with TcpDiscardServer(net, behaviour="no_accept", backlog=1) as na:
        conns, failed = [], None
        for i in range(4):
            try:
                conns.append(net_connect(net, net.host_ip, 9, timeout=0.3))
            except PeerError as e:
                failed = str(e)
                break
        assert failed == f"cannot connect to {net.host_ip}:9: no answer within 0.3 s"
        assert len(conns) >= 1 and na.connections() == []
        for c in conns:
            c.close()
    with TcpEchoServer(net, behaviour="close") as cl, net_connect(net, net.host_ip, 7) as c:
        assert recv_all(c) == b""
        assert cl.wait_closed(1)[0].end == "server-fin"


def test_acceptor_and_net_connect_errors(net):
    with TcpAcceptor(net, 5000) as acc:
        with pytest.raises(PeerError, match="no connection to port 5000 within 0.1 s"):
            acc.wait_accept(0.1)
        c = net_connect(net, net.host_ip, 5000)
        s = acc.wait_accept(2)
        assert s.getpeername() == c.getsockname()
        c.sendall(b"from board")
        assert s.recv(100) == b"from board"
        s.sendall(b"from test")
        assert c.recv(100) == b"from test"
        c.close()
        assert s.recv(100) == b""
        assert acc.wait_for(lambda log: any(e.note == "accepted" for e in log))
    with pytest.raises(PeerError, match=r"cannot connect to 192\.0\.2\.1:1: Connection refused"):
        net_connect(net, net.host_ip, 1)
    with pytest.raises(PeerError, match="cannot bind 0.0.0.0:7"):
        with TcpEchoServer(net), TcpEchoServer(net):
            pass


def test_half_closing_echo_client_and_burst_connects(net):
    """The host side of the half-close and burst-connect suites, against the kernel: a
    client that sends FIN at the end of its input gets every byte before EOF; a peer that
    closes early (here: a discard server, which echoes nothing) is reported as lost bytes;
    a burst of connects to a port nobody listens on is refused, client by client."""
    from hil.agent.tcp import TransferError, echo_transfer
    from hil.peers.tcp import connect_at_once

    with TcpEchoServer(net) as echo:
        conns = connect_at_once(net, net.host_ip, 7, 6)
        assert all(isinstance(c, socket.socket) for c in conns)
        for c in conns:
            echo_transfer(c, MIB[:200_000], half_close=True, timeout=20)
            c.close()
    with TcpDiscardServer(net, port=9) as _:
        c = net_connect(net, net.host_ip, 9)
        with pytest.raises(TransferError, match="0 of 65536 bytes came back"):
            echo_transfer(c, MIB[:65536], half_close=True, timeout=5)
        c.close()
    results = connect_at_once(net, net.host_ip, 1, 3, timeout=2)
    assert [type(r) for r in results] == [PeerError] * 3
    assert all("refused" in str(r) for r in results)


def test_reset_close_sends_rst():
    """reset_close (the `Close Host Connection reset=True` keyword's helper, and the servers'
    reset_after) ends a connection with RST: the other side's recv fails with ECONNRESET."""
    from hil.peers.tcp_client import reset_close

    with socket.create_server(("127.0.0.1", 0)) as srv:
        client = socket.create_connection(srv.getsockname())
        conn, _ = srv.accept()
        with conn:
            reset_close(client)
            conn.settimeout(2)
            with pytest.raises(ConnectionResetError):
                conn.recv(10)
        reset_close(client)  # closed already: nothing happens


def test_tcp_names_stay_importable_from_both_places():
    """The client helpers moved to hil.peers.tcp_client; old imports keep working."""
    import hil.peers
    import hil.peers.tcp
    import hil.peers.tcp_client as client

    for name in ("TcpAcceptor", "net_connect", "connect_at_once", "reset_close"):
        assert getattr(hil.peers.tcp, name) is getattr(client, name)
        assert getattr(hil.peers, name) is getattr(client, name)
    for name in hil.peers.__all__:
        getattr(hil.peers, name)
