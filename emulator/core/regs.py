"""Register/field declarations and the peripheral base class.

A peripheral declares its registers as data::

    REGISTERS = (
        Reg("IR", 0x00, fields=(Field("MR0", 0), ...), kind="w1c"),
        Reg("TC", 0x08),
        ...
    )

and implements behaviour in ``read_<NAME>(self)`` / ``write_<NAME>(self, value, mask)``
methods.  A register without such a method is plain storage (``self.r[NAME]``) limited to
its writable bits.  Fields marked ``implemented=False`` are logged (once, debug level) the
first time software sets them.  Offsets that are not declared at all are logged once per
offset and read as 0; writes to them are ignored (after the log line).

Peripheral classes hold no addresses: the bus hands them offsets inside their block.
"""

import logging

log = logging.getLogger("emulator.periph")

_SIZE_MASK = {1: 0xFF, 2: 0xFFFF, 4: 0xFFFFFFFF}


class Field:
    """One bit field: *name*, lowest bit *lsb*, *width* bits."""

    __slots__ = ("name", "lsb", "width", "implemented", "mask")

    def __init__(self, name, lsb, width=1, implemented=True):
        self.name = name
        self.lsb = lsb
        self.width = width
        self.implemented = implemented
        self.mask = ((1 << width) - 1) << lsb


class Reg:
    """One 32-bit register at *offset*.

    access: "rw", "ro" (writes logged and ignored), "wo" (reads 0).
    writable: bits software can change in plain storage (default: all declared fields,
    or all 32 bits when no fields are declared).
    """

    __slots__ = ("name", "offset", "reset", "fields", "access", "writable", "unimpl_mask")

    def __init__(self, name, offset, reset=0, fields=(), access="rw", writable=None):
        self.name = name
        self.offset = offset
        self.reset = reset
        self.fields = tuple(fields)
        self.access = access
        if writable is None:
            writable = 0
            for f in self.fields:
                writable |= f.mask
            if not self.fields:
                writable = 0xFFFFFFFF
        self.writable = writable
        self.unimpl_mask = 0
        for f in self.fields:
            if not f.implemented:
                self.unimpl_mask |= f.mask


class Peripheral:
    """Base class for a memory-mapped block.

    ctx: the machine context (clock, irq lines, sysctl, host hooks); see core.machine.
    irqs: tuple of NVIC line numbers wired to this block (from the board's memory map).
    extra: per-instance parameters from the memory map (e.g. PCLKSEL position).
    """

    REGISTERS = ()

    def __init__(self, name, ctx, irqs=(), extra=None):
        self.name = name
        self.ctx = ctx
        self.irqs = tuple(irqs)
        self.extra = dict(extra or {})
        self.r = {}
        self._logged = set()
        self._readers = {}
        self._writers = {}
        self._regs = {}
        for reg in self.REGISTERS:
            self._regs[reg.offset] = reg
            rd = getattr(self, "read_" + reg.name, None)
            wr = getattr(self, "write_" + reg.name, None)
            if rd is None:
                if reg.access == "wo":
                    rd = _const_zero
                else:
                    rd = _storage_reader(self.r, reg.name)
            if wr is None:
                if reg.access == "ro":
                    wr = self._ro_writer(reg)
                else:
                    wr = _storage_writer(self.r, reg.name, reg.writable)
            if reg.unimpl_mask:
                wr = self._unimpl_guard(reg, wr)
            self._readers[reg.offset] = rd
            self._writers[reg.offset] = wr
        self.reset()

    # Registers whose read changes state (a FIFO pop, a flag cleared by reading): an
    # emulator must not repeat such a read (Bus, "ending a slice from outside").
    READ_EFFECTS = ()

    def read_effect_offsets(self):
        return [reg.offset for reg in self.REGISTERS if reg.name in self.READ_EFFECTS]

    # -- life cycle ---------------------------------------------------------------------
    def reset(self):
        """Return every declared register to its reset value."""
        for reg in self.REGISTERS:
            self.r[reg.name] = reg.reset

    def next_event_ns(self):
        """Board time (ns) of this block's next autonomous event, or None."""
        return None

    def update(self, now_ns):
        """Advance time-driven state up to *now_ns* (called around slices and on wake)."""

    def rebase(self, now_ns):
        """The clock tree is about to change: fold elapsed time into the state at the old rate."""

    # -- bus access ---------------------------------------------------------------------
    def read(self, offset, size):
        aligned = offset & ~3
        rd = self._readers.get(aligned)
        if rd is None:
            self.unmodelled("read", offset, size)
            return 0
        value = rd()
        if size == 4:
            return value & 0xFFFFFFFF
        return (value >> ((offset & 3) * 8)) & _SIZE_MASK[size]

    def write(self, offset, size, value):
        aligned = offset & ~3
        wr = self._writers.get(aligned)
        if wr is None:
            self.unmodelled("write", offset, size, value)
            return
        if size == 4:
            wr(value & 0xFFFFFFFF, 0xFFFFFFFF)
        else:
            shift = (offset & 3) * 8
            mask = _SIZE_MASK[size] << shift
            wr((value << shift) & mask, mask)

    # -- logging helpers ----------------------------------------------------------------
    def reg_name(self, offset):
        reg = self._regs.get(offset & ~3)
        return reg.name if reg else f"+0x{offset:03X}"

    def unmodelled(self, what, offset, size, value=None):
        key = (what, offset)
        if key in self._logged:
            return
        self._logged.add(key)
        if value is None:
            log.debug("%s: unmodelled %s of %s (%d bytes)", self.name, what,
                      self.reg_name(offset), size)
        else:
            log.debug("%s: unmodelled %s of %s = 0x%X (%d bytes)", self.name, what,
                      self.reg_name(offset), value, size)

    def log_once(self, key, msg, *args):
        if key in self._logged:
            return
        self._logged.add(key)
        log.debug("%s: " + msg, self.name, *args)

    def _ro_writer(self, reg):
        def write_ro(value, mask):
            self.log_once(("ro", reg.offset), "write to read-only %s = 0x%X ignored",
                          reg.name, value)
        return write_ro

    def _unimpl_guard(self, reg, wr):
        def guarded(value, mask):
            hit = value & mask & reg.unimpl_mask
            if hit:
                for f in reg.fields:
                    if not f.implemented and hit & f.mask:
                        self.log_once(("field", reg.offset, f.name),
                                      "%s.%s set but not modelled", reg.name, f.name)
            wr(value, mask)
        return guarded

    # -- helpers for subclasses ---------------------------------------------------------
    def set_irq(self, level, index=0):
        """Drive IRQ line *index* of this block to *level* (level-sensitive)."""
        if index < len(self.irqs):
            self.ctx.set_irq(self.irqs[index], level)


def _const_zero():
    return 0


def _storage_reader(store, name):
    def read_plain():
        return store[name]
    return read_plain


def _storage_writer(store, name, writable):
    def write_plain(value, mask):
        m = mask & writable
        store[name] = (store[name] & ~m) | (value & m)
    return write_plain


def merge(old, value, mask):
    """Sub-word write helper: replace the bytes selected by *mask*."""
    return (old & ~mask) | (value & mask)


class Unmodelled(Peripheral):
    """Catch-all block: remembers writes (so read-back works), logs each register once."""

    def read(self, offset, size):
        self.unmodelled("read", offset, size)
        word = self.r.get(offset & ~3, 0)
        if size == 4:
            return word
        return (word >> ((offset & 3) * 8)) & _SIZE_MASK[size]

    def write(self, offset, size, value):
        self.unmodelled("write", offset, size, value)
        aligned = offset & ~3
        shift = (offset & 3) * 8
        mask = _SIZE_MASK[size] << shift
        self.r[aligned] = merge(self.r.get(aligned, 0), (value << shift) & mask, mask)

    def reset(self):
        self.r = {}
