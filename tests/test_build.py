"""`hil build`: generated header, checksum, incremental rebuilds, reproducible images."""

import os
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hil import board_spec
from hil.build import Build, BuildError, vector_checksum
from hil.paths import FIRMWARE, ROOT
from hil.protocol import codegen


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    b = Build(build_dir=out, log=lambda m: None)
    return b, b.build("agent")


def test_bin_carries_valid_user_code_checksum(built):
    _, r = built
    words = struct.unpack_from("<8I", r.bin.read_bytes())
    assert sum(words) & 0xFFFFFFFF == 0
    assert words[0] & 0xFFFF0000 == 0x10000000, "initial SP in local SRAM"
    assert words[1] & 1, "reset vector is a Thumb address"


def test_elf_carries_the_same_checksum(built):
    from hil.build import elf_to_bin
    _, r = built
    assert elf_to_bin(r.elf, board_spec.load("lpc1768").flash)[:32] == r.bin.read_bytes()[:32]


def test_checksum_function():
    flash = struct.pack("<8I", 0x10008000, 0x101, 0x201, 0x301, 0x401, 0x501, 0x601, 0xDEAD)
    words = struct.unpack_from("<8I", vector_checksum(flash, 7))
    assert sum(words) & 0xFFFFFFFF == 0


def test_generated_header_matches_definition(built):
    b, _ = built
    assert (b.out / "gen" / "agent_proto.h").read_text() == codegen.generate_header()


def test_generated_dispatch_is_up_to_date(built):
    """The build writes every generated file (the handler declarations and the dispatch
    included by firmware/agent/dispatch.cpp), as the definition gives it now."""
    b, _ = built
    assert set(codegen.GENERATED) == {"agent_proto.h", "agent_handlers.h", "agent_dispatch.inc"}
    for name, make in codegen.GENERATED.items():
        assert (b.out / "gen" / name).read_text() == make(), name


def test_second_build_compiles_nothing_and_touch_rebuilds_one(built):
    b, first = built
    again = b.build("agent")
    assert again.compiled == 0 and again.up_to_date
    src = FIRMWARE / "agent" / "framing.cpp"
    st = src.stat()
    os.utime(src, ns=(st.st_atime_ns, time.time_ns() + 10_000_000_000))  # newer than any object
    try:
        third = b.build("agent")
    finally:
        os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert third.compiled == 1
    assert third.bin.read_bytes() == first.bin.read_bytes()


def test_images_are_reproducible_across_build_folders(built, tmp_path):
    _, first = built
    other = Build(build_dir=tmp_path / "elsewhere", log=lambda m: None).build("agent")
    assert other.bin.read_bytes() == first.bin.read_bytes()
    assert other.elf.read_bytes() == first.elf.read_bytes()


def test_size_report_is_within_the_part(built):
    _, r = built
    regions = r.sizes["regions"]
    assert list(regions) == ["flash", "ram", "ahb_sram"]   # as board.json lists them
    for name in ("flash", "ram"):
        assert 0 < regions[name]["used"] <= regions[name]["total"]
    assert regions["flash"]["total"] == 512 * 1024
    assert regions["ram"]["stack"] > 0


def test_unknown_image_and_board_are_clear_errors(tmp_path):
    with pytest.raises(BuildError, match="unknown image 'nope'"):
        Build(build_dir=tmp_path, log=lambda m: None).build("nope")
    with pytest.raises(BuildError, match="unknown board"):
        Build(board="lpc9999", build_dir=tmp_path)


def test_cli_reports_a_compile_error_in_one_message(tmp_path):
    p = subprocess.run([sys.executable, "-m", "hil.cli", "build", "nope"], capture_output=True,
                       text=True, cwd=ROOT)
    assert p.returncode == 2
    assert p.stderr.startswith("hil: error: unknown image") and "Traceback" not in p.stderr
