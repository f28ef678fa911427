"""Byte-level framing shared by the host and the agent.

A frame is ``0x00 COBS(body + crc16) 0x00``.  COBS removes every zero byte from
the body, so a zero always marks a frame boundary and the receiver can
resynchronise after garbage: anything that fails to decode is counted and
dropped, and the zero that ended it is treated as the start of the next frame.
Bytes outside frames are console text.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass, field


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no xorout): the
    standard library's ``binascii.crc_hqx`` with init 0xFFFF (C, ~50x a Python loop)."""
    return binascii.crc_hqx(data, 0xFFFF)


def cobs_encode(data: bytes) -> bytes:
    out = bytearray()
    block = bytearray()
    for b in data:
        if b == 0:
            out.append(len(block) + 1)
            out += block
            block.clear()
        else:
            block.append(b)
            if len(block) == 254:
                out.append(255)
                out += block
                block.clear()
    out.append(len(block) + 1)
    out += block
    return bytes(out)


class FramingError(ValueError):
    pass


def cobs_decode(data: bytes) -> bytes:
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        code = data[i]
        if code == 0:
            raise FramingError("zero byte inside COBS data")
        end = i + code
        if end > n:
            raise FramingError("COBS block runs past the end of the frame")
        out += data[i + 1:end]
        i = end
        if code != 255 and i < n:
            out.append(0)
    return bytes(out)


def encode_frame(body: bytes) -> bytes:
    crc = crc16(body)
    return b"\x00" + cobs_encode(body + crc.to_bytes(2, "little")) + b"\x00"


def decode_body(encoded: bytes) -> bytes:
    """COBS data between two zeros -> body (CRC checked and stripped)."""
    raw = cobs_decode(encoded)
    if len(raw) < 5:  # type + id + crc at least
        raise FramingError(f"frame too short ({len(raw)} bytes)")
    body, crc = raw[:-2], int.from_bytes(raw[-2:], "little")
    if crc16(body) != crc:
        raise FramingError("CRC mismatch")
    return body


@dataclass
class DecoderStats:
    frames: int = 0
    bad_frames: int = 0
    oversize: int = 0
    text_bytes: int = 0


class FrameDecoder:
    """Incremental splitter of a serial byte stream into frames and console text.

    ``feed(data)`` returns a list of items: ``("frame", body)``, ``("text", bytes)``
    or ``("error", reason)``.
    """

    def __init__(self, max_encoded: int = 4096):
        self.max_encoded = max_encoded
        self.stats = DecoderStats()
        self._in_frame = False
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[tuple[str, object]]:
        items: list[tuple[str, object]] = []
        text = bytearray()
        for b in data:
            if not self._in_frame:
                if b == 0:
                    self._in_frame = True
                    self._buf.clear()
                else:
                    text.append(b)
                continue
            if b != 0:
                if len(self._buf) >= self.max_encoded:
                    # Runaway frame: drop it and go back to text mode.
                    self.stats.oversize += 1
                    self.stats.bad_frames += 1
                    items.append(("error", "frame exceeds maximum length"))
                    self._in_frame = False
                    self._buf.clear()
                    continue
                self._buf.append(b)
                continue
            # b == 0: end of a frame, or a second start marker.
            if not self._buf:
                continue  # back-to-back zeros: still at a frame start
            if text:
                items.append(("text", bytes(text)))
                self.stats.text_bytes += len(text)
                text.clear()
            try:
                body = decode_body(bytes(self._buf))
            except FramingError as exc:
                self.stats.bad_frames += 1
                items.append(("error", str(exc)))
                # The zero that ended the damaged frame may open the next good one.
                self._buf.clear()
                continue
            self.stats.frames += 1
            items.append(("frame", body))
            self._in_frame = False
            self._buf.clear()
        if text:
            items.append(("text", bytes(text)))
            self.stats.text_bytes += len(text)
        return items
