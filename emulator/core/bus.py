"""System bus: turns a board's memory-map table into Unicorn mappings.

Memory kinds: "flash" (read/execute only for the guest), "ram", "rom" (boot ROM stub).
Every other kind is a peripheral class key; the peripheral is instantiated with its name,
IRQ lines and extra wiring facts and mapped with ``mmio_map``.  MMIO callbacks never let an
exception reach Unicorn: it is recorded on the bus and the slice stopped.
"""

import logging

from unicorn import UC_PROT_ALL, UC_PROT_EXEC, UC_PROT_READ

from .cpu import GuestFault

log = logging.getLogger("emulator.bus")

MEMORY_KINDS = {"flash": UC_PROT_READ | UC_PROT_EXEC, "ram": UC_PROT_ALL,
                "rom": UC_PROT_READ | UC_PROT_EXEC}

# Boot ROM stub: IAP entry (0x1FFF1FF1) answers every command with INVALID_COMMAND (1):
#   movs r2, #1 ; str r2, [r1] ; bx lr
_IAP_OFFSET = 0x1FF0
_IAP_STUB = bytes.fromhex("0122 0a60 7047".replace(" ", ""))


class Bus:
    def __init__(self, uc, memory_map, classes, ctx):
        self.uc = uc
        self.ctx = ctx
        self.regions = []          # memory regions: (name, base, size)
        self.peripherals = {}      # name -> instance
        self.by_kind = {}
        self.fault = None          # first exception raised inside an MMIO callback
        for region in memory_map:
            if region.kind in MEMORY_KINDS:
                uc.mem_map(region.base, region.size, MEMORY_KINDS[region.kind])
                self.regions.append((region.name, region.base, region.size))
                if region.kind == "rom":
                    uc.mem_write(region.base + _IAP_OFFSET, _IAP_STUB)
                continue
            cls = classes[region.kind]
            periph = cls(region.name, ctx, region.irqs, region.extra)
            periph.base = region.base
            self.peripherals[region.name] = periph
            self.by_kind.setdefault(region.kind, []).append(periph)
            self._map(region, periph)

    def _map(self, region, periph):
        read, write = periph.read, periph.write
        base = region.base
        bus = self

        def mmio_read(uc, offset, size, _ud):
            try:
                return read(offset, size)
            except BaseException as e:  # noqa: BLE001 - must not reach Unicorn
                bus._callback_failed(e, base + offset, "read")
                return 0

        def mmio_write(uc, offset, size, value, _ud):
            try:
                write(offset, size, value)
            except BaseException as e:  # noqa: BLE001
                bus._callback_failed(e, base + offset, "write")

        self.uc.mmio_map(base, region.size, mmio_read, None, mmio_write, None)

    def _callback_failed(self, exc, address, what):
        if self.fault is None:
            if isinstance(exc, GuestFault):
                self.fault = exc
            else:
                log.debug("peripheral model failed", exc_info=exc)
                self.fault = GuestFault("emulator model error", address,
                                        f"{what}: {type(exc).__name__}: {exc}")
                self.fault.internal = True
        self.uc.emu_stop()

    def memory_regions(self):
        return list(self.regions)

    def region_of(self, address):
        for name, base, size in self.regions:
            if base <= address < base + size:
                return name
        for name, p in self.peripherals.items():
            if p.base <= address < p.base + 0x4000:
                return name
        return None
