"""Minimal libpcap writer: LINKTYPE_ETHERNET, microsecond timestamps, frames without FCS.

Size cap: a file stops growing at ``limit_bytes`` (header included; 0 = no limit).  The
first frame that does not fit, and every frame after it, is counted instead of written,
so the file is always a valid pcap holding the start of the run, with no gaps.
"""

import logging
import math
import struct
import time

_MAGIC = 0xA1B2C3D4
LINKTYPE_ETHERNET = 1
HEADER_BYTES = 24
RECORD_HEADER = 16
DEFAULT_LIMIT = 64 * 1024 * 1024

log = logging.getLogger("emulator")


def parse_size(text):
    """``"64M"``, ``"1G"``, ``"512K"``, ``"1000"`` (bytes; K/M/G are powers of 1024) or
    ``"0"`` (no limit) -> bytes.  ValueError with one line otherwise."""
    t = str(text).strip().upper().removesuffix("B").removesuffix("I")
    scale = 1
    if t[-1:] in ("K", "M", "G"):
        scale = 1024 ** (" KMG".index(t[-1]))
        t = t[:-1]
    try:
        value = float(t)
    except ValueError:
        raise ValueError(f"--pcap-limit {text!r}: expected bytes, e.g. 64M, 1G, 500K or 0 "
                         "(no limit)") from None
    if not math.isfinite(value):
        raise ValueError(f"--pcap-limit {text!r}: expected bytes, e.g. 64M, 1G, 500K or 0 "
                         "(no limit)")
    n = int(value * scale)
    if n < 0:
        raise ValueError(f"--pcap-limit {text!r} must not be negative")
    if 0 < n < 1024:
        raise ValueError(f"--pcap-limit {text!r} is under 1 KiB; use a unit (64M) or 0 for "
                         "no limit")
    return n


class PcapWriter:
    def __init__(self, path, snaplen=65535, limit_bytes=DEFAULT_LIMIT):
        self.path = str(path)
        self._f = open(path, "wb")  # noqa: SIM115 - kept open for the run
        self._f.write(struct.pack("<IHHiIII", _MAGIC, 2, 4, 0, 0, snaplen, LINKTYPE_ETHERNET))
        self._f.flush()
        self.snaplen = snaplen
        self.limit_bytes = int(limit_bytes or 0)
        self.count = 0                       # frames written
        self.bytes_written = HEADER_BYTES
        self.frames_not_written = 0
        self.bytes_not_written = 0           # frame bytes (as captured) not written

    def write(self, frame, ts_ns=None):
        if self.frames_not_written:
            self._skip(frame)
            return
        data = bytes(frame[: self.snaplen])
        size = RECORD_HEADER + len(data)
        if self.limit_bytes and self.bytes_written + size > self.limit_bytes:
            log.warning("pcap %s reached its limit of %d bytes: later frames are counted, "
                        "not written (--pcap-limit)", self.path, self.limit_bytes)
            self._skip(frame)
            return
        if ts_ns is None:
            ts_ns = time.time_ns()
        sec, ns = divmod(ts_ns, 1_000_000_000)
        self._f.write(struct.pack("<IIII", sec, ns // 1000, len(data), len(frame)) + data)
        self.count += 1
        self.bytes_written += size

    def _skip(self, frame):
        self.frames_not_written += 1
        self.bytes_not_written += len(frame)

    def stats(self):
        return {"frames_written": self.count, "frames_not_written": self.frames_not_written,
                "bytes_written": self.bytes_written, "bytes_not_written": self.bytes_not_written,
                "limit_bytes": self.limit_bytes}

    def flush(self):
        """Push buffered frames to the file (the machine does it whenever the guest idles,
        so a reader sees every frame of a quiet board without a flush per frame)."""
        if not self._f.closed:
            self._f.flush()

    def close(self):
        if not self._f.closed:
            self._f.close()
            if self.frames_not_written:
                log.warning("pcap %s: %d frames (%d bytes) not written past its limit of %d "
                            "bytes; %d frames written", self.path, self.frames_not_written,
                            self.bytes_not_written, self.limit_bytes, self.count)


def read_pcap(path):
    """Return [(ts_us, frame)] from a file this module wrote (used by tests and tools)."""
    with open(path, "rb") as f:
        blob = f.read()
    magic, _, _, _, _, _, link = struct.unpack_from("<IHHiIII", blob, 0)
    if magic != _MAGIC or link != LINKTYPE_ETHERNET:
        raise ValueError("not an Ethernet pcap (microsecond) file")
    out, off = [], 24
    while off + 16 <= len(blob):
        sec, usec, incl, _orig = struct.unpack_from("<IIII", blob, off)
        off += 16
        out.append((sec * 1_000_000 + usec, blob[off:off + incl]))
        off += incl
    return out
