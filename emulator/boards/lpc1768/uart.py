"""LPC1768 UART0/2/3 (16550-like), reference section 4.

Model choices (documented in emulator/README.md):
- Bytes from the host go into a 16-byte RX FIFO.  What does not fit waits in a host-side
  backlog and moves into the FIFO as the guest reads (no overrun ever; the host link acts
  as if it had flow control).  Baud rate, LCR framing and FDR are stored and reported
  but do not slow anything down: a THR write is on the wire at once (THRE/TEMT stay 1).
- Interrupts: RDA when the FIFO holds >= the FCR trigger level, CTI when it holds fewer
  (reported immediately instead of after 3.5 character times), THRE after a THR write or
  when THREIE is enabled with an empty THR; IIR reads clear a reported THRE.
  The IRQ line is level: asserted while any enabled source is active.
- Auto-baud, IrDA, DMA mode and the RLS source (no line errors happen) are not modelled.
"""

from ...core.regs import Field, Peripheral, Reg

_FIFO_DEPTH = 16
_TRIGGER = (1, 4, 8, 14)


class Uart(Peripheral):
    READ_EFFECTS = ("RBR_THR_DLL", "IIR_FCR")   # RBR pops the FIFO, IIR clears THRE
    REGISTERS = (
        Reg("RBR_THR_DLL", 0x00),
        Reg("DLM_IER", 0x04),
        Reg("IIR_FCR", 0x08),
        Reg("LCR", 0x0C, reset=0, fields=(Field("WLS", 0, 2), Field("SBS", 2),
                                          Field("PE", 3), Field("PS", 4, 2),
                                          Field("BC", 6, implemented=False),
                                          Field("DLAB", 7))),
        Reg("LSR", 0x14, access="ro"),
        Reg("SCR", 0x1C, writable=0xFF),
        Reg("ACR", 0x20, fields=(Field("START", 0, implemented=False),
                                 Field("MODE", 1, implemented=False),
                                 Field("AUTORESTART", 2, implemented=False),
                                 Field("ABEOINTCLR", 8), Field("ABTOINTCLR", 9))),
        Reg("ICR", 0x24, fields=(Field("IRDAEN", 0, implemented=False),
                                 Field("IRDAINV", 1, implemented=False),
                                 Field("FIXPULSEEN", 2, implemented=False),
                                 Field("PULSEDIV", 3, 3, implemented=False))),
        Reg("FDR", 0x28, reset=0x10, fields=(Field("DIVADDVAL", 0, 4), Field("MULVAL", 4, 4))),
        Reg("TER", 0x30, reset=0x80, fields=(Field("TXEN", 7),)),
        Reg("FIFOLVL", 0x58, access="ro"),
    )

    def __init__(self, name, ctx, irqs=(), extra=None):
        self.backlog = bytearray()
        self.tx_sink = None            # callable(bytes) installed by the machine
        self.tx_bytes = 0
        self.rx_bytes = 0
        super().__init__(name, ctx, irqs, extra)

    def reset(self):
        super().reset()
        self.fifo = bytearray()
        self.dll = 1
        self.dlm = 0
        self.ier = 0
        self.fcr = 0
        self.thre_int = False
        self.backlog.clear()

    # -- host side -------------------------------------------------------------------------
    def feed(self, data):
        """Bytes arriving from the host on RXD."""
        self.backlog += data
        self._refill()

    def rx_waiting(self):
        return len(self.fifo) + len(self.backlog)

    def _refill(self):
        room = _FIFO_DEPTH - len(self.fifo)
        if room > 0 and self.backlog:
            self.fifo += self.backlog[:room]
            del self.backlog[:room]
        self._irq()

    def baud(self):
        """Configured baud rate (informational)."""
        dl = (self.dlm << 8 | self.dll) or 1
        fdr = self.r["FDR"]
        mul = (fdr >> 4) & 0xF or 1
        add = fdr & 0xF
        pclk = self.ctx.clocks.pclk_hz(*self.extra["pclk"]) if "pclk" in self.extra else 0
        return pclk * mul // (16 * dl * (mul + add)) if pclk else 0

    # -- interrupt logic -------------------------------------------------------------------
    def _source(self):
        """(IIR INTID bits 3:1 << 1) of the highest-priority active source, or None."""
        if self.ier & 1 and self.fifo:
            if len(self.fifo) >= _TRIGGER[self.fcr >> 6 & 3]:
                return 0x04                                    # RDA
            return 0x0C                                        # CTI
        if self.ier & 2 and self.thre_int:
            return 0x02                                        # THRE
        return None

    def _irq(self):
        self.set_irq(self._source() is not None)

    # -- registers -------------------------------------------------------------------------
    def read_RBR_THR_DLL(self):
        if self.r["LCR"] & 0x80:
            return self.dll
        if not self.fifo:
            self.ctx.poll_host()       # a guest busy-polling RBR sees host bytes promptly
            if not self.fifo:
                return 0
        byte = self.fifo.pop(0)
        self.rx_bytes += 1
        self._refill()
        return byte

    def write_RBR_THR_DLL(self, value, mask):
        if self.r["LCR"] & 0x80:
            if mask & 0xFF:
                self.dll = value & 0xFF
            return
        if not mask & 0xFF:
            return
        if self.r["TER"] & 0x80:
            self.tx_bytes += 1
            if self.tx_sink is not None:
                self.tx_sink(value & 0xFF)
        self.thre_int = True           # transmitted at once: THR empty again
        self._irq()

    def read_DLM_IER(self):
        if self.r["LCR"] & 0x80:
            return self.dlm
        return self.ier

    def write_DLM_IER(self, value, mask):
        if self.r["LCR"] & 0x80:
            if mask & 0xFF:
                self.dlm = value & 0xFF
            return
        new = ((self.ier & ~mask) | (value & mask)) & 0x307
        if new & 2 and not self.ier & 2:
            self.thre_int = True       # enabling THREIE with an empty THR raises THRE
        if new & 0x300:
            self.log_once("autobaud", "auto-baud interrupts not modelled")
        self.ier = new
        self._irq()

    def read_IIR_FCR(self):
        src = self._source()
        value = (0xC0 if self.fcr & 1 else 0)
        if src is None:
            return value | 0x01
        if src == 0x02:
            self.thre_int = False      # reading IIR clears a reported THRE
            self._irq()
        return value | src

    def write_IIR_FCR(self, value, mask):
        if not mask & 0xFF:
            return
        value &= 0xFF
        if value & 0x02:
            self.fifo.clear()
        if value & 0x08:
            self.log_once("dma", "FCR DMA mode not modelled")
        self.fcr = value & 0xC9
        self._irq()

    def read_LSR(self):
        if not self.fifo:
            self.ctx.poll_host()
        return (0x01 if self.fifo else 0) | 0x60

    def read_FIFOLVL(self):
        return len(self.fifo)

    def write_ACR(self, value, mask):
        self.r["ACR"] = (self.r["ACR"] & ~mask) | (value & mask & 0x7)
