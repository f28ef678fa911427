"""Minimal libpcap writer: LINKTYPE_ETHERNET, microsecond timestamps, frames without FCS."""

import struct
import time

_MAGIC = 0xA1B2C3D4
LINKTYPE_ETHERNET = 1


class PcapWriter:
    def __init__(self, path, snaplen=65535):
        self._f = open(path, "wb")  # noqa: SIM115 - kept open for the run
        self._f.write(struct.pack("<IHHiIII", _MAGIC, 2, 4, 0, 0, snaplen, LINKTYPE_ETHERNET))
        self._f.flush()
        self.snaplen = snaplen
        self.count = 0

    def write(self, frame, ts_ns=None):
        if ts_ns is None:
            ts_ns = time.time_ns()
        sec, ns = divmod(ts_ns, 1_000_000_000)
        data = bytes(frame[: self.snaplen])
        self._f.write(struct.pack("<IIII", sec, ns // 1000, len(data), len(frame)) + data)
        self.count += 1

    def flush(self):
        """Push buffered frames to the file (the machine does it whenever the guest idles,
        so a reader sees every frame of a quiet board without a flush per frame)."""
        if not self._f.closed:
            self._f.flush()

    def close(self):
        if not self._f.closed:
            self._f.close()


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
