"""The machine: CPU + bus + board clock + run loop, wired to host transports.

Run loop (one thread):

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
"""

import logging
import struct
import time

from unicorn import UC_ERR_EXCEPTION, UC_HOOK_INTR, UcError
from unicorn import arm_const as A

from .bus import EXECUTE_NEVER, Bus, in_ranges
from .clock import BoardClock
from .cpu import GuestFault, create_cpu, fault_from_ucerror, read_regs
from .impair import ImpairError, LinkImpairment, parse_request, validate_flap
from .loader import ImageError, load_image, lpc17xx_checksum_ok
from .scs import SVCALL
from .regs import Peripheral
from .slices import SliceWatchdog

log = logging.getLogger("emulator")

_WFI = 0xBF30
_EXC_RETURN_MIN = 0xFFFFFFF0
_HOST_POLL_NS = 20_000                # min spacing of host polls from inside MMIO reads


def _is_wide_prefix(hw):
    return (hw >> 11) in (0x1D, 0x1E, 0x1F)


class Machine:
    """One emulated board.  ``options``: idle ("realtime"|"skip"), slice_ms (longest CPU
    slice before host input is looked at, in wall milliseconds), short_frames
    ("pad"|"runt")."""

    def __init__(self, board, image_path, idle="realtime", slice_ms=2.0, short_frames="pad"):
        self.board = board
        self.image_path = image_path
        self.idle_mode = idle
        self.skip_grace_s = 0.020   # see _idle()
        self.last_tx_ns = 0         # monotonic time of the guest's last frame or UART byte
        self.slice_s = max(0.0002, float(slice_ms) / 1000.0)
        self.watchdog = None
        self.short_frames = short_frames
        self.clock = BoardClock()
        self.reactor = None
        self.serial = None
        self.link = None
        self.pcap = None
        self.echo = None
        self.stop_requested = False
        self.exit_code = 0
        self.fault = None
        self._last_host_poll = 0
        self.impair = None          # LinkImpairment once impairment or flapping was asked for
        self._build(load_image(image_path, self._memory_regions()))

    # -- construction -------------------------------------------------------------------
    def _memory_regions(self):
        return [(r.name, r.base, r.size) for r in self.board.MEMORY_MAP
                if r.kind in ("flash", "ram", "rom")]

    def _build(self, image):
        self.image = image
        words = image.vectors()
        if self.board.BOARD.get("vector_checksum") == "lpc17xx" and not lpc17xx_checksum_ok(words):
            log.warning("%s: vector word 7 is not the LPC17xx checksum; a real LPC1768 "
                        "would stay in its boot loader", image.path)
        uc = create_cpu(self.board.BOARD["cpu"])
        self.uc = uc
        self._pclk_cache = {}
        self.bus = Bus(uc, self.board.MEMORY_MAP, self.board.PERIPHERALS, self)
        per = self.bus.peripherals
        b = self.board.BOARD
        self.sysctl = per[b["sysctl"]]
        self.nvic = per[b["scs"]]
        self.uart = per[b["console"]]
        self.emac = per.get(b["ethernet"])
        self.gpio = per[b["leds"][0]]
        self.led_pins = b["leds"][1]
        self.timed = [p for p in per.values() if type(p).next_event_ns is not Peripheral.next_event_ns]
        self.uart.tx_sink = self._uart_tx
        if self.emac is not None:
            self.emac.tx_sink = self._eth_tx
            self.emac.short_frames = self.short_frames
        if self.impair is not None:
            self._wire_link()
        for addr, data in image.chunks:
            uc.mem_write(addr, data)
        self._mem_fault_addr = None
        uc.hook_add(UC_HOOK_INTR, self._on_intr)
        self.bus.install_memory_policy(self._on_bad_access)
        if self.watchdog is not None:
            self.watchdog.close()
        bus = self.bus
        self.watchdog = SliceWatchdog(uc, lambda: setattr(bus, "cut_requested", True),
                                      lambda: bus.accesses, self.slice_s)
        sp, reset = words[0], words[1]
        uc.reg_write(A.UC_ARM_REG_MSP, sp)
        uc.reg_write(A.UC_ARM_REG_SP, sp)
        self.pc = reset & ~1
        self.in_wfi = False
        self.cpu_ns = 0                       # wall time spent running guest code
        self.slices = 0
        self.state = "running"
        self.fault = None
        self._intr = None
        self.reset_reason = None
        self.clock.reset()

    # -- context services used by peripherals ----------------------------------------------
    def now_ns(self):
        return self.clock.now_ns()

    def set_irq(self, n, level):
        self.nvic.set_line(n, level)

    def cpu_hz(self):
        return self.sysctl.cclk_hz()

    def pclk_hz(self, reg, shift):
        # Timers ask on every TC read; the clock tree only changes through clock_changed().
        key = (reg, shift)
        hz = self._pclk_cache.get(key)
        if hz is None:
            hz = self._pclk_cache[key] = self.sysctl.pclk_hz(reg, shift)
        return hz

    def powered(self, bit):
        return bit < 0 or self.sysctl.powered(bit)

    def clock_changing(self):
        now = self.clock.now_ns()
        for p in self.timed:
            p.rebase(now)

    def clock_changed(self):
        self._pclk_cache.clear()

    def request_reset(self, reason):
        self.reset_reason = reason
        self.uc.emu_stop()

    def mem_read(self, addr, size):
        try:
            return bytes(self.uc.mem_read(addr, size))
        except UcError:
            raise GuestFault("DMA read from unmapped memory", addr) from None

    def mem_write(self, addr, data):
        try:
            self.uc.mem_write(addr, bytes(data))
        except UcError:
            raise GuestFault("DMA write to unmapped memory", addr) from None

    def poll_host(self):
        """Called from UART status reads: pick up host bytes while the guest busy-polls."""
        now = time.monotonic_ns()
        if now - self._last_host_poll < _HOST_POLL_NS or self.serial is None:
            return
        self._last_host_poll = now
        self.reactor.poll_owner(self.serial)

    # -- host wiring --------------------------------------------------------------------------
    def attach_host(self, reactor, serial=None, link=None, pcap=None, echo=None):
        self.reactor = reactor
        self.serial = serial
        self.link = link
        self.pcap = pcap
        self.echo = echo
        if serial is not None:
            serial.attach(reactor, self._serial_in)
        if link is not None:
            link.attach(reactor, self._link_in, self._link_can_receive)
            self._wire_link()

    def _wire_link(self):
        """Frames take the plain path (``_eth_tx``/``_link_in``, EMAC flow control straight
        to the link) unless impairment is active; then they pass :class:`LinkImpairment`,
        which is also a timed participant.  Swapping the callbacks keeps the plain path
        free of any check."""
        imp, emac, link = self.impair, self.emac, self.link
        on = imp is not None and imp.active and emac is not None and link is not None
        if emac is not None:
            emac.tx_sink = self._eth_tx_impaired if on else self._eth_tx
            if link is not None:
                emac.on_rx_space = imp.pump if on else link.release
        if link is not None:
            link.on_frame = imp.to_board if on else self._link_in
            link.can_receive = imp.can_read if on else self._link_can_receive
        timed = [p for p in self.timed if p is not imp]   # a new list: _timers_due may be iterating
        if on:
            timed.append(imp)
        self.timed = timed

    def unwire_impairment(self):
        """Impairment has nothing left to do: back to the plain path."""
        self._wire_link()
        if self.link is not None and self.link.held and self._link_can_receive():
            self.link.release()

    def _link_can_receive(self):
        return self.emac is None or self.emac.can_receive()

    def _serial_in(self, data):
        self.uart.feed(data)

    def _uart_tx(self, byte):
        self.last_tx_ns = time.monotonic_ns()
        if self.serial is not None:
            self.serial.send(bytes((byte,)))
        if self.echo is not None:
            self.echo.append(byte)

    def _eth_tx(self, frame):
        self.last_tx_ns = time.monotonic_ns()
        if self.pcap is not None:
            self.pcap.write(frame)
        if self.link is not None:
            self.link.send(frame)

    def _link_in(self, frame):
        if self.pcap is not None:
            self.pcap.write(frame)
        if self.emac is not None:
            self.emac.receive(frame)

    def _eth_tx_impaired(self, frame):
        self.last_tx_ns = time.monotonic_ns()
        if self.pcap is not None:
            self.pcap.write(frame)              # the board's side: when the board sends it
        self.impair.from_board(frame)

    def deliver_to_board(self, frame):
        """A frame leaves the impairment stage toward the board (pcap at delivery time)."""
        if self.pcap is not None:
            self.pcap.write(frame)
        self.emac.receive(frame)

    def _flush_host(self):
        if self.pcap is not None:
            self.pcap.flush()
        if self.serial is not None and self.serial._out:
            self.serial.flush()
        if self.echo:
            import sys
            sys.stderr.buffer.write(self.echo)
            sys.stderr.buffer.flush()
            self.echo.clear()

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

    # -- status -------------------------------------------------------------------------------
    def leds(self):
        return [self.gpio.pin_driven_high(port, pin) for port, pin in self.led_pins]

    def status(self):
        emac = self.emac.stats if self.emac else {}
        st = {
            "ok": True,
            "state": self.state,
            "board_time_us": self.clock.now_ns() // 1000,
            "cpu_busy_us": self.cpu_ns // 1000,
            "slices": self.slices,
            "slice_cuts": {"at_mmio": self.bus.cuts, "forced": self.watchdog.forced},
            "leds": self.leds(),
            "eth": {k: emac.get(k, 0) for k in ("tx_frames", "rx_frames", "rx_dropped_filter",
                                                "rx_dropped_ring_full", "rx_dropped_disabled",
                                                "rx_dropped_runt")},
            "uart": {"tx_bytes": self.uart.tx_bytes, "rx_bytes": self.uart.rx_bytes,
                     "rx_waiting": self.uart.rx_waiting()},
            "pc": self.pc,
            "cclk_hz": self.sysctl.cclk_hz(),
        }
        if self.link is not None:
            st["link"] = {"tx_dropped": self.link.tx_dropped, "held": self.link.held}
        if self.link is not None and self.emac is not None:
            st["impair"] = self._impairment().status()
        else:
            st["impair"] = None
        st["pcap"] = self.pcap.stats() if self.pcap is not None else None
        if self.fault is not None:
            st["fault"] = self.fault.message()
        return st

    # -- reset -------------------------------------------------------------------------------
    def reset(self):
        """Full machine reset: re-read the image, fresh CPU and peripherals, time from 0."""
        image = load_image(self.image_path, self._memory_regions())
        before = self.clock.now_ns()
        self._build(image)
        if self.impair is not None:
            # frames in the stage keep their remaining delay; the new PHY gets the flap state
            self.impair.shift(self.clock.now_ns() - before)
            self.impair.apply_phy()
        if self.link is not None and self.emac is not None:
            self._wire_link()
            self.link.release()

    # -- run loop -------------------------------------------------------------------------
    def run(self, on_fault="exit"):
        """Run until stopped.  Returns the process exit code (0 stop, 3 guest fault)."""
        poll = self.reactor.poll
        while not self.stop_requested:
            if self.fault is not None:
                # halted after a fault (--on-fault halt): serve the host only
                self._flush_host()
                poll(None)
                continue
            poll(0)
            if self.stop_requested:
                break
            if self.clock.paused:
                self.state = "paused"
                poll(None)
                continue
            if self.reset_reason is not None:
                log.info("guest requested reset (%s)", self.reset_reason)
                self.reset()
                continue
            try:
                self._step()
            except GuestFault as fault:
                self._record_fault(fault)
                if on_fault == "exit":
                    return 3
                log.error("%s (halted)", fault.message())
            self._flush_host()
        return self.exit_code

    def _record_fault(self, fault):
        try:
            fault.regs = read_regs(self.uc)
            fault.regs["pc"] = self.pc
        except UcError:
            pass
        self.fault = fault
        self.state = "faulted"

    def _timers_due(self):
        now = self.clock.now_ns()
        nearest = None
        for p in self.timed:
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
        nearest = self._timers_due()
        nvic = self.nvic
        if nvic.pending & nvic.enabled or nvic.sys_pending:
            self._maybe_take_exception()
        if self.in_wfi:
            if nvic.wake_pending():
                self.in_wfi = False
            else:
                self._idle(nearest)
                return
        self.state = "running"
        self._run_slice()

    def _idle(self, deadline):
        self.state = "idle"
        self._flush_host()
        self._wait_idle(deadline)
        if self.pcap is not None:
            self.pcap.flush()  # frames that came in while idle, e.g. ones the MAC filtered

    def _wait_idle(self, deadline):
        if self.idle_mode == "skip":
            # A host peer answering the guest needs a moment (kernel, Python): up to a grace
            # period after the guest last sent something, wait for input in real time
            # before jumping over the idle stretch.  Peers only answer what the guest sent,
            # so long after its last frame or byte nothing can be on its way.
            since_tx = (time.monotonic_ns() - self.last_tx_ns) / 1e9
            grace = max(0.0, self.skip_grace_s - since_tx)
            if deadline is not None:
                grace = min(grace, self.clock.wall_delay_ns(deadline) / 1e9)
            if self.reactor.poll(max(grace, 0.0)):
                return
            if deadline is not None:
                self.clock.skip_to(deadline)
                return
            self.reactor.poll(None)
            return
        if deadline is None:
            self.reactor.poll(None)
        else:
            self.reactor.poll(self.clock.wall_delay_ns(deadline) / 1e9)

    def _run_slice(self):
        uc = self.uc
        watchdog = self.watchdog
        self._intr = None
        self.slices += 1
        t0 = time.perf_counter_ns()
        self.bus.cut_requested = False
        watchdog.begin()
        error = None
        try:
            # Until address 0: it holds the initial stack pointer, never code; a guest that
            # jumps there (a null function pointer) stops at once and is reported below.
            uc.emu_start(self.pc | 1, 0)
        except UcError as err:
            error = err
        watchdog.end()
        self.cpu_ns += time.perf_counter_ns() - t0
        self.pc = pc = uc.reg_read(A.UC_ARM_REG_PC)
        if error is not None:
            if self.bus.fault is not None:
                raise self.bus.fault
            if error.errno == UC_ERR_EXCEPTION and pc >= _EXC_RETURN_MIN:
                # fetch from an EXC_RETURN value (execute-never, see Bus.install_memory_policy)
                self._intr = (8, pc)
            elif error.errno == UC_ERR_EXCEPTION and in_ranges(pc, EXECUTE_NEVER):
                raise GuestFault("instruction fetch from an execute-never region", pc)
            else:
                raise fault_from_ucerror(error, self._mem_fault_addr)
        if self.bus.fault is not None:
            raise self.bus.fault
        if pc == 0 and self._intr is None:
            raise GuestFault("execution reached address 0x00000000", 0,
                             "a call through a null function pointer?")
        if self._intr is not None:
            self._handle_intr(*self._intr)
            return
        if self.reset_reason is not None:
            return
        try:
            before = struct.unpack("<HH", uc.mem_read(pc - 4, 4))
        except UcError:
            before = (0, 0)
        if before[1] == _WFI and not _is_wide_prefix(before[0]):
            self.in_wfi = True

    # -- CPU exceptions ----------------------------------------------------------------------
    def _handle_intr(self, intno, pc):
        if pc is not None:
            self.pc = pc
        if intno in (3, 8) and pc is not None and pc >= 0xFFFFFFF0 and self.nvic.active:
            self._exception_return(pc | 1)
            return
        if intno == 2:                                        # SVC
            primask = self.uc.reg_read(A.UC_ARM_REG_PRIMASK)
            if primask:
                raise GuestFault("HardFault escalation", None,
                                 "SVC executed with interrupts masked (PRIMASK=1)")
            self.nvic.sys_pending |= 1 << SVCALL
            self._take_exception(SVCALL)
            return
        if intno == 7:
            raise GuestFault("HardFault escalation", pc,
                             "BKPT executed with no debugger attached")
        if intno == 1:
            raise GuestFault("undefined instruction", pc)
        if intno in (3, 4):
            raise GuestFault("bus fault (prefetch/data abort)", pc)
        if intno in (3, 8) and pc is not None and pc >= 0xFFFFFFF0:
            raise GuestFault("HardFault escalation", pc,
                             "exception return with no active exception")
        raise GuestFault("HardFault escalation", pc, f"CPU exception #{intno}")

    def _maybe_take_exception(self):
        uc = self.uc
        primask, faultmask, basepri = uc.reg_read_batch(
            (A.UC_ARM_REG_PRIMASK, A.UC_ARM_REG_FAULTMASK, A.UC_ARM_REG_BASEPRI))
        if primask or faultmask:
            return
        exc = self.nvic.next_exception(basepri)
        if exc is not None:
            self._take_exception(exc)

    def _take_exception(self, exc):
        uc = self.uc
        regs = uc.reg_read_batch((A.UC_ARM_REG_R0, A.UC_ARM_REG_R1, A.UC_ARM_REG_R2,
                                  A.UC_ARM_REG_R3, A.UC_ARM_REG_R12, A.UC_ARM_REG_LR,
                                  A.UC_ARM_REG_XPSR, A.UC_ARM_REG_CONTROL,
                                  A.UC_ARM_REG_MSP, A.UC_ARM_REG_PSP))
        r0, r1, r2, r3, r12, lr, xpsr, control, msp, psp = regs
        thread = (xpsr & 0x1FF) == 0
        use_psp = thread and bool(control & 2)
        sp = psp if use_psp else msp
        xpsr_frame = xpsr & ~(1 << 9)
        if self.nvic.r["CCR"] & 0x200 and sp & 4:
            sp -= 4
            xpsr_frame |= 1 << 9
        sp -= 32
        frame = struct.pack("<8I", r0, r1, r2, r3, r12, lr, self.pc | 0, xpsr_frame)
        try:
            uc.mem_write(sp, frame)
        except UcError:
            raise GuestFault("HardFault escalation", sp,
                             f"stack overflow while entering exception {exc}") from None
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
        vtor = self.nvic.r["VTOR"] & 0xFFFFFF80
        try:
            vector = struct.unpack("<I", uc.mem_read(vtor + 4 * exc, 4))[0]
        except UcError:
            raise GuestFault("HardFault escalation", vtor + 4 * exc,
                             f"vector table entry for exception {exc} unreadable") from None
        if not vector & 1:
            raise GuestFault("HardFault escalation", vector,
                             f"vector for exception {exc} is not a Thumb address")
        self.nvic.activate(exc)
        self.pc = vector & ~1
        self.in_wfi = False

    def _exception_return(self, exc_return):
        uc = self.uc
        to_thread = bool(exc_return & 8)
        to_psp = bool(exc_return & 4)
        exc = self.nvic.active[-1]
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
        self.nvic.deactivate(exc)
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
        self.pc = pc & ~1

    # -- control channel -------------------------------------------------------------------
    def handle_control(self, req):
        cmd = req["cmd"]
        if self.pcap is not None:
            self.pcap.flush()  # whoever asks sees every frame so far in the file
        if cmd == "status":
            return self.status()
        if cmd == "leds":
            return {"ok": True, "leds": self.leds()}
        if cmd == "reset":
            try:
                self.reset()
            except ImageError as e:
                return {"ok": False, "error": str(e)}
            return {"ok": True}
        if cmd == "stop":
            self.stop_requested = True
            self.exit_code = 0
            return {"ok": True}
        if cmd == "idle":
            mode = req.get("mode")
            if mode not in ("realtime", "skip"):
                return {"ok": False, "error": 'idle needs "mode": "realtime"|"skip"'}
            grace = req.get("grace_us")
            if grace is not None:
                if not isinstance(grace, (int, float)) or grace < 0:
                    return {"ok": False, "error": '"grace_us" must be a number >= 0'}
                self.skip_grace_s = grace / 1e6
            self.idle_mode = mode
            return {"ok": True, "mode": mode}
        if cmd == "pause":
            self.clock.pause()
            return {"ok": True}
        if cmd == "resume":
            self.clock.resume()
            return {"ok": True}
        if cmd == "inject":
            # Wire-level faults no host NIC can send: runts, bad FCS, giant frames.
            if self.emac is None:
                return {"ok": False, "error": "this board has no Ethernet"}
            try:
                frame = bytes.fromhex(str(req.get("frame", "")))
            except ValueError:
                return {"ok": False, "error": 'inject needs "frame": hexadecimal bytes'}
            fcs = req.get("fcs", "good")
            if fcs not in ("good", "bad") or not frame:
                return {"ok": False, "error": 'inject needs a non-empty "frame" and "fcs": "good"|"bad"'}
            if self.pcap is not None:
                self.pcap.write(frame)
            outcome = self.emac.receive(frame, fcs_ok=(fcs == "good"), as_is=True)
            return {"ok": True, "outcome": outcome}
        if cmd == "impair":
            return self._control_impair(req)
        if cmd == "flap":
            return self._control_flap(req)
        if cmd == "link":
            if self.emac is None:
                return {"ok": False, "error": "this board has no Ethernet"}
            up = req.get("up")
            if not isinstance(up, bool):
                return {"ok": False, "error": 'link needs "up": true|false'}
            self.emac.phy.link_up = up
            return {"ok": True}
        return {"ok": False, "error": f"unknown cmd {cmd!r}"}

    # -- link impairment (core/impair.py) ------------------------------------------------------
    def _impairment(self):
        if self.impair is None:
            self.impair = LinkImpairment(self)
        return self.impair

    def _no_link_error(self):
        if self.emac is None:
            return "this board has no Ethernet"
        if self.link is None:
            return "this board's Ethernet has no link (start the emulator with --net)"
        return None

    def set_impairment(self, directions, settings):
        """Replace the settings of *directions* (already validated)."""
        imp = self._impairment()
        imp.configure(directions, settings)
        self._wire_link()
        return imp.settings()

    def start_flap(self, down_ms, up_ms, count=None):
        """Flap the link from now on (already validated)."""
        self._impairment().start_flap(down_ms, up_ms, count)
        self._wire_link()

    def _control_impair(self, req):
        error = self._no_link_error()
        if error:
            return {"ok": False, "error": error}
        opts = {k: v for k, v in req.items() if k != "cmd"}
        if "clear" in opts:
            if opts != {"clear": True}:
                return {"ok": False, "error": 'impair "clear" must be true and come alone'}
            imp = self._impairment()
            before = imp.clear()
            self._wire_link()
            if not imp.active:
                self.unwire_impairment()
            return {"ok": True, "impair": before}
        try:
            directions, settings = parse_request(opts)
        except ImpairError as e:
            return {"ok": False, "error": str(e)}
        self.set_impairment(directions, settings)
        return {"ok": True, "impair": self.impair.status()}

    def _control_flap(self, req):
        error = self._no_link_error()
        if error:
            return {"ok": False, "error": error}
        opts = {k: v for k, v in req.items() if k != "cmd"}
        imp = self._impairment()
        if "stop" in opts:
            if opts != {"stop": True}:
                return {"ok": False, "error": 'flap "stop" must be true and come alone'}
            imp.stop_flap()
            self._wire_link()
            imp.update(self.clock.now_ns())
            return {"ok": True, "impair": imp.status()}
        try:
            down_ms, up_ms, count = validate_flap(opts)
        except ImpairError as e:
            return {"ok": False, "error": str(e)}
        self.start_flap(down_ms, up_ms, count)
        return {"ok": True, "impair": self.impair.status()}
