"""Cortex-M3 System Control Space (0xE000E000..0xE000EFFF): NVIC, SCB, SysTick, DHCSR.

Shared by every Cortex-M board; the board's memory map places it and says how many
IRQ lines exist.

Interrupt lines from peripherals are level signals.  While a line is asserted its
pending bit is set, so a pending bit cleared through ICPR while the line is still high
becomes pending again at once (as on silicon).  WFI wakes when an *enabled* interrupt is
pending, whatever PRIMASK says; the run loop asks :meth:`Scs.wake_pending`.

Exceptions are taken by :mod:`.exceptions` using :meth:`Scs.next_exception`; faults it
takes are recorded in CFSR/HFSR/MMFAR/BFAR through :meth:`Scs.record_fault`.
"""

from .regs import Field, Peripheral, Reg

SYSTICK = 15
PENDSV = 14
SVCALL = 11

_ICSR_PENDSVSET = 1 << 28
_ICSR_PENDSVCLR = 1 << 27
_ICSR_PENDSTSET = 1 << 26
_ICSR_PENDSTCLR = 1 << 25

_CTRL_ENABLE = 1
_CTRL_TICKINT = 2
_CTRL_CLKSOURCE = 4
_CTRL_COUNTFLAG = 1 << 16


class Scs(Peripheral):
    """The whole SCS block.  extra: {"irq_lines": N, "prio_bits": 5}."""

    READ_EFFECTS = ("SYST_CSR",)   # COUNTFLAG clears on read
    REGISTERS = (
        Reg("ICTR", 0x004, access="ro"),
        Reg("ACTLR", 0x008, fields=(Field("DISMCYCINT", 0, implemented=False),
                                    Field("DISDEFWBUF", 1, implemented=False),
                                    Field("DISFOLD", 2, implemented=False))),
        Reg("SYST_CSR", 0x010, reset=_CTRL_CLKSOURCE,
            fields=(Field("ENABLE", 0), Field("TICKINT", 1), Field("CLKSOURCE", 2),
                    Field("COUNTFLAG", 16))),
        Reg("SYST_RVR", 0x014, fields=(Field("RELOAD", 0, 24),)),
        Reg("SYST_CVR", 0x018, fields=(Field("CURRENT", 0, 24),)),
        Reg("SYST_CALIB", 0x01C, reset=0x000F423F, access="ro"),
        Reg("CPUID", 0xD00, reset=0x412FC230, access="ro"),
        Reg("ICSR", 0xD04),
        Reg("VTOR", 0xD08, fields=(Field("TBLOFF", 7, 23),)),
        Reg("AIRCR", 0xD0C),
        Reg("SCR", 0xD10, fields=(Field("SLEEPONEXIT", 1, implemented=False),
                                  Field("SLEEPDEEP", 2, implemented=False),
                                  Field("SEVONPEND", 4, implemented=False))),
        Reg("CCR", 0xD14, reset=0x200,
            fields=(Field("NONBASETHRDENA", 0, implemented=False),
                    Field("USERSETMPEND", 1, implemented=False),
                    Field("UNALIGN_TRP", 3, implemented=False),
                    Field("DIV_0_TRP", 4, implemented=False),
                    Field("BFHFNMIGN", 8, implemented=False), Field("STKALIGN", 9))),
        Reg("SHPR1", 0xD18, writable=0x00F8F8F8),
        Reg("SHPR2", 0xD1C, writable=0xF8000000),
        Reg("SHPR3", 0xD20, writable=0xF8F80000),
        Reg("SHCSR", 0xD24),
        Reg("CFSR", 0xD28),
        Reg("HFSR", 0xD2C),
        Reg("DFSR", 0xD30),
        Reg("MMFAR", 0xD34),
        Reg("BFAR", 0xD38),
        Reg("AFSR", 0xD3C),
        Reg("DHCSR", 0xDF0),
        Reg("DCRSR", 0xDF4, access="wo"),
        Reg("DCRDR", 0xDF8),
        Reg("DEMCR", 0xDFC),
        Reg("STIR", 0xF00, access="wo"),
    )

    def __init__(self, name, ctx, irqs=(), extra=None):
        extra = dict(extra or {})
        self.nlines = extra.get("irq_lines", 64)
        self.prio_mask = (0xFF << (8 - extra.get("prio_bits", 8))) & 0xFF
        super().__init__(name, ctx, irqs, extra)

    def reset(self):
        super().reset()
        self.r["ICTR"] = max(0, (self.nlines - 1) // 32)
        self.enabled = 0
        self.pending = 0
        self.level = 0
        self.active_irqs = 0
        self.ipr = bytearray(self.nlines)
        self.sys_pending = 0          # bit n = system exception n pending (14, 15)
        self.active = []               # stack of active exception numbers (nesting)
        # SysTick state
        self._st_base_ns = 0
        self._st_start = 0
        self._st_done = 0              # zero-crossings already processed
        self._st_countflag = False

    # -- peripheral lines ---------------------------------------------------------------
    def set_line(self, n, level):
        bit = 1 << n
        if level:
            self.level |= bit
            self.pending |= bit
        else:
            self.level &= ~bit

    def wake_pending(self):
        """True when WFI must return: an enabled interrupt or a system exception pends."""
        return bool(self.enabled & self.pending) or bool(self.sys_pending)

    # -- exception selection ------------------------------------------------------------
    def priority(self, exc):
        if exc < 4:
            return (-3, -2, -1, -1)[exc]
        if exc < 16:
            shpr = (self.r["SHPR1"], self.r["SHPR2"], self.r["SHPR3"])[(exc - 4) // 4]
            return (shpr >> (8 * (exc % 4))) & 0xFF
        return self.ipr[exc - 16]

    def execution_priority(self, basepri):
        prio = 256
        for exc in self.active:
            prio = min(prio, self.priority(exc))
        if basepri:
            prio = min(prio, basepri & self.prio_mask)
        return prio

    def next_exception(self, basepri=0):
        """Highest-priority pending exception that may preempt now, or None."""
        cands = []
        ready = self.enabled & self.pending
        n = 0
        while ready:
            if ready & 1:
                cands.append(16 + n)
            ready >>= 1
            n += 1
        for exc in (PENDSV, SYSTICK):
            if self.sys_pending & (1 << exc):
                cands.append(exc)
        if not cands:
            return None
        best = min(cands, key=lambda e: (self.priority(e), e))
        if self.priority(best) < self.execution_priority(basepri):
            return best
        return None

    def activate(self, exc):
        """Exception *exc* is being entered: clear pending, set active."""
        if exc >= 16:
            bit = 1 << (exc - 16)
            self.pending &= ~bit
            if self.level & bit:          # still asserted: pends again after the handler
                pass
            self.active_irqs |= bit
        else:
            self.sys_pending &= ~(1 << exc)
        self.active.append(exc)

    def deactivate(self, exc):
        if exc in self.active:
            self.active.remove(exc)
        if exc >= 16:
            bit = 1 << (exc - 16)
            self.active_irqs &= ~bit
            if self.level & bit:
                self.pending |= bit

    # -- NVIC arrays ----------------------------------------------------------------------
    def read(self, offset, size):
        if 0x100 <= offset < 0x400:
            bank, word = divmod(offset - 0x100, 0x80)
            idx = (word >> 2) * 32
            if bank == 0 or bank == 1:
                value = self.enabled
            elif bank == 2 or bank == 3:
                value = self.pending
            elif bank == 4:
                value = self.active_irqs
            else:
                return 0
            value = (value >> idx) & 0xFFFFFFFF
            return (value >> ((offset & 3) * 8)) & ((1 << (8 * size)) - 1)
        if 0x400 <= offset < 0x400 + self.nlines:
            n = offset - 0x400
            value = 0
            for i in range(size):
                if n + i < self.nlines:
                    value |= self.ipr[n + i] << (8 * i)
            return value
        return super().read(offset, size)

    def write(self, offset, size, value):
        if 0x100 <= offset < 0x400:
            bank, word = divmod(offset - 0x100, 0x80)
            bits = (value << ((offset & 3) * 8)) << ((word >> 2) * 32)
            bits &= (1 << self.nlines) - 1
            if bank == 0:
                self.enabled |= bits
            elif bank == 1:
                self.enabled &= ~bits
            elif bank == 2:
                self.pending |= bits
            elif bank == 3:
                self.pending &= ~bits
                self.pending |= self.level & bits & ~self.active_irqs
            else:
                self.log_once(("w", offset), "write to read-only IABR at +0x%03X", offset)
            return
        if 0x400 <= offset < 0x400 + self.nlines:
            n = offset - 0x400
            for i in range(size):
                if n + i < self.nlines:
                    self.ipr[n + i] = (value >> (8 * i)) & self.prio_mask
            return
        super().write(offset, size, value)

    # -- SCB --------------------------------------------------------------------------------
    def read_ICSR(self):
        value = 0
        if self.active:
            value |= self.active[-1] & 0x1FF
        if len(self.active) <= 1:
            value |= 1 << 11                         # RETTOBASE
        pend = self.next_exception()
        if pend is None and (self.pending & self.enabled or self.sys_pending):
            pend = self._any_pending()
        if pend is not None:
            value |= (pend & 0x1FF) << 12
        if (self.pending & self.enabled) or self.sys_pending:
            value |= 1 << 22                         # ISRPENDING (approximate)
        if self.sys_pending & (1 << PENDSV):
            value |= _ICSR_PENDSVSET
        if self.sys_pending & (1 << SYSTICK):
            value |= _ICSR_PENDSTSET
        return value

    def _any_pending(self):
        ready = self.enabled & self.pending
        if ready:
            return 16 + (ready & -ready).bit_length() - 1
        for exc in (PENDSV, SYSTICK):
            if self.sys_pending & (1 << exc):
                return exc
        return None

    def write_ICSR(self, value, mask):
        value &= mask
        if value & _ICSR_PENDSVSET:
            self.sys_pending |= 1 << PENDSV
        if value & _ICSR_PENDSVCLR:
            self.sys_pending &= ~(1 << PENDSV)
        if value & _ICSR_PENDSTSET:
            self.sys_pending |= 1 << SYSTICK
        if value & _ICSR_PENDSTCLR:
            self.sys_pending &= ~(1 << SYSTICK)
        if value & (1 << 31):
            self.log_once("nmi", "NMIPENDSET not modelled")

    def read_AIRCR(self):
        return 0xFA050000 | (self.r["AIRCR"] & 0x700)

    def write_AIRCR(self, value, mask):
        if mask != 0xFFFFFFFF or (value >> 16) != 0x05FA:
            self.log_once("aircr-key", "AIRCR write without VECTKEY ignored")
            return
        self.r["AIRCR"] = value & 0x700
        if value & 0x4:                                # SYSRESETREQ
            self.ctx.request_reset("SYSRESETREQ")
        if value & 0x1:
            self.log_once("vectreset", "AIRCR.VECTRESET treated as SYSRESETREQ")
            self.ctx.request_reset("VECTRESET")

    def record_fault(self, cfsr=0, hfsr=0, mmfar=None, bfar=None):
        """A fault the core takes: status bits accumulate (write one to clear), the
        address registers hold the last valid address (core.exceptions)."""
        self.r["CFSR"] |= cfsr
        self.r["HFSR"] |= hfsr
        if mmfar is not None:
            self.r["MMFAR"] = mmfar & 0xFFFFFFFF
        if bfar is not None:
            self.r["BFAR"] = bfar & 0xFFFFFFFF

    def write_CFSR(self, value, mask):
        self.r["CFSR"] &= ~(value & mask)

    def write_HFSR(self, value, mask):
        self.r["HFSR"] &= ~(value & mask)

    def write_DFSR(self, value, mask):
        self.r["DFSR"] &= ~(value & mask)

    def read_DHCSR(self):
        return 0                        # no debugger attached: C_DEBUGEN = 0

    def write_DHCSR(self, value, mask):
        self.log_once("dhcsr", "DHCSR write ignored (no debug interface)")

    def write_STIR(self, value, mask):
        n = value & 0x1FF
        if n < self.nlines:
            self.pending |= 1 << n

    # -- SysTick ------------------------------------------------------------------------
    def _st_hz(self):
        return self.ctx.cpu_hz()

    def _st_cycles(self, now_ns):
        return (now_ns - self._st_base_ns) * self._st_hz() // 1_000_000_000

    def _st_zero_count(self, cycles):
        """Number of 1->0 transitions within *cycles* clocks since the base."""
        period = (self.r["SYST_RVR"] & 0xFFFFFF) + 1
        first = self._st_start if self._st_start else period
        if cycles < first:
            return 0
        if period <= 1:
            return 1
        return 1 + (cycles - first) // period

    def _st_value(self, cycles):
        period = (self.r["SYST_RVR"] & 0xFFFFFF) + 1
        if cycles <= self._st_start:
            return self._st_start - cycles
        if period <= 1:
            return 0
        return (period - 1) - ((cycles - self._st_start - 1) % period)

    def _st_rebase(self, now_ns):
        """Freeze the counter value at *now_ns* as the new starting point."""
        self.update(now_ns)
        if self.r["SYST_CSR"] & _CTRL_ENABLE:
            self._st_start = self._st_value(self._st_cycles(now_ns))
        self._st_base_ns = now_ns
        self._st_done = 0

    def read_SYST_CSR(self):
        now = self.ctx.now_ns()
        self.update(now)
        value = self.r["SYST_CSR"] & 0x7
        if self._st_countflag:
            value |= _CTRL_COUNTFLAG
            self._st_countflag = False
        return value

    def write_SYST_CSR(self, value, mask):
        now = self.ctx.now_ns()
        self._st_rebase(now)
        old = self.r["SYST_CSR"]
        self.r["SYST_CSR"] = ((old & ~mask) | (value & mask)) & 0x7
        if not old & _CTRL_ENABLE and value & mask & _CTRL_ENABLE:
            self._st_base_ns = now
            self._st_done = 0

    def write_SYST_RVR(self, value, mask):
        self._st_rebase(self.ctx.now_ns())
        self.r["SYST_RVR"] = ((self.r["SYST_RVR"] & ~mask) | (value & mask)) & 0xFFFFFF

    def read_SYST_CVR(self):
        if not self.r["SYST_CSR"] & _CTRL_ENABLE:
            return self._st_start
        return self._st_value(self._st_cycles(self.ctx.now_ns()))

    def write_SYST_CVR(self, value, mask):
        self._st_base_ns = self.ctx.now_ns()
        self._st_start = 0
        self._st_done = 0
        self._st_countflag = False

    def update(self, now_ns):
        csr = self.r["SYST_CSR"]
        if not csr & _CTRL_ENABLE:
            return
        zeros = self._st_zero_count(self._st_cycles(now_ns))
        if zeros > self._st_done:
            self._st_done = zeros
            self._st_countflag = True
            if csr & _CTRL_TICKINT:
                self.sys_pending |= 1 << SYSTICK

    def next_event_ns(self):
        csr = self.r["SYST_CSR"]
        if (csr & 3) != 3:
            return None
        period = (self.r["SYST_RVR"] & 0xFFFFFF) + 1
        first = self._st_start if self._st_start else period
        target = first + self._st_done * period if self._st_done else first
        hz = self._st_hz()
        return self._st_base_ns + -(-target * 1_000_000_000 // hz)

    def rebase(self, now_ns):
        self._st_rebase(now_ns)
