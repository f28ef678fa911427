"""Malformed DNS replies for resolver robustness tests (use with :meth:`DnsServer.set_raw`).

Every builder takes the parsed query (a dnslib ``DNSRecord``) and returns bytes.  Each starts
from a valid reply made by dnslib (same id and question, one A answer) and changes exactly the
part named, so a test knows what the board was given::

    dns.set_raw("loop.test", dnsraw.compression_loop)
    dns.set_raw("lie.test", lambda q: dnsraw.lying_counts(q, ancount=5))

Layout of the valid reply: header (12 bytes), the question (name, type, class) and the answer,
whose owner name is the 2-byte pointer 0xC00C to the question name, then type, class, TTL,
RDLENGTH = 4 and the address.  :func:`answer_offset` gives where the answer starts.
"""

from __future__ import annotations

import struct

from dnslib import QTYPE, RR, A, DNSRecord

__all__ = ["valid_reply", "answer_offset", "compression_loop", "pointer_past_end",
           "label_past_end", "lying_counts", "oversized_name", "label_too_long",
           "rdlength_past_end", "short_header", "garbage"]

_PTR_Q = b"\xc0\x0c"


def valid_reply(q: DNSRecord, address: str = "192.0.2.99", ttl: int = 60) -> bytes:
    """The well-formed reply the other builders start from (built by dnslib)."""
    r = q.reply()
    r.add_answer(RR(q.q.qname, QTYPE.A, rdata=A(address), ttl=ttl))
    data = r.pack()
    off = answer_offset(q)
    assert data[off:off + 2] == _PTR_Q, "dnslib did not compress the answer name"
    return data


def answer_offset(q: DNSRecord) -> int:
    """Byte offset of the answer section in :func:`valid_reply` (= header + question)."""
    return len(q.reply().pack())


def compression_loop(q: DNSRecord) -> bytes:
    """The answer's owner name is a compression pointer to itself (an endless loop)."""
    data = bytearray(valid_reply(q))
    off = answer_offset(q)
    data[off:off + 2] = struct.pack("!H", 0xC000 | off)
    return bytes(data)


def pointer_past_end(q: DNSRecord) -> bytes:
    """The answer's owner name is a compression pointer beyond the end of the message."""
    data = bytearray(valid_reply(q))
    off = answer_offset(q)
    data[off:off + 2] = struct.pack("!H", 0xC000 | min(0x3FFF, len(data) + 32))
    return bytes(data)


def label_past_end(q: DNSRecord, claimed: int = 63, present: int = 10) -> bytes:
    """The message ends inside the answer's owner name: a label says `claimed` bytes, `present` follow."""
    if not 0 <= present < claimed <= 63:
        raise ValueError("need 0 <= present < claimed <= 63")
    data = valid_reply(q)
    off = answer_offset(q)
    return data[:off] + bytes([claimed]) + b"x" * present


def lying_counts(q: DNSRecord, qdcount: int = 1, ancount: int = 5, nscount: int = 0,
                 arcount: int = 0) -> bytes:
    """Valid reply with one answer whose header counts are replaced (e.g. ANCOUNT 5)."""
    data = bytearray(valid_reply(q))
    data[4:12] = struct.pack("!HHHH", qdcount, ancount, nscount, arcount)
    return bytes(data)


def oversized_name(q: DNSRecord, labels: int = 5) -> bytes:
    """The answer's owner name is `labels` labels of 63 bytes: longer than the 255-byte limit."""
    name = b"".join(b"\x3f" + bytes([0x61 + i % 26]) * 63 for i in range(labels)) + b"\x00"
    data = valid_reply(q)
    off = answer_offset(q)
    return data[:off] + name + data[off + 2:]


def label_too_long(q: DNSRecord, length: int = 65) -> bytes:
    """The answer's owner name starts with a label length byte 64..127 (reserved label type)."""
    if not 64 <= length <= 127:
        raise ValueError("length must be 64..127")
    data = valid_reply(q)
    off = answer_offset(q)
    return data[:off] + bytes([length]) + b"y" * length + b"\x00" + data[off + 2:]


def rdlength_past_end(q: DNSRecord, rdlength: int = 200) -> bytes:
    """The A answer says RDLENGTH = rdlength but only its 4 address bytes follow."""
    data = bytearray(valid_reply(q))
    data[-6:-4] = struct.pack("!H", rdlength)
    return bytes(data)


def short_header(q: DNSRecord, length: int = 6) -> bytes:
    """Only the first `length` (< 12) bytes of the header: id and flags, counts cut off."""
    return valid_reply(q)[:length]


def garbage(q: DNSRecord, length: int = 64, seed: int = 1) -> bytes:
    """The query's id followed by deterministic pseudo-random bytes."""
    x, out = seed & 0xFFFFFFFF or 1, bytearray()
    for _ in range(length):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        out.append(x & 0xFF)
    return struct.pack("!H", q.header.id) + bytes(out)
