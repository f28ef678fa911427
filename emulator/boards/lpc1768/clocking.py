"""LPC17xx clock answers for the peripheral models: the CPU clock, each peripheral's PCLK
(its PCLKSELn field divides CCLK by 4, 1, 2 or 8) and its PCONP power bit.

The machine asks :data:`CLOCKS` for one of these (``ctx.clocks``); peripheral models call
``ctx.clocks.pclk_hz(reg, shift)`` with the ``pclk`` wiring of their memory-map row.
Timers ask on every TC read and the clock tree only changes through a write to the system
control block, which calls :meth:`LpcClocks.changed`, so answers are cached until then.
"""


class LpcClocks:
    def __init__(self, sysctl):
        self.sysctl = sysctl
        self._pclk = {}

    def cpu_hz(self):
        return self.sysctl.cclk_hz()

    def pclk_hz(self, reg, shift):
        key = (reg, shift)
        hz = self._pclk.get(key)
        if hz is None:
            hz = self._pclk[key] = self.sysctl.pclk_hz(reg, shift)
        return hz

    def powered(self, bit):
        """PCONP bit *bit* set (a negative bit: always powered)."""
        return bit < 0 or self.sysctl.powered(bit)

    def changed(self):
        self._pclk.clear()
