"""Guest faults as a Cortex-M3 takes them: escalation to the image's HardFault handler with
the fault status registers set and the standard exception frame; lock-up (exit status 3,
one line) when the handler itself faults; an image without a HardFault handler is
reported at once (test_process.py)."""

import re

CFSR_IACCVIOL = 1 << 0
CFSR_PRECISERR = 1 << 9
CFSR_BFARVALID = 1 << 15
CFSR_UNDEFINSTR = 1 << 16
HFSR_FORCED = 1 << 30

READY = b"READY\n"


def _report(emu, command, until=b"\n"):
    """Send *command*; parse the handler's "H=CFSR,HFSR,MMFAR,BFAR,PC,xPSR" line (read up
    to *until*)."""
    line = emu.command(command, until).decode()
    m = re.search(r"H=([0-9a-f]{8}),([0-9a-f]{8}),([0-9a-f]{8}),([0-9a-f]{8}),"
                  r"([0-9a-f]{8}),([0-9a-f]{8})\n", line)
    assert m, line
    return dict(zip(("cfsr", "hfsr", "mmfar", "bfar", "pc", "xpsr"),
                    (int(g, 16) for g in m.groups())))


def _addresses(emu):
    line = emu.command(b"!a", b"\n").decode()
    load, udf = re.search(r"A=([0-9a-f]{8}),([0-9a-f]{8})", line).groups()
    return int(load, 16), int(udf, 16)


def test_bus_fault_vectors_to_the_hardfault_handler(emulator, testfw_hardfault):
    emu = emulator(testfw_hardfault)
    emu.read_until(READY)
    fault_load, _ = _addresses(emu)
    h = _report(emu, b"!f", until=b"F\n")             # returned past it and went on
    assert h["cfsr"] == CFSR_PRECISERR | CFSR_BFARVALID, hex(h["cfsr"])
    assert h["hfsr"] == HFSR_FORCED, hex(h["hfsr"])
    assert h["bfar"] == 0x60000000
    assert h["pc"] == fault_load                          # the faulting instruction
    assert h["xpsr"] & (1 << 24) and h["xpsr"] & 0x1FF == 0   # Thumb, thread mode
    assert emu.command(b"alive", b"alive") == b"alive"
    st = emu.control({"cmd": "status"})
    assert st["ok"] and "fault" not in st and st["state"] in ("running", "idle")
    assert "unmapped read at 0x60000000" in st["last_fault"]


def test_usage_fault_vectors_to_the_hardfault_handler(emulator, testfw_hardfault):
    emu = emulator(testfw_hardfault)
    emu.read_until(READY)
    _, fault_udf = _addresses(emu)
    h = _report(emu, b"!u", until=b"U\n")
    assert h["cfsr"] == CFSR_UNDEFINSTR and h["hfsr"] == HFSR_FORCED
    assert h["pc"] == fault_udf
    # the handler cleared the status registers (write one to clear): a second fault
    # shows only its own bits
    h = _report(emu, b"!f", until=b"F\n")
    assert h["cfsr"] == CFSR_PRECISERR | CFSR_BFARVALID


def test_a_fault_in_the_hardfault_handler_is_lock_up(emulator, testfw_hardfault):
    emu = emulator(testfw_hardfault)
    emu.read_until(READY)
    h = _report(emu, b"!h")
    assert h["bfar"] == 0x60000000
    code, err = emu.wait()
    assert code == 3, err
    lines = [ln for ln in err.splitlines() if "guest fault" in ln]
    assert len(lines) == 1, err
    assert "lock-up" in lines[0] and "unmapped read at 0x60000004" in lines[0], lines[0]
    assert "pc=0x" in lines[0]


def test_lock_up_is_in_the_status_when_halted(emulator, testfw_hardfault):
    emu = emulator(testfw_hardfault, "--on-fault", "halt")
    emu.read_until(READY)
    _report(emu, b"!h")
    st = emu.control({"cmd": "status"})
    assert st["state"] == "locked up" and "lock-up" in st["fault"]
