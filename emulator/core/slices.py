"""Time-bounded CPU slices without Unicorn's instruction counter.

``emu_start(count=N)`` makes Unicorn call a hook before every guest instruction, which costs
about 5x in guest speed (reference emulation-measured.md; ``hil bench`` guest_mips).
Instead a slice runs until the guest waits (WFI), a peripheral model stops it, or it has
run for a budget of wall time: one long-lived thread wakes every ``budget`` and, finding
the slice it saw at its previous wake-up still running, ends it.

Ending it takes care (Bus, "ending a slice from outside"): a stop request makes Unicorn
rewind the instruction that made the last memory access, which must not be one with side
effects.  So the watchdog first only *asks* (``request_cut``); the next MMIO load of a
register without read side effects stops the slice from inside its callback.  Only a guest
that made no MMIO access at all during a whole budget (a compute loop: its next access is
almost surely to memory, where a rewind is harmless) is stopped with ``uc.emu_stop()``
from this thread, which is what Unicorn's own ``timeout`` does.
"""

import threading


class SliceWatchdog:
    def __init__(self, uc, request_cut, mmio_accesses, budget_s: float = 0.002):
        self._uc = uc
        self._request_cut = request_cut        # () -> None: ask for a stop at a safe point
        self._mmio_accesses = mmio_accesses    # () -> int: MMIO accesses so far
        self.budget_s = budget_s
        self.generation = 0      # odd while a slice runs; +1 at its start and at its end
        self.requests = 0        # cuts asked for
        self.forced = 0          # slices stopped directly (no MMIO to stop at)
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="slice-watchdog", daemon=True)
        self._thread.start()

    # Called by the run loop around emu_start (plain attribute writes: no lock, no wake-up).
    def begin(self):
        self.generation += 1

    def end(self):
        self.generation += 1

    def close(self):
        self._closed.set()
        self._thread.join(timeout=1.0)

    def _watch(self):
        seen, asked, accesses = -1, -1, 0
        while not self._closed.wait(self.budget_s):
            gen = self.generation
            now_accesses = self._mmio_accesses()
            if gen & 1 and gen == seen:
                if asked != gen:
                    asked = gen
                    self.requests += 1
                    self._request_cut()
                elif now_accesses == accesses:
                    # asked a budget ago, and not one MMIO access since: a compute loop
                    self.forced += 1
                    try:
                        self._uc.emu_stop()
                    except Exception:  # noqa: BLE001 - engine closing
                        return
            seen, accesses = gen, now_accesses
