"""The device network stack on the build machine: every C++ test case (tests/firmware/cpp)
runs as its own process under AddressSanitizer/UBSan, in both build profiles.

What the cases cover (see the sources for the crafted frames):
  test_api    enum values, IpAddr, Host copies/NULL names, NetService deferred deletion,
              default interface, lazy socket creation, every UDPSocketErr, second close,
              rebind/reuse after close, ephemeral ports, events only inside Net::poll,
              member vs function callback, resetOnEvent, Net::poll order, datagram boundaries.
  test_stack  gratuitous ARP, ARP request -> reply bytes, ARP resolution/queue/expiry/eviction,
              gateway routing, broadcast/multicast, ping -> echo reply, IP/UDP checksum drops,
              fragments, counters, runts, unknown EtherTypes, lying lengths, truncation at every
              length, a mutation fuzz run, receive budget, largest datagrams.
"""

import pytest

from .netbuild import PROFILES, PROGRAMS, case_names

CASES = [(prog, case) for prog in PROGRAMS for case in case_names(prog)]


@pytest.mark.parametrize("profile", list(PROFILES))
@pytest.mark.parametrize("program, case", CASES, ids=[f"{p}.{c}" for p, c in CASES])
def test_case(host_build, profile, program, case):
    p = host_build(profile).run(program, case)
    out = (p.stdout + p.stderr).strip()
    assert p.returncode == 0, f"{program} {case} ({profile} profile) failed:\n{out}"
    assert f"PASS {case}" in p.stdout, out


def test_cases_found():
    # The collection regex and the harness agree on the names.
    assert len(CASES) > 40
    assert len({c for _, c in CASES}) == len(CASES)
