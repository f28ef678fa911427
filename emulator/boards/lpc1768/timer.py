"""LPC1768 TIMER0..3 (reference section 5), counting from board time.

The timer keeps a snapshot (t0, TC0, PC0) and derives the live TC/PC from the board clock:
PCLK ticks since t0 = (now - t0) * PCLK / 1e9; every PR+1 ticks TC increments.  With a
reset-on-match (MRnR) TC counts up to MRn and the following increment gives 0, so the
period is (MRn+1)*(PR+1) PCLKs.  Stop-on-match (MRnS) freezes TC at MRn and clears CEN.
Match flags in IR are set only for matches whose MRnI bit is set (reference 5.1 leaves it
open; drivers only look at flags they enabled); the IRQ line is asserted while any IR bit
is set.  Any write that changes counting (TCR, TC, PR, PC, MCR, MRn, clock tree, PCONP)
first folds the elapsed time into a new snapshot.

The timer counts only while TCR.CEN=1, TCR.CRST=0, its PCONP bit is 1 and CTCR selects
timer mode (counter mode and capture inputs are not modelled; nothing drives CAP pins).
External match outputs (EMR) are stored but drive nothing.
"""

from ...core.regs import Field, Peripheral, Reg

_NS = 1_000_000_000
_WRAP = 1 << 32


def _mcr_fields():
    out = []
    for n in range(4):
        out += [Field(f"MR{n}I", 3 * n), Field(f"MR{n}R", 3 * n + 1), Field(f"MR{n}S", 3 * n + 2)]
    return tuple(out)


_MCR_RESETS = 0b010_010_010_010          # MRnR: reset TC on match n


class Timer(Peripheral):
    REGISTERS = (
        Reg("IR", 0x00, fields=tuple(Field(f"MR{n}", n) for n in range(4))
            + (Field("CR0", 4), Field("CR1", 5))),
        Reg("TCR", 0x04, fields=(Field("CEN", 0), Field("CRST", 1))),
        Reg("TC", 0x08),
        Reg("PR", 0x0C),
        Reg("PC", 0x10),
        Reg("MCR", 0x14, fields=_mcr_fields()),
        Reg("MR0", 0x18), Reg("MR1", 0x1C), Reg("MR2", 0x20), Reg("MR3", 0x24),
        Reg("CCR", 0x28, fields=(Field("CAP0RE", 0, implemented=False),
                                 Field("CAP0FE", 1, implemented=False),
                                 Field("CAP0I", 2, implemented=False),
                                 Field("CAP1RE", 3, implemented=False),
                                 Field("CAP1FE", 4, implemented=False),
                                 Field("CAP1I", 5, implemented=False))),
        Reg("CR0", 0x2C, access="ro"),
        Reg("CR1", 0x30, access="ro"),
        Reg("EMR", 0x3C, fields=(Field("EM", 0, 4),) + tuple(
            Field(f"EMC{n}", 4 + 2 * n, 2, implemented=False) for n in range(4))),
        Reg("CTCR", 0x70, fields=(Field("MODE", 0, 2, implemented=False),
                                  Field("CINSEL", 2, 2, implemented=False))),
    )

    def reset(self):
        super().reset()
        self.t0 = 0
        self.tc0 = 0
        self.pc0 = 0
        self.last_i = 0
        self._mr = [0, 0, 0, 0]

    # -- clocking --------------------------------------------------------------------------
    def pclk(self):
        return self.ctx.clocks.pclk_hz(*self.extra["pclk"])

    def running(self):
        return ((self.r["TCR"] & 3) == 1 and (self.r["CTCR"] & 3) == 0
                and self.ctx.clocks.powered(self.extra.get("pconp", -1)))

    def _incs(self, now):
        """Increments of TC since t0 (and the prescale remainder)."""
        dt = now - self.t0
        ticks = dt * self.pclk() // _NS if dt > 0 else 0
        return divmod(self.pc0 + ticks, self.r["PR"] + 1)

    def _time_of(self, incs):
        """Board time at which TC has made *incs* increments since t0."""
        ticks = incs * (self.r["PR"] + 1) - self.pc0
        pclk = self.pclk()
        if pclk <= 0:
            return None
        return self.t0 + -(-ticks * _NS // pclk)

    def _reset_plan(self, tc0):
        """(d1, rmin): increments from tc0 to the first reset point, and the smallest
        reset match; (None, None) without reset-on-match."""
        mcr = self.r["MCR"]
        resets = [self._mr[n] for n in range(4) if mcr >> (3 * n + 1) & 1]
        if not resets:
            return None, None
        rmin = min(resets)
        ahead = [m for m in resets if m >= tc0]
        if ahead:
            return min(ahead) - tc0, rmin
        return (_WRAP - tc0) + rmin, rmin

    def _advance(self, tc0, incs):
        if not self.r["MCR"] & _MCR_RESETS:
            return (tc0 + incs) % _WRAP
        d1, rmin = self._reset_plan(tc0)
        if d1 is None or incs <= d1:
            return (tc0 + incs) % _WRAP
        return (incs - d1 - 1) % (rmin + 1)

    def _first_hit_after(self, m, after):
        """Smallest increment count k > *after* (since t0) at which TC becomes *m*."""
        tc0 = self.tc0
        d1, rmin = self._reset_plan(tc0)
        if d1 is None:
            base, period = (m - tc0) % _WRAP or _WRAP, _WRAP
        else:
            k = (m - tc0) % _WRAP
            if 0 < k <= d1 and k > after:
                return k                      # before the first reset
            if m > rmin:
                return None                   # beyond the reset value: never again
            base, period = d1 + 1 + m, rmin + 1
        if base > after:
            return base
        return base + ((after - base) // period + 1) * period

    # -- time-driven behaviour ---------------------------------------------------------------
    def update(self, now):
        if not self.running():
            return
        incs, _ = self._incs(now)
        if incs <= self.last_i:
            return
        mcr = self.r["MCR"]
        stop_at = None
        stop_val = 0
        for n in range(4):
            if mcr >> (3 * n + 2) & 1:
                h = self._first_hit_after(self._mr[n], self.last_i)
                if h is not None and h <= incs and (stop_at is None or h < stop_at):
                    stop_at, stop_val = h, self._mr[n]
        limit = incs if stop_at is None else stop_at
        for n in range(4):
            if mcr >> (3 * n) & 1:
                h = self._first_hit_after(self._mr[n], self.last_i)
                if h is not None and h <= limit:
                    self.r["IR"] |= 1 << n
        if stop_at is not None:
            self.t0 = self._time_of(stop_at)
            self.tc0 = stop_val
            self.pc0 = 0
            self.last_i = 0
            self.r["TCR"] &= ~1
        else:
            self.last_i = incs
        self.set_irq(self.r["IR"] != 0)

    def next_event_ns(self):
        if not self.running():
            return None
        mcr = self.r["MCR"]
        best = None
        for n in range(4):
            if mcr >> (3 * n) & 5:                    # MRnI or MRnS
                h = self._first_hit_after(self._mr[n], self.last_i)
                if h is not None:
                    t = self._time_of(h)
                    if t is not None and (best is None or t < best):
                        best = t
        return best

    def rebase(self, now):
        self.update(now)
        if self.running():
            incs, pc = self._incs(now)
            self.tc0 = self._advance(self.tc0, incs)
            self.pc0 = pc
        self.t0 = now
        self.last_i = 0

    def _rebased(self):
        now = self.ctx.now_ns()
        self.rebase(now)
        return now

    # -- registers ---------------------------------------------------------------------------
    def read_IR(self):
        self.update(self.ctx.now_ns())
        return self.r["IR"]

    def write_IR(self, value, mask):
        self.update(self.ctx.now_ns())
        self.r["IR"] &= ~(value & mask & 0x3F)
        self.set_irq(self.r["IR"] != 0)

    def write_TCR(self, value, mask):
        self._rebased()
        self.r["TCR"] = ((self.r["TCR"] & ~mask) | (value & mask)) & 3
        if self.r["TCR"] & 2:
            self.tc0 = 0
            self.pc0 = 0

    def read_TC(self):
        if not self.running():
            return self.tc0
        incs, _ = self._incs(self.ctx.now_ns())
        return self._advance(self.tc0, incs)

    def write_TC(self, value, mask):
        self._rebased()
        self.tc0 = (self.tc0 & ~mask) | (value & mask)

    def read_PC(self):
        if not self.running():
            return self.pc0
        return self._incs(self.ctx.now_ns())[1]

    def write_PC(self, value, mask):
        self._rebased()
        self.pc0 = (self.pc0 & ~mask) | (value & mask)

    def write_PR(self, value, mask):
        self._rebased()
        self.r["PR"] = (self.r["PR"] & ~mask) | (value & mask)
        self.pc0 = min(self.pc0, self.r["PR"])

    def write_MCR(self, value, mask):
        self._rebased()
        self.r["MCR"] = ((self.r["MCR"] & ~mask) | (value & mask)) & 0xFFF

    def _mr_writer(n):  # noqa: N805 - class-body factory
        def write(self, value, mask):
            self._rebased()
            self._mr[n] = (self._mr[n] & ~mask) | (value & mask)
        return write

    def _mr_reader(n):  # noqa: N805
        def read(self):
            return self._mr[n]
        return read

    write_MR0, write_MR1, write_MR2, write_MR3 = _mr_writer(0), _mr_writer(1), _mr_writer(2), _mr_writer(3)
    read_MR0, read_MR1, read_MR2, read_MR3 = _mr_reader(0), _mr_reader(1), _mr_reader(2), _mr_reader(3)
    del _mr_writer, _mr_reader

    def write_CTCR(self, value, mask):
        self._rebased()
        self.r["CTCR"] = ((self.r["CTCR"] & ~mask) | (value & mask)) & 0xF
        if self.r["CTCR"] & 3:
            self.log_once("ctcr", "counter mode not modelled: timer stops counting")
