"""Link impairment as the bench describes it: what a lossy, slow or flapping wire does to a
board's Ethernet, per direction, seeded so a failing run can be repeated exactly.

This module only parses and checks what a user asked for ("10%", "5 ms", "1 Mbit/s") and
turns it into the plain numbers a driver applies.  The emulated board applies it in the
emulator's link (no kernel ``sch_netem`` is needed); a real board's lab NIC would use
``tc netem`` (a later driver).  Everything is checked before anything is applied, so a bad
option fails the keyword before the test acts.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import asdict, dataclass

DIRECTIONS = ("both", "to_board", "from_board")


class ImpairmentError(ValueError):
    """An impairment that cannot be applied; the message names the option."""


def _probability(name: str, value) -> float:
    text = str(value).strip()
    try:
        p = float(text[:-1]) / 100.0 if text.endswith("%") else float(text)
    except ValueError:
        raise ImpairmentError(f"{name}={value!r}: expected a probability such as 10% or 0.1") from None
    if not 0.0 <= p <= 1.0:
        raise ImpairmentError(f"{name}={value!r}: must be between 0% and 100%")
    return p


def _milliseconds(name: str, value) -> float:
    from robot.utils import timestr_to_secs

    try:
        ms = float(value) if isinstance(value, (int, float)) else timestr_to_secs(str(value)) * 1000
    except (ValueError, TypeError):
        raise ImpairmentError(f"{name}={value!r}: expected a time such as 5ms or 0.2 s") from None
    if ms < 0:
        raise ImpairmentError(f"{name}={value!r}: must not be negative")
    return ms


_RATE = re.compile(r"^\s*([0-9.]+)\s*([kmg]?)(bit|bps|b)?(/s)?\s*$", re.I)


def _kbps(name: str, value) -> float:
    if value in (None, "", 0, "0"):
        return 0.0
    m = _RATE.match(str(value))
    if not m:
        raise ImpairmentError(f"{name}={value!r}: expected a bit rate such as 512kbit or 10 Mbit/s")
    scale = {"": 1e-3, "k": 1.0, "m": 1e3, "g": 1e6}[m.group(2).lower()]
    kbps = float(m.group(1)) * scale
    if kbps <= 0:
        raise ImpairmentError(f"{name}={value!r}: must be above zero (0 means no limit)")
    return kbps


@dataclass(frozen=True)
class Impairment:
    """What one direction of a link does to frames (all zero: a clean wire)."""

    loss: float = 0.0
    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    reorder: float = 0.0
    duplicate: float = 0.0
    corrupt: float = 0.0
    rate_kbps: float = 0.0

    @classmethod
    def parse(cls, loss=0, delay=0, jitter=0, reorder=0, duplicate=0, corrupt=0,
              rate=None) -> "Impairment":
        imp = cls(loss=_probability("loss", loss), delay_ms=_milliseconds("delay", delay),
                  jitter_ms=_milliseconds("jitter", jitter),
                  reorder=_probability("reorder", reorder),
                  duplicate=_probability("duplicate", duplicate),
                  corrupt=_probability("corrupt", corrupt), rate_kbps=_kbps("rate", rate))
        if imp.jitter_ms > imp.delay_ms:
            raise ImpairmentError(f"jitter={jitter!r} is larger than delay={delay!r} "
                                  "(a frame cannot leave before it was sent)")
        if imp.reorder and not imp.delay_ms:
            raise ImpairmentError(f"reorder={reorder!r} needs a delay: reordered frames "
                                  "overtake delayed ones")
        return imp

    def as_options(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        parts = []
        if self.loss:
            parts.append(f"loss {self.loss:.1%}")
        if self.delay_ms:
            parts.append(f"delay {self.delay_ms:g}±{self.jitter_ms:g} ms")
        for key in ("reorder", "duplicate", "corrupt"):
            if getattr(self, key):
                parts.append(f"{key} {getattr(self, key):.1%}")
        if self.rate_kbps:
            parts.append(f"rate {self.rate_kbps:g} kbit/s")
        return ", ".join(parts) or "clean"


def parse_direction(value: str) -> str:
    d = str(value).strip().lower().replace("-", "_").replace(" ", "_")
    if d not in DIRECTIONS:
        raise ImpairmentError(f"direction={value!r}: expected one of {', '.join(DIRECTIONS)}")
    return d


def seed_for(label: str, base: int | str | None = None) -> int:
    """A seed that is the same every time ``label`` (a test's full name) runs, mixed with
    ``base`` (``HIL_SEED``) so a whole run can be re-rolled at once."""
    return zlib.crc32(f"{base or 0}:{label}".encode()) & 0x7FFFFFFF


def parse_seed(value) -> int:
    try:
        seed = int(str(value), 0)
    except ValueError:
        raise ImpairmentError(f"seed={value!r}: expected an integer") from None
    if seed < 0:
        raise ImpairmentError(f"seed={value!r}: must not be negative")
    return seed


@dataclass(frozen=True)
class Flap:
    """A link that goes down for ``down_ms`` and up for ``up_ms``, ``count`` times (0: until
    cleared), in board time."""

    down_ms: float
    up_ms: float
    count: int = 0

    @classmethod
    def parse(cls, down, up, count=0) -> "Flap":
        d, u = _milliseconds("down", down), _milliseconds("up", up)
        if d <= 0 or u <= 0:
            raise ImpairmentError(f"down={down!r}, up={up!r}: both must be above zero")
        try:
            n = int(count)
        except (TypeError, ValueError):
            raise ImpairmentError(f"count={count!r}: expected a whole number") from None
        if n < 0:
            raise ImpairmentError(f"count={count!r}: must not be negative (0: until cleared)")
        return cls(d, u, n)
