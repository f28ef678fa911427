"""One place for everything a board prints: timestamped lines, a log file, and expect.

Keyword users know this from Renode (``Wait For Line On Uart``) and pytest-embedded
(``dut.expect``): waiting moves a cursor, so each line satisfies one wait only.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Optional, TextIO


class ConsoleTimeout(AssertionError):
    pass


class Console:
    def __init__(self, name: str, logfile: Optional[Path] = None):
        self.name = name
        self.lines: list[tuple[float, str]] = []
        self._partial = ""
        self._cursor = 0
        self._cv = threading.Condition()
        self._t0 = time.monotonic()
        self._file: Optional[TextIO] = open(logfile, "a", buffering=1) if logfile else None

    def feed(self, data: bytes):
        text = self._partial + data.decode("utf-8", errors="replace")
        *complete, self._partial = re.split(r"\r?\n", text)
        if not complete:
            return
        now = time.monotonic() - self._t0
        with self._cv:
            for line in complete:
                line = line.rstrip("\r")
                self.lines.append((now, line))
                if self._file:
                    self._file.write(f"[{now:10.6f}] {line}\n")
            self._cv.notify_all()

    def mark(self) -> int:
        """Skip everything printed so far: later waits only see new lines."""
        with self._cv:
            self._cursor = len(self.lines)
            return self._cursor

    def wait_for_line(self, pattern: str, timeout: float = 5.0, regex: bool = False) -> str:
        rx = re.compile(pattern if regex else re.escape(pattern))
        deadline = time.monotonic() + timeout
        with self._cv:
            while True:
                for i in range(self._cursor, len(self.lines)):
                    if rx.search(self.lines[i][1]):
                        self._cursor = i + 1
                        return self.lines[i][1]
                left = deadline - time.monotonic()
                if left <= 0:
                    tail = "\n".join(l for _, l in self.lines[-10:]) or "(nothing printed)"
                    raise ConsoleTimeout(
                        f"{self.name}: no line matching {pattern!r} within {timeout:g} s; "
                        f"last lines:\n{tail}")
                self._cv.wait(left)

    def text(self) -> str:
        with self._cv:
            return "\n".join(l for _, l in self.lines)

    def close(self):
        if self._file:
            self._file.close()
            self._file = None
