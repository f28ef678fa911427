"""What a kind of board is, as ``firmware/boards/<board>/board.json`` says it.

Every fact the host needs about a board lives in that file: the compiler's target flags,
the linker script and entry point, the boot ROM's checksum rule, the memory regions the
size report measures, and the name the emulator gives the board (if it models it).
Adding a board is a new folder with a ``board.json``; nothing under ``hil/`` changes.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .paths import FIRMWARE

#: The board a bench target or ``hil build`` gets when it names none.
DEFAULT_BOARD = "lpc1768"
BOARDS_DIR = FIRMWARE / "boards"


class BoardSpecError(ValueError):
    """An unknown board, or a board.json that does not say what it must."""


def _number(value) -> int:
    """``"0x2007C000"``, ``"512K"``, ``"1M"`` or a plain integer."""
    if isinstance(value, int):
        return value
    text = str(value).strip().upper()
    scale = {"K": 1 << 10, "M": 1 << 20}.get(text[-1:], 1)
    return int(text[:-1] if scale > 1 else text, 0) * scale


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Region(_Strict):
    """One memory region of the part, for the size report (and the flash image)."""
    name: str
    label: str
    kind: Literal["flash", "ram"]
    origin: int
    size: int

    @field_validator("origin", "size", mode="before")
    @classmethod
    def _numbers(cls, value):
        return _number(value)

    def holds(self, addr: int) -> bool:
        return self.origin <= addr < self.origin + self.size


class Checksum(_Strict):
    """``vector-sum-zero``: vector words 0..``word`` sum to zero, the value stored in ``word``
    (the LPC17xx boot ROM's "valid user code" test, and other NXP parts')."""
    rule: Literal["vector-sum-zero"]
    word: int = Field(ge=1, le=15)


class BoardSpec(_Strict):
    name: str
    description: str = ""
    cflags: list[str]
    linker_script: str
    entry: str
    checksum: Optional[Checksum] = None
    emulator: Optional[str] = None          # the emulator's --board name; None: not modelled
    memory: list[Region]
    dir: Path = Field(exclude=True)

    @property
    def flash(self) -> Region:
        return next(r for r in self.memory if r.kind == "flash")

    def region_of(self, addr: int) -> Optional[Region]:
        return next((r for r in self.memory if r.holds(addr)), None)


def known_boards() -> list[str]:
    if not BOARDS_DIR.is_dir():
        return []
    return sorted(p.name for p in BOARDS_DIR.iterdir() if (p / "board.json").is_file())


@functools.cache
def load(name: str) -> BoardSpec:
    """The board ``name``; :class:`BoardSpecError` names the known ones when it is unknown."""
    path = BOARDS_DIR / name / "board.json"
    if not path.is_file():
        raise BoardSpecError(f"unknown board {name!r} (known: {', '.join(known_boards())}; "
                             f"a board is a folder firmware/boards/<board>/ with a board.json)")
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise BoardSpecError(f"{path}: not valid JSON: {exc}") from None
    try:
        spec = BoardSpec.model_validate({**raw, "dir": path.parent})
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise BoardSpecError(f"{path}: {where}: {err['msg']}") from None
    if not any(r.kind == "flash" for r in spec.memory):
        raise BoardSpecError(f"{path}: memory: no region of kind 'flash'")
    if spec.name != name:
        raise BoardSpecError(f"{path}: name: {spec.name!r} is not the folder's name {name!r}")
    return spec

