"""Board drivers by name: how the bench reaches a board (``driver:`` in a bench file).

A driver is a :class:`~hil.drivers.base.Board` subclass; the class is its own factory
(``cls(name, spec, image, workdir, net=..., index=..., agent=..., **options)``).  The ones
this package ships are in :data:`BUILTIN`; another package adds one without touching
the bench by declaring an entry point in the group ``lpc_netbench.drivers``::

    [project.entry-points."lpc_netbench.drivers"]
    mbed-serial = "mypackage.mbed:MbedSerialBoard"
"""

from __future__ import annotations

import functools
from importlib.metadata import entry_points

from .base import Board, BoardError, BoardState, DriverOptions
from .emulated import EmulatedBoard

ENTRY_POINT_GROUP = "lpc_netbench.drivers"

BUILTIN: dict[str, type[Board]] = {
    "emulated": EmulatedBoard,
}


@functools.cache
def available() -> dict[str, type[Board]]:
    """Every driver by name: the built-in ones, then those that entry points add."""
    found = dict(BUILTIN)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in found:
            found[ep.name] = ep.load()
    return found


def get(name: str) -> type[Board]:
    try:
        return available()[name]
    except KeyError:
        raise BoardError(f"unknown driver {name!r} (known: {', '.join(available())})") from None


__all__ = ["Board", "BoardError", "BoardState", "DriverOptions", "available", "get",
           "BUILTIN", "ENTRY_POINT_GROUP"]
