"""LPC1768 pin connect block (PINCON): plain registers, no electrical behaviour."""

from ...core.regs import Peripheral, Reg

_REGS = [Reg(f"PINSEL{i}", 0x00 + 4 * i) for i in range(11)]
_REGS += [Reg(f"PINMODE{i}", 0x40 + 4 * i) for i in range(10)]
_REGS += [Reg(f"PINMODE_OD{i}", 0x68 + 4 * i) for i in range(5)]
_REGS += [Reg("I2CPADCFG", 0x7C, writable=0xF)]


class PinCon(Peripheral):
    REGISTERS = tuple(_REGS)

    def function(self, port, pin):
        """PINSEL function number (0 = GPIO) of Pport.pin."""
        k = 32 * port + pin
        return (self.r[f"PINSEL{k >> 4}"] >> (2 * (k & 15))) & 3
