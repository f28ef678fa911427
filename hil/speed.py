"""``hil bench``: the speed figures of the bench, measured end to end on an emulated board.

Each figure goes through the real path a test uses (process start, serial link, agent,
network stack, bench network).  Medians, not means: one slow outlier (a page fault, a
scheduler hiccup) should not decide a figure.
"""

from __future__ import annotations

import os
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
    "dhcp_ready_s": (0.3, "max", "s"),
    "dns_resolve_ms_p50": (2.0, "max", "ms"),
    "tcp_echo_MBps_default": (1.0, "min", "MB/s"),
    "tcp_echo_MBps_large": (10.0, "min", "MB/s"),
    "tcp_connect_echo_ms_p50": (5.0, "max", "ms"),
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


def measure_dhcp(bench: Bench, runs: int = 3) -> float:
    """Emulator process start to setup() returning ETH_OK in DHCP mode (server answers at
    once; idle board time skipped, as nothing on the host side is waiting)."""
    from .peers.dhcp import DhcpServer

    times = []
    with DhcpServer(bench.net, pool=("192.0.2.160", "192.0.2.170")):
        for i in range(runs):
            name = f"dhcp{i}"
            t0 = time.perf_counter()
            board = bench.add_board(name, "agent", agent=True, idle="skip")
            agent = board.require_ready()
            agent.request("MAC_SET", mac=f"02:00:5e:00:01:{i:02x}")
            reply = agent.request("NET_DHCP", timeout=30, timeout_ms=15000, hostname="")
            dt = time.perf_counter() - t0
            bench.remove_board(name)
            if reply["result"] != 0:
                raise RuntimeError(f"DHCP setup returned {reply['result']}")
            times.append(dt)
    return statistics.median(times)


def measure_dns(bench: Bench, board, n: int = 50) -> float:
    from .agent.dns import DNSRequest
    from .peers.dns import DnsServer

    samples = []
    with DnsServer(bench.net) as dns:
        req = DNSRequest(board.require_ready())
        try:
            for i in range(n):
                name = f"host{i}.bench.test"  # a new name each time: no cache hit
                dns.add_a(name, "192.0.2.77")
                t0 = time.perf_counter()
                req.resolve(name)
                r = req.wait_reply(5.0)
                samples.append((time.perf_counter() - t0) * 1e3)
                req.close()
                if r.reply != 3:
                    raise RuntimeError(f"resolve of {name} gave {r.name}")
        finally:
            req.delete()
    return statistics.median(samples)


def _echo_listener(board, port: int):
    from .agent.tcp import StreamMode, TCPSocket

    sock = TCPSocket(board.require_ready())
    if sock.bind(port) != 0 or sock.listen() != 0:
        sock.delete()
        raise RuntimeError(f"cannot listen on TCP port {port} on the board")
    sock.auto_accept(True, StreamMode.ECHO)
    return sock


def measure_tcp_echo(bench: Bench, board, size: int = 1 << 20, port: int = 7001,
                     runs: int = 3) -> float:
    """Host -> board -> host bulk echo through one connection, MB/s of payload: the median
    of ``runs`` transfers of ``size`` bytes (each checked with SHA-256), after a 256 KiB
    warm-up on the same connection that is not counted (the emulator translating the code
    path for the first time, slow start)."""
    import os

    from .agent.tcp import echo_transfer
    from .peers.tcp import net_connect

    listener = _echo_listener(board, port)
    try:
        conn = net_connect(bench.net, board.ip, port, 5.0)
        try:
            echo_transfer(conn, os.urandom(256 * 1024))
            return statistics.median(size / echo_transfer(conn, os.urandom(size)) / 1e6
                                     for _ in range(runs))
        finally:
            conn.close()
    finally:
        listener.delete()


LOSSY = dict(loss="10%", delay="5ms", jitter="2ms", reorder="25%", duplicate="2%")


def measure_tcp_echo_lossy(bench: Bench, board, size: int = 1 << 20, port: int = 7003,
                           runs: int = 3, seed: int = 1) -> float:
    """`measure_tcp_echo` with both directions of the board's link at 10 % loss, 25 %
    reordering, 2 % duplication and 5±2 ms delay (``LOSSY``, seeded): it must finish.
    Measured on the ``large`` profile: the default profile's four-segment window and 1 s
    minimum RTO make such a link a few kB/s, minutes per MiB."""
    from .impairment import Impairment

    board.impair_link("both", Impairment.parse(**LOSSY), seed)
    try:
        return measure_tcp_echo(bench, board, size, port, runs)
    finally:
        board.clear_link_impairment()


def measure_echo_server_halfclose(bench: Bench, size: int = 10 << 20) -> float:
    """Seconds to echo ``size`` bytes through the EchoServer example image with a client
    that half-closes at the end of its input (socat, ncat), byte-exact (SHA-256)."""
    import os

    from .agent.tcp import echo_transfer
    from .peers.tcp import net_connect

    board = bench.add_board("bench-echo", "echo_server")
    try:
        board.console.wait_for_line("Entering while loop", 10.0)
        conn = net_connect(bench.net, "192.0.2.20", 7, 5.0)
        try:
            return echo_transfer(conn, os.urandom(size), timeout=300.0, half_close=True)
        finally:
            conn.close()
    finally:
        bench.remove_board("bench-echo")


def measure_tcp_connect(bench: Bench, board, n: int = 30, port: int = 7002) -> float:
    from .peers.tcp import net_connect

    listener = _echo_listener(board, port)
    samples = []
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            conn = net_connect(bench.net, board.ip, port, 5.0)
            conn.sendall(b"x")
            if conn.recv(1) != b"x":
                raise RuntimeError("no echo of the first byte")
            samples.append((time.perf_counter() - t0) * 1e3)
            conn.close()
            time.sleep(0.01)
    finally:
        listener.delete()
    return statistics.median(samples)


def measure_suites(config: BenchConfig) -> tuple[float, int]:
    """The whole Robot run on the bench, as `hil run` does it."""
    import robot
    from robot.api import ExecutionResult

    from .paths import SUITES

    out = Path(tempfile.mkdtemp(prefix="hil-bench-suites-"))
    old = os.environ.get("HIL_BENCH")
    if config.path:
        os.environ["HIL_BENCH"] = str(Path(config.path).resolve())
    t0 = time.perf_counter()
    try:
        robot.run(str(SUITES), outputdir=str(out), output="output.xml", log="NONE",
                  report="NONE", console="none")
    finally:
        if old is None:
            os.environ.pop("HIL_BENCH", None)
        else:
            os.environ["HIL_BENCH"] = old
    wall = time.perf_counter() - t0
    result = ExecutionResult(str(out / "output.xml"))
    return wall, result.statistics.total.total


def _measure(figures: dict, key: str, progress: bool, fn, *args, digits: int = 1):
    """One figure; a figure that cannot be measured is reported, not faked."""
    _say(progress, f"measuring {key} ...")
    try:
        figures[key] = round(fn(*args), digits)
    except Exception as exc:  # noqa: BLE001 - keep measuring the rest
        figures[key] = None
        figures.setdefault("errors", {})[key] = str(exc)


def run_benchmarks(config: BenchConfig | None = None, progress: bool = True,
                   suites: bool = True) -> dict:
    """Every figure, measured on the bench ``config`` (default: the emulated bench)."""
    config = config or BenchConfig.load()
    workdir = Path(tempfile.mkdtemp(prefix="hil-speed-"))
    figures: dict = {}
    with Bench(config, workdir=workdir) as bench:
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
        _measure(figures, "dns_resolve_ms_p50", progress, measure_dns, bench, board, digits=3)
        _measure(figures, "tcp_connect_echo_ms_p50", progress, measure_tcp_connect, bench, board,
                 digits=3)
        _measure(figures, "tcp_echo_MBps_default", progress, measure_tcp_echo, bench, board,
                 digits=2)
        _measure(figures, "dhcp_ready_s", progress, measure_dhcp, bench, digits=3)
        _measure(figures, "tcp_echo_10MiB_halfclose_s", progress, measure_echo_server_halfclose,
                 bench, digits=2)
    with Bench(config.with_profile("large"), workdir=workdir / "large") as bench:
        _measure(figures, "tcp_echo_MBps_large", progress,
                 lambda: measure_tcp_echo(bench, bench.board()), digits=2)
        _measure(figures, "tcp_echo_MBps_lossy", progress,
                 lambda: measure_tcp_echo_lossy(bench, bench.board()), digits=3)
    if suites:
        _say(progress, "running the Robot suites (hil run) ...")
        try:
            wall, tests = measure_suites(config)
            figures["suite_wall_s"], figures["suite_tests"] = round(wall, 1), tests
        except Exception as exc:  # noqa: BLE001
            figures["suite_wall_s"] = figures["suite_tests"] = None
            figures.setdefault("errors", {})["suite"] = str(exc)
    if progress:
        print(format_table(figures))
    return figures


def format_table(figures: dict) -> str:
    rows = [f"{'figure':<24} {'measured':>10}   {'target':<20} ok"]
    for key, value in figures.items():
        if key == "errors":
            continue
        bound, kind, unit = TARGETS.get(key, (None, None, ""))
        shown = "n/a" if value is None else value
        if bound is None:
            rows.append(f"{key:<24} {shown:>10}")
            continue
        sign = ">=" if kind == "min" else "<="
        ok = "-" if value is None else (
            "yes" if (value >= bound if kind == "min" else value <= bound) else "NO")
        rows.append(f"{key:<24} {shown:>10}   {sign + ' ' + str(bound) + ' ' + unit:<20} {ok}")
    for key, err in figures.get("errors", {}).items():
        rows.append(f"  {key}: not measured: {err}")
    return "\n".join(rows)
