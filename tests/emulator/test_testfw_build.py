"""The emulator's test firmware is built by hil.build, with the board's flags and checksum
from board.json: the tests hold no second copy of either."""

import struct

from hil import board_spec
from hil.build import elf_to_bin

from .conftest import BOARD, build_into


def test_test_firmware_uses_board_json_flags_and_checksum(tmp_path):
    spec = board_spec.load(BOARD)
    lines = []
    r = build_into(tmp_path, "testfw", ["testfw.c"], verbose=True, log=lines.append)
    commands = [line.split() for line in lines if "-o" in line.split()]
    assert [c for c in commands if "-c" in c] and [c for c in commands if "-c" not in c], lines
    n = len(spec.cflags)
    for cmd in commands:  # the compile and the link alike
        assert any(cmd[i:i + n] == spec.cflags for i in range(len(cmd))), cmd
    word = spec.checksum.word
    for image in (r.bin.read_bytes(), elf_to_bin(r.elf, spec.flash)):  # the ELF boots too
        assert sum(struct.unpack_from(f"<{word + 1}I", image)) & 0xFFFFFFFF == 0
