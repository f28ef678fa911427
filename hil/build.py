"""``hil build``: generate the agent's protocol header and cross-compile firmware images.

* The protocol header ``agent_proto.h`` is generated from :mod:`hil.protocol.definition`
  into the build folder (rewritten only when its text changes).
* Sources are compiled one object each, in parallel, with dependency files: only what
  changed (a source, a header it includes, or the flags) is rebuilt.
* The link gives ``IMAGE.elf``; ``IMAGE.bin`` holds the flash contents with the LPC17xx
  "valid user code" checksum in vector word 7, so the file boots a real mbed.
* Build paths never enter the image (``-ffile-prefix-map``): the same sources give
  byte-identical images on any machine.

Toolchains: ``zig`` (the pinned ``ziglang`` wheel, no root needed; the default) or
``gcc`` (``arm-none-eabi-g++`` when it is installed).
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .protocol import codegen

REPO = Path(__file__).resolve().parent.parent
FIRMWARE = REPO / "firmware"
DEFAULT_BUILD_DIR = REPO / "build"
#: Build profiles (netcfg.h): "default" = the original's limits (netservices.md 6.4);
#: "large" = big windows for throughput (few connections fit the RAM);
#: "server" = the default's per-connection buffers with room for 10 connections.
PROFILES = {
    "default": [],
    "large": ["-DNETCFG_PROFILE_LARGE=1"],
    "server": ["-DNETCFG_TCP_PCBS=10", "-DNETCFG_TCP_LISTENERS=2"],
}

COMMON_FLAGS = [
    "-Os", "-g", "-ffreestanding", "-fno-exceptions", "-fno-unwind-tables",
    "-fno-asynchronous-unwind-tables", "-ffunction-sections", "-fdata-sections",
    "-fno-common", "-Wall", "-Wextra",
]
CXX_FLAGS = ["-std=c++17", "-fno-rtti", "-fno-threadsafe-statics", "-fno-use-cxa-atexit"]
C_FLAGS = ["-std=c11"]


class BuildError(Exception):
    """A build failed; the message is meant for the user as it is."""


@dataclass
class Toolchain:
    name: str
    cxx: list[str]
    cc: list[str]
    link_extra: list[str]

    @staticmethod
    def find(name: str = "zig") -> "Toolchain":
        if name == "zig":
            try:
                import ziglang  # noqa: F401  (the wheel ships the compiler binary)
            except ImportError:
                raise BuildError("the ziglang wheel is not installed: pip install ziglang==0.17.1")
            zig = Path(ziglang.__file__).parent / "zig"
            return Toolchain("zig", [str(zig), "c++"], [str(zig), "cc"], ["-lcompiler_rt"])
        if name == "gcc":
            gxx = shutil.which("arm-none-eabi-g++")
            if not gxx:
                raise BuildError("arm-none-eabi-g++ is not on PATH; use --toolchain zig")
            return Toolchain("gcc", [gxx], [shutil.which("arm-none-eabi-gcc") or gxx],
                             ["-lgcc"])
        raise BuildError(f"unknown toolchain {name!r} (zig or gcc)")


@dataclass
class ImageResult:
    name: str
    elf: Path
    bin: Path
    sizes: dict
    compiled: int
    up_to_date: bool


@dataclass
class Build:
    board: str = "lpc1768"
    profile: str = "default"
    toolchain: str = "zig"
    build_dir: Path = DEFAULT_BUILD_DIR
    jobs: int = max(1, os.cpu_count() or 1)
    verbose: bool = False
    log: callable = field(default=lambda msg: print(msg, file=sys.stderr))

    def __post_init__(self):
        self.board_dir = FIRMWARE / "boards" / self.board
        cfg = self.board_dir / "board.json"
        if not cfg.is_file():
            known = sorted(p.name for p in (FIRMWARE / "boards").iterdir()
                           if (p / "board.json").is_file())
            raise BuildError(f"unknown board {self.board!r} (known: {', '.join(known)})")
        self.board_cfg = json.loads(cfg.read_text())
        if self.profile not in PROFILES:
            raise BuildError(f"unknown profile {self.profile!r} (known: {', '.join(PROFILES)})")
        self.out = Path(self.build_dir) / self.board / self.profile
        self.images = {k: v for k, v in json.loads((FIRMWARE / "images.json").read_text()).items()
                       if not k.startswith("_")}

    # -- steps -----------------------------------------------------------------------------

    def generate(self) -> Path:
        """Write the generated headers; keep the file (and its mtime) if unchanged."""
        gen = self.out / "gen"
        gen.mkdir(parents=True, exist_ok=True)
        header = gen / "agent_proto.h"
        text = codegen.generate_header()
        if not header.is_file() or header.read_text() != text:
            header.write_text(text)
        return gen

    def sources(self, image: str) -> list[Path]:
        spec = self.images.get(image)
        if spec is None:
            raise BuildError(f"unknown image {image!r} (known: {', '.join(self.images)})")
        boards = spec.get("boards")
        if boards and self.board not in boards:
            raise BuildError(f"image {image!r} is not available for board {self.board!r}")
        dirs = [FIRMWARE / "rt", FIRMWARE / "net" / "src"]
        files: list[Path] = sorted(self.board_dir.glob("*.c*"))
        for d in dirs + [FIRMWARE / s.format(board=self.board) for s in spec["sources"]]:
            if not d.is_dir():
                raise BuildError(f"source folder {d.relative_to(REPO)} is missing")
            files += sorted(p for p in d.rglob("*") if p.suffix in (".c", ".cpp"))
        return files

    def flags(self, gen: Path) -> list[str]:
        return (list(self.board_cfg["cflags"]) + COMMON_FLAGS + PROFILES[self.profile] + [
            f"-ffile-prefix-map={self.out}=build",  # before REPO: the build dir may be inside it
            f"-ffile-prefix-map={REPO}=.",
            f"-I{FIRMWARE / 'include'}", f"-I{FIRMWARE / 'net' / 'include'}",
            f"-I{self.board_dir}", f"-I{gen}",
            f"-DBOARD_NAME=\"{self.board}\"",
        ])

    def _needs_compile(self, obj: Path, dep: Path, cmd_file: Path, cmd_hash: str) -> bool:
        if not obj.is_file() or not dep.is_file() or not cmd_file.is_file():
            return True
        if cmd_file.read_text() != cmd_hash:
            return True
        t = obj.stat().st_mtime_ns
        text = dep.read_text().replace("\\\n", " ")
        deps = text.split(":", 1)[1].split() if ":" in text else []
        for p in deps:
            try:
                if Path(p).stat().st_mtime_ns > t:
                    return True
            except FileNotFoundError:
                return True
        return False

    def compile(self, image: str, tc: Toolchain, gen: Path) -> tuple[list[Path], int]:
        sources = self.sources(image)  # validates the image name first
        flags = self.flags(gen)
        defines = self.images[image].get("defines", [])
        flags += [f"-D{d}" for d in defines]
        # Images with their own defines get their own objects; the rest share them.
        obj_root = self.out / ("obj-" + image if defines else "obj")
        jobs = []
        objs = []
        for src in sources:
            rel = src.relative_to(FIRMWARE)
            obj = obj_root / rel.with_suffix(rel.suffix + ".o")
            dep, cmd_file = obj.with_suffix(".d"), obj.with_suffix(".cmd")
            is_cpp = src.suffix == ".cpp"
            cmd = (tc.cxx if is_cpp else tc.cc) + flags + (CXX_FLAGS if is_cpp else C_FLAGS) + [
                "-MMD", "-MF", str(dep), "-c", str(src), "-o", str(obj)]
            cmd_hash = hashlib.sha256("\0".join(cmd).encode()).hexdigest()
            objs.append(obj)
            if self._needs_compile(obj, dep, cmd_file, cmd_hash):
                obj.parent.mkdir(parents=True, exist_ok=True)
                jobs.append((src, cmd, cmd_file, cmd_hash))

        def run(job):
            src, cmd, cmd_file, cmd_hash = job
            if self.verbose:
                self.log(" ".join(cmd))
            else:
                self.log(f"  CC  {src.relative_to(REPO)}")
            p = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
            if p.returncode != 0:
                return f"{src.relative_to(REPO)}:\n{p.stderr.strip()}"
            if p.stderr.strip() and self.verbose:
                self.log(p.stderr.strip())
            cmd_file.write_text(cmd_hash)
            return None

        with concurrent.futures.ThreadPoolExecutor(self.jobs) as pool:
            errors = [e for e in pool.map(run, jobs) if e]
        if errors:
            raise BuildError("compilation failed:\n" + "\n".join(errors))
        return objs, len(jobs)

    def link(self, image: str, objs: list[Path], tc: Toolchain, relinked: bool) -> Path:
        elf = self.out / f"{image}.elf"
        script = self.board_dir / self.board_cfg["linker_script"]
        newest = max([o.stat().st_mtime_ns for o in objs] + [script.stat().st_mtime_ns])
        if not relinked and elf.is_file() and elf.stat().st_mtime_ns >= newest:
            return elf
        cmd = tc.cxx + list(self.board_cfg["cflags"]) + [
            "-nostdlib", f"-Wl,--entry={self.board_cfg['entry']}", "-Wl,--gc-sections",
            "-Wl,--build-id=none", f"-T{script}", "-o", str(elf)] + [str(o) for o in objs] + tc.link_extra
        self.log(f"  LD  {elf.relative_to(REPO) if elf.is_relative_to(REPO) else elf}")
        p = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
        if p.returncode != 0:
            raise BuildError(f"link of {image} failed:\n{p.stderr.strip()}")
        return elf

    def build(self, image: str) -> ImageResult:
        tc = Toolchain.find(self.toolchain)
        gen = self.generate()
        objs, compiled = self.compile(image, tc, gen)
        elf_before = (self.out / f"{image}.elf")
        old = elf_before.stat().st_mtime_ns if elf_before.is_file() else None
        elf = self.link(image, objs, tc, relinked=compiled > 0)
        binf = elf.with_suffix(".bin")
        if old is None or elf.stat().st_mtime_ns != old or not binf.is_file():
            flash = elf_to_bin(elf)
            if self.board_cfg.get("checksum") == "lpc17xx-vector7":
                flash = lpc17xx_checksum(flash)
                patch_elf_word(elf, 0x1C, flash[0x1C:0x20])  # the ELF boots a board too
            binf.write_bytes(flash)
        sizes = size_report(elf)
        (self.out / f"{image}.size.json").write_text(json.dumps(sizes, indent=2) + "\n")
        return ImageResult(image, elf, binf, sizes, compiled,
                           up_to_date=(compiled == 0 and old == elf.stat().st_mtime_ns))


# -- image post-processing --------------------------------------------------------------------

FLASH_LIMIT = 0x10000000  # everything loaded below this address is flash on the LPC1768


def _load_elf(path: Path):
    from elftools.elf.elffile import ELFFile
    from elftools.common.exceptions import ELFError
    try:
        fh = open(path, "rb")
        return ELFFile(fh), fh
    except (ELFError, OSError) as exc:
        raise BuildError(f"{path}: not a readable ELF file ({exc})")


def elf_to_bin(path: Path) -> bytes:
    """Flash contents: every PT_LOAD segment placed by its physical (load) address."""
    elf, fh = _load_elf(path)
    with fh:
        chunks = []
        for seg in elf.iter_segments():
            if seg["p_type"] != "PT_LOAD" or seg["p_filesz"] == 0:
                continue
            if seg["p_paddr"] < FLASH_LIMIT:
                chunks.append((seg["p_paddr"], seg.data()))
    if not chunks:
        raise BuildError(f"{path}: no loadable flash segments")
    end = max(a + len(d) for a, d in chunks)
    out = bytearray(end)
    for addr, data in chunks:
        out[addr:addr + len(data)] = data
    return bytes(out)


def patch_elf_word(path: Path, addr: int, data: bytes) -> None:
    """Write ``data`` at load address ``addr`` inside the ELF file (keeps its mtime order)."""
    elf, fh = _load_elf(path)
    with fh:
        where = None
        for seg in elf.iter_segments():
            if (seg["p_type"] == "PT_LOAD" and seg["p_paddr"] <= addr
                    and addr + len(data) <= seg["p_paddr"] + seg["p_filesz"]):
                where = seg["p_offset"] + addr - seg["p_paddr"]
                break
    if where is None:
        raise BuildError(f"{path}: no loadable segment holds address 0x{addr:x}")
    st = path.stat()
    with open(path, "r+b") as f:
        f.seek(where)
        f.write(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def lpc17xx_checksum(flash: bytes) -> bytes:
    """Write vector word 7 so that words 0..7 sum to zero (the boot ROM's valid-code test)."""
    if len(flash) < 32:
        raise BuildError("image too small to hold a vector table")
    words = list(struct.unpack_from("<7I", flash))
    check = (-sum(words)) & 0xFFFFFFFF
    return flash[:28] + struct.pack("<I", check) + flash[32:]


def size_report(path: Path) -> dict:
    elf, fh = _load_elf(path)
    text = data = bss = ethram = heap = stack = 0
    with fh:
        for sec in elf.iter_sections():
            flags, addr, size = sec["sh_flags"], sec["sh_addr"], sec["sh_size"]
            if not flags & 0x2 or size == 0:  # SHF_ALLOC
                continue
            if sec.name == ".stack":
                stack += size
            elif sec["sh_type"] == "SHT_NOBITS":
                if 0x2007C000 <= addr < 0x20084000:
                    ethram += size
                else:
                    bss += size
            elif addr < FLASH_LIMIT:
                text += size
            else:
                data += size
    return {"flash_bytes": text + data, "flash_total": 512 * 1024,
            "ram_bytes": data + bss + stack, "ram_total": 32 * 1024, "stack": stack,
            "ahb_sram_bytes": ethram, "ahb_sram_total": 32 * 1024,
            "text": text, "data": data, "bss": bss}


def format_sizes(name: str, s: dict) -> str:
    def pct(a, b):
        return f"{a:>7} / {b:>6} B ({100 * a / b:4.1f}%)"
    return (f"{name}:\n"
            f"  flash     {pct(s['flash_bytes'], s['flash_total'])}\n"
            f"  RAM       {pct(s['ram_bytes'], s['ram_total'])}  (static, with a "
            f"{s.get('stack', 0)} B main stack; heap uses the rest)\n"
            f"  AHB SRAM  {pct(s['ahb_sram_bytes'], s['ahb_sram_total'])}  (static; heap uses the rest)")
