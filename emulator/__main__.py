"""Command line: ``python -m emulator IMAGE [options]`` (console script ``lpc-emulator``).

Exit codes: 0 stopped (control "stop", SIGINT, SIGTERM); 2 usage or image/transport error;
3 guest fault the guest cannot take (no HardFault handler, or lock-up: a fault inside
HardFault); one line on stderr naming the fault, PC and registers.
"""

import argparse
import json
import logging
import os
import signal
import sys

EXIT_OK, EXIT_USAGE, EXIT_FAULT = 0, 2, 3


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        sys.stderr.write(f"lpc-emulator: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def build_parser():
    p = _Parser(prog="lpc-emulator",
                description="Run an mbed LPC1768 firmware image (ELF or raw .bin) on an "
                            "emulated board.")
    p.add_argument("image", help="firmware image: ELF (loaded by physical address) or .bin at 0")
    p.add_argument("--board", default="lpc1768", help="board model (default lpc1768)")
    p.add_argument("--serial", default="pty", metavar="pty|tcp:HOST:PORT|stdio",
                   help="console UART0 transport (default pty)")
    p.add_argument("--echo-console", action="store_true",
                   help="also copy every byte the guest sends on UART0 to stderr")
    p.add_argument("--control", metavar="PATH", help="unix socket for JSON-lines control")
    p.add_argument("--net", default="none", metavar="none|fd:N|packet:IFNAME|tap:IFNAME",
                   help="Ethernet link (default none)")
    p.add_argument("--pcap", metavar="FILE", help="write every EMAC frame in and out to FILE")
    p.add_argument("--pcap-limit", default="64M", metavar="BYTES",
                   help="stop writing the pcap at this size (K/M/G = KiB/MiB/GiB; 0 = no "
                        "limit; default 64M); later frames are counted in the status")
    p.add_argument("--impair", action="append", default=[], metavar="OPTS",
                   help="link impairment, e.g. 'loss=0.1,delay_ms=5,jitter_ms=2,"
                        "direction=both,seed=1' (options: direction, loss, delay_ms, "
                        "jitter_ms, reorder, duplicate, corrupt, rate_kbps, seed; repeatable, "
                        "a later one replaces the direction(s) it names)")
    p.add_argument("--flap", metavar="OPTS",
                   help="flap the link: 'down_ms=200,up_ms=800[,count=3]'")
    p.add_argument("--idle", choices=("realtime", "skip"), default="realtime",
                   help="while the guest waits in WFI: sleep (realtime) or jump board time "
                        "to the next timer deadline (skip)")
    p.add_argument("--ready-fd", type=int, metavar="N",
                   help="write one JSON line {serial, control, pid} to fd N when ready")
    p.add_argument("--slice-ms", type=float, default=2.0, metavar="MS",
                   help="longest stretch of guest code between looks at host input, in "
                        "wall milliseconds (default 2; a slice ends after 1-2x this)")
    p.add_argument("--short-frames", choices=("pad", "runt"), default="pad",
                   help="frames under 60 bytes from the link: pad them as the sending NIC "
                        "would (default) or deliver them as runts")
    p.add_argument("--paused", action="store_true",
                   help="hold the CPU (board time 0) until a control {\"cmd\": \"resume\"}: "
                        "open the serial port first to see every byte from boot on")
    p.add_argument("--on-fault", choices=("exit", "halt"), default="exit",
                   help="a guest fault the guest cannot take (no HardFault handler, lock-up): "
                        "exit with code 3 (default) or halt and keep serving "
                        "the control channel")
    p.add_argument("--log-level", default="warning",
                   choices=("debug", "info", "warning", "error"),
                   help="stderr log level (default warning)")
    return p


class _Stop(Exception):
    pass


def main(argv=None):
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=getattr(logging, args.log_level.upper()),
                        format="lpc-emulator: %(message)s", stream=sys.stderr)
    try:
        return _run(args)
    except KeyboardInterrupt:
        return EXIT_OK
    except Exception as e:  # noqa: BLE001 - never show a traceback to the user
        logging.getLogger("emulator").debug("internal error", exc_info=True)
        sys.stderr.write(f"lpc-emulator: internal error: {type(e).__name__}: {e} "
                         "(run with --log-level debug for details)\n")
        return 1


def _fail(message):
    sys.stderr.write(f"lpc-emulator: error: {message}\n")
    return EXIT_USAGE


def _run(args):
    from .boards import get_board
    from .core.loader import ImageError
    from .core.serial import TransportError

    if not 0.2 <= args.slice_ms <= 1000:
        return _fail("--slice-ms must be between 0.2 and 1000")
    from .core.impair import ImpairError, parse_cli, parse_cli_flap
    from .core.pcap import parse_size
    try:
        pcap_limit = parse_size(args.pcap_limit)
    except ValueError as e:
        return _fail(str(e))
    try:
        impairments = [parse_cli(text) for text in args.impair]
    except ImpairError as e:
        return _fail(f"--impair: {e}")
    try:
        flap = parse_cli_flap(args.flap) if args.flap else None
    except ImpairError as e:
        return _fail(f"--flap: {e}")
    if (impairments or flap) and args.net == "none":
        return _fail("--impair/--flap need an Ethernet link (--net)")
    try:
        board = get_board(args.board)
    except ValueError as e:
        return _fail(str(e))

    from .core.machine import Machine
    from .core.reactor import Reactor

    try:
        machine = Machine(board, args.image, idle=args.idle, slice_ms=args.slice_ms,
                          short_frames=args.short_frames)
    except ImageError as e:
        return _fail(str(e))

    from .core.ethlink import open_link
    from .core.serial import open_serial

    serial = link = pcap = control = None
    reactor = Reactor()
    try:
        try:
            serial = open_serial(args.serial)
            link = open_link(args.net)
            if args.pcap:
                from .core.pcap import PcapWriter
                try:
                    pcap = PcapWriter(args.pcap, limit_bytes=pcap_limit)
                except OSError as e:
                    raise TransportError(f"cannot write pcap {args.pcap}: {e.strerror}") from None
            if args.control:
                from .core.control import ControlServer
                control = ControlServer(args.control, machine.handle_control)
                control.attach(reactor)
        except TransportError as e:
            return _fail(str(e))
        machine.attach_host(reactor, serial=serial, link=link, pcap=pcap,
                            echo=bytearray() if args.echo_console else None)
        if machine.emac is None and (impairments or flap):
            return _fail(f"--impair/--flap: board {args.board} has no Ethernet")
        for directions, settings in impairments:
            machine.set_impairment(directions, settings)
        if flap is not None:
            machine.start_flap(*flap)

        # signals: set a flag and wake select() through a pipe
        rfd, wfd = os.pipe()
        os.set_blocking(rfd, False)
        os.set_blocking(wfd, False)
        reactor.add_reader(rfd, lambda fd: _drain(fd))

        def on_signal(signum, frame):
            machine.stop_requested = True
            try:
                os.write(wfd, b"x")
            except OSError:
                pass
            try:
                machine.uc.emu_stop()
            except Exception:  # noqa: BLE001
                pass

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)

        if args.paused:
            if control is None:
                return _fail("--paused needs --control (the only way to resume)")
            machine.clock.pause()
        _announce(args, serial, control)
        code = machine.run(on_fault=args.on_fault)
        if code == EXIT_FAULT:
            sys.stderr.write(f"lpc-emulator: {machine.fault.message()}\n")
        return code
    finally:
        for thing in (control, serial, link, pcap):
            if thing is not None:
                try:
                    thing.close()
                except OSError:
                    pass


def _drain(fd):
    try:
        while os.read(fd, 64):
            pass
    except OSError:
        pass


def _announce(args, serial, control):
    info = {"serial": serial.url, "control": control.path if control else None,
            "pid": os.getpid()}
    if args.ready_fd is not None:
        try:
            with os.fdopen(args.ready_fd, "w") as f:
                f.write(json.dumps(info) + "\n")
        except OSError as e:
            sys.stderr.write(f"lpc-emulator: warning: cannot write --ready-fd {args.ready_fd}: "
                             f"{e.strerror}\n")
        return
    sys.stderr.write(f"serial: {serial.url}\n")
    if control is not None:
        sys.stderr.write(f"control: {control.path}\n")
    sys.stderr.flush()


if __name__ == "__main__":
    sys.exit(main())
