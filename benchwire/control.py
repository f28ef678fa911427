"""The emulator's control channel, defined once for both of its sides.

The emulator (``emulator/core/commands.py``) builds its command table from
:data:`COMMANDS` and refuses, from this definition, an unknown command or a bad argument;
``hil``'s ``ControlClient`` checks each request against it before sending.  Neither side
imports the other: this module imports nothing of either.

Wire format: a unix stream socket, one JSON object per line each way.  A request is
``{"cmd": NAME, ARG: VALUE, ...}``; a reply is ``{"ok": true, FIELD: VALUE, ...}`` with
the command's reply fields, or ``{"ok": false, "error": "one line"}``.  An argument not
wanted is left out (``null`` is no value of any type).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Argument types: what JSON value each accepts (``bool`` is never a number here).
TYPES = ("bool", "int", "number", "str", "hex")


class ControlRequestError(ValueError):
    """A request the definition refuses; the message is one line naming the argument."""


@dataclass(frozen=True)
class Arg:
    name: str
    type: str                      # one of TYPES
    doc: str
    required: bool = False
    choices: tuple = ()            # allowed values (str)
    minimum: float | None = None   # numbers: inclusive lower bound
    alone: bool = False            # must be true and be the request's only argument


@dataclass(frozen=True)
class Command:
    name: str
    doc: str
    args: tuple[Arg, ...] = ()
    reply: tuple[str, ...] = ()          # fields of every successful reply (besides "ok")
    optional_reply: tuple[str, ...] = ()  # fields some replies carry
    example: dict | None = None          # a valid request's arguments (docs and tests)

    def arg(self, name: str) -> Arg | None:
        for a in self.args:
            if a.name == name:
                return a
        return None


def _n(name, doc, **kw):
    return Arg(name, "number", doc, minimum=kw.pop("minimum", 0), **kw)


_IMPAIR_ARGS = (
    Arg("direction", "str", "which way: to_board, from_board or both (default)",
        choices=("to_board", "from_board", "both")),
    _n("loss", "probability a frame is dropped, 0..1"),
    _n("delay_ms", "fixed delay, board milliseconds"),
    _n("jitter_ms", "random extra delay up to this (<= delay_ms)"),
    _n("reorder", "probability a frame skips the delay and overtakes delayed ones, 0..1"),
    _n("duplicate", "probability a frame is sent twice, 0..1"),
    _n("corrupt", "probability one bit past the Ethernet header is flipped, 0..1"),
    _n("rate_kbps", "bandwidth limit, kbit/s (0: none)"),
    Arg("seed", "int", "seed of the random choices"),
    Arg("clear", "bool", "back to a clean link; the reply has the counters", alone=True),
)

COMMANDS: dict[str, Command] = {c.name: c for c in (
    Command("status", "the machine's state and counters",
            reply=("state", "board_time_us", "cpu_busy_us", "slices", "slice_cuts", "leds",
                   "eth", "uart", "pc", "cclk_hz", "exception", "last_fault", "impair",
                   "pcap"),
            optional_reply=("link", "fault"), example={}),
    Command("leds", "LED1..LED4, true = lit", reply=("leds",), example={}),
    Command("reset", "full reset: the image read again, board time from 0", example={}),
    Command("stop", "end the emulator (exit status 0)", example={}),
    Command("idle", "what the machine does while the guest waits in WFI",
            args=(Arg("mode", "str", "realtime: sleep; skip: jump board time to the next "
                      "timer", required=True, choices=("realtime", "skip")),
                  _n("grace_us", "skip mode: wall time to wait for a host answer first")),
            reply=("mode",), example={"mode": "realtime"}),
    Command("pause", "hold the CPU and board time", example={}),
    Command("resume", "let the CPU and board time run", example={}),
    Command("inject", "deliver one frame to the MAC exactly as given (runts, bad FCS)",
            args=(Arg("frame", "hex", "the frame, without FCS", required=True),
                  Arg("fcs", "str", "good (default) or bad", choices=("good", "bad"))),
            reply=("outcome",), example={"frame": "ffffffffffff02005e10203088b5" + "00" * 46}),
    Command("impair", "link impairment in one or both directions (replaces its settings)",
            args=_IMPAIR_ARGS, reply=("impair",), example={"direction": "both", "loss": 0}),
    Command("flap", "take the link down and up on a schedule",
            args=(_n("down_ms", "milliseconds down"), _n("up_ms", "milliseconds up"),
                  Arg("count", "int", "cycles (0 or left out: until stopped)"),
                  Arg("stop", "bool", "stop flapping, link up", alone=True)),
            reply=("impair",), example={"down_ms": 50, "up_ms": 50, "count": 1}),
    Command("link", "the PHY's link state", args=(
            Arg("up", "bool", "true: link up", required=True),), example={"up": True}),
)}


def _check_type(cmd: str, arg: Arg, value) -> None:
    t = arg.type
    bad = (t == "bool" and not isinstance(value, bool)
           or t == "int" and (isinstance(value, bool) or not isinstance(value, int))
           or t == "number" and (isinstance(value, bool) or not isinstance(value, (int, float))
                                 or not math.isfinite(value))
           or t in ("str", "hex") and not isinstance(value, str))
    if bad:
        raise ControlRequestError(f"{cmd}: {arg.name!r} must be {_TYPE_WORDS[t]}, "
                                  f"not {value!r}")
    if t == "hex":
        try:
            bytes.fromhex(value)
        except ValueError:
            raise ControlRequestError(f"{cmd}: {arg.name!r} must be hexadecimal bytes") from None
    if arg.choices and value not in arg.choices:
        raise ControlRequestError(f"{cmd}: {arg.name!r} must be "
                                  f"{' or '.join(map(repr, arg.choices))}, not {value!r}")
    if arg.minimum is not None and value < arg.minimum:
        raise ControlRequestError(f"{cmd}: {arg.name!r} must be >= {arg.minimum:g}, "
                                  f"not {value!r}")


_TYPE_WORDS = {"bool": "true or false", "int": "an integer", "number": "a finite number",
               "str": "a string", "hex": "a string of hexadecimal bytes"}


def check_request(req: dict) -> tuple[Command, dict]:
    """``{"cmd": ..., args...}`` -> (its :class:`Command`, its arguments).
    Raises :class:`ControlRequestError` for an unknown command, an unknown, missing or
    mistyped argument, or an ``alone`` argument in company."""
    name = req.get("cmd")
    if not isinstance(name, str):
        raise ControlRequestError('a request must be an object with a string "cmd"')
    cmd = COMMANDS.get(name)
    if cmd is None:
        raise ControlRequestError(f"unknown cmd {name!r} (known: {', '.join(COMMANDS)})")
    args = {k: v for k, v in req.items() if k != "cmd"}
    for key, value in args.items():
        arg = cmd.arg(key)
        if arg is None:
            known = ", ".join(a.name for a in cmd.args) or "none"
            raise ControlRequestError(f"{name}: unknown argument {key!r} (known: {known})")
        _check_type(name, arg, value)
        if arg.alone and (value is not True or len(args) != 1):
            raise ControlRequestError(f"{name}: {key!r} must be true and come alone")
    for arg in cmd.args:
        if arg.required and arg.name not in args:
            raise ControlRequestError(f"{name} needs {arg.name!r} ({arg.doc})")
    return cmd, args


def check_reply(cmd: Command, reply: dict) -> list[str]:
    """What is wrong with a successful *reply* to *cmd*: missing or undeclared fields."""
    declared = {"ok", *cmd.reply, *cmd.optional_reply}
    problems = [f"missing {f!r}" for f in cmd.reply if f not in reply]
    problems += [f"undeclared {f!r}" for f in reply if f not in declared]
    return problems
