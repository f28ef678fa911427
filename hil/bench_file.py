"""The bench file: which boards a bench has, what each runs, how the bench reaches it.

Checked in full when it is loaded, before any board starts or test runs, by a pydantic
schema; anything wrong is one :class:`BenchConfigError` line naming the file, the target
and the key::

    fixtures/benches/x.yaml: targets.board1.ip: 192.0.2.1 is the bench host's own address

Shape (labgrid's environment files)::

    network: {subnet: 192.0.2.0/24, mtu: 1500}
    targets:
      board1:
        driver: emulated        # how the bench reaches it: a name in hil.drivers
        board: lpc1768          # what the firmware runs on: firmware/boards/<board>/board.json
        image: agent            # a name in firmware/images.json, or a path to .elf/.bin
        profile: default        # a build profile (hil.build.PROFILES)
        ip: 192.0.2.10          # inside the subnet; the subnet's first host is the bench's
        mac: 02:00:5e:00:00:10  # unicast; "board" = the board's own
        idle: realtime          # the driver's own keys (DriverOptions): emulated has `idle`
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
from pathlib import Path
from typing import Any, Literal, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator

from . import board_spec, drivers
from .build import PROFILES
from .paths import FIRMWARE, FIXTURES

DEFAULT_BENCH = FIXTURES / "benches" / "emulated.yaml"

_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


class BenchConfigError(Exception):
    """A bench file that cannot be used; the message is one line for the user."""


class Network(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subnet: ipaddress.IPv4Network = ipaddress.IPv4Network("192.0.2.0/24")
    mtu: int = Field(1500, ge=576, le=9000)

    @property
    def host_ip(self) -> ipaddress.IPv4Address:
        """The bench host's own address on the subnet: its first host."""
        return next(self.subnet.hosts())


class TargetConfig(BaseModel):
    """What every target says, whatever its driver; a driver's own keys are added from its
    ``Options`` (:func:`target_model`)."""
    model_config = ConfigDict(extra="forbid")
    name: str = ""                      # the target's key, filled in by the bench file
    driver: str
    board: str = board_spec.DEFAULT_BOARD
    image: str
    profile: str = "default"
    ip: ipaddress.IPv4Address
    mac: str = "board"

    @field_validator("board")
    @classmethod
    def _known_board(cls, value: str) -> str:
        try:
            board_spec.load(value)
        except board_spec.BoardSpecError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("image")
    @classmethod
    def _known_image(cls, value: str) -> str:
        if "/" in value or value.endswith((".elf", ".bin")) or value in _image_names():
            return value
        raise ValueError(f"unknown image {value!r} (known: {', '.join(_image_names())}; "
                         "or a path to an .elf/.bin)")

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, value: str) -> str:
        if value not in PROFILES:
            raise ValueError(f"unknown profile {value!r} (known: {', '.join(PROFILES)})")
        return value

    @field_validator("mac")
    @classmethod
    def _unicast_mac(cls, value: str) -> str:
        value = value.lower()
        if value == "board":
            return value
        if not _MAC.match(value):
            raise ValueError(f"{value!r} is not a MAC address (02:00:5e:00:00:10) or 'board'")
        if int(value[:2], 16) & 1:
            raise ValueError(f"{value} is a multicast address; a board needs a unicast one")
        if value == "00:00:00:00:00:00":
            raise ValueError("00:00:00:00:00:00 is no address; use 'board' for the board's own")
        return value

    def options(self) -> dict[str, Any]:
        """The driver's own keys, as keyword arguments for the driver."""
        return {k: getattr(self, k) for k in drivers.get(self.driver).Options.model_fields}


@functools.cache
def _image_names() -> tuple[str, ...]:
    return tuple(k for k in json.loads((FIRMWARE / "images.json").read_text())
                 if not k.startswith("_"))


@functools.cache
def target_model(driver: str) -> type[TargetConfig]:
    """The schema of a target that ``driver`` reaches: the common keys and the driver's."""
    cls = drivers.get(driver)
    return create_model(f"{cls.__name__}Target", __base__=(TargetConfig, cls.Options),
                        driver=(Literal[driver], ...))


class _Raw(BaseModel):
    model_config = ConfigDict(extra="forbid")
    network: Network = Field(default_factory=Network)
    targets: dict[str, Any] = Field(min_length=1)


class BenchConfig(BaseModel):
    """A loaded, checked bench file."""
    model_config = ConfigDict(extra="forbid")
    network: Network = Field(default_factory=Network)
    targets: dict[str, TargetConfig]
    path: Optional[Path] = None

    @property
    def subnet(self) -> str:
        return str(self.network.subnet)

    @property
    def mtu(self) -> int:
        return self.network.mtu

    @classmethod
    def load(cls, path: Path | str | None = None) -> "BenchConfig":
        """Read and check ``path`` (default: the emulated bench); :class:`BenchConfigError`
        says what is wrong in one line."""
        path = Path(path) if path else DEFAULT_BENCH
        try:
            raw = yaml.safe_load(path.read_text())
        except OSError as exc:
            raise BenchConfigError(f"cannot read bench file {path}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            first = " ".join(str(exc).split())
            raise BenchConfigError(f"{path}: not valid YAML: {first}") from None
        try:
            return cls.parse(raw, path)
        except _Problem as exc:
            raise BenchConfigError(f"{path}: {exc}") from None

    @classmethod
    def parse(cls, raw: Any, path: Optional[Path] = None) -> "BenchConfig":
        if not isinstance(raw, dict):
            raise _Problem("expected a mapping with a 'targets:' section")
        try:
            top = _Raw.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            known = Network.model_fields if err["loc"][:1] == ("network",) else _Raw.model_fields
            raise _Problem(_describe(err, known)) from None
        targets = {}
        for name, t in top.targets.items():
            if not isinstance(t, dict):
                raise _Problem(f"targets.{name}: expected a mapping of keys (driver, image, ...)")
            if "driver" not in t:
                raise _Problem(f"targets.{name}.driver: missing: say how the bench reaches "
                               f"the board ({', '.join(drivers.available())})")
            if t["driver"] not in drivers.available():
                raise _Problem(f"targets.{name}.driver: unknown driver {t['driver']!r} "
                               f"(known: {', '.join(drivers.available())})")
            model = target_model(t["driver"])
            try:
                targets[name] = model.model_validate({**t, "name": str(name)})
            except ValidationError as exc:
                err = exc.errors()[0]
                raise _Problem(_describe({**err, "loc": ("targets", name, *err["loc"])},
                                         [k for k in model.model_fields if k != "name"])) from None
        config = cls(network=top.network, targets=targets, path=path)
        config._check_addresses()
        config._check_drivers()
        return config

    def _check_addresses(self) -> None:
        subnet, host = self.network.subnet, self.network.host_ip
        ips: dict = {}
        macs: dict = {}
        for name, t in self.targets.items():
            where = f"targets.{name}.ip: {t.ip}"
            if t.ip == host:
                raise _Problem(f"{where} is the bench host's own address (the subnet's first "
                               "host); give the board another")
            if t.ip not in subnet:
                raise _Problem(f"{where} is outside the bench subnet {subnet}")
            if t.ip in (subnet.network_address, subnet.broadcast_address):
                raise _Problem(f"{where} is the subnet's "
                               f"{'network' if t.ip == subnet.network_address else 'broadcast'}"
                               " address")
            if t.ip in ips:
                raise _Problem(f"{where} is already target {ips[t.ip]}'s address")
            ips[t.ip] = name
            if t.mac != "board":
                if t.mac in macs:
                    raise _Problem(f"targets.{name}.mac: {t.mac} is already target "
                                   f"{macs[t.mac]}'s MAC")
                macs[t.mac] = name

    def _check_drivers(self) -> None:
        for name, t in self.targets.items():
            try:
                drivers.get(t.driver).check_board(board_spec.load(t.board))
            except ValueError as exc:
                raise _Problem(f"targets.{name}.board: {exc}") from None

    def with_profile(self, profile: str) -> "BenchConfig":
        """The same bench with every target built in ``profile``."""
        return self.model_copy(update={"targets": {
            n: t.model_copy(update={"profile": profile}) for n, t in self.targets.items()}})


class _Problem(Exception):
    """A check that spans keys; the text starts with the key it names."""


def _describe(err: dict, known) -> str:
    """One pydantic error as ``targets.board1.ip: what is wrong``."""
    where = ".".join(str(p) for p in err["loc"])
    kind, value = err["type"], err.get("input")
    if kind == "extra_forbidden":
        return f"{where}: unknown key (known: {', '.join(known)})"
    if kind == "missing":
        return f"{where}: missing"
    msg = err["msg"].removeprefix("Value error, ")
    if kind.startswith("ip_v4") or kind in ("int_parsing", "literal_error"):
        msg = f"{value!r}: {msg}"
    return f"{where}: {msg}"
