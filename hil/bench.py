"""A bench: the private network, its boards and its peers, described by one YAML file.

``Bench`` is what the Robot library, the pytest plugin and the ``hil`` commands share:
start it, get boards by name, stop it.  Boards are brought to a known state on start
(agent answering, static address configured), so a test begins at "net up".
"""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
from pathlib import Path

from . import board_spec, drivers
from .bench_file import DEFAULT_BENCH, BenchConfig, BenchConfigError, TargetConfig
from .build import Build
from .drivers import Board, BoardError
from .paths import ROOT

log = logging.getLogger(__name__)

__all__ = ["Bench", "BenchConfig", "BenchConfigError", "TargetConfig", "DEFAULT_BENCH",
           "build_images"]


def image_path(t: TargetConfig) -> Path:
    """A target's image: a name is built on demand (incrementally) for the target's board
    and profile; a path is used as it is."""
    p = Path(t.image)
    if p.suffix in (".elf", ".bin") or "/" in t.image:
        return p if p.is_absolute() else ROOT / p
    return Build(board=t.board, profile=t.profile, log=log.info).build(t.image).elf


def build_images(config: BenchConfig) -> None:
    """Build every image the bench's targets name, before any of them starts."""
    for t in config.targets.values():
        image_path(t)


class Bench:
    def __init__(self, config: BenchConfig | None = None, workdir: Path | str | None = None,
                 keep_workdir: bool | None = None):
        self.config = config or BenchConfig.load()
        self._own_workdir = workdir is None
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="hil-bench-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        # A work folder the bench made itself (under /tmp) is removed after a passing run
        # and kept, and named on stderr, after a failing one; True/False: always keep/remove.
        self.keep_workdir = keep_workdir
        self.net = None
        self.boards: dict[str, Board] = {}
        self._start_errors: dict[str, str] = {}   # target -> why it did not start
        self.peers: list = []

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> "Bench":
        from .net import BenchNetwork  # imported late: only a running bench needs namespaces

        if self.net is None:
            self.net = BenchNetwork(self.workdir / "net", subnet=self.config.subnet,
                                    mtu=self.config.mtu)
            self.net.start()
        return self

    def stop(self, failed: bool = False):
        for peer in self.peers:
            try:
                peer.stop()
            except Exception as exc:  # noqa: BLE001 - keep stopping the rest
                log.warning("stopping peer %s: %s", peer, exc)
        self.peers.clear()
        for board in self.boards.values():
            board.stop()
        self.boards.clear()
        self._start_errors.clear()
        if self.net is not None:
            self.net.stop()
            self.net = None
        if self._own_workdir and self.workdir.exists():
            keep = failed if self.keep_workdir is None else self.keep_workdir
            if not keep:
                shutil.rmtree(self.workdir, ignore_errors=True)
            elif failed:
                print(f"hil: the bench's work folder is kept: {self.workdir}", file=sys.stderr)

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, *exc):
        self.stop(failed=exc_type is not None)

    @property
    def host_ip(self) -> str:
        return str(self.config.network.host_ip)

    @property
    def netmask(self) -> str:
        return str(self.config.network.subnet.netmask)

    # -- boards ----------------------------------------------------------------------------

    def board(self, name: str | None = None) -> Board:
        """The started board ``name`` (default: the first target), starting it if needed."""
        if name is None:
            if not self.config.targets:
                raise BenchConfigError("the bench has no targets")
            name = next(iter(self.config.targets))
        if name in self._start_errors:       # every later test learns the first cause
            raise BoardError(self._start_errors[name])
        if name in self.boards:
            return self.boards[name]
        if name not in self.config.targets:
            raise BenchConfigError(f"no target {name!r} on this bench "
                                   f"(targets: {', '.join(self.config.targets)})")
        t = self.config.targets[name]
        board = self._make_board(name, t.driver, t.board, image_path(t), agent=True,
                                 index=list(self.config.targets).index(name), **t.options())
        self.boards[name] = board
        try:
            board.start()
            self.start_network(board)
        except BoardError as exc:
            self._start_errors[name] = str(exc)
            raise
        return board

    def add_board(self, name: str, image: str, profile: str = "default", agent: bool = False,
                  **options) -> Board:
        """Start one more board running ``image`` (an application image by default: no
        agent, seen through its console and the network), of the same kind and reached the
        same way as the bench's first target.  ``options`` are the driver's (e.g. ``idle``)."""
        if name in self.boards:
            raise BenchConfigError(f"a board named {name!r} is already on the bench")
        first = next(iter(self.config.targets.values()))
        t = first.model_copy(update={"name": name, "image": image, "profile": profile})
        options = drivers.get(t.driver).Options(**options).model_dump()
        board = self._make_board(name, t.driver, t.board, image_path(t), agent=agent,
                                 index=len(self.config.targets) + len(self.boards), **options)
        self.boards[name] = board
        board.start()
        return board

    def _make_board(self, name: str, driver: str, board: str, image: Path, *, agent: bool,
                    index: int, **options) -> Board:
        self.start()
        return drivers.get(driver)(name, board_spec.load(board), image, self.workdir / name,
                                   net=self.net, index=index, agent=agent, **options)

    def remove_board(self, name: str):
        board = self.boards.pop(name, None)
        if board:
            board.stop()

    def start_network(self, board: Board) -> str:
        """Bring up the network of target ``board`` with the address its bench file gives it
        (gateway and DNS: the bench host); returns the board's address."""
        t = self.config.targets[board.name]
        return board.configure_network(str(t.ip), netmask=self.netmask, gateway=self.host_ip,
                                       dns=self.host_ip, mac=t.mac)

    def add_peer(self, peer):
        peer.start()
        self.peers.append(peer)
        return peer
