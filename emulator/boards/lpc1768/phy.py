"""DP83848 Ethernet PHY behind the EMAC's MII management interface (reference section 8).

Link is up at 100 Mb/s full duplex with auto-negotiation complete from the first read
(mbed reads PHYSTS once, right after writing BMCR).  BMCR reset (bit 15) and restart-AN
(bit 9) clear themselves at once.  With auto-negotiation disabled, PHYSTS reports the
speed/duplex forced in BMCR.  ``link_up`` can be switched by the machine (control channel).
"""

import logging

log = logging.getLogger("emulator.periph")

BMCR, BMSR, PHYIDR1, PHYIDR2, ANAR, ANLPAR, ANER, ANNPTR = range(8)
PHYSTS, MICR, MISR = 0x10, 0x11, 0x12
RBR, PHYCR = 0x17, 0x19

_DEFAULTS = {
    BMCR: 0x3100, BMSR: 0x786D, PHYIDR1: 0x2000, PHYIDR2: 0x5C90, ANAR: 0x01E1,
    ANLPAR: 0x45E1, ANER: 0x0001, ANNPTR: 0x2001, MICR: 0, MISR: 0, 0x14: 0, 0x15: 0,
    0x16: 0x0100, RBR: 0x0021, 0x18: 0, PHYCR: 0x8C21, 0x1A: 0x0804, 0x1B: 0, 0x1D: 0,
}
_NAMES = {BMCR: "BMCR", BMSR: "BMSR", PHYIDR1: "PHYIDR1", PHYIDR2: "PHYIDR2", ANAR: "ANAR",
          ANLPAR: "ANLPAR", ANER: "ANER", ANNPTR: "ANNPTR", PHYSTS: "PHYSTS", MICR: "MICR",
          MISR: "MISR", RBR: "RBR", PHYCR: "PHYCR"}


class Dp83848:
    def __init__(self, address=1):
        self.address = address
        self.link_up = True
        self._logged = set()
        self.reset()

    def reset(self):
        self.regs = dict(_DEFAULTS)

    def read(self, reg):
        reg &= 0x1F
        if reg == BMSR:
            value = self.regs[BMSR]
            if not self.link_up:
                value &= ~0x0024            # link status, AN complete
            return value
        if reg == PHYSTS:
            return self._physts()
        if reg == ANLPAR and not self.link_up:
            return 0
        if reg not in self.regs:
            self._log_once(reg, "read")
            return 0
        return self.regs[reg]

    def write(self, reg, value):
        reg &= 0x1F
        value &= 0xFFFF
        if reg == BMCR:
            if value & 0x8000:
                self.reset()
                return
            if value & 0x4000:
                self._log_once(("loopback",), "loopback (BMCR.14) not modelled")
            self.regs[BMCR] = value & ~0x0200        # restart-AN self-clears
            return
        if reg in (BMSR, PHYIDR1, PHYIDR2, ANLPAR, ANER, PHYSTS):
            self._log_once(("ro", reg), "write to read-only register")
            return
        if reg not in self.regs:
            self._log_once(reg, "write")
        self.regs[reg] = value

    def _physts(self):
        if not self.link_up:
            return 0x0000
        bmcr = self.regs[BMCR]
        if bmcr & 0x1000:                      # auto-negotiated: 100 Mb/s full duplex
            speed10, full = False, True
        else:
            speed10, full = not bmcr & 0x2000, bool(bmcr & 0x0100)
        value = 0x0001 | 0x0010 | 0x0600       # link, AN complete, descrambler, signal
        if speed10:
            value |= 0x0002
        if full:
            value |= 0x0004
        return value

    def _log_once(self, key, what):
        if key in self._logged:
            return
        self._logged.add(key)
        name = _NAMES.get(key, key) if isinstance(key, int) else key
        log.debug("PHY: %s %s", what, name)
