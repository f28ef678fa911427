import random

import pytest

from hil.protocol import framing
from hil.protocol.framing import FrameDecoder, cobs_decode, cobs_encode, encode_frame


@pytest.mark.parametrize("data", [b"", b"\x00", b"\x00\x00", b"abc", bytes(range(256)) * 3,
                                  b"\x01" * 254, b"\x01" * 255, b"\x01" * 253 + b"\x00"])
def test_cobs_round_trip_and_no_zeros(data):
    enc = cobs_encode(data)
    assert 0 not in enc
    assert cobs_decode(enc) == data


def _crc16_bitwise(data: bytes, crc: int = 0xFFFF) -> int:
    """The hand-written CRC the framing used before binascii.crc_hqx: the reference."""
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def test_crc16_ccitt_false_check_value():
    # The standard check value of CRC-16/CCITT-FALSE over "123456789".
    assert framing.crc16(b"123456789") == 0x29B1


@pytest.mark.parametrize("data", [b"", b"\x00", b"\xff" * 7, b"123456789", bytes(range(256)),
                                  b"\x41\x00\x00xyz", b"\x01\x07\x00payload"])
def test_crc16_matches_the_old_hand_written_crc(data):
    assert framing.crc16(data) == _crc16_bitwise(data)


def test_crc16_matches_the_old_crc_on_random_bodies():
    rnd = random.Random(16)
    for _ in range(500):
        data = rnd.randbytes(rnd.randrange(0, 600))
        assert framing.crc16(data) == _crc16_bitwise(data)


def test_crc16_is_the_standard_library_one():
    # binascii.crc_hqx is C: a MiB in about a millisecond (a Python table loop: ~100 ms).
    data = random.Random(1).randbytes(1 << 20)
    best = min(_timed(framing.crc16, data) for _ in range(3))
    assert best < 0.02, f"crc16 over 1 MiB took {best * 1e3:.1f} ms"


def _timed(fn, *args) -> float:
    import time

    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def test_text_and_frames_are_separated_in_order():
    d = FrameDecoder()
    stream = b"boot banner\r\n" + encode_frame(b"\x41\x00\x00xyz") + b"more text\n"
    items = d.feed(stream)
    assert items == [("text", b"boot banner\r\n"), ("frame", b"\x41\x00\x00xyz"),
                     ("text", b"more text\n")]


def test_resynchronises_after_garbage_and_truncation():
    d = FrameDecoder()
    good = encode_frame(b"\x01\x07\x00payload")
    stream = b"\x00\xde\xad\xbe\xef" + good + b"\x00\x05\x01" + good
    frames = [i for i in d.feed(stream) if i[0] == "frame"]
    assert frames == [("frame", b"\x01\x07\x00payload")] * 2
    assert d.stats.bad_frames >= 2


def test_bad_crc_is_rejected():
    enc = bytearray(encode_frame(b"\x01\x01\x00hello"))
    enc[5] ^= 0x01
    d = FrameDecoder()
    items = d.feed(bytes(enc))
    assert not [i for i in items if i[0] == "frame"]
    assert d.stats.bad_frames == 1


def test_runaway_frame_is_dropped_and_next_frame_decodes():
    d = FrameDecoder(max_encoded=64)
    items = d.feed(b"\x00" + b"\x11" * 500 + encode_frame(b"\x02\x01\x00ok"))
    assert ("frame", b"\x02\x01\x00ok") in items
    assert d.stats.oversize == 1


def test_byte_at_a_time_equals_bulk():
    rnd = random.Random(7)
    bodies = [bytes(rnd.randrange(256) for _ in range(rnd.randrange(3, 400))) for _ in range(30)]
    stream = b"".join(b"noise" + encode_frame(b) for b in bodies)
    d = FrameDecoder()
    got = []
    for i in range(len(stream)):
        got += [x[1] for x in d.feed(stream[i:i + 1]) if x[0] == "frame"]
    assert got == bodies
