"""Figures of the bench network, measured on the real kernel (run with -s to see them)."""

import os
import socket
import statistics
import time

from hil.net import BenchNetwork
from .netframes import arp, mac, parse_arp

BOARD_MAC = mac("02:00:00:00:00:10")


def _us(x):
    return f"{x * 1e6:.0f} us"


def test_measure(tmp_path, capsys):
    starts, stops = [], []
    for i in range(10):
        t0 = time.perf_counter()
        net = BenchNetwork(tmp_path / f"s{i}").start()
        starts.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        net.stop()
        stops.append(time.perf_counter() - t0)

    with BenchNetwork(tmp_path / "m") as net:
        board = socket.socket(fileno=net.add_board_link("board0"))
        req = arp(1, BOARD_MAC, net.board_ip(0), bytes(6), net.host_ip)
        arp_rtts = []
        for _ in range(500):
            t0 = time.perf_counter()
            board.send(req)
            while True:
                a = parse_arp(board.recv(2000))
                if a and a["op"] == 2:
                    break
            arp_rtts.append(time.perf_counter() - t0)
        board.close()

        passed, local = [], []
        for _ in range(300):
            t0 = time.perf_counter()
            s = net.socket(socket.AF_INET, socket.SOCK_DGRAM)
            passed.append(time.perf_counter() - t0)
            s.close()
            t0 = time.perf_counter()
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            local.append(time.perf_counter() - t0)
            s.close()
        links = []
        for i in range(20):
            t0 = time.perf_counter()
            os.close(net.add_board_link(f"l{i}"))
            links.append(time.perf_counter() - t0)
        pings = [r for r in net.ping(net.host_ip, count=50) if r is not None]

    med = statistics.median
    rows = [
        ("namespace start (median of 10)", _us(med(starts)) + f" (max {_us(max(starts))})"),
        ("namespace stop (median of 10)", _us(med(stops))),
        ("ARP round trip via veth + AF_PACKET (median of 500)", _us(med(arp_rtts))),
        ("socket via fd passing (median of 300)", _us(med(passed))),
        ("plain local socket() (median of 300)", _us(med(local))),
        ("add_board_link (median of 20)", _us(med(links))),
        ("ping host address (median of 50)", _us(med(pings))),
    ]
    with capsys.disabled():
        print()
        for k, v in rows:
            print(f"  {k:55s} {v}")
    assert med(starts) < 0.5  # target 150 ms; loose bound against slow CI machines
    assert med(arp_rtts) < 0.01 and med(passed) < 0.01 and len(pings) == 50
