"""pytest plugin (entry point ``pytest11: hil``): the bench as fixtures.

Options (group ``hil``):
  --hil-bench FILE     bench file (default fixtures/benches/emulated.yaml, or $HIL_BENCH)
  --hil-workdir DIR    keep consoles, pcaps and emulator logs here (default: a temp dir)
  --hil-robot-path P   collect .robot files under P (repeatable; ini: hil_robot_paths)

Fixtures:
  hil_bench     session: the started :class:`hil.bench.Bench`
  board         the first target, started and with its network up
  udp_socket    factory: ``udp_socket()`` -> a board UDPSocket deleted after the test
  host_udp      factory: ``host_udp(port=0)`` -> a host UDP socket on the bench network

Robot suites run under pytest too: a ``.robot`` file named on the command line, or found
under the folders configured for the plugin (``--hil-robot-path PATH``, the ini option
``hil_robot_paths``, default the project's ``suites/``), becomes one pytest item per Robot
test case; other ``.robot`` files are left alone.  The file
runs once, in-process, through Robot Framework itself; each item reports its test's status
and message.  These items are marked ``hil`` and ``robot``.

Tests that need a board are marked ``hil``; ``-m "not hil"`` runs the rest alone.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from .bench import Bench, BenchConfig, BenchConfigError
from .paths import SUITES

_BENCH_KEY = pytest.StashKey[Bench]()
_CONFIG_KEY = pytest.StashKey[BenchConfig]()

_DEFAULT_ROBOT_PATH = SUITES


def pytest_addoption(parser):
    group = parser.getgroup("hil", "hardware-in-the-loop bench")
    group.addoption("--hil-bench", default=os.environ.get("HIL_BENCH"),
                    help="bench file (default: fixtures/benches/emulated.yaml)")
    group.addoption("--hil-workdir", default=os.environ.get("HIL_WORKDIR"),
                    help="folder for consoles, pcaps and emulator logs")
    group.addoption("--hil-robot-path", action="append", default=[], metavar="PATH",
                    help="collect the .robot files under PATH (repeatable; default: the "
                         "hil_robot_paths ini option, else the project's suites/)")
    parser.addini("hil_robot_paths", type="paths",
                  help="folders whose .robot files become pytest items (default: the "
                       "project's suites/)")


def pytest_configure(config):
    config.addinivalue_line("markers", "hil: the test needs a board on the bench")
    config.addinivalue_line("markers", "robot: a Robot Framework test case run through pytest")
    # The bench file is checked now, before any test: a bad one is one line and exit
    # status 2 (as from `hil run`), not the same error in every test that needs a board.
    try:
        config.stash[_CONFIG_KEY] = BenchConfig.load(config.getoption("--hil-bench"))
    except BenchConfigError as exc:
        raise pytest.exit(f"hil: error: {exc}", returncode=2) from None


# -- Robot suites as pytest items -----------------------------------------------------------

def pytest_collect_file(parent, file_path):
    # Only the configured folders, or a file named on the command line: another project's
    # .robot files in the same environment are not ours to run.
    if file_path.suffix == ".robot" and _is_robot_path(parent.config, file_path):
        return RobotFile.from_parent(parent, path=file_path)
    return None


def _robot_paths(config) -> list[Path]:
    given = config.getoption("--hil-robot-path")
    if given:
        return [(config.invocation_params.dir / p).resolve() for p in given]
    return [Path(p).resolve() for p in config.getini("hil_robot_paths")] or [_DEFAULT_ROBOT_PATH.resolve()]


def _is_robot_path(config, file_path: Path) -> bool:
    path = file_path.resolve()
    named = {(config.invocation_params.dir / a.split("::")[0]).resolve() for a in config.args}
    return path in named or any(path.is_relative_to(p) for p in _robot_paths(config))


class RobotFile(pytest.File):
    """One .robot file: collected into its test cases, run once when the first one runs."""

    def collect(self):
        from robot.api import TestSuiteBuilder

        try:
            suite = TestSuiteBuilder().build(str(self.path))
        except Exception as exc:  # noqa: BLE001 - a broken file is one collection error
            raise self.CollectError(f"{self.path}: {exc}") from None
        for test in suite.all_tests:
            item = RobotItem.from_parent(self, name=test.name)
            item.add_marker("hil")
            item.add_marker("robot")
            for tag in test.tags:
                item.user_properties.append(("robot_tag", str(tag)))
            yield item

    def results(self) -> dict:
        if not hasattr(self, "_results"):
            self._results = self._run()
        return self._results

    def _run(self) -> dict:
        import robot
        from robot.api import ExecutionResult

        config = self.config
        workdir = Path(config.getoption("--hil-workdir") or
                       config._tmp_path_factory.mktemp("robot"))  # noqa: SLF001
        out = workdir / self.path.stem
        out.mkdir(parents=True, exist_ok=True)
        env = {"HIL_WORKDIR": str(out / "bench")}
        if config.getoption("--hil-bench"):
            env["HIL_BENCH"] = str(Path(config.getoption("--hil-bench")).resolve())
        old = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            robot.run(str(self.path), outputdir=str(out), output="output.xml", log="log.html",
                      report="NONE", console="none")
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        result = ExecutionResult(str(out / "output.xml"))
        found = {t.name: (t.status, t.message) for t in result.suite.all_tests}
        found["__log__"] = str(out / "log.html")
        return found


class RobotItem(pytest.Item):
    def runtest(self):
        results = self.parent.results()
        status, message = results.get(self.name, ("FAIL", "the test did not run"))
        if status == "SKIP":
            pytest.skip(message or "skipped by Robot")
        if status != "PASS":
            raise RobotTestFailed(f"{message}\n(Robot log: {results['__log__']})")

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, RobotTestFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"robot: {self.name}"


class RobotTestFailed(Exception):
    pass


@pytest.fixture(scope="session")
def hil_bench(request):
    """The started :class:`hil.bench.Bench` for the session (``--hil-bench``; network up,
    boards started on first use), stopped after the last test."""
    cfg = request.config.stash[_CONFIG_KEY]
    workdir = request.config.getoption("--hil-workdir")
    bench = Bench(cfg, workdir=Path(workdir) if workdir else None)
    request.config.stash[_BENCH_KEY] = bench
    bench.start()
    yield bench
    bench.stop(failed=request.session.testsfailed > 0)


@pytest.fixture
def board(hil_bench, request):
    """The bench's first target, started, with its network up.  When the test fails, the
    paths of its evidence (console log, emulator log, pcap) are added to the report."""
    b = hil_bench.board()
    yield b
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        for kind, path in b.evidence().items():
            request.node.add_report_section("call", f"evidence {kind}", str(path))


@pytest.fixture
def udp_socket(board):
    """Factory: ``udp_socket(callback=CallbackMode.MEMBER)`` -> a ``UDPSocket`` on the board
    (``callback=None``: no ``setOnEvent``); every socket made is deleted after the test."""
    from .agent.udp import CallbackMode, UDPSocket

    made = []

    def make(callback: CallbackMode | None = CallbackMode.MEMBER):
        s = UDPSocket(board.require_ready())
        made.append(s)
        if callback is not None:
            s.set_on_event(callback)
        return s

    yield make
    for s in made:
        try:
            s.delete()
        except Exception:  # noqa: BLE001 - the board may have been reset by the test
            pass


@pytest.fixture
def host_udp(hil_bench):
    """Factory: ``host_udp(port=0, timeout=2.0)`` -> a UDP socket bound on the bench host's
    address inside the bench network; closed after the test."""
    made = []

    def make(port: int = 0, timeout: float = 2.0) -> socket.socket:
        s = hil_bench.net.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((hil_bench.host_ip, port))
        s.settimeout(timeout)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    if rep.when == "call":
        item.rep_call = rep
    return rep
