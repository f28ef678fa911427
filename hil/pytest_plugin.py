"""pytest plugin (entry point ``pytest11: hil``): the bench as fixtures.

Options (group ``hil``):
  --hil-bench FILE     bench file (default fixtures/benches/emulated.yaml, or $HIL_BENCH)
  --hil-workdir DIR    keep consoles, pcaps and emulator logs here (default: a temp dir)

Fixtures:
  hil_bench     session: the started :class:`hil.bench.Bench`
  board         the first target, started and with its network up
  udp_socket    factory: ``udp_socket()`` -> a board UDPSocket deleted after the test
  host_udp      factory: ``host_udp(port=0)`` -> a host UDP socket on the bench network

Tests that need a board are marked ``hil``; ``-m "not hil"`` runs the rest alone.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from .bench import Bench, BenchConfig

_BENCH_KEY = pytest.StashKey[Bench]()


def pytest_addoption(parser):
    group = parser.getgroup("hil", "hardware-in-the-loop bench")
    group.addoption("--hil-bench", default=os.environ.get("HIL_BENCH"),
                    help="bench file (default: fixtures/benches/emulated.yaml)")
    group.addoption("--hil-workdir", default=os.environ.get("HIL_WORKDIR"),
                    help="folder for consoles, pcaps and emulator logs")


def pytest_configure(config):
    config.addinivalue_line("markers", "hil: the test needs a board on the bench")


@pytest.fixture(scope="session")
def hil_bench(request):
    cfg = BenchConfig.load(request.config.getoption("--hil-bench"))
    workdir = request.config.getoption("--hil-workdir")
    bench = Bench(cfg, workdir=Path(workdir) if workdir else None)
    request.config.stash[_BENCH_KEY] = bench
    bench.start()
    yield bench
    bench.stop()


@pytest.fixture
def board(hil_bench, request):
    b = hil_bench.board()
    yield b
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        for kind, path in b.evidence().items():
            request.node.add_report_section("call", f"evidence {kind}", str(path))


@pytest.fixture
def udp_socket(board):
    from .agent.udp import CallbackMode, UDPSocket

    made = []

    def make(callback: CallbackMode | None = CallbackMode.MEMBER):
        s = UDPSocket(board.require_ready())
        made.append(s)
        if callback is not None:
            s.set_on_event(callback)
        return s

    yield make
    for s in made:
        try:
            s.delete()
        except Exception:  # noqa: BLE001 - the board may have been reset by the test
            pass


@pytest.fixture
def host_udp(hil_bench):
    made = []

    def make(port: int = 0, timeout: float = 2.0) -> socket.socket:
        s = hil_bench.net.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((hil_bench.host_ip, port))
        s.settimeout(timeout)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    if rep.when == "call":
        item.rep_call = rep
    return rep
