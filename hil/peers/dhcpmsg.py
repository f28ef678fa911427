"""DHCP messages (RFC 2131/2132) parsed and built with struct, and offer mutations.

    msg = DhcpMessage.parse(data)          # DhcpError (one line) when malformed
    msg.type, msg.xid, msg.mac, msg.option(12), msg.requested_ip, msg.host_name
    data = DhcpMessage(op=BOOTREPLY, xid=..., chaddr=..., options=[(53, b"\\x02"), ...]).pack()

Mutations (for robustness tests of the board's client) change a message before or after
encoding and say what they did: :func:`drop_option`, :func:`set_option`, :func:`bad_length`,
:func:`overflow`, :func:`no_end`, :func:`bad_cookie`, :func:`truncate`, :func:`overload`,
:func:`set_field`.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass, field, replace
from typing import Iterable

__all__ = ["BOOTREQUEST", "BOOTREPLY", "MAGIC", "MSG_TYPES", "DhcpError", "DhcpMessage", "Mutation",
           "apply_mutations", "drop_option", "set_option", "bad_length", "overflow", "no_end",
           "bad_cookie", "truncate", "overload", "set_field", "ip_bytes", "ips_bytes", "u32",
           "option_spans"]

BOOTREQUEST, BOOTREPLY = 1, 2
MAGIC = b"\x63\x82\x53\x63"
DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE, INFORM = range(1, 9)
MSG_TYPES = {1: "DISCOVER", 2: "OFFER", 3: "REQUEST", 4: "DECLINE", 5: "ACK", 6: "NAK",
             7: "RELEASE", 8: "INFORM"}
BROADCAST_FLAG = 0x8000
PAD, END, OVERLOAD = 0, 255, 52
_FIXED = struct.Struct("!BBBBIHH4s4s4s4s16s64s128s")   # 236 bytes
OPTIONS_OFFSET = _FIXED.size + 4                        # 240


class DhcpError(ValueError):
    """A malformed DHCP message; the text is one line."""


def ip_bytes(ip: str) -> bytes:
    try:
        return socket.inet_aton(ip)
    except OSError:
        raise DhcpError(f"not an IPv4 address: {ip!r}") from None


def ips_bytes(ips: Iterable[str]) -> bytes:
    return b"".join(ip_bytes(i) for i in ips)


def u32(v: int) -> bytes:
    return struct.pack("!I", int(v) & 0xFFFFFFFF)


def _ip(b: bytes) -> str:
    return socket.inet_ntoa(b)


@dataclass
class DhcpMessage:
    op: int = BOOTREQUEST
    xid: int = 0
    chaddr: bytes = b"\0" * 6
    ciaddr: str = "0.0.0.0"
    yiaddr: str = "0.0.0.0"
    siaddr: str = "0.0.0.0"
    giaddr: str = "0.0.0.0"
    flags: int = 0
    secs: int = 0
    hops: int = 0
    htype: int = 1
    hlen: int = 6
    sname: bytes = b""
    file: bytes = b""
    options: list = field(default_factory=list)     # [(code, bytes)] in wire order
    cookie: bytes = MAGIC

    # -- reading -----------------------------------------------------------
    def option(self, code: int) -> bytes | None:
        """Value of option code (several instances concatenated, RFC 3396); None if absent."""
        parts = [v for c, v in self.options if c == code]
        return b"".join(parts) if parts else None

    @property
    def type(self) -> int | None:
        v = self.option(53)
        return v[0] if v and len(v) == 1 else None

    @property
    def type_name(self) -> str:
        return MSG_TYPES.get(self.type, f"type {self.type}" if self.type is not None else "BOOTP")

    @property
    def mac(self) -> str:
        return ":".join(f"{b:02x}" for b in self.chaddr[:max(0, min(self.hlen, 16))])

    @property
    def broadcast(self) -> bool:
        return bool(self.flags & BROADCAST_FLAG)

    def _opt_ip(self, code: int) -> str | None:
        v = self.option(code)
        return _ip(v) if v is not None and len(v) == 4 else None

    @property
    def requested_ip(self) -> str | None:
        return self._opt_ip(50)

    @property
    def server_id(self) -> str | None:
        return self._opt_ip(54)

    @property
    def host_name(self) -> str | None:
        v = self.option(12)
        return v.decode("latin-1") if v is not None else None

    @property
    def lease_time(self) -> int | None:
        v = self.option(51)
        return struct.unpack("!I", v)[0] if v is not None and len(v) == 4 else None

    def summary(self) -> str:
        s = f"{self.type_name} xid 0x{self.xid:08x} chaddr {self.mac}"
        for label, v in (("ciaddr", self.ciaddr), ("yiaddr", self.yiaddr)):
            if v != "0.0.0.0":
                s += f" {label} {v}"
        if self.requested_ip:
            s += f" requested {self.requested_ip}"
        if self.host_name is not None:
            s += f" host name {self.host_name!r}"
        return s

    # -- wire format -------------------------------------------------------
    @classmethod
    def parse(cls, data: bytes, strict: bool = True) -> "DhcpMessage":
        """Parse a BOOTP/DHCP message.  strict: an END option is required."""
        data = bytes(data)
        if len(data) < OPTIONS_OFFSET:
            raise DhcpError(f"DHCP message too short: {len(data)} bytes (at least {OPTIONS_OFFSET})")
        (op, htype, hlen, hops, xid, secs, flags, ci, yi, si, gi, ch, sname, file
         ) = _FIXED.unpack_from(data)
        cookie = data[_FIXED.size:OPTIONS_OFFSET]
        if cookie != MAGIC:
            raise DhcpError(f"bad magic cookie {cookie.hex()}")
        if hlen > 16:
            raise DhcpError(f"hardware address length {hlen} > 16")
        options, saw_end = _parse_options(data, OPTIONS_OFFSET, len(data), "options")
        if strict and not saw_end:
            raise DhcpError("options end without an END option")
        msg = cls(op=op, xid=xid, chaddr=ch[:hlen] if htype == 1 and hlen == 6 else ch, ciaddr=_ip(ci),
                  yiaddr=_ip(yi), siaddr=_ip(si), giaddr=_ip(gi), flags=flags, secs=secs, hops=hops,
                  htype=htype, hlen=hlen, sname=sname.rstrip(b"\0"), file=file.rstrip(b"\0"),
                  options=options, cookie=cookie)
        ov = msg.option(OVERLOAD)
        if ov is not None:
            if len(ov) != 1 or ov[0] not in (1, 2, 3):
                raise DhcpError(f"bad option overload value {ov.hex()}")
            base = _FIXED.size - 192
            if ov[0] & 1:   # file field first (RFC 2131 4.1)
                more, _ = _parse_options(data, base + 64, base + 192, "file field")
                msg.options += more
                msg.file = b""
            if ov[0] & 2:
                more, _ = _parse_options(data, base, base + 64, "sname field")
                msg.options += more
                msg.sname = b""
        return msg

    def pack(self, min_size: int = 300) -> bytes:
        """Encode (options > 255 bytes split, END added, zero-padded to min_size bytes)."""
        if len(self.sname) > 64 or len(self.file) > 128:
            raise DhcpError("sname/file field too long")
        head = _FIXED.pack(self.op, self.htype, self.hlen, self.hops, self.xid & 0xFFFFFFFF,
                           self.secs, self.flags, ip_bytes(self.ciaddr), ip_bytes(self.yiaddr),
                           ip_bytes(self.siaddr), ip_bytes(self.giaddr), self.chaddr.ljust(16, b"\0"),
                           self.sname, self.file)
        body = head + self.cookie + encode_options(self.options) + bytes([END])
        return body.ljust(min_size, b"\0")


def encode_options(options: Iterable[tuple[int, bytes]]) -> bytes:
    out = bytearray()
    for code, value in options:
        if not 1 <= code <= 254:
            raise DhcpError(f"option code {code} out of range 1..254")
        value = bytes(value)
        chunks = [value[i:i + 255] for i in range(0, len(value), 255)] or [b""]
        for c in chunks:
            out += bytes([code, len(c)]) + c
    return bytes(out)


def _parse_options(data: bytes, start: int, stop: int, where: str):
    opts, i = [], start
    while i < stop:
        code = data[i]
        if code == PAD:
            i += 1
            continue
        if code == END:
            return opts, True
        if i + 1 >= stop:
            raise DhcpError(f"option {code} has no length byte at the end of the {where}")
        n = data[i + 1]
        if i + 2 + n > stop:
            raise DhcpError(f"option {code} length {n} runs past the end of the {where} "
                            f"({stop - i - 2} bytes left)")
        opts.append((code, data[i + 2:i + 2 + n]))
        i += 2 + n
    return opts, False


def option_spans(data: bytes) -> list[tuple[int, int, int]]:
    """(code, offset of the code byte, length byte) of each option in the options field, up to END."""
    spans, i = [], OPTIONS_OFFSET
    while i < len(data) and data[i] != END:
        if data[i] == PAD:
            i += 1
            continue
        n = data[i + 1] if i + 1 < len(data) else 0
        spans.append((data[i], i, n))
        i += 2 + n
    return spans


def _end_offset(data: bytes) -> int:
    spans = option_spans(data)
    if not spans:
        return OPTIONS_OFFSET
    _, off, n = spans[-1]
    return off + 2 + n


# -- mutations ---------------------------------------------------------------
class Mutation:
    """Changes an outgoing message: msg() before encoding, wire() after; describe says what."""
    description = "no change"

    def msg(self, m: DhcpMessage) -> DhcpMessage:
        return m

    def wire(self, data: bytes) -> bytes:
        return data

    def __repr__(self) -> str:
        return f"<Mutation {self.description}>"


def apply_mutations(m: DhcpMessage, mutations: Iterable[Mutation]) -> bytes:
    mutations = list(mutations)
    for mu in mutations:
        m = mu.msg(m)
    data = m.pack()
    for mu in mutations:
        data = mu.wire(data)
    return data


class _Msg(Mutation):
    def __init__(self, fn, description):
        self._fn, self.description = fn, description

    def msg(self, m):
        return self._fn(m)


class _Wire(Mutation):
    def __init__(self, fn, description):
        self._fn, self.description = fn, description

    def wire(self, data):
        return self._fn(data)


def drop_option(*codes: int) -> Mutation:
    """Leave options out (e.g. 54 server id, 1 subnet mask, 51 lease time)."""
    return _Msg(lambda m: replace(m, options=[(c, v) for c, v in m.options if c not in codes]),
                f"drop option(s) {', '.join(map(str, codes))}")


def set_option(code: int, value: bytes) -> Mutation:
    """Replace (or add) option code with value, e.g. a 3-byte subnet mask."""
    def fn(m):
        opts = [(c, v) for c, v in m.options if c != code]
        return replace(m, options=opts + [(code, bytes(value))])
    return _Msg(fn, f"option {code} = {bytes(value).hex() or 'empty'}")


def set_field(**fields) -> Mutation:
    """Change header fields (xid=, yiaddr=, chaddr=, op=, hlen=, flags=...)."""
    return _Msg(lambda m: replace(m, **fields), "fields " + ", ".join(f"{k}={v!r}" for k, v in fields.items()))


def bad_length(code: int, length: int) -> Mutation:
    """The length byte of option code says `length`; the data stays as it was."""
    def fn(data):
        for c, off, _ in option_spans(data):
            if c == code:
                return data[:off + 1] + bytes([length & 0xFF]) + data[off + 2:]
        raise DhcpError(f"bad_length: no option {code} in the message")
    return _Wire(fn, f"option {code} length byte {length}")


def overflow(code: int = 43, claimed: int = 255, present: int = 8) -> Mutation:
    """The message ends inside a last option (code) that claims `claimed` bytes; no END, no padding."""
    def fn(data):
        end = _end_offset(data)
        return data[:end] + bytes([code, claimed]) + b"\xee" * present
    return _Wire(fn, f"last option {code} claims {claimed} bytes, {present} present, message ends")


def no_end() -> Mutation:
    """No END option: the message stops right after the last option (no padding)."""
    return _Wire(lambda data: data[:_end_offset(data)], "no END option")


def bad_cookie(cookie: bytes = b"\x63\x82\x53\x00") -> Mutation:
    return _Wire(lambda data: data[:_FIXED.size] + cookie + data[OPTIONS_OFFSET:],
                 f"magic cookie {cookie.hex()}")


def truncate(length: int) -> Mutation:
    """Only the first `length` bytes are sent."""
    return _Wire(lambda data: data[:length], f"truncated to {length} bytes")


def overload(codes: Iterable[int] = (1, 3, 6), where: int = 1) -> Mutation:
    """Move options into the file (where=1) and/or sname (2, 3 = both) field, announced by option 52.

    Legitimate RFC 2131 option overload, which small clients often get wrong.
    """
    codes = tuple(codes)

    def fn(m):
        moved = [(c, v) for c, v in m.options if c in codes]
        kept = [(c, v) for c, v in m.options if c not in codes]
        fields = {}
        if where == 1:
            fields["file"] = encode_options(moved) + bytes([END])
        elif where == 2:
            fields["sname"] = encode_options(moved) + bytes([END])
        else:
            half = (len(moved) + 1) // 2
            fields["file"] = encode_options(moved[:half]) + bytes([END])
            fields["sname"] = encode_options(moved[half:]) + bytes([END])
        if len(fields.get("file", b"")) > 128 or len(fields.get("sname", b"")) > 64:
            raise DhcpError("overload: the options do not fit the fields")
        return replace(m, options=kept + [(OVERLOAD, bytes([where]))], **fields)
    return _Msg(fn, f"options {', '.join(map(str, codes))} overloaded into {'file' if where == 1 else 'sname' if where == 2 else 'file+sname'}")
