"""Control channel additions: run-time idle policy and wire-level frame injection."""

import time

from .test_process import READY


def test_idle_mode_switch_and_bad_values(emulator, testfw):
    emu = emulator(testfw)
    emu.read_until(READY)
    assert emu.control({"cmd": "idle", "mode": "skip", "grace_us": 100}) == {"ok": True, "mode": "skip"}
    t0 = emu.control({"cmd": "status"})["board_time_us"]
    time.sleep(0.2)
    skipped = emu.control({"cmd": "status"})["board_time_us"] - t0
    assert emu.control({"cmd": "idle", "mode": "realtime"})["ok"]
    bad = emu.control({"cmd": "idle", "mode": "fast"})
    assert not bad["ok"] and "realtime" in bad["error"]
    assert not emu.control({"cmd": "idle", "mode": "skip", "grace_us": -1})["ok"]
    assert skipped >= 150_000  # at least real time passed on the board


def test_inject_needs_hex_frame(emulator, testfw):
    emu = emulator(testfw)
    emu.read_until(READY)
    assert not emu.control({"cmd": "inject", "frame": "zz"})["ok"]
    assert not emu.control({"cmd": "inject", "frame": ""})["ok"]
    assert not emu.control({"cmd": "inject", "frame": "00", "fcs": "maybe"})["ok"]
