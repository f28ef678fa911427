"""The device network stack cross-compiles for the LPC1768 (Cortex-M3, freestanding, clang from
the pinned ziglang wheel) without a single warning, in both build profiles, and stays small."""

import subprocess

import pytest

from .netbuild import FIRMWARE, PROFILES, REPO

#: The board the stack is compiled for: its target flags come from its board.json, the rest
#: from hil.build, exactly as `hil build` compiles it.
BOARD = "lpc1768"
SOURCES = sorted((FIRMWARE / "net/src").glob("*.cpp"))

# Budgets for the whole stack (sum over its object files): code + constants in flash, and
# statically allocated RAM.  The frame buffers live inside the EthernetNetIf object (heap).
FLASH_BUDGET = 32 * 1024  # the whole stack incl. TCP, DNS, DHCP, IGMP
STATIC_RAM_BUDGET = 512


def section_sizes(obj):
    from elftools.elf.elffile import ELFFile

    sizes = {"flash": 0, "ram": 0}
    with open(obj, "rb") as f:
        for s in ELFFile(f).iter_sections():
            n = s.name
            if n.startswith((".text", ".rodata")):
                sizes["flash"] += s["sh_size"]
            elif n.startswith(".data"):
                sizes["flash"] += s["sh_size"]
                sizes["ram"] += s["sh_size"]
            elif n.startswith(".bss"):
                sizes["ram"] += s["sh_size"]
    return sizes


@pytest.fixture(scope="module", params=list(PROFILES))
def target_objects(request, tmp_path_factory):
    pytest.importorskip("ziglang")
    from hil.build import Build, Toolchain

    out = tmp_path_factory.mktemp(f"net-target-{request.param}")
    build = Build(board=BOARD, profile=request.param, build_dir=out)
    tc = Toolchain.find("zig")
    results = {}
    for src in SOURCES:
        obj = out / (src.stem + ".o")
        p = subprocess.run(build.compile_command(tc, src, obj), capture_output=True, text=True,
                           cwd=REPO)
        results[src.name] = (p, obj)
    return request.param, results


def test_compiles_warning_free(target_objects):
    profile, results = target_objects
    for name, (p, _) in results.items():
        assert p.returncode == 0, f"{name} ({profile}):\n{p.stderr}"
        assert "warning" not in p.stderr, f"{name} ({profile}):\n{p.stderr}"


def test_size_budget(target_objects):
    profile, results = target_objects
    total = {"flash": 0, "ram": 0}
    lines = []
    for name, (p, obj) in results.items():
        assert p.returncode == 0, p.stderr
        s = section_sizes(obj)
        lines.append(f"{name:24} flash {s['flash']:6}  static RAM {s['ram']:5}")
        for k in total:
            total[k] += s[k]
    print(f"\nnetwork stack, {profile} profile (-Os, before --gc-sections):")
    print("\n".join(lines))
    print(f"{'total':24} flash {total['flash']:6}  static RAM {total['ram']:5}")
    assert total["flash"] <= FLASH_BUDGET
    assert total["ram"] <= STATIC_RAM_BUDGET
