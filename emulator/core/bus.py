"""System bus: turns a board's memory-map table into Unicorn mappings.

Memory kinds: "flash" (read/execute only for the guest), "ram", "rom" (boot ROM stub).
Every other kind is a peripheral class key; the peripheral is instantiated with its name,
IRQ lines and extra wiring facts and mapped with ``mmio_map``.  MMIO callbacks never let an
exception reach Unicorn: it is recorded on the bus and the slice stopped.
"""

import logging

from unicorn import (UC_HOOK_MEM_PROT, UC_HOOK_MEM_UNMAPPED, UC_HOOK_TLB_FILL, UC_MEM_FETCH,
                     UC_PROT_ALL, UC_PROT_EXEC, UC_PROT_READ, UC_PROT_WRITE, UC_TLB_VIRTUAL)

from .cpu import GuestFault, mmio_map

log = logging.getLogger("emulator.bus")

MEMORY_KINDS = {"flash": UC_PROT_READ | UC_PROT_EXEC, "ram": UC_PROT_ALL,
                "rom": UC_PROT_READ | UC_PROT_EXEC}

# Boot ROM stub: IAP entry (0x1FFF1FF1) answers every command with INVALID_COMMAND (1):
#   movs r2, #1 ; str r2, [r1] ; bx lr
_IAP_OFFSET = 0x1FF0
_IAP_STUB = bytes.fromhex("0122 0a60 7047".replace(" ", ""))


# ARMv7-M default memory map: instruction fetches from these regions fault (Peripheral,
# Device and System regions are Execute Never).  A fetch from an EXC_RETURN value
# (0xFFFFFFFx) is how an exception return reaches the run loop.
EXECUTE_NEVER = ((0x4000_0000, 0x5FFF_FFFF), (0xA000_0000, 0xFFFF_FFFF))


def in_ranges(address, ranges):
    return any(lo <= address <= hi for lo, hi in ranges)


class Bus:
    def __init__(self, uc, memory_map, classes, ctx):
        self.uc = uc
        self.ctx = ctx
        self.regions = []          # memory regions: (name, base, size)
        self._kinds = {}           # memory region name -> kind
        self.peripherals = {}      # name -> instance
        self.by_kind = {}
        self.fault = None          # first exception raised inside an MMIO callback
        self.cut_requested = False  # end the slice at the next safe MMIO load
        self.cuts = 0               # slices ended that way
        self.accesses = 0           # MMIO accesses so far (the watchdog watches it move)
        for region in memory_map:
            if region.kind in MEMORY_KINDS:
                uc.mem_map(region.base, region.size, MEMORY_KINDS[region.kind])
                self.regions.append((region.name, region.base, region.size))
                self._kinds[region.name] = region.kind
                if region.kind == "rom":
                    uc.mem_write(region.base + _IAP_OFFSET, _IAP_STUB)
                continue
            cls = classes[region.kind]
            periph = cls(region.name, ctx, region.irqs, region.extra)
            periph.base = region.base
            periph.size = region.size
            self.peripherals[region.name] = periph
            self.by_kind.setdefault(region.kind, []).append(periph)
            self._map(region, periph)

    def _map(self, region, periph):
        read, write = periph.read, periph.write
        base = region.base
        bus = self
        uc = self.uc
        effects = frozenset(periph.read_effect_offsets())

        def mmio_read(_engine, offset, size, _ud):
            try:
                value = read(offset, size)
            except BaseException as e:  # noqa: BLE001 - must not reach Unicorn
                bus._callback_failed(e, base + offset, "read")
                return 0
            bus.accesses += 1
            if bus.cut_requested and offset & ~3 not in effects:
                bus.cut_requested = False
                bus.cuts += 1
                uc.emu_stop()   # rewinds this load (below); it has no side effects
            return value

        def mmio_write(_engine, offset, size, value, _ud):
            try:
                write(offset, size, value)
            except BaseException as e:  # noqa: BLE001
                bus._callback_failed(e, base + offset, "write")
            bus.accesses += 1

        mmio_map(self.uc, base, region.size, mmio_read, mmio_write)

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

    # -- guest memory access speed -------------------------------------------------------------
    # Unicorn 2.1.4 (read in its source and measured: emulator/README.md, "Speed") sends
    # every guest store to a page it also treats as executable through its slow path
    # (notdirty_write, a TB invalidation check per store: ~7x slower stores), and every
    # access at all through it while a memory hook covers the page.  The Cortex-M default memory map makes all RAM
    # executable, so by default every stack push and memcpy store is slow.  Hence:
    #   * the TLB is filled by us (UC_TLB_VIRTUAL): RAM pages are read/write, and executable
    #     only once the guest fetches from one (then the page is handled as code, correctly);
    #     every other page is identity-mapped with all rights, so Unicorn's own checks
    #     (unmapped, flash write-protect, MMIO) apply exactly as before;
    #   * fault hooks cover only what can fault: the gaps of the memory map (unmapped) and
    #     the non-RAM regions (protection), never RAM.
    def install_memory_policy(self, on_bad_access):
        uc = self.uc
        ram = tuple((base, base + size) for name, base, size in self.regions
                    if self._kinds[name] == "ram")
        rw, rwx = UC_PROT_READ | UC_PROT_WRITE, UC_PROT_ALL

        xn = EXECUTE_NEVER

        def fill(_uc, vaddr, access, entry, _ud):
            entry.paddr = vaddr
            perms = rwx
            if access == UC_MEM_FETCH:
                if in_ranges(vaddr, xn):
                    return False  # emu_start fails with UC_ERR_EXCEPTION at that PC
            else:
                for lo, hi in ram:
                    if lo <= vaddr < hi:
                        perms = rw
                        break
            entry.perms = perms
            return True

        uc.ctl_set_tlb_mode(UC_TLB_VIRTUAL)
        uc.hook_add(UC_HOOK_TLB_FILL, fill)
        for lo, hi in self.unmapped_ranges():
            uc.hook_add(UC_HOOK_MEM_UNMAPPED, on_bad_access, begin=lo, end=hi)
        for lo, hi in self.mapped_ranges(exclude_ram=True):
            uc.hook_add(UC_HOOK_MEM_PROT, on_bad_access, begin=lo, end=hi)

    def mapped_ranges(self, exclude_ram=False):
        """Inclusive (first, last) address ranges of everything mapped, merged."""
        spans = [(base, base + size - 1) for name, base, size in self.regions
                 if not (exclude_ram and self._kinds[name] == "ram")]
        spans += [(p.base, p.base + p.size - 1) for p in self.peripherals.values()]
        merged = []
        for lo, hi in sorted(spans):
            if merged and lo <= merged[-1][1] + 1:
                merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
            else:
                merged.append((lo, hi))
        return merged

    def unmapped_ranges(self):
        """Inclusive (first, last) address ranges nothing is mapped at."""
        gaps, nxt = [], 0
        for lo, hi in self.mapped_ranges():
            if lo > nxt:
                gaps.append((nxt, lo - 1))
            nxt = hi + 1
        if nxt <= 0xFFFFFFFF:
            gaps.append((nxt, 0xFFFFFFFF))
        return gaps

    # -- ending a slice from outside -------------------------------------------------------
    # Unicorn looks for a stop request right after every guest load and store, and on one
    # there it rewinds to the start of that instruction: the access has happened, and the
    # instruction runs again in the next slice.  Harmless for memory and for most registers,
    # not for one with read side effects (UART RBR pops a byte) or for any store to a
    # register (THR would send a byte twice).  So the slice watchdog only asks
    # (cut_requested); the next MMIO *load* of a register without read side effects stops
    # the slice from inside its callback, where the rewound access is known to be that
    # harmless load.  A guest that makes no MMIO access at all (a compute loop) is stopped
    # by the watchdog directly (SliceWatchdog).

    def memory_regions(self):
        return list(self.regions)

    def region_of(self, address):
        for name, base, size in self.regions:
            if base <= address < base + size:
                return name
        for name, p in self.peripherals.items():
            if p.base <= address < p.base + p.size:
                return name
        return None
