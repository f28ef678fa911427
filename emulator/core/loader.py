"""Firmware image loading: ELF (PT_LOAD segments placed by physical address) or raw .bin.

lld pads segments to 64 KiB in the file, so the file layout is irrelevant: each PT_LOAD
segment's p_filesz bytes go to p_paddr (its load address, e.g. .data's copy in flash).
A raw binary is loaded at address 0.  Errors raise :class:`ImageError` with a message
fit for one line on stderr.
"""

import os
import struct


class ImageError(Exception):
    """The image cannot be used (missing, empty, corrupt, too big, no vectors)."""


class Image:
    """Loaded chunks [(address, bytes)] plus the first 8 vector words."""

    def __init__(self, path, chunks, kind):
        self.path = path
        self.chunks = chunks
        self.kind = kind

    def vectors(self):
        for addr, data in self.chunks:
            if addr == 0 and len(data) >= 32:
                return struct.unpack_from("<8I", data, 0)
        raise ImageError(f"{self.path}: no vector table at address 0")


def load_image(path, regions):
    """Read *path*; *regions* = [(name, base, size)] of memory that may receive bytes."""
    try:
        with open(path, "rb") as f:
            blob = f.read()
    except FileNotFoundError:
        raise ImageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImageError(f"{path}: is a directory") from None
    except OSError as e:
        raise ImageError(f"{path}: cannot read ({e.strerror})") from None
    if not blob:
        raise ImageError(f"{path}: empty file")
    if blob[:4] == b"\x7fELF":
        chunks = _elf_chunks(path, blob)
        kind = "elf"
    else:
        if path.lower().endswith((".elf", ".axf", ".out")):
            raise ImageError(f"{path}: not an ELF file (bad magic)")
        chunks = [(0, blob)]
        kind = "bin"
    for addr, data in chunks:
        if not _fits(addr, len(data), regions):
            where = _region_at(addr, regions)
            if where is not None:
                name, base, size = where
                raise ImageError(f"{path}: {len(data)} bytes at 0x{addr:08X} do not fit in "
                                 f"{name} ({size // 1024} KiB at 0x{base:08X})")
            raise ImageError(f"{path}: segment at 0x{addr:08X} lies outside flash and RAM")
    image = Image(path, chunks, kind)
    _check_vectors(image, regions)
    return image


def _elf_chunks(path, blob):
    from io import BytesIO

    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        elf = ELFFile(BytesIO(blob))
        if elf["e_machine"] != "EM_ARM":
            raise ImageError(f"{path}: ELF for {elf['e_machine']}, not ARM")
        if elf.elfclass != 32 or not elf.little_endian:
            raise ImageError(f"{path}: not a 32-bit little-endian ARM ELF")
        chunks = []
        for seg in elf.iter_segments():
            if seg["p_type"] != "PT_LOAD" or seg["p_filesz"] == 0:
                continue
            data = seg.data()
            if len(data) != seg["p_filesz"]:
                raise ImageError(f"{path}: truncated ELF segment at 0x{seg['p_paddr']:08X}")
            chunks.append((seg["p_paddr"], data))
    except ImageError:
        raise
    except (ELFError, struct.error, ValueError, KeyError) as e:
        raise ImageError(f"{path}: corrupt ELF ({e})") from None
    if not chunks:
        raise ImageError(f"{path}: ELF has no loadable segments")
    chunks.sort()
    # merge chunks that touch so the vector table check sees one block at 0
    merged = []
    for addr, data in chunks:
        if merged and merged[-1][0] + len(merged[-1][1]) == addr:
            merged[-1] = (merged[-1][0], merged[-1][1] + data)
        else:
            merged.append((addr, data))
    return merged


def _region_at(addr, regions):
    for name, base, size in regions:
        if base <= addr < base + size:
            return name, base, size
    return None


def _fits(addr, length, regions):
    where = _region_at(addr, regions)
    return where is not None and addr + length <= where[1] + where[2]


def _check_vectors(image, regions):
    words = image.vectors()
    sp, reset = words[0], words[1]
    if not reset & 1:
        raise ImageError(f"{image.path}: reset vector 0x{reset:08X} is not a Thumb address "
                         "(no vector table?)")
    if _region_at(reset & ~1, regions) is None:
        raise ImageError(f"{image.path}: reset vector 0x{reset:08X} points outside memory "
                         "(no vector table?)")
    if _region_at((sp - 4) & 0xFFFFFFFF, regions) is None:
        raise ImageError(f"{image.path}: initial stack pointer 0x{sp:08X} is not in RAM "
                         "(no vector table?)")


def lpc17xx_checksum_ok(words):
    """Reference 9.4: the sum of vector words 0..7 must be 0 mod 2**32."""
    return sum(words[:8]) & 0xFFFFFFFF == 0


def image_size(path):
    return os.path.getsize(path)
