"""The run loop: one thread runs guest slices and serves the host between them.

Each round:

1. poll host inputs (serial, link, control) with timeout 0 — a select() per slice;
2. let time-driven peripherals catch up with board time (only those whose next event
   is due);
3. take a pending exception if the guest allows it (PRIMASK/BASEPRI/priorities);
4. if the guest is in WFI: continue when an enabled interrupt is pending, else idle —
   block in select() on the inputs until the next peripheral deadline (``realtime``) or
   jump board time to that deadline (``skip``);
5. run one slice: ``emu_start(pc, ...)`` until the guest waits (a slice that ends right
   after a WFI instruction puts the guest in WFI), a peripheral model stops it, or the slice
   watchdog does after 2-4 ms of wall time (slices.py: no per-instruction counting).

A guest fault ends a slice; :class:`~.exceptions.ExceptionUnit` takes it the way the core
would (the image's HardFault handler runs) or it is reported (no handler, lock-up).

This is the hot path of the emulator (README "Speed"): per slice it does a handful of
attribute reads, one ``emu_start`` and one two-byte read to spot WFI.
"""

import logging
import struct
import time

from unicorn import UC_ERR_EXCEPTION, UC_HOOK_INTR, UcError
from unicorn import arm_const as A

from .bus import EXECUTE_NEVER, in_ranges
from .cpu import USAGEFAULT, CFSR_INVSTATE, GuestFault, fault_from_ucerror, read_regs
from .exceptions import EXC_RETURN_MIN
from .slices import SliceWatchdog

log = logging.getLogger("emulator")

_WFI = 0xBF30


def _is_wide_prefix(hw):
    return (hw >> 11) in (0x1D, 0x1E, 0x1F)


class RunLoop:
    """Runs ``machine``'s guest.  ``idle_mode``: "realtime" | "skip" (see :meth:`_wait_idle`);
    ``slice_s``: the watchdog's budget."""

    def __init__(self, machine, idle="realtime", slice_s=0.002):
        self.m = machine
        self.idle_mode = idle
        self.skip_grace_s = 0.020   # see _wait_idle()
        self.last_tx_ns = 0         # monotonic time of the guest's last frame or UART byte
        self.slice_s = slice_s
        self.watchdog = None
        self.uc = self.bus = None

    def bind(self, uc, bus):
        """A new CPU (start, reset): hooks, memory policy and a fresh watchdog."""
        self.uc, self.bus = uc, bus
        self._intr = None
        self._mem_fault_addr = None
        self.cpu_ns = 0                       # wall time spent running guest code
        self.slices = 0
        uc.hook_add(UC_HOOK_INTR, self._on_intr)
        bus.install_memory_policy(self._on_bad_access)
        if self.watchdog is not None:
            self.watchdog.close()
        self.watchdog = SliceWatchdog(uc, lambda: setattr(bus, "cut_requested", True),
                                      lambda: bus.accesses, self.slice_s)

    # -- hooks --------------------------------------------------------------------------------
    def _on_intr(self, uc, intno, _ud):
        try:
            self._intr = (intno, uc.reg_read(A.UC_ARM_REG_PC))
        except Exception:  # noqa: BLE001 - never raise into Unicorn
            self._intr = (intno, None)
        uc.emu_stop()

    def _on_bad_access(self, uc, access, address, size, value, _ud):
        self._mem_fault_addr = address
        return False

    # -- the loop -------------------------------------------------------------------------
    def run(self, on_fault="exit"):
        """Run until stopped.  Returns the process exit code (0 stop, 3 guest fault)."""
        m = self.m
        poll = m.reactor.poll
        while not m.stop_requested:
            if m.fault is not None:
                # halted after a fault (--on-fault halt): serve the host only
                m.flush_host()
                poll(None)
                continue
            poll(0)
            if m.stop_requested:
                break
            if m.clock.paused:
                m.state = "paused"
                poll(None)
                continue
            if m.reset_reason is not None:
                log.info("guest requested reset (%s)", m.reset_reason)
                m.reset()
                continue
            try:
                self._step()
            except GuestFault as fault:
                self._record_fault(fault)
                m.flush_host()          # what the guest printed up to the fault
                if on_fault == "exit":
                    return 3
                log.error("%s (halted)", fault.message())
            m.flush_host()
        return m.exit_code

    def _record_fault(self, fault):
        m = self.m
        try:
            fault.regs = read_regs(self.uc)
            fault.regs["pc"] = m.pc
        except UcError:
            pass
        m.fault = fault
        m.state = "locked up" if fault.lockup else "faulted"

    def _timers_due(self):
        now = self.m.clock.now_ns()
        nearest = None
        for p in self.m.timed:
            t = p.next_event_ns()
            if t is None:
                continue
            if t <= now:
                p.update(now)
                t = p.next_event_ns()
                if t is None:
                    continue
            if nearest is None or t < nearest:
                nearest = t
        return nearest

    def _step(self):
        m = self.m
        nearest = self._timers_due()
        scs = m.scs
        if scs.pending & scs.enabled or scs.sys_pending:
            exc = m.exceptions.pending_exception()
            if exc is not None:
                m.pc = m.exceptions.enter(exc, m.pc)
                m.in_wfi = False
        if m.in_wfi:
            if scs.wake_pending():
                m.in_wfi = False
            else:
                self._idle(nearest)
                return
        m.state = "running"
        self._run_slice()

    def _idle(self, deadline):
        m = self.m
        m.state = "idle"
        m.flush_host()
        self._wait_idle(deadline)
        if m.pcap is not None:
            m.pcap.flush()  # frames that came in while idle, e.g. ones the MAC filtered

    def _wait_idle(self, deadline):
        reactor, clock = self.m.reactor, self.m.clock
        if self.idle_mode == "skip":
            # A host peer answering the guest needs a moment (kernel, Python): up to a grace
            # period after the guest last sent something, wait for input in real time
            # before jumping over the idle stretch.  Peers only answer what the guest sent,
            # so long after its last frame or byte nothing can be on its way.
            since_tx = (time.monotonic_ns() - self.last_tx_ns) / 1e9
            grace = max(0.0, self.skip_grace_s - since_tx)
            if deadline is not None:
                grace = min(grace, clock.wall_delay_ns(deadline) / 1e9)
            if reactor.poll(max(grace, 0.0)):
                return
            if deadline is not None:
                clock.skip_to(deadline)
                return
            reactor.poll(None)
            return
        if deadline is None:
            reactor.poll(None)
        else:
            reactor.poll(clock.wall_delay_ns(deadline) / 1e9)

    def _run_slice(self):
        m = self.m
        uc = self.uc
        bus = self.bus
        watchdog = self.watchdog
        self._intr = None
        self.slices += 1
        t0 = time.perf_counter_ns()
        bus.cut_requested = False
        watchdog.begin()
        error = None
        try:
            # Until address 0: it holds the initial stack pointer, never code; a guest that
            # jumps there (a null function pointer) stops at once and is taken below.
            uc.emu_start(m.pc | 1, 0)
        except UcError as err:
            error = err
        watchdog.end()
        self.cpu_ns += time.perf_counter_ns() - t0
        m.pc = pc = uc.reg_read(A.UC_ARM_REG_PC)
        if error is not None:
            if bus.fault is not None:
                raise bus.fault
            if error.errno == UC_ERR_EXCEPTION and pc >= EXC_RETURN_MIN:
                # fetch from an EXC_RETURN value (execute-never, see Bus.install_memory_policy)
                self._intr = (8, pc)
            elif error.errno == UC_ERR_EXCEPTION and in_ranges(pc, EXECUTE_NEVER):
                self._take_fault(GuestFault("instruction fetch from an execute-never region",
                                            pc, exception=4, cfsr=1))   # MemManage IACCVIOL
                return
            else:
                self._take_fault(fault_from_ucerror(error, self._mem_fault_addr))
                return
        if bus.fault is not None:
            raise bus.fault
        if pc == 0 and self._intr is None:
            # a BLX to an address without the Thumb bit: INVSTATE on a Cortex-M3
            self._take_fault(GuestFault("execution reached address 0x00000000", 0,
                                        "a call through a null function pointer?",
                                        exception=USAGEFAULT, cfsr=CFSR_INVSTATE))
            return
        if self._intr is not None:
            intno, at = self._intr
            if at is not None:
                m.pc = at
            m.pc = m.exceptions.cpu_exception(intno, m.pc)
            m.in_wfi = False
            return
        if m.reset_reason is not None:
            return
        try:
            before = struct.unpack("<HH", uc.mem_read(pc - 4, 4))
        except UcError:
            before = (0, 0)
        if before[1] == _WFI and not _is_wide_prefix(before[0]):
            m.in_wfi = True

    def _take_fault(self, fault):
        m = self.m
        self._mem_fault_addr = None
        m.pc = m.exceptions.fault(fault, m.pc)
        m.in_wfi = False
