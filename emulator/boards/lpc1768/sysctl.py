"""LPC1768 system control block (SC): clocks, PLL0, power gates, flash accelerator.

Clock tree (reference 2.2): Fin = CLKSRCSEL source; with PLL0 enabled *and* connected
(active, i.e. after a valid feed) CCLK = 2*M*Fin/N / (CCLKSEL+1), else Fin/(CCLKSEL+1).
PLL0CON/PLL0CFG writes go to shadow registers and only become active after the feed pair
0xAA, 0x55 on consecutive PLL0FEED writes.  PLOCK0 reads 1 as soon as an enable with a
valid configuration (Fcco 275..550 MHz) is active.  PCLK = CCLK / {4, 1, 2, 8}[PCLKSEL].

Every change of the clock tree or of PCONP calls ``ctx.clock_changed()`` so time-driven
peripherals (timers, SysTick) rebase their counters first.
"""

from ...core.regs import Field, Peripheral, Reg
from .memory_map import CLOCK_SOURCES

_PCLK_DIV = (4, 1, 2, 8)
PCONP_RESET = 0x042887DE


class SysCtl(Peripheral):
    REGISTERS = (
        Reg("FLASHCFG", 0x000, reset=0x303A,
            fields=(Field("FLASHTIM", 12, 4), Field("RESERVED_03A", 0, 12))),
        Reg("MEMMAP", 0x040, reset=1, fields=(Field("MAP", 0, implemented=False),)),
        Reg("PLL0CON", 0x080, fields=(Field("PLLE0", 0), Field("PLLC0", 1))),
        Reg("PLL0CFG", 0x084, fields=(Field("MSEL0", 0, 15), Field("NSEL0", 16, 8))),
        Reg("PLL0STAT", 0x088, access="ro"),
        Reg("PLL0FEED", 0x08C, access="wo"),
        Reg("PLL1CON", 0x0A0, fields=(Field("PLLE1", 0, implemented=False),
                                      Field("PLLC1", 1, implemented=False))),
        Reg("PLL1CFG", 0x0A4, fields=(Field("MSEL1", 0, 5), Field("PSEL1", 5, 2))),
        Reg("PLL1STAT", 0x0A8, access="ro"),
        Reg("PLL1FEED", 0x0AC, access="wo"),
        Reg("PCON", 0x0C0, fields=(Field("PM0", 0, implemented=False),
                                   Field("PM1", 1, implemented=False),
                                   Field("BODRPM", 2, implemented=False),
                                   Field("BOGD", 3, implemented=False),
                                   Field("BORD", 4, implemented=False))),
        Reg("PCONP", 0x0C4, reset=PCONP_RESET),
        Reg("CCLKCFG", 0x104, fields=(Field("CCLKSEL", 0, 8),)),
        Reg("USBCLKCFG", 0x108, fields=(Field("USBSEL", 0, 4, implemented=False),)),
        Reg("CLKSRCSEL", 0x10C, fields=(Field("CLKSRC", 0, 2),)),
        Reg("CANSLEEPCLR", 0x110),
        Reg("CANWAKEFLAGS", 0x114),
        Reg("EXTINT", 0x140, fields=(Field("EINT", 0, 4),)),
        Reg("EXTMODE", 0x148, fields=(Field("EXTMODE", 0, 4, implemented=False),)),
        Reg("EXTPOLAR", 0x14C, fields=(Field("EXTPOLAR", 0, 4, implemented=False),)),
        Reg("RSID", 0x180, reset=0x1, fields=(Field("POR", 0), Field("EXTR", 1),
                                              Field("WDTR", 2), Field("BODR", 3))),
        Reg("SCS", 0x1A0, fields=(Field("OSCRANGE", 4), Field("OSCEN", 5),
                                  Field("OSCSTAT", 6))),
        Reg("IRCTRIM", 0x1A4),
        Reg("PCLKSEL0", 0x1A8),
        Reg("PCLKSEL1", 0x1AC),
        Reg("USBIntSt", 0x1C0, reset=0x80000000),
        Reg("DMAREQSEL", 0x1C4),
        Reg("CLKOUTCFG", 0x1C8, fields=(Field("CLKOUTSEL", 0, 4, implemented=False),
                                        Field("CLKOUTDIV", 4, 4, implemented=False),
                                        Field("CLKOUT_EN", 8, implemented=False),
                                        Field("CLKOUT_ACT", 9))),
    )

    def reset(self):
        super().reset()
        self.active_con = 0
        self.active_cfg = 0
        self._feed_step = 0

    # A feed pair must be two consecutive accesses: any other SC access in between breaks it.
    def read(self, offset, size):
        if offset & ~3 != 0x08C:
            self._feed_step = 0
        return super().read(offset, size)

    def write(self, offset, size, value):
        if offset & ~3 != 0x08C:
            self._feed_step = 0
        super().write(offset, size, value)

    # -- derived clocks ------------------------------------------------------------------
    def fin_hz(self):
        src = self.r["CLKSRCSEL"] & 3
        if src == 1:
            return CLOCK_SOURCES["main_osc"]
        if src == 2:
            return CLOCK_SOURCES["rtc_osc"]
        return CLOCK_SOURCES["irc"]

    def fcco_hz(self):
        m = (self.active_cfg & 0x7FFF) + 1
        n = ((self.active_cfg >> 16) & 0xFF) + 1
        return 2 * m * self.fin_hz() // n

    def pll_locked(self):
        return bool(self.active_con & 1) and 275_000_000 <= self.fcco_hz() <= 550_000_000

    def cclk_hz(self):
        div = (self.r["CCLKCFG"] & 0xFF) + 1
        if (self.active_con & 3) == 3 and self.pll_locked():
            return self.fcco_hz() // div
        return self.fin_hz() // div

    def pclk_hz(self, reg, shift):
        return self.cclk_hz() // _PCLK_DIV[(self.r[reg] >> shift) & 3]

    def powered(self, bit):
        return bool(self.r["PCONP"] >> bit & 1)

    # -- registers -------------------------------------------------------------------------
    def _changed(self):
        self.ctx.clock_changed()

    def read_PLL0STAT(self):
        value = (self.active_cfg & 0x7FFF) | (self.active_cfg & 0xFF0000)
        if self.active_con & 1:
            value |= 1 << 24
            if self.active_con & 2:
                value |= 1 << 25
            if self.pll_locked():
                value |= 1 << 26
        return value

    def write_PLL0FEED(self, value, mask):
        byte = value & 0xFF
        if byte == 0xAA:
            self._feed_step = 1
            return
        if byte == 0x55 and self._feed_step == 1:
            self._feed_step = 0
            if (self.active_con, self.active_cfg) != (self.r["PLL0CON"], self.r["PLL0CFG"]):
                self.ctx.clock_changing()
                self.active_con = self.r["PLL0CON"]
                self.active_cfg = self.r["PLL0CFG"]
                self._changed()
            return
        self._feed_step = 0

    def read_PLL1STAT(self):
        con = self.r["PLL1CON"] & 3
        cfg = self.r["PLL1CFG"] & 0x7F
        value = cfg | con << 8
        if con & 1:
            value |= 1 << 10
        return value

    def write_PLL1FEED(self, value, mask):
        pass

    def _clock_reg(name):  # noqa: N805 - small factory used in the class body
        def write(self, value, mask):
            self.ctx.clock_changing()
            self.r[name] = (self.r[name] & ~mask) | (value & mask)
            self._changed()
        return write

    write_CCLKCFG = _clock_reg("CCLKCFG")
    write_CLKSRCSEL = _clock_reg("CLKSRCSEL")
    write_PCLKSEL0 = _clock_reg("PCLKSEL0")
    write_PCLKSEL1 = _clock_reg("PCLKSEL1")
    write_PCONP = _clock_reg("PCONP")
    del _clock_reg

    def write_SCS(self, value, mask):
        v = (self.r["SCS"] & ~mask) | (value & mask)
        v &= 0x30
        if v & 0x20:
            v |= 0x40                 # oscillator reported stable at once
        self.r["SCS"] = v

    def write_EXTINT(self, value, mask):
        self.r["EXTINT"] &= ~(value & mask)

    def write_RSID(self, value, mask):
        self.r["RSID"] &= ~(value & mask)

    def write_FLASHCFG(self, value, mask):
        v = (self.r["FLASHCFG"] & ~mask) | (value & mask)
        if (v & 0xFFF) != 0x03A:
            self.log_once("flashcfg", "FLASHCFG bits 11:0 changed from 0x03A (0x%03X)",
                          v & 0xFFF)
        self.r["FLASHCFG"] = v & 0xFFFF   # access time is not modelled (no wait states)
