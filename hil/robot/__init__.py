"""Robot Framework keywords for the bench: ``Library    hil.robot.NetBench``.

The same suites run against an emulated board or (later) a real one: the bench file
(``bench=`` argument or ``HIL_BENCH`` environment variable) decides what stands behind
the keywords.  Keywords are grouped in small components (board, network, UDP), gathered
by robotframework-pythonlibcore.  Sockets a test opens on the board are deleted when the
test ends, so tests do not leak ports into each other.
"""

from __future__ import annotations

import os
from pathlib import Path

from robot.api import logger
from robotlibcore import DynamicCore

from ..bench import Bench, BenchConfig
from .board import BoardKeywords
from .capture import CaptureKeywords
from .dhcp import DhcpKeywords
from .dns import DnsKeywords
from .link import LinkKeywords
from .multicast import MulticastKeywords
from .network import NetworkKeywords
from .services import ServiceKeywords
from .tcp import TcpKeywords
from .udp import UdpKeywords

__version__ = "0.1.0"


class NetBench(DynamicCore):
    """Drive mbed LPC1768 boards running the NetServices test agent, emulated or real.

    = Getting a board =

    The first keyword that needs a board starts the bench described by the bench file:
    a private network (a user + network namespace, nothing reaches the host's network),
    the board on it with its static address, and whatever peers the tests start.  The
    default bench is ``fixtures/benches/emulated.yaml`` (one emulated board, 192.0.2.10;
    the host side is 192.0.2.1).

    | ***** Settings *****
    | Library    hil.robot.NetBench
    |
    | ***** Test Cases *****
    | Board answers ping
    |     Ping Board    count=3

    = Results =

    Keywords that wrap a NetServices call return that call's result unchanged (for
    example ``-65531`` for ``UDPSOCKET_INUSE``); `Result Should Be` compares a result
    with a contract name so failures read well.

    = Evidence =

    Every board keeps a console log with timestamps and, when emulated, a pcap of its
    Ethernet link; their paths are logged when a test fails.
    """

    ROBOT_LIBRARY_SCOPE = "GLOBAL"
    ROBOT_LIBRARY_VERSION = __version__
    ROBOT_LISTENER_API_VERSION = 3

    def __init__(self, bench: str | None = None, workdir: str | None = None):
        """``bench``: the bench file (YAML) describing the boards and their network; default
        the ``HIL_BENCH`` environment variable, else ``fixtures/benches/emulated.yaml``.

        ``workdir``: the folder for the boards' evidence (console logs, emulator logs,
        pcaps); default the ``HIL_WORKDIR`` environment variable (``hil run`` sets it to
        ``<output dir>/bench``), else a new folder under /tmp, removed when every test
        passed and kept (its path printed) when one failed.

        | Library    hil.robot.NetBench    bench=fixtures/benches/emulated.yaml
        """
        self.ROBOT_LIBRARY_LISTENER = self
        self._bench_file = bench or os.environ.get("HIL_BENCH")
        self._workdir = workdir or os.environ.get("HIL_WORKDIR")
        self._bench: Bench | None = None
        self._failed = False  # a test failed: keep a work folder the bench made itself
        self.cleanups: list = []  # callables run at the end of each test
        super().__init__([BoardKeywords(self), NetworkKeywords(self), UdpKeywords(self),
                          ServiceKeywords(self), DnsKeywords(self), DhcpKeywords(self),
                          CaptureKeywords(self), TcpKeywords(self), MulticastKeywords(self),
                          LinkKeywords(self)])

    # -- shared state for the components ---------------------------------------------------

    @property
    def bench(self) -> Bench:
        if self._bench is None:
            cfg = BenchConfig.load(self._bench_file)
            workdir = Path(self._workdir) if self._workdir else None
            self._bench = Bench(cfg, workdir=workdir)
            logger.info(f"Bench workdir: {self._bench.workdir}")
            self._bench.start()
        return self._bench

    def own_peer(self, peer, label: str, lines=None):
        """Stop ``peer`` when the test ends and put what it saw in the test's log: the lines
        ``lines()`` returns, or by default one line per exchange of the peer's log."""
        def stop():
            peer.stop()
            for line in (lines() if lines else
                         (f"{e.direction} {e.peer}: {e.data[:64]!r} {e.note}" for e in peer.log)):
                logger.info(f"{label} {line}")
        self.cleanups.append(stop)
        return peer

    # -- listener --------------------------------------------------------------------------

    def _end_test(self, data, result):
        errors = []
        while self.cleanups:
            fn = self.cleanups.pop()
            try:
                fn()
            except Exception as exc:  # noqa: BLE001 - report, keep cleaning
                errors.append(str(exc))
        if errors:
            logger.warn("Cleanup after the test: " + "; ".join(errors))
        if not result.passed:
            self._failed = True
        if not result.passed and self._bench is not None:
            for board in self._bench.boards.values():
                for kind, path in board.evidence().items():
                    if Path(path).exists():
                        logger.info(f"Evidence ({board.name} {kind}): {path}")

    def _close(self):
        if self._bench is not None:
            self._bench.stop(failed=self._failed)
            self._bench = None
