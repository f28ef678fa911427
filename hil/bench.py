"""A bench: the private network, its boards and its peers, described by one YAML file.

``Bench`` is what the Robot library, the pytest plugin and the ``hil`` commands share:
start it, get boards by name, stop it.  Boards are brought to a known state on start
(agent answering, static address configured), so a test begins at "net up".
"""

from __future__ import annotations

import ipaddress
import logging
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import yaml

from .drivers.base import Board, BoardError
from .build import REPO, Build, BuildError

log = logging.getLogger(__name__)

DEFAULT_BENCH = REPO / "fixtures" / "benches" / "emulated.yaml"


class BenchConfigError(Exception):
    pass


@dataclass
class TargetConfig:
    name: str
    driver: str
    image: str
    profile: str = "default"
    ip: str = "192.0.2.10"
    mac: str = "board"
    idle: str = "realtime"


@dataclass
class BenchConfig:
    subnet: str = "192.0.2.0/24"
    mtu: int = 1500
    targets: dict[str, TargetConfig] = field(default_factory=dict)
    path: Optional[Path] = None

    @classmethod
    def load(cls, path: Path | str | None = None) -> "BenchConfig":
        path = Path(path) if path else DEFAULT_BENCH
        try:
            raw = yaml.safe_load(path.read_text())
        except OSError as exc:
            raise BenchConfigError(f"cannot read bench file {path}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise BenchConfigError(f"{path}: not valid YAML: {exc}") from None
        if not isinstance(raw, dict) or not isinstance(raw.get("targets"), dict):
            raise BenchConfigError(f"{path}: expected a mapping with a 'targets:' section")
        net = raw.get("network") or {}
        cfg = cls(subnet=str(net.get("subnet", cls.subnet)), mtu=int(net.get("mtu", cls.mtu)),
                  path=path)
        try:
            subnet = ipaddress.IPv4Network(cfg.subnet)
        except ValueError as exc:
            raise BenchConfigError(f"{path}: bad subnet: {exc}") from None
        for name, t in raw["targets"].items():
            if not isinstance(t, dict):
                raise BenchConfigError(f"{path}: target {name!r} must be a mapping")
            unknown = set(t) - set(TargetConfig.__dataclass_fields__) 
            if unknown:
                raise BenchConfigError(f"{path}: target {name!r}: unknown key(s) {sorted(unknown)}")
            tc = TargetConfig(name=name, **{k: str(v) for k, v in t.items()})
            if tc.driver != "emulated":
                raise BenchConfigError(f"{path}: target {name!r}: driver {tc.driver!r} is not "
                                       "available yet (only 'emulated')")
            if ipaddress.IPv4Address(tc.ip) not in subnet:
                raise BenchConfigError(f"{path}: target {name!r}: {tc.ip} is outside {subnet}")
            cfg.targets[name] = tc
        return cfg


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
        return str(next(ipaddress.IPv4Network(self.config.subnet).hosts()))

    @property
    def netmask(self) -> str:
        return str(ipaddress.IPv4Network(self.config.subnet).netmask)

    # -- boards ----------------------------------------------------------------------------

    def image_path(self, t: TargetConfig) -> Path:
        """An image name is built on demand (incrementally); a path is used as it is."""
        p = Path(t.image)
        if p.suffix in (".elf", ".bin") or "/" in t.image:
            return p if p.is_absolute() else REPO / p
        result = Build(board="lpc1768", profile=t.profile, log=log.info).build(t.image)
        return result.elf

    def board(self, name: str | None = None) -> Board:
        """The started board ``name`` (default: the first target), starting it if needed."""
        if name is None:
            if not self.config.targets:
                raise BenchConfigError("the bench has no targets")
            name = next(iter(self.config.targets))
        if name in self.boards:
            return self.boards[name]
        if name not in self.config.targets:
            raise BenchConfigError(f"no target {name!r} on this bench "
                                   f"(targets: {', '.join(self.config.targets)})")
        t = self.config.targets[name]
        self.start()
        from .drivers.emulated import EmulatedBoard

        index = list(self.config.targets).index(name)
        board = EmulatedBoard(name, self.image_path(t), self.workdir / name, net=self.net,
                              index=index, idle=t.idle)
        self.boards[name] = board
        board.start()
        self.configure_network(board, t)
        return board

    def add_board(self, name: str, image: str, profile: str = "default", agent: bool = False,
                  idle: str = "realtime") -> Board:
        """Start one more emulated board running ``image`` (an application image by default:
        no agent, seen through its console and the network)."""
        if name in self.boards:
            raise BenchConfigError(f"a board named {name!r} is already on the bench")
        t = TargetConfig(name=name, driver="emulated", image=image, profile=profile, idle=idle)
        self.start()
        from .drivers.emulated import EmulatedBoard

        board = EmulatedBoard(name, self.image_path(t), self.workdir / name, net=self.net,
                              idle=idle, agent=agent)
        self.boards[name] = board
        board.start()
        return board

    def remove_board(self, name: str):
        board = self.boards.pop(name, None)
        if board:
            board.stop()

    def configure_network(self, board: Board, t: TargetConfig):
        mac = "00:00:00:00:00:00" if t.mac == "board" else t.mac
        reply = board.require_ready().request(
            "NET_STATIC", ip=t.ip, netmask=self.netmask, gateway=self.host_ip,
            dns=self.host_ip, mac=mac)
        if reply["result"] != 0:
            raise BoardError(f"board {board.name}: EthernetNetIf::setup() returned {reply['result']}")
        board.ip = reply["ip"]
        board.mac = reply["mac"]

    def add_peer(self, peer):
        peer.start()
        self.peers.append(peer)
        return peer
