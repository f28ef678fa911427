"""Bench files are checked in full when loaded: one line naming the file, the target and
the key, and exit status 2 from `hil run`, `hil bench` and pytest before any test runs."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hil import drivers
from hil.bench import BenchConfig, BenchConfigError

HERE = Path(__file__).resolve().parent

GOOD = "{driver: emulated, image: agent, ip: 192.0.2.10, mac: 02:00:5e:00:00:10}"


def bench_file(tmp_path, targets: str, network: str = "") -> Path:
    f = tmp_path / "bench.yaml"
    f.write_text((f"network: {network}\n" if network else "") + f"targets:\n{targets}\n")
    return f


def test_default_bench_file_loads():
    cfg = BenchConfig.load()
    t = cfg.targets["board1"]
    assert (t.driver, t.board, t.image, str(t.ip)) == ("emulated", "lpc1768", "agent", "192.0.2.10")
    assert t.options() == {"idle": "realtime"}


def test_board_defaults_to_the_registry_default(tmp_path):
    cfg = BenchConfig.load(bench_file(tmp_path, f"  b: {GOOD}"))
    assert cfg.targets["b"].board == "lpc1768"


BAD = [
    # (targets, network, "key: message" after the file name)
    ("  b: {driver: emulated, image: agent, ip: 192.0.2.10, colour: red}", "",
     "targets.b.colour: unknown key (known: "),
    ("  b: {image: agent, ip: 192.0.2.10}", "",
     "targets.b.driver: missing"),
    ("  b: {driver: mbed, image: agent, ip: 192.0.2.10}", "",
     "targets.b.driver: unknown driver 'mbed' (known: emulated)"),
    ("  b: {driver: emulated, board: lpc9999, image: agent, ip: 192.0.2.10}", "",
     "targets.b.board: unknown board 'lpc9999' (known: lpc1768;"),
    ("  b: {driver: emulated, image: agent, ip: 192.0.2.300}", "",
     "targets.b.ip: '192.0.2.300': "),
    ("  b: {driver: emulated, image: agent, ip: 192.0.2.10, mac: 02:00:5e:00:00}", "",
     "targets.b.mac: '02:00:5e:00:00' is not a MAC address"),
    ("  b: {driver: emulated, image: agent, ip: 192.0.2.10, mac: 01:00:5e:00:00:10}", "",
     "targets.b.mac: 01:00:5e:00:00:10 is a multicast address"),
    (f"  b: {GOOD}", "{subnet: 192.0.2.0/33}",
     "network.subnet: '192.0.2.0/33': "),
    (f"  b: {GOOD}", "{subnet: 192.0.2.0/24, speed: 100}",
     "network.speed: unknown key (known: subnet, mtu)"),
    ("  b: {driver: emulated, image: agent, ip: 192.0.2.1}", "",
     "targets.b.ip: 192.0.2.1 is the bench host's own address"),
    ("  b: {driver: emulated, image: agent, ip: 10.0.0.1}", "",
     "targets.b.ip: 10.0.0.1 is outside the bench subnet 192.0.2.0/24"),
    (f"  a: {GOOD}\n  b: {{driver: emulated, image: agent, ip: 192.0.2.10}}", "",
     "targets.b.ip: 192.0.2.10 is already target a's address"),
    (f"  a: {GOOD}\n  b: {{driver: emulated, image: agent, ip: 192.0.2.11, mac: 02:00:5e:00:00:10}}",
     "", "targets.b.mac: 02:00:5e:00:00:10 is already target a's MAC"),
    ("  b: {driver: emulated, image: agent, ip: 192.0.2.10, idle: sometimes}", "",
     "targets.b.idle: 'sometimes': "),
    ("  b: {driver: emulated, image: nope, ip: 192.0.2.10}", "",
     "targets.b.image: unknown image 'nope'"),
    ("  b: {driver: emulated, image: agent, profile: huge, ip: 192.0.2.10}", "",
     "targets.b.profile: unknown profile 'huge'"),
    ("  b: [1, 2]", "", "targets.b: expected a mapping"),
]


@pytest.mark.parametrize("targets, network, message", BAD)
def test_a_bad_bench_file_is_one_line_naming_file_target_and_key(tmp_path, targets, network,
                                                                  message):
    f = bench_file(tmp_path, targets, network)
    with pytest.raises(BenchConfigError) as err:
        BenchConfig.load(f)
    text = str(err.value)
    assert text.startswith(f"{f}: {message}"), text
    assert "\n" not in text


def test_unreadable_and_broken_yaml(tmp_path):
    with pytest.raises(BenchConfigError, match="cannot read bench file"):
        BenchConfig.load(tmp_path / "absent.yaml")
    f = tmp_path / "b.yaml"
    f.write_text("targets: {b: [")
    with pytest.raises(BenchConfigError, match="not valid YAML") as err:
        BenchConfig.load(f)
    assert "\n" not in str(err.value)
    f.write_text("network: {}\n")
    with pytest.raises(BenchConfigError, match=r"b.yaml: targets: missing"):
        BenchConfig.load(f)


def test_the_registry_names_the_drivers():
    assert drivers.get("emulated") is drivers.BUILTIN["emulated"]
    with pytest.raises(drivers.BoardError, match="unknown driver 'qemu'"):
        drivers.get("qemu")


# -- before any test runs, exit status 2 ----------------------------------------------------

HOST_IP = "  board1: {driver: emulated, image: agent, ip: 192.0.2.1, mac: 02:00:5e:00:00:10}"
ERROR = "targets.board1.ip: 192.0.2.1 is the bench host's own address"


def run(args, cwd, timeout=120):
    env = {k: v for k, v in os.environ.items() if k not in ("HIL_BENCH", "HIL_WORKDIR")}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=timeout)


def test_hil_run_stops_before_any_test(tmp_path):
    bench_file(tmp_path, HOST_IP)
    p = run(["-m", "hil.cli", "run", "--bench", "bench.yaml", "--outputdir", "out"], tmp_path)
    assert p.returncode == 2, p.stdout[-2000:] + p.stderr
    assert p.stderr == f"hil: error: bench.yaml: {ERROR} (the subnet's first host); " \
                       "give the board another\n"
    assert not (tmp_path / "out" / "output.xml").exists()


def test_hil_bench_stops_before_measuring(tmp_path):
    bench_file(tmp_path, HOST_IP)
    p = run(["-m", "hil.cli", "bench", "--bench", "bench.yaml", "--json"], tmp_path)
    assert p.returncode == 2, p.stdout[-2000:] + p.stderr
    assert p.stderr.startswith(f"hil: error: bench.yaml: {ERROR}")
    assert p.stderr.count("\n") == 1 and p.stdout == ""


def test_pytest_plugin_stops_before_any_test(tmp_path):
    bench_file(tmp_path, HOST_IP)
    (tmp_path / "test_x.py").write_text("def test_x(board):\n    pass\n")
    p = run(["-m", "pytest", "-p", "no:cacheprovider", "--hil-bench", "bench.yaml",
             "test_x.py"], tmp_path)
    assert p.returncode == 2, p.stdout[-2000:] + p.stderr
    assert f"bench.yaml: {ERROR}" in p.stderr
    assert "test_x" not in p.stdout and "1 error" not in p.stdout
