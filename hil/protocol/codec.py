"""Encode and decode agent messages straight from :mod:`hil.protocol.definition`."""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

from . import definition as d

_FIXED = {"u8": "<B", "u16": "<H", "u32": "<I", "i32": "<i", "u64": "<Q"}

BY_CODE = {code: (name, fields) for code, name, fields in d.all_frames()}
COMMANDS = {c.name: c for c in d.COMMANDS}
EVENTS_BY_CODE = {e.code: e for e in d.EVENTS}
ERROR_NAMES = {v: k for k, v in d.ERRORS.items()}


class CodecError(ValueError):
    pass


@dataclass
class Message:
    code: int
    name: str
    req_id: int
    fields: dict

    @property
    def is_event(self) -> bool:
        return 0x40 <= self.code <= 0x7F

    @property
    def is_reply(self) -> bool:
        return self.code & 0x80 and self.code != d.ERROR_CODE

    @property
    def is_error(self) -> bool:
        return self.code == d.ERROR_CODE

    def __getitem__(self, key):
        return self.fields[key]


def _pack_field(f: d.Field, value) -> bytes:
    if f.type in _FIXED:
        return struct.pack(_FIXED[f.type], int(value))
    if f.type == "ip4":
        return ipaddress.IPv4Address(value).packed
    if f.type == "mac":
        if isinstance(value, str):
            value = bytes(int(x, 16) for x in value.split(":"))
        if len(value) != 6:
            raise CodecError(f"{f.name}: a MAC address has 6 bytes")
        return bytes(value)
    data = value.encode() if isinstance(value, str) else bytes(value)
    if len(data) > d.MAX_PAYLOAD:
        raise CodecError(f"{f.name}: {len(data)} bytes is more than the protocol's {d.MAX_PAYLOAD}")
    return struct.pack("<H", len(data)) + data


def encode_payload(fields, values: dict) -> bytes:
    missing = [f.name for f in fields if f.name not in values]
    if missing:
        raise CodecError(f"missing field(s): {', '.join(missing)}")
    return b"".join(_pack_field(f, values[f.name]) for f in fields)


def encode_request(name: str, req_id: int, /, **values) -> bytes:
    cmd = COMMANDS[name]
    return struct.pack("<BH", cmd.code, req_id) + encode_payload(cmd.request, values)


def encode_message(code: int, req_id: int, values: dict) -> bytes:
    _, fields = BY_CODE[code]
    return struct.pack("<BH", code, req_id) + encode_payload(fields, values)


def decode_body(body: bytes) -> Message:
    if len(body) < 3:
        raise CodecError("message shorter than its header")
    code, req_id = struct.unpack_from("<BH", body)
    if code not in BY_CODE:
        raise CodecError(f"unknown message type 0x{code:02x}")
    name, fields = BY_CODE[code]
    values = {}
    pos = 3
    for f in fields:
        size = d.FIELD_TYPES[f.type][1]
        if size is not None:
            if pos + size > len(body):
                raise CodecError(f"{name}: field {f.name} truncated")
            raw = body[pos:pos + size]
            pos += size
            if f.type in _FIXED:
                values[f.name] = struct.unpack(_FIXED[f.type], raw)[0]
            elif f.type == "ip4":
                values[f.name] = str(ipaddress.IPv4Address(raw))
            else:
                values[f.name] = ":".join(f"{b:02x}" for b in raw)
        else:
            if pos + 2 > len(body):
                raise CodecError(f"{name}: length of {f.name} truncated")
            (n,) = struct.unpack_from("<H", body, pos)
            pos += 2
            if pos + n > len(body):
                raise CodecError(f"{name}: {f.name} says {n} bytes, only {len(body) - pos} present")
            raw = body[pos:pos + n]
            pos += n
            values[f.name] = raw.decode(errors="replace") if f.type == "str" else bytes(raw)
    if pos != len(body):
        raise CodecError(f"{name}: {len(body) - pos} unexpected trailing bytes")
    return Message(code, name, req_id, values)
