"""``hil bench``: the speed figures of the bench, measured end to end on an emulated board.

Each figure goes through the real path a test uses (process start, serial link, agent,
network stack, bench network).  Medians, not means: one slow outlier (a page fault, a
scheduler hiccup) should not decide a figure.
"""

from __future__ import annotations

import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

from .agent.udp import UDPSocket
from .bench import Bench, BenchConfig

# Targets from the issues (key: (bound, "min"|"max", unit)).
TARGETS = {
    "guest_mips": (100.0, "min", "M instr/s"),
    "boot_s": (0.5, "max", "s"),
    "rpc_rtt_us_p50": (1000.0, "max", "us"),
    "udp_rtt_us_p50": (2000.0, "max", "us"),
}

SPIN_INSTRUCTIONS_PER_ITERATION = 4  # see SPIN in hil/protocol/definition.py


def _say(progress: bool, msg: str):
    if progress:
        print(msg, file=sys.stderr, flush=True)


def measure_boot(bench: Bench, runs: int = 3) -> float:
    times = []
    name = next(iter(bench.config.targets))
    for _ in range(runs):
        board = bench.boards.pop(name, None)
        if board:
            board.stop()
        times.append(bench.board(name).boot_s)
    return statistics.median(times)


def measure_mips(agent, iterations: int = 25_000_000) -> float:
    agent.request("SPIN", iterations=1000)  # warm up the translation cache
    best = 0.0
    for _ in range(3):
        t0 = time.perf_counter()
        agent.request("SPIN", iterations=iterations, timeout=60)
        dt = time.perf_counter() - t0
        best = max(best, iterations * SPIN_INSTRUCTIONS_PER_ITERATION / dt / 1e6)
    return best


def measure_rpc(agent, n: int = 300) -> float:
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        agent.request("ECHO", data=b"0123456789abcdef")
        samples.append((time.perf_counter() - t0) * 1e6)
    return statistics.median(samples)


def measure_udp(bench: Bench, board, n: int = 300, port: int = 7) -> float:
    sock = UDPSocket(board.require_ready())
    try:
        if sock.bind(port) != 0:
            raise RuntimeError(f"cannot bind UDP port {port} on the board")
        sock.set_echo(True)
        host = bench.net.socket(socket.AF_INET, socket.SOCK_DGRAM)
        host.bind((bench.host_ip, 0))
        host.settimeout(1.0)
        payload = b"x" * 64
        host.sendto(payload, (board.ip, port))  # ARP + first-packet costs
        host.recvfrom(2048)
        samples = []
        for i in range(n):
            msg = payload + i.to_bytes(4, "little")
            t0 = time.perf_counter()
            host.sendto(msg, (board.ip, port))
            data, _ = host.recvfrom(2048)
            samples.append((time.perf_counter() - t0) * 1e6)
            if data != msg:
                raise RuntimeError("the board echoed different data")
        host.close()
        return statistics.median(samples)
    finally:
        sock.delete()


def run_benchmarks(progress: bool = True) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="hil-benchmark-"))
    figures: dict = {}
    with Bench(BenchConfig.load(), workdir=workdir) as bench:
        _say(progress, "measuring boot time ...")
        figures["boot_s"] = round(measure_boot(bench), 3)
        board = bench.board()
        agent = board.require_ready()
        _say(progress, "measuring guest speed ...")
        figures["guest_mips"] = round(measure_mips(agent), 1)
        _say(progress, "measuring agent round trips ...")
        figures["rpc_rtt_us_p50"] = round(measure_rpc(agent), 1)
        _say(progress, "measuring UDP echo round trips ...")
        figures["udp_rtt_us_p50"] = round(measure_udp(bench, board), 1)
    if progress:
        print(format_table(figures))
    return figures


def format_table(figures: dict) -> str:
    rows = [f"{'figure':<18} {'measured':>12} {'target':>14}  ok"]
    for key, value in figures.items():
        bound, kind, unit = TARGETS.get(key, (None, None, ""))
        if bound is None:
            rows.append(f"{key:<18} {value:>12}")
            continue
        ok = value >= bound if kind == "min" else value <= bound
        sign = ">=" if kind == "min" else "<="
        rows.append(f"{key:<18} {value:>12} {sign + ' ' + str(bound) + ' ' + unit:>14}  "
                    f"{'yes' if ok else 'NO'}")
    return "\n".join(rows)
