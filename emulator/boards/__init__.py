"""Board descriptions.  One folder per board; ``get_board(name)`` returns its module.

A board module provides ``MEMORY_MAP`` (the single address table), ``PERIPHERALS``
(class key -> peripheral class) and ``BOARD`` (LEDs, console UART, Ethernet MAC names).
"""

import importlib

BOARDS = ("lpc1768",)


def get_board(name):
    """Return the board module for *name* (ValueError if unknown)."""
    if name not in BOARDS:
        raise ValueError(f"unknown board {name!r} (known: {', '.join(BOARDS)})")
    return importlib.import_module(f"{__name__}.{name}")
