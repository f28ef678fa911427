"""Cortex-M CPU on Unicorn: engine creation, register snapshots, guest fault reports.

Unicorn facts this relies on (reference emulation-measured.md): the CPU model must be set
right after ``Uc()`` and before any mapping; ``UC_MODE_MCLASS`` must not be used (it gives
a Cortex-M33); ``emu_start(count=N)`` slices stop between instructions; WFI makes
``emu_start`` return with PC after it; SVC and exception return arrive at UC_HOOK_INTR.
"""

from unicorn import UC_ARCH_ARM, UC_MODE_THUMB, Uc, UcError  # noqa: F401 (re-export)
from unicorn import arm_const as A
from unicorn import unicorn_const as C

CPU_MODELS = {"cortex-m3": A.UC_CPU_ARM_CORTEX_M3}

REG_NAMES = ("r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11",
             "r12", "sp", "lr", "pc", "xpsr")
REG_IDS = (A.UC_ARM_REG_R0, A.UC_ARM_REG_R1, A.UC_ARM_REG_R2, A.UC_ARM_REG_R3,
           A.UC_ARM_REG_R4, A.UC_ARM_REG_R5, A.UC_ARM_REG_R6, A.UC_ARM_REG_R7,
           A.UC_ARM_REG_R8, A.UC_ARM_REG_R9, A.UC_ARM_REG_R10, A.UC_ARM_REG_R11,
           A.UC_ARM_REG_R12, A.UC_ARM_REG_SP, A.UC_ARM_REG_LR, A.UC_ARM_REG_PC,
           A.UC_ARM_REG_XPSR)

# Exception numbers of the faults, and the fault status bits (ARMv7-M ARM B3.2.15-B3.2.18)
HARDFAULT, MEMMANAGE, BUSFAULT, USAGEFAULT = 3, 4, 5, 6
CFSR_IACCVIOL, CFSR_DACCVIOL, CFSR_MMARVALID = 1 << 0, 1 << 1, 1 << 7
CFSR_IBUSERR, CFSR_PRECISERR, CFSR_STKERR, CFSR_BFARVALID = 1 << 8, 1 << 9, 1 << 12, 1 << 15
CFSR_UNDEFINSTR, CFSR_INVSTATE, CFSR_UNALIGNED = 1 << 16, 1 << 17, 1 << 24
HFSR_FORCED = 1 << 30

# UcError numbers -> (fault kind, exception, CFSR bits; the address goes to BFAR/MMFAR)
_UC_FAULTS = {
    C.UC_ERR_READ_UNMAPPED: ("unmapped read", BUSFAULT, CFSR_PRECISERR),
    C.UC_ERR_WRITE_UNMAPPED: ("unmapped write", BUSFAULT, CFSR_PRECISERR),
    C.UC_ERR_FETCH_UNMAPPED: ("instruction fetch from unmapped address", BUSFAULT,
                              CFSR_IBUSERR),
    C.UC_ERR_INSN_INVALID: ("undefined instruction", USAGEFAULT, CFSR_UNDEFINSTR),
    C.UC_ERR_WRITE_PROT: ("write to read-only memory", BUSFAULT, CFSR_PRECISERR),
    C.UC_ERR_READ_PROT: ("read of protected memory", BUSFAULT, CFSR_PRECISERR),
    C.UC_ERR_FETCH_PROT: ("instruction fetch from non-executable memory", MEMMANAGE,
                          CFSR_IACCVIOL),
    C.UC_ERR_READ_UNALIGNED: ("unaligned read", USAGEFAULT, CFSR_UNALIGNED),
    C.UC_ERR_WRITE_UNALIGNED: ("unaligned write", USAGEFAULT, CFSR_UNALIGNED),
    C.UC_ERR_FETCH_UNALIGNED: ("unaligned instruction fetch", USAGEFAULT, CFSR_INVSTATE),
    C.UC_ERR_EXCEPTION: ("unhandled CPU exception", HARDFAULT, 0),
}


class GuestFault(Exception):
    """The guest did something a real LPC1768 would answer with a fault exception.

    ``exception`` is the fault's exception number (MEMMANAGE, BUSFAULT, USAGEFAULT or
    HARDFAULT) and ``cfsr``/``hfsr``/``mmfar``/``bfar`` what the core would record, for
    :class:`~emulator.core.exceptions.ExceptionUnit` to take it; ``exception`` None is a
    fault no CPU exception stands for (a peripheral's DMA), reported as it is.  ``lockup``:
    the core stopped (a fault inside HardFault)."""

    def __init__(self, kind, address=None, detail="", *, exception=None, cfsr=0, hfsr=0,
                 lockup=False):
        super().__init__(kind)
        self.kind = kind
        self.address = address
        self.detail = detail
        self.exception = exception
        self.cfsr = cfsr
        self.hfsr = hfsr
        self.lockup = lockup
        self.regs = None
        self.mmfar = self.bfar = None
        if address is not None and cfsr & CFSR_PRECISERR:
            self.cfsr |= CFSR_BFARVALID
            self.bfar = address
        elif address is not None and cfsr & CFSR_DACCVIOL:
            self.cfsr |= CFSR_MMARVALID
            self.mmfar = address

    def message(self):
        text = f"guest fault: {self.kind}"
        if self.address is not None:
            text += f" at 0x{self.address:08X}"
        if self.detail:
            text += f" ({self.detail})"
        if self.regs:
            text += f"; pc=0x{self.regs['pc']:08X}; registers: " + " ".join(
                f"{n}=0x{self.regs[n]:08X}" for n in REG_NAMES)
        return text


def fault_from_ucerror(err, address=None):
    kind, exception, cfsr = _UC_FAULTS.get(err.errno, (f"CPU error {err}", HARDFAULT, 0))
    return GuestFault(kind, address, exception=exception, cfsr=cfsr,
                      hfsr=HFSR_FORCED if exception == HARDFAULT else 0)


def create_cpu(model):
    uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB)
    uc.ctl_set_cpu_model(CPU_MODELS[model])
    return uc


def read_regs(uc):
    """All core registers as a dict (one batch call)."""
    return dict(zip(REG_NAMES, uc.reg_read_batch(REG_IDS)))


def mmio_map(uc, base, size, read, write):
    """``uc.mmio_map`` with ``read(engine, offset, size, ud) -> int`` and
    ``write(engine, offset, size, value, ud)`` called straight from ctypes (``engine`` is
    Unicorn's handle, or the Uc object on the fallback path; neither is for use).  The binding's own path adds two Python frames and an
    exception guard per access; MMIO is the emulator's hottest path (several accesses per
    Ethernet frame), and our callbacks never raise.  Falls back to the binding when its
    internals (Unicorn 2.1's ``uclib``, ``_uch``, ``MMIO_*_CFUNC``) are not there."""
    try:
        from unicorn.unicorn_py3 import unicorn as _binding

        lib, handle = _binding.uclib, uc._uch
        read_t, write_t = _binding.MMIO_READ_CFUNC, _binding.MMIO_WRITE_CFUNC
    except (ImportError, AttributeError):
        uc.mmio_map(base, size, read, None, write, None)
        return
    read_fp, write_fp = read_t(read), write_t(write)
    status = lib.uc_mmio_map(handle, base, size, read_fp, 0, write_fp, 0)
    if status != C.UC_ERR_OK:
        raise UcError(status)
    uc._mmio_callbacks[(base, base + size)] = (read_fp, write_fp)  # keep them alive
