"""A board whose image faults: the guest fault (kind, address, PC, registers) is in the
failure message, from the driver, the bench and ``hil emulate`` alike (issue 9, item 4)."""

import subprocess
import sys

import pytest

from hil import board_spec
from hil.drivers import BoardError, BoardState
from hil.drivers.emulated import EmulatedBoard
from tests.emulator.conftest import build_firmware


@pytest.fixture(scope="module")
def boot_fault_image():
    return build_firmware("testfw", defines=["TESTFW_BOOT_FAULT"], variant="bootfault")


def test_a_board_that_faults_at_boot_fails_with_the_fault(boot_fault_image, tmp_path):
    board = EmulatedBoard("b1", board_spec.load(board_spec.DEFAULT_BOARD), boot_fault_image,
                          tmp_path, boot_timeout=3, pcap=False)
    with pytest.raises(BoardError) as err:
        board.start()
    msg = str(err.value)
    assert "guest fault: unmapped read at 0x60000000" in msg and "pc=0x" in msg, msg
    assert "\n" not in msg
    assert board.state is BoardState.FAULTED
    # later uses say the same, not "not running" or a NoneType error
    with pytest.raises(BoardError, match="unmapped read at 0x60000000"):
        board.require_ready()
    board.stop()


def test_later_uses_of_a_bench_board_that_did_not_start_raise_the_cause(boot_fault_image,
                                                                        tmp_path):
    from hil.bench import Bench, BenchConfig

    bench_file = tmp_path / "bench.yaml"
    bench_file.write_text(
        "targets:\n"
        f"  board1: {{driver: emulated, image: {boot_fault_image}, ip: 192.0.2.10}}\n")
    bench = Bench(BenchConfig.load(bench_file), workdir=tmp_path / "w")
    try:
        for _ in range(2):           # the first test and every later one
            with pytest.raises(BoardError, match="unmapped read at 0x60000000"):
                bench.board("board1")
    finally:
        bench.stop()


def test_hil_emulate_of_a_faulting_image_is_one_line_and_status_2(boot_fault_image):
    res = subprocess.run([sys.executable, "-m", "hil.cli", "emulate", str(boot_fault_image)],
                         capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert res.returncode == 2, (res.returncode, res.stderr)
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("hil: ") and "guest fault: unmapped read at 0x60000000" in last, \
        res.stderr
