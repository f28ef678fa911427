"""The machine: one emulated board wired together — CPU, bus and peripheral models from
the board's package, board clock, host transports — and the services peripheral models
ask of it (``ctx``: time, interrupt lines, clocks, DMA, reset).

What it does is elsewhere: :mod:`.runloop` runs the guest, :mod:`.exceptions` takes
exceptions and faults, :mod:`.commands` serves the control channel, :mod:`.impair` impairs
the link.  Board-only answers (an LPC17xx's PCLK and PCONP) come from the board's
``CLOCKS``.
"""

import logging
import sys
import time

from unicorn import UcError
from unicorn import arm_const as A

from .bus import Bus
from .clock import BoardClock
from .commands import ControlCommands
from .cpu import GuestFault, create_cpu
from .exceptions import ExceptionUnit, exception_name
from .impair import LinkImpairment
from .loader import load_image, lpc17xx_checksum_ok
from .regs import Peripheral
from .runloop import RunLoop

log = logging.getLogger("emulator")

_HOST_POLL_NS = 20_000                # min spacing of host polls from inside MMIO reads


class Machine:
    """One emulated board.  ``options``: idle ("realtime"|"skip"), slice_ms (longest CPU
    slice before host input is looked at, in wall milliseconds), short_frames
    ("pad"|"runt")."""

    def __init__(self, board, image_path, idle="realtime", slice_ms=2.0, short_frames="pad"):
        self.board = board
        self.image_path = image_path
        self.runner = RunLoop(self, idle, max(0.0002, float(slice_ms) / 1000.0))
        self.commands = ControlCommands(self)
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
        self.clocks = None          # peripherals ask only once the machine runs
        self.bus = Bus(uc, self.board.MEMORY_MAP, self.board.PERIPHERALS, self)
        per = self.bus.peripherals
        b = self.board.BOARD
        self.clocks = self.board.CLOCKS(per[b["sysctl"]])
        self.scs = per[b["scs"]]
        self.exceptions = ExceptionUnit(uc, self.scs)
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
        self.runner.bind(uc, self.bus)
        sp, reset = words[0], words[1]
        uc.reg_write(A.UC_ARM_REG_MSP, sp)
        uc.reg_write(A.UC_ARM_REG_SP, sp)
        self.pc = reset & ~1
        self.in_wfi = False
        self.state = "running"
        self.fault = None
        self.reset_reason = None
        self.clock.reset()

    # -- context services used by peripherals ----------------------------------------------
    def now_ns(self):
        return self.clock.now_ns()

    def set_irq(self, n, level):
        self.scs.set_line(n, level)

    def cpu_hz(self):
        return self.clocks.cpu_hz()

    def clock_changing(self):
        now = self.clock.now_ns()
        for p in self.timed:
            p.rebase(now)

    def clock_changed(self):
        self.clocks.changed()

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
            link.attach(reactor, self.deliver_to_board, self._link_can_receive)
            self._wire_link()

    def _wire_link(self):
        """Frames take the plain path (``_eth_tx``/``deliver_to_board``, EMAC flow control straight
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
            link.on_frame = imp.to_board if on else self.deliver_to_board
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
        self.runner.last_tx_ns = time.monotonic_ns()
        if self.serial is not None:
            self.serial.send(bytes((byte,)))
        if self.echo is not None:
            self.echo.append(byte)

    def _eth_tx(self, frame):
        if self.pcap is not None:
            self.pcap.write(frame)              # the board's side: when the board sends it
        self.send_to_wire(frame)

    def _eth_tx_impaired(self, frame):
        self.runner.last_tx_ns = time.monotonic_ns()
        if self.pcap is not None:
            self.pcap.write(frame)
        self.impair.from_board(frame)

    def send_to_wire(self, frame):
        """A frame the board sent goes out on the link (straight from the EMAC, or when the
        impairment stage lets it go); the idle-skip grace counts from here."""
        self.runner.last_tx_ns = time.monotonic_ns()
        if self.link is not None:
            self.link.send(frame)

    def deliver_to_board(self, frame):
        """A frame reaches the board's MAC (from the link, or when the impairment stage
        lets it go): the pcap records it at delivery time."""
        if self.pcap is not None:
            self.pcap.write(frame)
        if self.emac is not None:
            self.emac.receive(frame)

    def flush_host(self):
        if self.pcap is not None:
            self.pcap.flush()
        if self.serial is not None and self.serial._out:
            self.serial.flush()
        if self.echo:
            sys.stderr.buffer.write(self.echo)
            sys.stderr.buffer.flush()
            self.echo.clear()

    # -- status -------------------------------------------------------------------------------
    def leds(self):
        return [self.gpio.pin_driven_high(port, pin) for port, pin in self.led_pins]

    def status(self):
        emac = self.emac.stats if self.emac else {}
        st = {
            "ok": True,
            "state": self.state,
            "board_time_us": self.clock.now_ns() // 1000,
            "cpu_busy_us": self.runner.cpu_ns // 1000,
            "slices": self.runner.slices,
            "slice_cuts": {"at_mmio": self.bus.cuts, "forced": self.runner.watchdog.forced},
            "leds": self.leds(),
            "eth": {k: emac.get(k, 0) for k in ("tx_frames", "rx_frames", "rx_dropped_filter",
                                                "rx_dropped_ring_full", "rx_dropped_disabled",
                                                "rx_dropped_runt")},
            "uart": {"tx_bytes": self.uart.tx_bytes, "rx_bytes": self.uart.rx_bytes,
                     "rx_waiting": self.uart.rx_waiting()},
            "pc": self.pc,
            "cclk_hz": self.clocks.cpu_hz(),
            # the exception the guest is handling (innermost), e.g. "HardFault", or None
            "exception": exception_name(self.scs.active[-1]) if self.scs.active else None,
            # the last fault the guest took to its own handler (a vectored HardFault)
            "last_fault": self.exceptions.last_fault,
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

    # -- link impairment (core/impair.py) ------------------------------------------------------
    def _impairment(self):
        if self.impair is None:
            self.impair = LinkImpairment(self)
        return self.impair

    def no_link_error(self):
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

    def clear_impairment(self):
        """A clean link again; returns the counters of what was done."""
        imp = self._impairment()
        before = imp.clear()
        if imp.active:
            self._wire_link()
        else:
            self.unwire_impairment()
        return before

    def stop_flap(self):
        """Stop flapping (link up); returns the impairment status."""
        imp = self._impairment()
        imp.stop_flap()
        self._wire_link()
        imp.update(self.clock.now_ns())
        return imp.status()

    # -- control channel (core/commands.py) ---------------------------------------------------
    def handle_control(self, req):
        return self.commands.handle(req)

    # -- run loop (core/runloop.py) -----------------------------------------------------------
    def run(self, on_fault="exit"):
        """Run until stopped.  Returns the process exit code (0 stop, 3 guest fault)."""
        return self.runner.run(on_fault)
