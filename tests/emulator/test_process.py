"""End-to-end tests: the emulator as its own process running the C test firmware."""

import os
import re
import signal
import socket
import struct
import time

import pytest

from emulator.core.pcap import read_pcap

READY = b"READY\n"


def _number(reply, key):
    m = re.search(key.encode() + rb"=([0-9a-f,]+)\n", reply)
    assert m, reply
    return m.group(1).decode()


def test_uart_echo_through_pty(emulator, testfw):
    emu = emulator(testfw)
    assert emu.info["serial"].startswith("/dev/pts/")
    assert emu.info["pid"] == emu.proc.pid
    emu.read_until(READY)
    assert emu.command(b"hello, board", b"board") == b"hello, board"
    st = emu.control({"cmd": "status"})
    assert st["uart"]["rx_bytes"] == len(b"hello, board")
    assert st["uart"]["tx_bytes"] == len(READY) + len(b"hello, board")


def test_leds_visible_in_status(emulator, testfw):
    emu = emulator(testfw)
    emu.read_until(READY)
    assert emu.control({"cmd": "status"})["leds"] == [True, False, True, False]
    emu.command(b"!l9", b"L\n")                 # LED1 + LED4
    assert emu.control({"cmd": "leds"}) == {"ok": True, "leds": [True, False, False, True]}


def test_pll_gives_96mhz(emulator, testfw):
    emu = emulator(testfw)
    emu.read_until(READY)
    assert emu.control({"cmd": "status"})["cclk_hz"] == 96_000_000


def test_timer3_counts_at_1mhz(emulator, testfw):
    emu = emulator(testfw)
    emu.read_until(READY)
    t_a = time.monotonic()
    a = int(_number(emu.command(b"!t"), "T"))
    time.sleep(0.3)
    t_b = time.monotonic()
    b = int(_number(emu.command(b"!t"), "T"))
    wall_us = (t_b - t_a) * 1e6
    assert abs((b - a) - wall_us) < 30_000, (a, b, wall_us)


def test_wfi_wakes_on_timer_match_and_idles(emulator, testfw):
    emu = emulator(testfw)
    emu.read_until(READY)
    t0 = time.monotonic()
    waited = int(_number(emu.command(b"!w"), "W"))
    elapsed = time.monotonic() - t0
    assert 20_000 <= waited < 25_000
    assert 0.019 < elapsed < 0.2
    # idle guest (WFI, no deadline): almost no CPU used.  The reply leaves the UART a
    # moment before the guest reaches its WFI, so give it that moment.
    for _ in range(50):
        st = emu.control({"cmd": "status"})
        if st["state"] == "idle":
            break
        time.sleep(0.01)
    assert st["state"] == "idle"
    before = _cpu_seconds(emu.proc.pid)
    time.sleep(0.5)
    used = _cpu_seconds(emu.proc.pid) - before
    assert used < 0.05, f"idle emulator used {used:.3f} s CPU in 0.5 s"


def test_idle_skip_jumps_board_time(emulator, testfw):
    emu = emulator(testfw, "--idle", "skip")
    emu.read_until(READY)
    t0 = time.monotonic()
    waited = int(_number(emu.command(b"!w"), "W"))
    elapsed = time.monotonic() - t0
    assert 20_000 <= waited < 21_000
    assert elapsed < 0.05


def test_uart_wakes_wfi_guest_quickly(emulator, testfw):
    """Round trip of one byte to a guest idling in WFI with PRIMASK=1."""
    emu = emulator(testfw)
    emu.read_until(READY)
    ser = emu.serial
    samples = []
    for i in range(200):
        byte = bytes((0x41 + i % 26,))
        t0 = time.perf_counter()
        ser.write(byte)
        assert ser.read(1) == byte
        samples.append(time.perf_counter() - t0)
    samples.sort()
    median = samples[len(samples) // 2]
    print(f"\nUART echo round trip (host->guest->host) median {median * 1e6:.0f} us, "
          f"p90 {samples[180] * 1e6:.0f} us")
    assert median < 0.002


def test_sysresetreq_reboots(emulator, testfw):
    emu = emulator(testfw)
    emu.read_until(READY)
    emu.command(b"!b", READY)


def test_systick_exception_entry_and_return(emulator, testfw):
    emu = emulator(testfw)
    emu.read_until(READY)
    assert _number(emu.command(b"!s"), "S") == "10"
    assert emu.command(b"ok", b"ok") == b"ok"        # back in thread mode, masked, echoing


def test_serial_bytes_survive_cut_slices(emulator, testfw):
    """Slices cut every 0.2-0.4 ms while the guest echoes a long burst byte by byte: not one
    byte lost or doubled.  A slice stopped right after a UART access rewinds that
    instruction, so a careless stop would pop RBR twice (a lost byte) or write THR twice."""
    emu = emulator(testfw, "--slice-ms", "0.2")
    emu.read_until(READY)
    data = bytes(b"abcdefghijklmnopqrstuvwxyz0123456789"[i % 36] for i in range(6000))
    for i in range(0, len(data), 500):
        emu.serial.write(data[i:i + 500])
    got = b""
    deadline = time.monotonic() + 20
    while len(got) < len(data) and time.monotonic() < deadline:
        got += emu.serial.read(emu.serial.in_waiting or 1)
    assert got == data
    st = emu.control({"cmd": "status"})
    assert st["slices"] > 10


def test_compute_speed(emulator, testfw):
    """The guest times its own 20 M-iteration loop (4 instructions each: mla, adds, cmp,
    bne) on TIMER3, which runs on board time = wall time while the CPU is busy."""
    emu = emulator(testfw)
    emu.read_until(READY)
    reply = emu.command(b"!c", b"\n", timeout=30)
    assert reply.startswith(b"C=")
    us = int(reply.strip().split(b",")[1])
    mips = 20_000_000 * 4 / us
    print(f"\ncompute loop: 80 M instructions in {us / 1e6:.3f} s board time "
          f"= {mips:.0f} M instructions/s")
    assert mips > 100
    st = emu.control({"cmd": "status"})
    assert st["cpu_busy_us"] >= us * 0.9 and st["slices"] > 0


def test_startup_is_fast(emulator, testfw):
    emu = emulator(testfw)
    startup = emu.t_ready - emu.t_start
    print(f"\nprocess start to ready: {startup * 1000:.0f} ms")
    assert startup < 1.0


# -- Ethernet -----------------------------------------------------------------------------

STATION = bytes.fromhex("02005e102030")


@pytest.fixture
def eth(emulator, testfw, tmp_path):
    host, guest = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    pcap = tmp_path / "eth.pcap"
    emu = emulator(testfw, "--net", f"fd:{guest.fileno()}", "--pcap", str(pcap),
                   pass_fds=(guest.fileno(),))
    guest.close()
    host.settimeout(5)
    emu.read_until(READY)
    assert _number(emu.command(b"!n"), "N") == "20005c90"       # PHY ID over MII
    return emu, host, pcap


def test_emac_tx_reaches_link_and_pcap(eth):
    emu, host, pcap = eth
    reply = emu.command(b"!x")
    assert _number(reply, "X") == "00000000"                   # TX status: no error
    frame = host.recv(2048)
    assert frame[:6] == b"\xff" * 6 and frame[6:12] == STATION
    assert frame[12:14] == b"\x88\xb5" and frame[14:27] == b"LPC-EMAC-TEST"
    assert len(frame) == 60                                   # padded by the MAC, no FCS
    frames = [f for _, f in read_pcap(pcap)]
    assert frames == [frame]
    assert emu.control({"cmd": "status"})["eth"]["tx_frames"] == 1


def test_emac_rx_frame_lands_in_descriptor_ring(eth):
    emu, host, pcap = eth
    payload = STATION + bytes.fromhex("0a0b0c0d0e0f") + b"\x08\x00" + bytes(range(50))
    host.send(payload)
    reply = emu.command(b"!r")
    info, size, data = _number(reply, "R").split(",")
    info = int(info, 16)
    assert int(size) == len(payload) + 4                      # RxSize counts the FCS
    assert info & 0x7FF == len(payload) + 4 - 1
    assert info & (1 << 30)                                   # LastFlag
    assert not info & (1 << 31)                               # no error
    assert bytes.fromhex(data) == payload[:20]
    # broadcast short frame: padded to 60, Broadcast bit set
    host.send(b"\xff" * 6 + bytes.fromhex("0a0b0c0d0e0f") + b"\x08\x06" + b"arp")
    info, size, _ = _number(emu.command(b"!r"), "R").split(",")
    assert int(size) == 64 and int(info, 16) & (1 << 22)
    # a unicast frame for someone else is filtered out
    host.send(bytes.fromhex("0a0000000001") + STATION + b"\x08\x00" + bytes(60))
    for _ in range(100):
        st = emu.control({"cmd": "status"})["eth"]
        if st["rx_dropped_filter"]:
            break
        time.sleep(0.01)
    assert st["rx_dropped_filter"] == 1 and st["rx_frames"] == 2
    assert len(read_pcap(pcap)) == 3


def test_emac_full_ring_holds_frames_on_the_link(eth):
    """Flow control: with every descriptor used, frames wait on the link, none is lost."""
    emu, host, pcap = eth
    frame = STATION + bytes(6) + b"\x08\x00" + bytes(60)
    for _ in range(6):                                        # ring of 4 holds 3
        host.send(frame)
    for _ in range(100):
        st = emu.control({"cmd": "status"})["eth"]
        if st["rx_frames"] == 3:
            break
        time.sleep(0.01)
    time.sleep(0.2)
    st = emu.control({"cmd": "status"})["eth"]
    assert st["rx_frames"] == 3 and st["rx_dropped_ring_full"] == 0


# -- faults and bad images ------------------------------------------------------------------

def _one_line(err):
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "Traceback" not in err
    return lines


def test_unmapped_read_is_reported(emulator, testfw):
    emu = emulator(testfw)
    emu.read_until(READY)
    emu.serial.write(b"!f")
    code, err = emu.wait()
    assert code == 3
    lines = _one_line(err)
    fault = [ln for ln in lines if "guest fault" in ln]
    assert len(fault) == 1, err
    msg = fault[0]
    assert "unmapped read at 0x60000000" in msg
    for reg in ("r0=", "r12=", "sp=", "lr=", "pc=0x", "xpsr="):
        assert reg in msg
    assert not os.path.exists(emu.control_path)


def test_undefined_instruction_is_reported(emulator, testfw):
    emu = emulator(testfw)
    emu.read_until(READY)
    emu.serial.write(b"!u")
    code, err = emu.wait()
    assert code == 3
    fault = [ln for ln in _one_line(err) if "guest fault" in ln]
    assert len(fault) == 1 and "undefined instruction" in fault[0] and "pc=0x" in fault[0]


@pytest.mark.parametrize("content, expect", [
    (b"", "empty"),
    (b"\x7fELF" + b"\x01" * 60, "ELF"),
    (bytes(64), "reset vector"),
    (bytes(600 * 1024), "do not fit"),
])
def test_bad_image_gives_one_line(tmp_path, content, expect):
    from .conftest import run_emulator_cli

    img = tmp_path / "fw.bin"
    img.write_bytes(content)
    code, err = run_emulator_cli(img)
    assert code == 2
    lines = _one_line(err)
    assert len(lines) == 1 and expect in lines[0], err


def test_missing_image(tmp_path):
    from .conftest import run_emulator_cli

    code, err = run_emulator_cli(tmp_path / "nope.elf")
    assert code == 2 and len(_one_line(err)) == 1 and "no such file" in err


def test_raw_bin_image_runs(emulator, testfw, tmp_path):
    from elftools.elf.elffile import ELFFile

    blob = bytearray()
    with open(testfw, "rb") as f:
        for seg in ELFFile(f).iter_segments():
            if seg["p_type"] == "PT_LOAD" and seg["p_filesz"] and seg["p_paddr"] < 0x80000:
                end = seg["p_paddr"] + seg["p_filesz"]
                blob.extend(bytes(max(0, end - len(blob))))
                blob[seg["p_paddr"]:end] = seg.data()
    img = tmp_path / "fw.bin"
    img.write_bytes(bytes(blob))
    emu = emulator(img)
    emu.read_until(READY)


# -- control channel ------------------------------------------------------------------------

def test_control_status_reset_stop(emulator, testfw):
    emu = emulator(testfw)
    emu.read_until(READY)
    emu.command(b"!l0", b"L\n")
    st = emu.control({"cmd": "status"})
    assert st["ok"] and st["state"] in ("running", "idle") and st["leds"] == [False] * 4
    assert st["cpu_busy_us"] > 0 and st["board_time_us"] > 0 and isinstance(st["pc"], int)
    assert set(st["eth"]) >= {"tx_frames", "rx_frames", "rx_dropped_filter", "rx_dropped_ring_full"}
    assert emu.control({"cmd": "reset"}) == {"ok": True}
    emu.read_until(READY)                                     # serial stays connected
    st = emu.control({"cmd": "status"})
    assert st["leds"] == [True, False, True, False] and st["board_time_us"] < 2_000_000
    assert emu.control({"cmd": "stop"}) == {"ok": True}
    code, err = emu.wait()
    assert code == 0
    assert not os.path.exists(emu.control_path)


def test_control_rejects_malformed_input(emulator, testfw):
    emu = emulator(testfw)
    emu.read_until(READY)
    assert emu.control(None, raw=b"this is not json\n")["ok"] is False
    assert emu.control(None, raw=b"[1,2]\n")["ok"] is False
    assert emu.control(None, raw=b'{"cmd": 5}\n')["ok"] is False
    r = emu.control({"cmd": "fly"})
    assert r["ok"] is False and "unknown" in r["error"]
    assert emu.control({"cmd": "status"})["ok"] is True
    assert emu.command(b"still alive", b"alive") == b"still alive"


def test_sigterm_stops_cleanly(emulator, testfw):
    emu = emulator(testfw)
    emu.read_until(READY)
    emu.proc.send_signal(signal.SIGTERM)
    code, err = emu.wait()
    assert code == 0 and "Traceback" not in err
    assert not os.path.exists(emu.control_path)


def test_tcp_serial_transport(emulator, testfw):
    emu = emulator(testfw, "--serial", "tcp:127.0.0.1:0")
    assert emu.info["serial"].startswith("socket://127.0.0.1:")
    emu.read_until(READY)
    assert emu.command(b"tcp", b"tcp") == b"tcp"


def _cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
