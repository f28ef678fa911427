"""``hil run``: Robot Framework's own command line, with the bench's defaults in front.

Every option after ``hil run`` is Robot's and means what it means to ``robot``
(``--suite`` selects suites by name, ``--output`` names output.xml, ``-d`` is the output
folder ...); suite files and folders are positional arguments, ``suites/`` when none is
given.  Robot parses the options itself, so ``hil`` knows the real output folder: the
boards' evidence goes under it (``bench/``) and the paths printed at the end are the
files Robot wrote.
"""

from __future__ import annotations

import os
from pathlib import Path

# In front of the user's options: a later option wins in Robot, so any of these can be
# given again on the command line.
DEFAULTS = ["--outputdir", "results", "--output", "output.xml", "--log", "log.html",
            "--report", "report.html", "--xunit", "junit.xml", "--name", "NetServices"]


class RunError(Exception):
    """A command line Robot would refuse, or a suite path that does not exist."""


def parse(robot_args: list[str], default_paths: list[str]):
    """``(argv for robot, RobotSettings)``; raises :class:`RunError` for a bad command line."""
    from robot.conf import RobotSettings
    from robot.errors import DataError
    from robot.run import USAGE
    from robot.utils.argumentparser import ArgumentParser

    parser = ArgumentParser(USAGE, arg_limits=(0,), env_options="ROBOT_OPTIONS",
                            auto_help=False, auto_version=False)
    try:
        options, paths = parser.parse_args(DEFAULTS + list(robot_args))
        settings = RobotSettings({k: v for k, v in options.items() if v not in (None, [])})
    except DataError as exc:
        raise RunError(str(exc).splitlines()[0]) from None
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise RunError(f"no suite file or folder {missing[0]}")
    return DEFAULTS + list(robot_args) + ([] if paths else list(default_paths)), settings


def run(robot_args: list[str], default_paths: list[str]) -> int:
    """Run Robot; the evidence goes to ``<output dir>/bench``.  Returns Robot's status."""
    import robot

    argv, settings = parse(robot_args, default_paths)
    out = Path(settings.output_directory)
    out.mkdir(parents=True, exist_ok=True)
    os.environ["HIL_WORKDIR"] = str((out / "bench").resolve())
    rc = robot.run_cli(argv, exit=False)
    written = [str(p) for p in (settings.report, settings.log, settings.output, settings.xunit)
               if p and Path(p).is_file()]
    if written:
        print("results: " + "  ".join(written))
    return rc
