"""The checks of suites/udp.robot, through the pytest plugin, against the bench's board."""

import pytest

from hil.agent.udp import CallbackMode, UDPSocketErr, UDPSocketEvent

pytestmark = pytest.mark.hil
PORT = 5003
READABLE = UDPSocketEvent.UDPSOCKET_READABLE


def test_board_answers_ping(hil_bench, board):
    rtts = hil_bench.net.ping(board.ip, count=3, timeout=1.0)
    assert len(rtts) == 3 and all(r is not None for r in rtts), rtts


def test_board_receives_datagram_and_returns_it(hil_bench, board, udp_socket, host_udp):
    sock = udp_socket()
    assert sock.bind(PORT) == UDPSocketErr.UDPSOCKET_OK
    host = host_udp()
    host.sendto(b"round trip", (board.ip, PORT))
    ev = sock.wait_event(READABLE)
    assert ev.mode is CallbackMode.MEMBER
    d = sock.recvfrom()
    assert (d.result, d.data, d.ip) == (10, b"round trip", hil_bench.host_ip)
    assert d.port == host.getsockname()[1]
    assert sock.sendto(d.data, d.ip, d.port) == 10
    data, src = host.recvfrom(2048)
    assert data == b"round trip" and src == (board.ip, PORT)


def test_host_receives_datagram_board_sends(hil_bench, board, udp_socket, host_udp):
    host = host_udp()
    sock = udp_socket()
    assert sock.sendto(b"from board", hil_bench.host_ip, host.getsockname()[1]) == 10
    data, (ip, port) = host.recvfrom(2048)
    assert data == b"from board" and ip == board.ip
    assert port >= 4096, "an unbound socket sends from an ephemeral port >= 4096"


def test_bind_port_in_use(udp_socket):
    a, b = udp_socket(), udp_socket()
    assert a.bind(PORT) == UDPSocketErr.UDPSOCKET_OK
    assert b.bind(PORT) == UDPSocketErr.UDPSOCKET_INUSE


def test_second_close_gives_setup(udp_socket):
    s = udp_socket()
    assert s.bind(PORT) == UDPSocketErr.UDPSOCKET_OK
    assert s.close() == UDPSocketErr.UDPSOCKET_OK
    assert s.close() == UDPSocketErr.UDPSOCKET_SETUP


def test_recvfrom_nothing_queued_returns_zero(udp_socket):
    s = udp_socket()
    assert s.bind(PORT) == UDPSocketErr.UDPSOCKET_OK
    assert s.recvfrom().result == 0


def test_function_callback_form(board, udp_socket, host_udp):
    s = udp_socket(CallbackMode.FUNCTION)
    s.bind(PORT)
    host_udp().sendto(b"fn", (board.ip, PORT))
    assert s.wait_event(READABLE).mode is CallbackMode.FUNCTION


def test_reset_on_event_silences_callbacks(board, udp_socket, host_udp):
    s = udp_socket()
    s.bind(PORT)
    assert s.reset_on_event() == UDPSocketErr.UDPSOCKET_OK
    host_udp().sendto(b"quiet", (board.ip, PORT))
    with pytest.raises(Exception):
        s.wait_event(None, timeout=0.5)
    assert s.recvfrom().result == 5


def test_datagram_boundaries_kept(board, udp_socket, host_udp):
    s = udp_socket()
    s.bind(PORT)
    h = host_udp()
    h.sendto(b"one", (board.ip, PORT))
    h.sendto(b"three", (board.ip, PORT))
    s.wait_event(READABLE)
    s.wait_event(READABLE)
    assert [s.recvfrom().data for _ in range(3)] == [b"one", b"three", b""]


def test_garbage_on_serial_link_then_request_works(board):
    agent = board.require_ready()
    before = agent.stats()["agent_bad_frames"]
    agent.send_raw(b"\x00\xde\xad\xbe\xef\x00garbage\x00\x05\x01")
    assert agent.request("ECHO", data=b"still here")["data"] == b"still here"
    assert agent.stats()["agent_bad_frames"] > before
