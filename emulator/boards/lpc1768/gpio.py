"""LPC1768 fast GPIO (FIO), ports 0..4 at 0x20 stride, 8/16/32-bit access.

Pin level = output latch where FIODIR is 1, else the external level.  Inputs with nothing
attached read 1 (PINMODE reset = pull-up).  FIOMASK hides pins from FIOPIN/FIOSET/FIOCLR.
LEDs are observed through :meth:`pin_driven_high`.
"""

from ...core.regs import Peripheral

_NPORTS = 5
_SIZE_MASK = {1: 0xFF, 2: 0xFFFF, 4: 0xFFFFFFFF}
_NAMES = {0x00: "FIODIR", 0x10: "FIOMASK", 0x14: "FIOPIN", 0x18: "FIOSET", 0x1C: "FIOCLR"}


class Gpio(Peripheral):
    def reset(self):
        super().reset()
        self.dir = [0] * _NPORTS
        self.mask = [0] * _NPORTS
        self.out = [0] * _NPORTS
        self.ext = [0xFFFFFFFF] * _NPORTS

    def reg_name(self, offset):
        port, reg = divmod(offset & ~3, 0x20)
        return f"FIO{port}{_NAMES.get(reg, f'+0x{reg:02X}')[3:]}" if port < _NPORTS \
            else f"+0x{offset:03X}"

    def level(self, port):
        d = self.dir[port]
        return (self.out[port] & d) | (self.ext[port] & ~d & 0xFFFFFFFF)

    def pin_driven_high(self, port, pin):
        return bool(self.dir[port] >> pin & 1 and self.out[port] >> pin & 1)

    def read(self, offset, size):
        port, reg = divmod(offset, 0x20)
        if port >= _NPORTS:
            self.unmodelled("read", offset, size)
            return 0
        aligned = reg & ~3
        if aligned == 0x00:
            word = self.dir[port]
        elif aligned == 0x10:
            word = self.mask[port]
        elif aligned == 0x14:
            word = self.level(port) & ~self.mask[port]
        elif aligned == 0x18:
            word = self.out[port] & ~self.mask[port]
        else:
            self.unmodelled("read", offset, size)
            return 0
        return (word >> ((reg & 3) * 8)) & _SIZE_MASK[size]

    def write(self, offset, size, value):
        port, reg = divmod(offset, 0x20)
        if port >= _NPORTS:
            self.unmodelled("write", offset, size, value)
            return
        shift = (reg & 3) * 8
        bytes_mask = _SIZE_MASK[size] << shift
        value = (value << shift) & bytes_mask
        aligned = reg & ~3
        if aligned == 0x00:
            self.dir[port] = (self.dir[port] & ~bytes_mask) | value
        elif aligned == 0x10:
            self.mask[port] = (self.mask[port] & ~bytes_mask) | value
        else:
            m = bytes_mask & ~self.mask[port]
            if aligned == 0x14:
                self.out[port] = (self.out[port] & ~m) | (value & m)
            elif aligned == 0x18:
                self.out[port] |= value & m
            elif aligned == 0x1C:
                self.out[port] &= ~(value & m)
            else:
                self.unmodelled("write", offset, size, value)
