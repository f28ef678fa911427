"""``hil``: the bench's command line.

  hil build [IMAGE ...]      generate the protocol header, cross-compile firmware images
  hil run [ROBOT ARGS ...]   run suites/ against the bench (Robot's options, unchanged)
  hil emulate IMAGE          start one emulated board for a person (console, serial URL)
  hil test [PYTEST ARGS ...] run the tests
  hil bench [--json]         measure the bench's speed figures

Errors a user can fix are one line on stderr and exit status 2; nothing prints a traceback
unless ``HIL_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from .board_spec import DEFAULT_BOARD
from .build import Build, BuildError, format_sizes
from .children import die_with_parent, stop_on_signals
from .paths import IN_CHECKOUT, ROOT, SUITES


def _images_for(board: str) -> list[str]:
    b = Build(board=board, log=lambda m: None)
    return [n for n, spec in b.images.items() if board in spec.get("boards", [board])]


def cmd_build(args) -> int:
    images = args.images or _images_for(args.board)
    b = Build(board=args.board, profile=args.profile, toolchain=args.toolchain,
              verbose=args.verbose)
    for name in images:
        r = b.build(name)
        state = "up to date" if r.up_to_date else f"{r.compiled} file(s) compiled"
        print(f"{r.elf.relative_to(ROOT) if r.elf.is_relative_to(ROOT) else r.elf}  ({state})")
        print(format_sizes(name, r.sizes))
    return 0


def resolve_image(arg: str, profile: str = "default") -> Path:
    """A path to an .elf/.bin, or an image name that is built first."""
    p = Path(arg)
    if p.suffix in (".elf", ".bin") or p.exists():
        if not p.is_file():
            raise BuildError(f"image {arg} does not exist")
        return p
    return Build(profile=profile).build(arg).elf


def load_bench(path: str | None):
    """The bench file, checked before anything runs (a bad one is one line, exit status 2)."""
    from .bench import BenchConfig

    return BenchConfig.load(path)


def cmd_run(args, robot_args: list[str]) -> int:
    from .bench import build_images
    from .robot_run import RunError, parse, run

    try:
        parse(robot_args, [])  # a bad command line or a missing suite: before any build
    except RunError as exc:
        print(f"hil: error: {exc}", file=sys.stderr)
        return 2
    build_images(load_bench(args.bench))
    if args.bench:
        os.environ["HIL_BENCH"] = str(Path(args.bench).resolve())
    return run(robot_args, [str(SUITES)])


def cmd_emulate(args) -> int:
    """Run one board in the foreground.  The console is shown as text; agent frames on the
    same UART are shown as one-line summaries instead of raw bytes."""
    from .protocol import codec, framing

    image = resolve_image(args.image, args.profile)
    cmd = [sys.executable, "-m", "emulator", str(image), "--serial", args.serial,
           "--echo-console", "--idle", args.idle]
    if args.tap:
        cmd += ["--net", f"tap:{args.tap}"]
    if args.pcap:
        cmd += ["--pcap", args.pcap]
    from .drivers.emulated import EMULATOR_EXIT_FAULT, emulator_env

    print(f"hil: starting {image} (Ctrl-C stops it)", file=sys.stderr)
    proc = subprocess.Popen(cmd, env=emulator_env(), stderr=subprocess.PIPE,
                            preexec_fn=die_with_parent())
    decoder = framing.FrameDecoder()
    out = sys.stdout
    tail = ""            # the end of the emulator's text: its fault line is the last one
    try:
        while True:
            chunk = os.read(proc.stderr.fileno(), 4096)
            if not chunk:
                break
            for kind, item in decoder.feed(chunk):
                if kind == "text":
                    text = item.decode("utf-8", errors="replace")
                    tail = (tail + text)[-8192:]
                    out.write(text)
                elif kind == "frame":
                    try:
                        msg = codec.decode_body(item)
                        out.write(f"\x1b[2m[agent {msg.name} {msg.fields}]\x1b[0m\n"
                                  if out.isatty() else f"[agent {msg.name} {msg.fields}]\n")
                    except codec.CodecError as exc:
                        out.write(f"[undecodable frame: {exc}]\n")
            out.flush()
        code = proc.wait()
        if code == EMULATOR_EXIT_FAULT:
            # a guest fault is a board that does not run: one line, exit status 2
            faults = [ln for ln in tail.splitlines() if "guest fault" in ln]
            line = faults[-1].removeprefix("lpc-emulator: ") if faults else \
                "the emulator stopped on a guest fault"
            print(f"hil: {image.name}: {line}", file=sys.stderr)
            return 2
        return code
    except KeyboardInterrupt:
        return 130
    finally:  # Ctrl-C, or SIGTERM/SIGHUP (Stopped): the board goes with us
        if proc.poll() is None:
            proc.terminate()
            proc.wait()


def cmd_test(args, pytest_args: list[str]) -> int:
    import pytest

    Build(profile="default").build("agent")
    # A checkout's tests; an installed copy runs the project in the current folder (its
    # pytest configuration's testpaths), as tox does.
    where = [str(ROOT / "tests"), str(SUITES)] if IN_CHECKOUT else []
    return int(pytest.main(where + pytest_args))


def cmd_bench(args) -> int:
    from .speed import run_benchmarks

    config = load_bench(args.bench)
    figures = run_benchmarks(config, progress=not args.json, suites=not args.no_suites)
    if args.json:
        print(json.dumps(figures))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hil", description=__doc__.split("\n\n")[0],
                                     allow_abbrev=False)
    sub = parser.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("build", help="build firmware images")
    p.add_argument("images", nargs="*", help="image names (default: all for the board)")
    p.add_argument("--board", default=DEFAULT_BOARD,
                   help="a folder of firmware/boards with a board.json (default: %(default)s)")
    p.add_argument("--profile", default="default", help="default | large")
    p.add_argument("--toolchain", default="zig", help="zig (pinned wheel) | gcc (arm-none-eabi)")
    p.add_argument("-v", "--verbose", action="store_true")

    p = sub.add_parser(
        "run", help="run the Robot suites and write results/", allow_abbrev=False,
        usage="hil run [--bench FILE] [ROBOT OPTIONS] [SUITE PATH ...]",
        description="Run Robot Framework suites against the bench.  Every other option "
        "and argument is passed to robot unchanged and means what it means there "
        "(--suite NAME selects by name, --output FILE, -d/--outputdir DIR, -i TAG ...); "
        "suite files and folders are positional (default: suites/).  hil's defaults: "
        "-d results, --xunit junit.xml, --name NetServices; boards' evidence goes to "
        "<output dir>/bench.")
    p.add_argument("--bench", help="bench file (default fixtures/benches/emulated.yaml)")

    p = sub.add_parser("emulate", help="start one emulated board for a person")
    p.add_argument("image", help="image name (e.g. agent) or path to .elf/.bin")
    p.add_argument("--profile", default="default")
    p.add_argument("--serial", default="pty", help="pty | tcp:HOST:PORT")
    p.add_argument("--tap", help="attach the board's Ethernet to this existing TAP device")
    p.add_argument("--pcap", help="write the board's Ethernet traffic to this pcap file")
    p.add_argument("--idle", default="realtime", help="realtime | skip")

    sub.add_parser(
        "test", help="run the tests (pytest; extra arguments go to pytest)", allow_abbrev=False,
        usage="hil test [PYTEST OPTIONS] [PATH ...]",
        description="Run pytest on tests/ and suites/ (the Robot suites through the hil "
        "plugin).  Every option and argument is passed to pytest unchanged "
        "(-m \"not hil\", -k EXPR, -x, --hil-bench FILE, --hil-workdir DIR ...).")

    p = sub.add_parser("bench", help="measure the speed figures")
    p.add_argument("--bench", help="bench file (default fixtures/benches/emulated.yaml)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--no-suites", action="store_true",
                   help="skip the Robot run (suite_wall_s, suite_tests)")

    args, rest = parser.parse_known_args(argv)
    stop_on_signals()
    if rest and args.cmd not in ("run", "test"):
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        if args.cmd == "build":
            return cmd_build(args)
        if args.cmd == "run":
            return cmd_run(args, rest)
        if args.cmd == "test":
            return cmd_test(args, rest)
        if args.cmd == "emulate":
            return cmd_emulate(args)
        return cmd_bench(args)
    except Exception as exc:  # noqa: BLE001 - user-facing errors are one line
        from .bench import BenchConfigError
        from .drivers.base import BoardError
        from .agent.client import AgentError

        if os.environ.get("HIL_DEBUG") or not isinstance(
                exc, (BuildError, BenchConfigError, BoardError, AgentError, OSError)):
            raise
        print(f"hil: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
