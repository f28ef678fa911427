"""Helpers of tests/firmware: builds the device network stack for the build machine: firmware/net/src + the "host" board
(firmware/boards/host) + the C++ test programs of tests/firmware/cpp, with g++ and
AddressSanitizer/UBSan, once per profile and session."""

from __future__ import annotations

import concurrent.futures
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIRMWARE = REPO / "firmware"
CPP = Path(__file__).resolve().parent / "cpp"
PROFILES = {"default": [], "large": ["-DNETCFG_PROFILE_LARGE=1"]}
PROGRAMS = ["test_api", "test_stack", "test_tcp", "test_echo", "test_dns", "test_dhcp", "fuzz_parsers", "test_mcast", "test_frag", "test_netservice"]

HOST_FLAGS = [
    "-std=c++17", "-g", "-O1", "-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
    "-fno-omit-frame-pointer", "-Wall", "-Wextra", "-Werror",
    f"-I{FIRMWARE / 'net/include'}", f"-I{FIRMWARE / 'net/internal'}",
    f"-I{FIRMWARE / 'boards/host'}",
    # board.h lives next to the freestanding libc headers; -idirafter keeps the host's own
    # <string.h>, <stdlib.h> and <new> in front of them.
    f"-idirafter{FIRMWARE / 'include'}",
]


def case_names(program: str) -> list[str]:
    """TEST(name) entries of a test program, read from its source (cheap at collection time)."""
    text = (CPP / f"{program}.cpp").read_text()
    return re.findall(r"^TEST\((\w+)\)", text, flags=re.M)


def _compile(args):
    src, obj, flags = args
    p = subprocess.run(["g++", *flags, "-c", str(src), "-o", str(obj)], capture_output=True,
                       text=True)
    return src, p


class HostBuild:
    def __init__(self, root: Path, profile: str):
        self.root = root
        self.profile = profile
        self.programs: dict[str, Path] = {}

    def build(self):
        flags = HOST_FLAGS + PROFILES[self.profile]
        sources = sorted((FIRMWARE / "net/src").glob("*.cpp")) + [
            FIRMWARE / "boards/host/board.cpp", CPP / "testlib.cpp"] + [
            CPP / f"{p}.cpp" for p in PROGRAMS]
        jobs = [(s, self.root / (s.parent.name + "_" + s.stem + ".o"), flags) for s in sources]
        with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
            for src, p in ex.map(_compile, jobs):
                if p.returncode != 0:
                    pytest.fail(f"g++ failed on {src.relative_to(REPO)}:\n{p.stderr}", pytrace=False)
        objs = {j[0].stem: j[1] for j in jobs}
        common = [o for s, o in objs.items() if s not in PROGRAMS]
        for prog in PROGRAMS:
            exe = self.root / prog
            p = subprocess.run(["g++", "-fsanitize=address,undefined", *map(str, common),
                                str(objs[prog]), "-o", str(exe)], capture_output=True, text=True)
            if p.returncode != 0:
                pytest.fail(f"link of {prog} failed:\n{p.stderr}", pytrace=False)
            self.programs[prog] = exe
        return self

    def run(self, program: str, case: str) -> subprocess.CompletedProcess:
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0",
                   UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
        return subprocess.run([str(self.programs[program]), case], capture_output=True,
                              text=True, timeout=120, env=env)


