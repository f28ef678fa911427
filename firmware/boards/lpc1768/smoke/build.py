#!/usr/bin/env python3
"""Build the LPC1768 smoke image by hand (until/besides `hil build smoke`).

    .venv/bin/python firmware/boards/lpc1768/smoke/build.py [OUTDIR]

Compiles firmware/rt, the top level of firmware/boards/lpc1768 and this folder with the
project's flags, links with lpc1768.ld and writes OUTDIR/smoke.elf and OUTDIR/smoke.bin
(default OUTDIR: build/lpc1768/smoke-manual).  The .bin holds every PT_LOAD segment at its
physical (load) address, with vector word 7 set to the two's complement of the sum of
words 0..6 (the LPC17xx boot ROM's valid-user-code check); the same word is patched into
the ELF.  Paths are mapped with
-ffile-prefix-map, so the same sources give the same bytes anywhere.
"""
import struct
import subprocess
import sys
from pathlib import Path

from elftools.elf.elffile import ELFFile

REPO = Path(__file__).resolve().parents[4]
BOARD = REPO / "firmware" / "boards" / "lpc1768"
ZIG = [sys.executable, "-m", "ziglang"]

TARGET = ["-target", "thumb-freestanding-eabi", "-mcpu=cortex_m3", "-mthumb"]
COMMON = TARGET + [
    "-Os", "-ffreestanding", "-fno-exceptions", "-fno-unwind-tables",
    "-fno-asynchronous-unwind-tables", "-ffunction-sections", "-fdata-sections",
    "-Wall", "-Wextra", f"-ffile-prefix-map={REPO}=.",
    "-Ifirmware/include", f"-I{BOARD.relative_to(REPO)}",
]
CXX = ["-std=c++17", "-fno-rtti", "-fno-threadsafe-statics"]
CC = ["-std=c11"]


def sources():
    files = sorted(BOARD.glob("*.c*"))
    files += sorted(p for p in (REPO / "firmware" / "rt").rglob("*") if p.suffix in (".c", ".cpp"))
    files += sorted(p for p in (BOARD / "smoke").rglob("*") if p.suffix in (".c", ".cpp"))
    return files


def run(cmd):
    p = subprocess.run(cmd, cwd=REPO)
    if p.returncode:
        sys.exit(f"failed: {' '.join(map(str, cmd))}")


def elf_to_bin(elf_path: Path) -> bytes:
    with open(elf_path, "rb") as fh:
        elf = ELFFile(fh)
        chunks = [(s["p_paddr"], s.data()) for s in elf.iter_segments()
                  if s["p_type"] == "PT_LOAD" and s["p_filesz"] and s["p_paddr"] < 0x10000000]
    end = max(a + len(d) for a, d in chunks)
    out = bytearray(b"\xff" * end)
    for addr, data in chunks:
        out[addr:addr + len(data)] = data
    words = struct.unpack_from("<7I", out)
    struct.pack_into("<I", out, 28, (-sum(words)) & 0xFFFFFFFF)
    return bytes(out)


def patch_elf_checksum(elf_path: Path, word7: int) -> None:
    """Write the same vector word 7 into the ELF, so a debugger/emulator loading the ELF
    sees a bootable image too."""
    with open(elf_path, "r+b") as fh:
        elf = ELFFile(fh)
        for seg in elf.iter_segments():
            if seg["p_type"] == "PT_LOAD" and seg["p_paddr"] <= 28 < seg["p_paddr"] + seg["p_filesz"]:
                off = seg["p_offset"] + 28 - seg["p_paddr"]
                break
        else:
            sys.exit(f"{elf_path}: no segment holds the vector table")
        fh.seek(off)
        fh.write(struct.pack("<I", word7))


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "build" / "lpc1768" / "smoke-manual"
    out = out.resolve()
    (out / "obj").mkdir(parents=True, exist_ok=True)
    objs = []
    for src in sources():
        rel = src.relative_to(REPO)
        obj = out / "obj" / (str(rel).replace("/", "__") + ".o")
        lang = ZIG + (["c++"] + COMMON + CXX if src.suffix == ".cpp" else ["cc"] + COMMON + CC)
        run(lang + ["-c", str(rel), "-o", str(obj)])
        objs.append(str(obj))
    elf = out / "smoke.elf"
    run(ZIG + ["c++"] + TARGET + [
        "-nostdlib", "-Wl,--entry=Reset_Handler", "-Wl,--gc-sections", "-Wl,--build-id=none",
        f"-T{(BOARD / 'lpc1768.ld').relative_to(REPO)}", "-o", str(elf)] + objs + ["-lcompiler_rt"])
    binf = out / "smoke.bin"
    flash = elf_to_bin(elf)
    binf.write_bytes(flash)
    patch_elf_checksum(elf, struct.unpack_from("<I", flash, 28)[0])
    print(f"{elf}\n{binf} ({binf.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
