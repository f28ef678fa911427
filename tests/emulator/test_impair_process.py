"""Link impairment and the pcap cap in a running emulator (control channel and CLI)."""

import socket
import time

import pytest

from emulator.core.pcap import PcapWriter, parse_size, read_pcap

from .conftest import run_emulator_cli
from .test_process import READY, STATION, _number


def _eth(emulator, testfw, tmp_path, *args):
    host, guest = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    pcap = tmp_path / "eth.pcap"
    emu = emulator(testfw, "--net", f"fd:{guest.fileno()}", "--pcap", str(pcap), *args,
                   pass_fds=(guest.fileno(),))
    guest.close()
    host.settimeout(5)
    emu.read_until(READY)
    assert _number(emu.command(b"!n"), "N") == "20005c90"
    return emu, host, pcap


@pytest.fixture
def eth(emulator, testfw, tmp_path):
    return _eth(emulator, testfw, tmp_path)


def _nothing_arrives(host, wait=0.3):
    host.settimeout(wait)
    try:
        host.recv(2048)
    except (socket.timeout, TimeoutError):
        return True
    finally:
        host.settimeout(5)
    return False


def test_loss_from_board_drops_then_clear_restores(eth):
    emu, host, pcap = eth
    reply = emu.control({"cmd": "impair", "direction": "from_board", "loss": 1.0, "seed": 1})
    assert reply["ok"] and reply["impair"]["from_board"]["loss"] == 1.0
    assert reply["impair"]["to_board"]["loss"] == 0
    for _ in range(3):
        assert _number(emu.command(b"!x"), "X") == "00000000"
    assert _nothing_arrives(host)
    st = emu.control({"cmd": "status"})
    counters = st["impair"]["from_board"]["counters"]
    assert counters["frames"] == 3 and counters["dropped"] == 3
    assert st["eth"]["tx_frames"] == 3
    assert len(read_pcap(pcap)) == 3              # the board's side of the wire: sent
    cleared = emu.control({"cmd": "impair", "clear": True})
    assert cleared["ok"] and cleared["impair"]["from_board"]["counters"]["dropped"] == 3
    st = emu.control({"cmd": "status"})["impair"]
    assert st["from_board"]["loss"] == 0 and st["from_board"]["counters"]["dropped"] == 0
    assert st["flap"] is None
    emu.command(b"!x")
    frame = host.recv(2048)
    assert frame[6:12] == STATION and frame[14:27] == b"LPC-EMAC-TEST"


def test_delay_to_board_is_kept_while_idle_skipping(eth):
    """Board time: a frame delayed 3 s toward a guest asleep in WFI arrives when board
    time reaches its due time, and skip mode jumps there instead of past it or forever."""
    emu, host, pcap = eth
    assert emu.control({"cmd": "impair", "direction": "to_board", "delay_ms": 3000})["ok"]
    assert emu.control({"cmd": "idle", "mode": "skip", "grace_us": 0})["ok"]
    t0 = emu.control({"cmd": "status"})["board_time_us"]
    emu.serial.write(b"!r")                      # the guest waits in WFI for a frame
    time.sleep(0.05)
    wall = time.monotonic()
    host.send(STATION + bytes.fromhex("0a0b0c0d0e0f") + b"\x08\x00" + bytes(50))
    reply = emu.read_until(b"\n", timeout=5)
    assert reply.startswith(b"R=")
    assert time.monotonic() - wall < 2.5          # skipped, not slept
    st = emu.control({"cmd": "status"})
    assert st["board_time_us"] - t0 >= 3_000_000
    assert st["impair"]["to_board"]["counters"]["delayed"] == 1
    assert st["eth"]["rx_frames"] == 1


def test_delay_from_board_in_real_time(eth):
    emu, host, pcap = eth
    assert emu.control({"cmd": "impair", "direction": "from_board", "delay_ms": 200})["ok"]
    t0 = time.monotonic()
    emu.command(b"!x")
    frame = host.recv(2048)
    assert time.monotonic() - t0 >= 0.19
    assert frame[14:27] == b"LPC-EMAC-TEST"


def test_duplicate_both_ways(eth):
    emu, host, pcap = eth
    assert emu.control({"cmd": "impair", "duplicate": 1})["ok"]   # direction: both
    emu.command(b"!x")
    assert host.recv(2048) == host.recv(2048)
    host.send(STATION + bytes(6) + b"\x08\x00" + bytes(60))
    emu.command(b"!r")
    emu.command(b"!r")                            # the copy
    st = emu.control({"cmd": "status"})
    assert st["eth"]["rx_frames"] == 2
    assert st["impair"]["to_board"]["counters"]["duplicated"] == 1


@pytest.mark.parametrize("req, word", [
    ({"loss": 1.2}, "loss"),
    ({"loss": "lots"}, "loss"),
    ({"delay_ms": -5}, "delay_ms"),
    ({"delay_ms": 1, "jitter_ms": 2}, "jitter_ms"),
    ({"reorder": -0.5}, "reorder"),
    ({"duplicate": None}, "duplicate"),
    ({"corrupt": 2}, "corrupt"),
    ({"rate_kbps": "fast"}, "rate_kbps"),
    ({"seed": "x"}, "seed"),
    ({"delay": 5}, "delay"),
    ({"direction": "sideways"}, "direction"),
    ({"clear": False}, "clear"),
])
def test_impair_validation_changes_nothing(eth, req, word):
    emu, host, pcap = eth
    assert emu.control({"cmd": "impair", "direction": "to_board", "loss": 0.5, "seed": 9})["ok"]
    before = emu.control({"cmd": "status"})["impair"]
    reply = emu.control({"cmd": "impair", **req})
    assert reply["ok"] is False and word in reply["error"] and "\n" not in reply["error"]
    assert emu.control({"cmd": "status"})["impair"] == before


@pytest.mark.parametrize("req, word", [
    ({"down_ms": 0, "up_ms": 10}, "down_ms"),
    ({"down_ms": 10}, "up_ms"),
    ({"down_ms": 10, "up_ms": 10, "count": -1}, "count"),
    ({"down_ms": 10, "up_ms": 10, "period": 1}, "period"),
    ({"stop": True, "down_ms": 1}, "stop"),
])
def test_flap_validation_changes_nothing(eth, req, word):
    emu, host, pcap = eth
    reply = emu.control({"cmd": "flap", **req})
    assert reply["ok"] is False and word in reply["error"]
    assert emu.control({"cmd": "status"})["impair"]["flap"] is None


def test_impair_needs_a_link(emulator, testfw):
    emu = emulator(testfw)
    emu.read_until(READY)
    for req in ({"cmd": "impair", "loss": 0.1}, {"cmd": "flap", "down_ms": 1, "up_ms": 1}):
        reply = emu.control(req)
        assert reply["ok"] is False and "--net" in reply["error"]
    assert emu.control({"cmd": "status"})["impair"] is None


def test_flap_takes_the_link_down_and_up(eth):
    emu, host, pcap = eth
    reply = emu.control({"cmd": "flap", "down_ms": 300, "up_ms": 300, "count": 1})
    assert reply["ok"] and reply["impair"]["flap"]["link_up"] is False
    emu.command(b"!x")                            # sent while the link is down: lost
    assert _nothing_arrives(host, 0.1)
    st = emu.control({"cmd": "status"})["impair"]
    assert st["from_board"]["counters"]["link_down_dropped"] == 1
    time.sleep(0.5)
    assert emu.control({"cmd": "status"})["impair"]["flap"] is None   # one cycle, done
    emu.command(b"!x")
    assert host.recv(2048)[14:27] == b"LPC-EMAC-TEST"


def test_flap_stop_brings_the_link_up(eth):
    emu, host, pcap = eth
    assert emu.control({"cmd": "flap", "down_ms": 10_000, "up_ms": 10})["ok"]
    reply = emu.control({"cmd": "flap", "stop": True})
    assert reply["ok"] and reply["impair"]["flap"] is None
    emu.command(b"!x")
    assert host.recv(2048)[14:27] == b"LPC-EMAC-TEST"


def test_cli_impair_applies_and_shows_in_status(emulator, testfw, tmp_path):
    emu, host, pcap = _eth(emulator, testfw, tmp_path,
                           "--impair", "loss=1,direction=from_board,seed=3",
                           "--impair", "delay_ms=5,jitter_ms=1,direction=to_board")
    st = emu.control({"cmd": "status"})["impair"]
    assert st["from_board"]["loss"] == 1 and st["from_board"]["seed"] == 3
    assert st["to_board"]["delay_ms"] == 5 and st["to_board"]["loss"] == 0
    emu.command(b"!x")
    assert _nothing_arrives(host)


@pytest.mark.parametrize("args, word", [
    (("--net", "fd:0", "--impair", "loss=2"), "loss"),
    (("--net", "fd:0", "--impair", "delay_ms=1,jitter_ms=3"), "jitter_ms"),
    (("--net", "fd:0", "--impair", "bogus=1"), "bogus"),
    (("--net", "fd:0", "--impair", "direction=up"), "direction"),
    (("--impair", "loss=0.1"), "--net"),
    (("--net", "fd:0", "--flap", "down_ms=1"), "up_ms"),
    (("--pcap-limit", "lots"), "--pcap-limit"),
    (("--pcap-limit", "64"), "--pcap-limit"),
])
def test_cli_impair_errors_are_one_line(testfw, args, word):
    code, err = run_emulator_cli(testfw, "--serial", "stdio", *args)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and "Traceback" not in err
    assert len(lines) == 1 and word in lines[0], err


# -- pcap cap ---------------------------------------------------------------------------------

def test_parse_size():
    assert parse_size("64M") == 64 << 20 and parse_size("1G") == 1 << 30
    assert parse_size("500K") == 500 << 10 and parse_size("0") == 0
    assert parse_size("2048") == 2048 and parse_size("1MiB") == 1 << 20
    for bad in ("", "-1M", "lots", "100", "nan"):
        with pytest.raises(ValueError):
            parse_size(bad)


def test_pcap_writer_stops_at_its_cap(tmp_path):
    path = tmp_path / "cap.pcap"
    w = PcapWriter(path, limit_bytes=1024)
    frames = [bytes([i]) * 60 for i in range(20)]
    for f in frames:
        w.write(f)
    w.write(bytes(10))                            # would fit, but writing stopped for good
    w.close()
    st = w.stats()
    kept = (1024 - 24) // (16 + 60)
    assert st["frames_written"] == kept and st["frames_not_written"] == 21 - kept
    assert st["bytes_written"] == path.stat().st_size <= 1024
    assert st["limit_bytes"] == 1024
    assert [f for _, f in read_pcap(path)] == frames[:kept]


def test_pcap_writer_default_cap_and_unlimited(tmp_path):
    assert PcapWriter(tmp_path / "a.pcap").limit_bytes == 64 << 20
    w = PcapWriter(tmp_path / "b.pcap", limit_bytes=0)
    for _ in range(100):
        w.write(bytes(1500))
    assert w.stats()["frames_not_written"] == 0


def test_pcap_cap_in_the_emulator(emulator, testfw, tmp_path):
    emu, host, pcap = _eth(emulator, testfw, tmp_path, "--pcap-limit", "1K")
    for _ in range(20):
        emu.command(b"!x")
        host.recv(2048)
    st = emu.control({"cmd": "status"})["pcap"]
    kept = (1024 - 24) // (16 + 60)
    assert st["frames_written"] == kept and st["frames_not_written"] == 20 - kept
    assert st["limit_bytes"] == 1024 and st["bytes_written"] <= 1024
    assert len(read_pcap(pcap)) == kept
    assert emu.control({"cmd": "stop"})["ok"]
    code, err = emu.wait()
    assert code == 0 and "not written" in err and "limit" in err
