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


def test_smoke_image_is_built_like_every_image(tmp_path):
    """The bring-up image has no build script of its own: `hil build smoke` builds it, with
    the board's checksum in the .bin."""
    r = Build(build_dir=tmp_path, log=lambda m: None).build("smoke")
    assert sum(struct.unpack_from("<8I", r.bin.read_bytes())) & 0xFFFFFFFF == 0
    assert not [p for p in FIRMWARE.rglob("*.py")], "a build script under firmware/"


def test_build_sources_builds_any_sources_with_the_boards_flags(tmp_path):
    """Sources outside firmware/ (test firmware) go through the same compile, link and
    checksum; every command carries board.json's target flags, verbatim and in order."""
    spec = board_spec.load("lpc1768")
    src = tmp_path / "mini.c"
    src.write_text("void Reset_Handler(void) { for (;;) {} }\n"
                   "__attribute__((section(\".isr_vector\"), used))\n"
                   "void (*const vectors[16])(void) = {(void (*)(void))0x10008000, Reset_Handler};\n")
    lines = []
    r = Build(build_dir=tmp_path / "out", verbose=True, log=lines.append).build_sources(
        "mini", [src], defines=["MINI=1"])
    commands = [line.split() for line in lines if "-o" in line.split()]
    assert len(commands) == 2, lines  # one compile, one link
    n = len(spec.cflags)
    for cmd in commands:
        assert any(cmd[i:i + n] == spec.cflags for i in range(len(cmd))), cmd
    assert "-DMINI=1" in commands[0]
    words = struct.unpack_from(f"<{spec.checksum.word + 1}I", r.bin.read_bytes())
    assert sum(words) & 0xFFFFFFFF == 0


def test_target_flags_are_written_only_in_board_json():
    """One source of the target flags: no Python file of hil/, tests/ or firmware/ spells a
    board's CPU or target triple (they read board.json through hil.build)."""
    facts = {f for name in board_spec.known_boards() for f in board_spec.load(name).cflags
             if f.startswith(("-mcpu=", "-march=")) or "-eabi" in f}
    assert facts
    found = [f"{p.relative_to(ROOT)}: {fact}"
             for top in ("hil", "tests", "firmware") for p in (ROOT / top).rglob("*.py")
             for fact in facts if fact in p.read_text()]
    assert not found, "target flags outside board.json:\n" + "\n".join(found)
