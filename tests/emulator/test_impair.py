"""Link impairment stage (emulator/core/impair.py) on a fake clock: no emulator process."""

import pytest

from emulator.core.impair import (ETH_HEADER, QUEUE_BYTES, QUEUE_FRAMES, Flap, ImpairError,
                                  ImpairStage, parse_cli, parse_request, validate,
                                  validate_flap)

MS = 1_000_000


def frame(i, size=100):
    body = i.to_bytes(4, "big") + bytes(size - 4 - ETH_HEADER)
    return b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00" + body


def stage(direction="from_board", **opts):
    return ImpairStage(direction, validate(opts))


def drain(st, now):
    out = []
    f = st.pop_due(now)
    while f is not None:
        out.append(f)
        f = st.pop_due(now)
    return out


def decisions(st, n=2000):
    """Which of n frames got through at once (no delay set)."""
    got = []
    for i in range(n):
        st.offer(frame(i), 0)
        got.append(len(drain(st, 0)))
    return got


def test_loss_rate_near_probability():
    st = stage(loss=0.1, seed=1234)
    got = decisions(st, 5000)
    lost = got.count(0)
    assert 400 <= lost <= 600
    assert st.counters["dropped"] == lost and st.counters["frames"] == 5000


def test_same_seed_same_decisions_other_seed_differs():
    a = decisions(stage(loss=0.3, duplicate=0.1, seed=7))
    b = decisions(stage(loss=0.3, duplicate=0.1, seed=7))
    c = decisions(stage(loss=0.3, duplicate=0.1, seed=8))
    assert a == b
    assert a != c


def test_directions_draw_differently_from_one_seed():
    a = decisions(ImpairStage("to_board", validate({"loss": 0.5, "seed": 3})))
    b = decisions(ImpairStage("from_board", validate({"loss": 0.5, "seed": 3})))
    assert a != b


def test_no_settings_passes_everything_at_once():
    st = stage()
    assert not st.active
    st.offer(frame(1), 5 * MS)
    assert drain(st, 5 * MS) == [frame(1)]


def test_delay_and_jitter_bounds():
    st = stage(delay_ms=5, jitter_ms=2, seed=1)
    delays = []
    for i in range(500):
        now = i * 20 * MS
        st.offer(frame(i), now)
        delays.append(st.next_due_ns() - now)
        assert drain(st, now + 3 * MS - 1) == []
        assert len(drain(st, now + 7 * MS)) == 1
    assert 3 * MS <= min(delays) and max(delays) <= 7 * MS
    assert max(delays) - min(delays) > 3 * MS            # the whole jitter range is used
    assert st.counters["delayed"] == 500


def test_jitter_never_negative():
    st = stage(delay_ms=1, jitter_ms=1, seed=2)
    for i in range(200):
        st.offer(frame(i), 10 * MS)
    assert min(due for due, _, _ in st._queue) >= 10 * MS


def test_reorder_overtakes_delayed_frames():
    st = stage(delay_ms=10, reorder=0.5, seed=5)
    for i in range(20):
        st.offer(frame(i), 0)
    at_once = drain(st, 0)
    later = drain(st, 10 * MS)
    assert at_once and later
    assert len(at_once) == st.counters["reordered"]
    assert len(at_once) + len(later) == 20
    # the frames that went at once include ones sent after frames still delayed
    first_delayed = min(int.from_bytes(f[14:18], "big") for f in later)
    assert any(int.from_bytes(f[14:18], "big") > first_delayed for f in at_once)
    assert later == sorted(later, key=lambda f: f[14:18])  # delayed ones keep their order


def test_reorder_without_delay_changes_nothing():
    st = stage(reorder=1.0)
    out = []
    for i in range(5):
        st.offer(frame(i), 0)
        out += drain(st, 0)
    assert out == [frame(i) for i in range(5)]


def test_duplicate_sends_twice():
    st = stage(duplicate=1.0)
    st.offer(frame(9), 0)
    assert drain(st, 0) == [frame(9), frame(9)]
    assert st.counters["duplicated"] == 1


def test_corrupt_flips_exactly_one_bit_past_the_header():
    st = stage(corrupt=1.0, seed=11)
    positions = set()
    for i in range(300):
        original = frame(i, size=64)
        st.offer(original, 0)
        (damaged,) = drain(st, 0)
        assert len(damaged) == len(original)
        assert damaged[:ETH_HEADER] == original[:ETH_HEADER]
        diff = [a ^ b for a, b in zip(original, damaged)]
        assert sum(bin(d).count("1") for d in diff) == 1
        positions.add(next(k for k, d in enumerate(diff) if d))
    assert min(positions) >= ETH_HEADER and len(positions) > 20
    assert st.counters["corrupted"] == 300


def test_rate_limit_spaces_departures():
    st = stage(rate_kbps=800)          # 100 bytes = 800 bits = 1 ms
    for i in range(10):
        st.offer(frame(i, size=100), 0)
    dues = [due for due, _, _ in sorted(st._queue)]
    assert dues == [(k + 1) * MS for k in range(10)]
    assert len(drain(st, 5 * MS)) == 5
    # a frame offered after the queue drained is spaced from the last departure, not 0
    drain(st, 10 * MS)
    st.offer(frame(99, size=100), 10 * MS)
    assert st.next_due_ns() == 11 * MS


def test_queue_bound_tail_drops_and_counts():
    st = stage(delay_ms=100)
    for i in range(QUEUE_FRAMES + 7):
        st.offer(frame(i, size=60), 0)
    assert len(st) == QUEUE_FRAMES and not st.has_room()
    assert st.counters["rate_dropped"] == 7
    big = stage(delay_ms=100)
    n = 0
    while big.has_room():
        big.offer(frame(n, size=1500), 0)
        n += 1
    assert big._bytes >= QUEUE_BYTES and n < QUEUE_FRAMES
    big.offer(frame(n, size=1500), 0)
    assert big.counters["rate_dropped"] == 1


def test_link_down_drops_and_counts():
    st = stage()
    st.offer(frame(1), 0, link_up=False)
    assert drain(st, 0) == [] and st.counters["link_down_dropped"] == 1


def test_flap_schedule():
    f = Flap(200, 800, 2, now_ns=0)
    assert not f.link_up and f.next_event_ns() == 200 * MS
    assert not f.advance(199 * MS)
    assert f.advance(200 * MS) and f.link_up and f.cycles_done == 1
    assert f.next_event_ns() == 1000 * MS
    assert f.advance(1000 * MS) and not f.link_up
    assert f.advance(1200 * MS) and f.link_up and f.finished
    assert f.next_event_ns() is None
    assert not f.advance(5000 * MS) and f.link_up


def test_flap_forever_catches_up_over_a_long_jump():
    f = Flap(10, 10, None, now_ns=0)
    f.advance(1005 * MS)
    assert f.cycles_done == 50 and not f.link_up and not f.finished


@pytest.mark.parametrize("opts, word", [
    ({"loss": 1.5}, "loss"),
    ({"duplicate": -0.1}, "duplicate"),
    ({"corrupt": "x"}, "corrupt"),
    ({"reorder": True}, "reorder"),
    ({"delay_ms": -1}, "delay_ms"),
    ({"delay_ms": 2, "jitter_ms": 3}, "jitter_ms"),
    ({"rate_kbps": float("nan")}, "rate_kbps"),
    ({"seed": 1.5}, "seed"),
    ({"lost": 0.1}, "lost"),
    ({"direction": "up"}, "direction"),
])
def test_validation_names_the_option(opts, word):
    with pytest.raises(ImpairError) as e:
        parse_request(opts)
    assert word in str(e.value) and "\n" not in str(e.value)


def test_parse_request_defaults_and_directions():
    dirs, s = parse_request({"loss": 0.1})
    assert dirs == ("to_board", "from_board")
    assert s == {"loss": 0.1, "delay_ms": 0, "jitter_ms": 0, "reorder": 0, "duplicate": 0,
                 "corrupt": 0, "rate_kbps": 0, "seed": 0}
    assert parse_request({"direction": "to_board"})[0] == ("to_board",)


def test_cli_form():
    dirs, s = parse_cli("loss=0.1,delay_ms=5,jitter_ms=2,direction=from_board,seed=1")
    assert dirs == ("from_board",) and s["delay_ms"] == 5 and s["seed"] == 1
    with pytest.raises(ImpairError, match="loss"):
        parse_cli("loss=lots")
    with pytest.raises(ImpairError, match="NAME=VALUE"):
        parse_cli("loss")


def test_flap_validation():
    assert validate_flap({"down_ms": 200, "up_ms": 800}) == (200, 800, None)
    assert validate_flap({"down_ms": 200, "up_ms": 800, "count": 0}) == (200, 800, None)
    assert validate_flap({"down_ms": 200, "up_ms": 800, "count": 3}) == (200, 800, 3)
    for bad, word in (({"down_ms": 0, "up_ms": 1}, "down_ms"), ({"down_ms": 1}, "up_ms"),
                      ({"down_ms": 1, "up_ms": 1, "count": -1}, "count"),
                      ({"down_ms": 1, "up_ms": 1, "count": 1.5}, "count"),
                      ({"down_ms": 1, "up_ms": 1, "every": 2}, "every")):
        with pytest.raises(ImpairError, match=word):
            validate_flap(bad)


def test_a_held_back_frame_counts_as_sent_when_it_leaves():
    """The idle-skip grace counts from the board's last frame on the wire.  A frame the
    stage delayed goes out through the machine's one wire path (Machine.send_to_wire), so
    it counts when it really leaves, not when the board handed it over."""
    import time
    from types import SimpleNamespace

    from emulator.core.impair import LinkImpairment
    from emulator.core.machine import Machine

    now = [0]
    sent = []
    m = SimpleNamespace(clock=SimpleNamespace(now_ns=lambda: now[0]), emac=None,
                        link=SimpleNamespace(send=sent.append, held=False),
                        runner=SimpleNamespace(last_tx_ns=0),
                        unwire_impairment=lambda: None)
    m.send_to_wire = lambda f: Machine.send_to_wire(m, f)
    imp = LinkImpairment(m)
    imp.configure(("from_board",), validate({"delay_ms": 5}))
    imp.from_board(frame(1))
    assert sent == [] and m.runner.last_tx_ns == 0
    now[0] = 5 * MS
    t0 = time.monotonic_ns()
    imp.update(now[0])
    assert sent == [frame(1)]
    assert m.runner.last_tx_ns >= t0
