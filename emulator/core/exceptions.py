"""ARMv7-M exception entry and return, and faults taken the way a Cortex-M3 takes them.

Unicorn runs instructions; everything about exceptions is done here, between slices:

* **entry** (:meth:`ExceptionUnit.enter`): the 8-word frame (r0-r3, r12, lr, return
  address, xPSR) pushed on the active stack with CCR.STKALIGN's 8-byte alignment, IPSR set,
  LR = EXC_RETURN, the handler's address from the vector table at VTOR;
* **return** (:meth:`ExceptionUnit.exception_return`): the guest branches to an EXC_RETURN
  value (0xFFFFFFFx, execute-never, so the slice stops there) and the frame is popped;
* **faults** (:meth:`ExceptionUnit.fault`): a MemManage, BusFault or UsageFault is taken
  as its own exception when SHCSR enables it and its priority can preempt; otherwise it
  escalates to HardFault (HFSR.FORCED).  CFSR gets the fault's bits, MMFAR/BFAR the
  address when it is known.  A fault that cannot be taken because HardFault (or NMI) is
  already running, or FAULTMASK is set, is *lock-up*: the core stops, the emulator reports
  it.  An image whose vector table has no usable HardFault handler (vector 0, not a Thumb
  address, unreadable) is reported at once instead: nothing would run, and the report
  names the fault where the vector would only hide it.
"""

import struct

from unicorn import UcError
from unicorn import arm_const as A

from .cpu import (HARDFAULT, HFSR_FORCED, MEMMANAGE, BUSFAULT, USAGEFAULT, CFSR_STKERR,
                  GuestFault)
from .scs import SVCALL

EXC_RETURN_MIN = 0xFFFFFFF0

_NAMES = {2: "NMI", 3: "HardFault", 4: "MemManage", 5: "BusFault", 6: "UsageFault",
          11: "SVCall", 12: "DebugMonitor", 14: "PendSV", 15: "SysTick"}
_SHCSR_ENABLE = {MEMMANAGE: 1 << 16, BUSFAULT: 1 << 17, USAGEFAULT: 1 << 18}
_FRAME_REGS = (A.UC_ARM_REG_R0, A.UC_ARM_REG_R1, A.UC_ARM_REG_R2, A.UC_ARM_REG_R3,
               A.UC_ARM_REG_R12, A.UC_ARM_REG_LR, A.UC_ARM_REG_XPSR, A.UC_ARM_REG_CONTROL,
               A.UC_ARM_REG_MSP, A.UC_ARM_REG_PSP)


def exception_name(exc):
    if exc is None:
        return None
    return _NAMES.get(exc, f"IRQ{exc - 16}" if exc >= 16 else f"exception {exc}")


class _StackingFailed(Exception):
    def __init__(self, sp):
        super().__init__(sp)
        self.sp = sp


class ExceptionUnit:
    """Exception entry/return and fault escalation for one CPU (``uc``) and its System
    Control Space model (``scs``).  Methods take and return guest PCs; the run loop keeps
    the PC between slices."""

    def __init__(self, uc, scs):
        self.uc = uc
        self.scs = scs
        self.last_fault = None      # message of the last fault the guest took itself

    # -- interrupts and system exceptions -----------------------------------------------
    def pending_exception(self):
        """The exception to take now, or None (PRIMASK/FAULTMASK/BASEPRI, priorities)."""
        primask, faultmask, basepri = self.uc.reg_read_batch(
            (A.UC_ARM_REG_PRIMASK, A.UC_ARM_REG_FAULTMASK, A.UC_ARM_REG_BASEPRI))
        if primask or faultmask:
            return None
        return self.scs.next_exception(basepri)

    def enter(self, exc, return_pc):
        """Take exception *exc* with *return_pc* stacked; returns the handler's address."""
        try:
            return self._enter(exc, return_pc)
        except _StackingFailed as failed:          # BusFault STKERR, escalating as usual
            return self.fault(GuestFault("stacking failed", failed.sp,
                                         f"stack overflow while entering {exception_name(exc)}",
                                         exception=BUSFAULT, cfsr=CFSR_STKERR), return_pc)

    def _enter(self, exc, return_pc):
        uc = self.uc
        scs = self.scs
        vector = self._vector(exc)
        if vector is None:
            raise GuestFault("HardFault escalation", scs.r["VTOR"] + 4 * exc,
                             f"no usable vector for {exception_name(exc)}")
        r0, r1, r2, r3, r12, lr, xpsr, control, msp, psp = uc.reg_read_batch(_FRAME_REGS)
        thread = (xpsr & 0x1FF) == 0
        use_psp = thread and bool(control & 2)
        sp = psp if use_psp else msp
        xpsr_frame = xpsr & ~(1 << 9)
        if scs.r["CCR"] & 0x200 and sp & 4:
            sp -= 4
            xpsr_frame |= 1 << 9
        sp -= 32
        frame = struct.pack("<8I", r0, r1, r2, r3, r12, lr, return_pc, xpsr_frame)
        try:
            uc.mem_write(sp, frame)
        except UcError:
            raise _StackingFailed(sp) from None
        if use_psp:
            uc.reg_write(A.UC_ARM_REG_PSP, sp)
            uc.reg_write(A.UC_ARM_REG_CONTROL, control & ~2)   # handler runs on MSP
            exc_return = 0xFFFFFFFD
        else:
            uc.reg_write(A.UC_ARM_REG_MSP, sp)
            uc.reg_write(A.UC_ARM_REG_SP, sp)
            exc_return = 0xFFFFFFF9 if thread else 0xFFFFFFF1
        uc.reg_write(A.UC_ARM_REG_XPSR, (xpsr & ~0x1FF) | exc)
        uc.reg_write(A.UC_ARM_REG_LR, exc_return)
        scs.activate(exc)
        return vector & ~1

    def _vector(self, exc):
        """The handler address for *exc* (Thumb bit set), or None if unusable."""
        addr = (self.scs.r["VTOR"] & 0xFFFFFF80) + 4 * exc
        try:
            vector = struct.unpack("<I", self.uc.mem_read(addr, 4))[0]
        except UcError:
            return None
        if not vector & 1 or vector & ~1 == 0:
            return None
        return vector

    def exception_return(self, exc_return):
        """The guest branched to *exc_return*: pop the frame; returns the PC to go on at."""
        uc = self.uc
        to_thread = bool(exc_return & 8)
        to_psp = bool(exc_return & 4)
        exc = self.scs.active[-1]
        control, msp, psp = uc.reg_read_batch(
            (A.UC_ARM_REG_CONTROL, A.UC_ARM_REG_MSP, A.UC_ARM_REG_PSP))
        sp = psp if to_psp else msp
        try:
            r0, r1, r2, r3, r12, lr, pc, xpsr = struct.unpack("<8I", uc.mem_read(sp, 32))
        except UcError:
            raise GuestFault("HardFault escalation", sp, "exception return: bad stack") from None
        sp += 32
        if xpsr & (1 << 9):
            sp += 4
        self.scs.deactivate(exc)
        ipsr = xpsr & 0x1FF if not to_thread else 0
        uc.reg_write(A.UC_ARM_REG_XPSR, (xpsr & ~0x1FF & ~(1 << 9)) | ipsr)
        if to_psp:
            uc.reg_write(A.UC_ARM_REG_CONTROL, control | 2)
            uc.reg_write(A.UC_ARM_REG_PSP, sp)
        else:
            uc.reg_write(A.UC_ARM_REG_MSP, sp)
        uc.reg_write_batch(((A.UC_ARM_REG_R0, r0), (A.UC_ARM_REG_R1, r1),
                            (A.UC_ARM_REG_R2, r2), (A.UC_ARM_REG_R3, r3),
                            (A.UC_ARM_REG_R12, r12), (A.UC_ARM_REG_LR, lr),
                            (A.UC_ARM_REG_SP, sp)))
        return pc & ~1

    # -- CPU exceptions Unicorn reports (UC_HOOK_INTR) -----------------------------------
    def cpu_exception(self, intno, pc):
        """Unicorn stopped with CPU exception *intno* at *pc*; returns the PC to go on at
        (raises :class:`GuestFault` when the guest cannot go on)."""
        if intno in (3, 8) and pc >= EXC_RETURN_MIN:
            if self.scs.active:
                return self.exception_return(pc | 1)
            return self.fault(GuestFault("exception return with no active exception", pc,
                                         exception=USAGEFAULT, cfsr=1 << 18), pc)   # INVPC
        if intno == 2:                                        # SVC
            if self.uc.reg_read(A.UC_ARM_REG_PRIMASK):
                return self.fault(GuestFault("HardFault escalation", None,
                                             "SVC executed with interrupts masked (PRIMASK=1)",
                                             exception=HARDFAULT, hfsr=HFSR_FORCED), pc)
            self.scs.sys_pending |= 1 << SVCALL
            return self.enter(SVCALL, pc)
        if intno == 7:                                        # HFSR.DEBUGEVT
            return self.fault(GuestFault("HardFault escalation", pc,
                                         "BKPT executed with no debugger attached",
                                         exception=HARDFAULT, hfsr=1 << 31), pc)
        if intno == 1:
            return self.fault(GuestFault("undefined instruction", pc, exception=USAGEFAULT,
                                         cfsr=1 << 16), pc)
        if intno in (3, 4):
            return self.fault(GuestFault("bus fault (prefetch/data abort)", pc,
                                         exception=BUSFAULT,
                                         cfsr=1 << 8 if intno == 3 else 1 << 9), pc)
        return self.fault(GuestFault("HardFault escalation", pc, f"CPU exception #{intno}",
                                     exception=HARDFAULT, hfsr=HFSR_FORCED), pc)

    # -- faults ---------------------------------------------------------------------------
    def fault(self, fault, pc):
        """Take *fault* (raised by the instruction at *pc*) as the core would; returns the
        handler's address.  Raises *fault* itself when the image has no HardFault handler
        or the fault is no CPU exception, and a lock-up :class:`GuestFault` when it cannot
        be taken."""
        exc = fault.exception
        if exc is None or self._vector(HARDFAULT) is None:
            if exc is not None and not fault.detail:
                fault.detail = "the image has no HardFault handler"
            raise fault
        scs = self.scs
        faultmask, basepri, primask = self.uc.reg_read_batch(
            (A.UC_ARM_REG_FAULTMASK, A.UC_ARM_REG_BASEPRI, A.UC_ARM_REG_PRIMASK))
        running = scs.execution_priority(basepri)
        if primask:
            running = min(running, 0)
        if faultmask or running < 0:               # HardFault or NMI running: no escalation
            where = exception_name(scs.active[-1]) if scs.active else "FAULTMASK set"
            raise GuestFault(f"lock-up: {fault.kind}", fault.address,
                             fault.detail or f"fault inside {where}; the core stops",
                             lockup=True)
        scs.record_fault(cfsr=fault.cfsr, hfsr=fault.hfsr, mmfar=fault.mmfar,
                         bfar=fault.bfar)
        target = exc
        if exc != HARDFAULT and not (scs.r["SHCSR"] & _SHCSR_ENABLE[exc]
                                     and scs.priority(exc) < running
                                     and self._vector(exc) is not None):
            target = HARDFAULT
            scs.record_fault(hfsr=HFSR_FORCED)
        self.last_fault = fault.message()
        try:
            return self._enter(target, pc)
        except _StackingFailed as failed:
            if target != HARDFAULT:
                return self.fault(GuestFault("stacking failed", failed.sp,
                                             exception=BUSFAULT, cfsr=CFSR_STKERR), pc)
            raise GuestFault("lock-up: stacking failed", failed.sp,
                             f"stack overflow while entering HardFault after {fault.kind}",
                             lockup=True) from None
