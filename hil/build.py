"""``hil build``: generate the agent's protocol header and cross-compile firmware images.

* The agent's protocol code (``agent_proto.h``, the handler declarations ``agent_handlers.h``
  and the request dispatch ``agent_dispatch.inc``) is generated from
  :mod:`hil.protocol.definition` into the build folder (each file rewritten only when its
  text changes).
* Sources are compiled one object each, in parallel, with dependency files: only what
  changed (a source, a header it includes, or the flags) is rebuilt.
* The link gives ``IMAGE.elf``; ``IMAGE.bin`` holds the flash contents with the boot ROM's
  checksum written as the board's ``board.json`` says (the LPC1768's "valid user code"
  word), so the file boots a real board.
* Every fact about the board (target flags, linker script, entry, checksum rule, memory
  regions for the size report) comes from ``firmware/boards/<board>/board.json``
  (:mod:`hil.board_spec`).
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

from . import board_spec
from .board_spec import BoardSpec, BoardSpecError, Region
from .paths import FIRMWARE, ROOT, default_build_dir
from .protocol import codegen

#: Older name for the folder that holds firmware/, fixtures/ and suites/ (:mod:`hil.paths`).
REPO = ROOT
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
    board: str = board_spec.DEFAULT_BOARD
    profile: str = "default"
    toolchain: str = "zig"
    build_dir: Path = field(default_factory=default_build_dir)
    jobs: int = max(1, os.cpu_count() or 1)
    verbose: bool = False
    log: callable = field(default=lambda msg: print(msg, file=sys.stderr))

    def __post_init__(self):
        try:
            self.spec: BoardSpec = board_spec.load(self.board)
        except BoardSpecError as exc:
            raise BuildError(str(exc)) from None
        self.board_dir = self.spec.dir
        if self.profile not in PROFILES:
            raise BuildError(f"unknown profile {self.profile!r} (known: {', '.join(PROFILES)})")
        self.out = Path(self.build_dir) / self.board / self.profile
        self.images = {k: v for k, v in json.loads((FIRMWARE / "images.json").read_text()).items()
                       if not k.startswith("_")}

    # -- steps -----------------------------------------------------------------------------

    def generate(self) -> Path:
        """Write the generated files (codegen.GENERATED); keep a file (and its mtime) if
        unchanged, so nothing that includes it is rebuilt."""
        gen = self.out / "gen"
        gen.mkdir(parents=True, exist_ok=True)
        for name, make in codegen.GENERATED.items():
            path = gen / name
            text = make()
            if not path.is_file() or path.read_text() != text:
                path.write_text(text)
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
                raise BuildError(f"source folder {_shown(d)} is missing")
            files += sorted(p for p in d.rglob("*") if p.suffix in (".c", ".cpp"))
        return files

    def flags(self, gen: Path | None = None) -> list[str]:
        """Every compile's flags: the board's target flags (board.json), the project's, the
        profile's, the include folders (and the generated files' folder ``gen``)."""
        return (list(self.spec.cflags) + COMMON_FLAGS + PROFILES[self.profile] + [
            f"-ffile-prefix-map={self.out}=build",  # before ROOT: the build dir may be inside it
            f"-ffile-prefix-map={ROOT}=.",
            # net/include: the NetServices API; net/internal: the stack's own headers (the
            # API's headers include some of them, so every user needs the path too).
            f"-I{FIRMWARE / 'include'}", f"-I{FIRMWARE / 'net' / 'include'}",
            f"-I{FIRMWARE / 'net' / 'internal'}",
            f"-I{self.board_dir}", *([f"-I{gen}"] if gen else []),
            f"-DBOARD_NAME=\"{self.board}\"",
        ])

    def compile_command(self, tc: Toolchain, src: Path, obj: Path, flags: list[str] | None = None,
                        extra: list[str] = ()) -> list[str]:
        """The compiler's command for one source, C or C++ by its suffix (``flags``: as
        :meth:`flags` gives them unless given)."""
        is_cpp = src.suffix == ".cpp"
        return ((tc.cxx if is_cpp else tc.cc) + (self.flags() if flags is None else flags)
                + (CXX_FLAGS if is_cpp else C_FLAGS) + list(extra)
                + ["-c", str(src), "-o", str(obj)])

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

    def compile(self, name: str, sources: list[Path], tc: Toolchain, gen: Path,
                defines: list[str] = ()) -> tuple[list[Path], int]:
        flags = self.flags(gen) + [f"-D{d}" for d in defines]
        # Images with their own defines get their own objects; the rest share them.
        obj_root = self.out / ("obj-" + name if defines else "obj")
        jobs = []
        objs = []
        for src in sources:
            obj = obj_root / _object_name(src)
            dep, cmd_file = obj.with_suffix(".d"), obj.with_suffix(".cmd")
            cmd = self.compile_command(tc, src, obj, flags, extra=["-MMD", "-MF", str(dep)])
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
                self.log(f"  CC  {_shown(src)}")
            p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
            if p.returncode != 0:
                return f"{_shown(src)}:\n{p.stderr.strip()}"
            if p.stderr.strip() and self.verbose:
                self.log(p.stderr.strip())
            cmd_file.write_text(cmd_hash)
            return None

        with concurrent.futures.ThreadPoolExecutor(self.jobs) as pool:
            errors = [e for e in pool.map(run, jobs) if e]
        if errors:
            raise BuildError("compilation failed:\n" + "\n".join(errors))
        return objs, len(jobs)

    def link(self, image: str, objs: list[Path], tc: Toolchain, relinked: bool,
             script: Path | None = None) -> Path:
        elf = self.out / f"{image}.elf"
        script = script or self.board_dir / self.spec.linker_script
        newest = max([o.stat().st_mtime_ns for o in objs] + [script.stat().st_mtime_ns])
        if not relinked and elf.is_file() and elf.stat().st_mtime_ns >= newest:
            return elf
        cmd = tc.cxx + list(self.spec.cflags) + [
            "-nostdlib", f"-Wl,--entry={self.spec.entry}", "-Wl,--gc-sections",
            "-Wl,--build-id=none", f"-T{script}", "-o", str(elf)] + [str(o) for o in objs] + tc.link_extra
        self.log(" ".join(cmd) if self.verbose else f"  LD  {_shown(elf)}")
        p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        if p.returncode != 0:
            raise BuildError(f"link of {image} failed:\n{p.stderr.strip()}")
        return elf

    def build(self, image: str) -> ImageResult:
        """Build ``image`` of firmware/images.json: its sources, firmware/rt, the stack and
        the board's own files."""
        sources = self.sources(image)  # validates the image name first
        return self.build_sources(image, sources, defines=self.images[image].get("defines", []))

    def build_sources(self, name: str, sources: list[Path], *, defines: list[str] = (),
                      linker_script: Path | None = None) -> ImageResult:
        """Build any C/C++ ``sources`` for the board into ``name.elf`` and ``name.bin`` in
        the build folder, as every image is built: the board's flags, link and boot
        checksum.  ``linker_script`` replaces the board's (test firmware brings its own);
        ``defines`` are ``-D`` values and give the build its own objects."""
        tc = Toolchain.find(self.toolchain)
        gen = self.generate()
        objs, compiled = self.compile(name, [Path(s) for s in sources], tc, gen, defines)
        elf_before = (self.out / f"{name}.elf")
        old = elf_before.stat().st_mtime_ns if elf_before.is_file() else None
        elf = self.link(name, objs, tc, relinked=compiled > 0,
                        script=Path(linker_script) if linker_script else None)
        binf = elf.with_suffix(".bin")
        if old is None or elf.stat().st_mtime_ns != old or not binf.is_file():
            flash_region = self.spec.flash
            flash = elf_to_bin(elf, flash_region)
            if self.spec.checksum:
                word = self.spec.checksum.word
                flash = vector_checksum(flash, word)
                patch_elf_word(elf, flash_region.origin + 4 * word,  # the ELF boots a board too
                               flash[4 * word:4 * word + 4])
            binf.write_bytes(flash)
        sizes = size_report(elf, self.spec)
        (self.out / f"{name}.size.json").write_text(json.dumps(sizes, indent=2) + "\n")
        return ImageResult(name, elf, binf, sizes, compiled,
                           up_to_date=(compiled == 0 and old == elf.stat().st_mtime_ns))


def _object_name(src: Path) -> Path:
    """Where ``src``'s object goes inside the object folder: its path under firmware/, or
    under ``_other/`` (with a hash of its folder) for sources elsewhere."""
    if src.is_relative_to(FIRMWARE):
        rel = src.relative_to(FIRMWARE)
    else:
        folder = hashlib.sha256(str(src.parent.resolve()).encode()).hexdigest()[:12]
        rel = Path("_other") / folder / src.name
    return rel.with_suffix(rel.suffix + ".o")


def _shown(path: Path) -> Path:
    """A path as the user should read it: relative to the checkout when it is inside it."""
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


# -- image post-processing --------------------------------------------------------------------


def _load_elf(path: Path):
    from elftools.elf.elffile import ELFFile
    from elftools.common.exceptions import ELFError
    try:
        fh = open(path, "rb")
        return ELFFile(fh), fh
    except (ELFError, OSError) as exc:
        raise BuildError(f"{path}: not a readable ELF file ({exc})")


def elf_to_bin(path: Path, flash: Region) -> bytes:
    """Flash contents from the start of ``flash``: every PT_LOAD segment loaded into it,
    placed by its physical (load) address."""
    elf, fh = _load_elf(path)
    with fh:
        chunks = []
        for seg in elf.iter_segments():
            if seg["p_type"] != "PT_LOAD" or seg["p_filesz"] == 0:
                continue
            if flash.holds(seg["p_paddr"]):
                chunks.append((seg["p_paddr"] - flash.origin, seg.data()))
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


def vector_checksum(flash: bytes, word: int) -> bytes:
    """Write vector word ``word`` so that words 0..``word`` sum to zero (the rule
    ``vector-sum-zero``: the LPC17xx boot ROM's valid user code test with ``word`` 7)."""
    end = 4 * (word + 1)
    if len(flash) < end:
        raise BuildError("image too small to hold a vector table")
    words = struct.unpack_from(f"<{word}I", flash)
    check = (-sum(words)) & 0xFFFFFFFF
    return flash[:end - 4] + struct.pack("<I", check) + flash[end:]


def size_report(path: Path, spec: BoardSpec) -> dict:
    """Bytes used per memory region of the board (statically: the heap takes the rest).
    Initialised data counts in its RAM region and, as its load image, in flash."""
    elf, fh = _load_elf(path)
    used = {r.name: 0 for r in spec.memory}
    text = data = bss = stack = 0
    stack_region = None
    flash = spec.flash
    with fh:
        for sec in elf.iter_sections():
            flags, addr, size = sec["sh_flags"], sec["sh_addr"], sec["sh_size"]
            region = spec.region_of(addr)
            if not flags & 0x2 or size == 0 or region is None:  # SHF_ALLOC
                continue
            used[region.name] += size
            if sec.name == ".stack":
                stack += size
                stack_region = region.name
            elif sec["sh_type"] == "SHT_NOBITS":
                bss += size
            elif region is flash:
                text += size
            else:
                data += size
                used[flash.name] += size
    return {"regions": {r.name: {"label": r.label, "kind": r.kind, "used": used[r.name],
                                 "total": r.size,
                                 **({"stack": stack} if r.name == stack_region else {})}
                        for r in spec.memory},
            "text": text, "data": data, "bss": bss, "stack": stack}


def format_sizes(name: str, s: dict) -> str:
    def pct(a, b):
        return f"{a:>7} / {b:>6} B ({100 * a / b:4.1f}%)"
    lines = [f"{name}:"]
    for r in s["regions"].values():
        line = f"  {r['label']:<9} {pct(r['used'], r['total'])}"
        if "stack" in r:
            line += f"  (static, with a {r['stack']} B main stack; heap uses the rest)"
        elif r["kind"] == "ram":
            line += "  (static; heap uses the rest)"
        lines.append(line)
    return "\n".join(lines)
