"""Ethernet/ARP/IPv4/UDP frames built and parsed by hand, for the bench network tests."""

from __future__ import annotations

import select
import socket
import struct
import time

BCAST = b"\xff" * 6


def mac(s: str) -> bytes:
    return bytes.fromhex(s.replace(":", ""))


def ip4(s: str) -> bytes:
    return socket.inet_aton(s)


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s >> 16) + (s & 0xFFFF)
    return ~s & 0xFFFF


def arp(op: int, smac: bytes, sip: str, tmac: bytes, tip: str, dst: bytes | None = None) -> bytes:
    eth = (dst if dst is not None else (BCAST if op == 1 else tmac)) + smac + b"\x08\x06"
    return eth + struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, smac, ip4(sip), tmac, ip4(tip))


def parse_arp(frame: bytes) -> dict | None:
    if len(frame) < 42 or frame[12:14] != b"\x08\x06":
        return None
    _, _, _, _, op, smac, sip, tmac, tip = struct.unpack("!HHBBH6s4s6s4s", frame[14:42])
    return {"dst": frame[:6], "op": op, "smac": smac, "sip": socket.inet_ntoa(sip),
            "tmac": tmac, "tip": socket.inet_ntoa(tip)}


def udp_frame(smac: bytes, dmac: bytes, sip: str, dip: str, sport: int, dport: int,
              payload: bytes, ident: int = 1) -> bytes:
    ulen = 8 + len(payload)
    pseudo = ip4(sip) + ip4(dip) + struct.pack("!BBH", 0, 17, ulen)
    uh = struct.pack("!HHHH", sport, dport, ulen, 0)
    uc = csum(pseudo + uh + payload) or 0xFFFF
    uh = struct.pack("!HHHH", sport, dport, ulen, uc)
    iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, ident, 0x4000, 64, 17, 0, ip4(sip), ip4(dip))
    iph = iph[:10] + struct.pack("!H", csum(iph)) + iph[12:]
    return dmac + smac + b"\x08\x00" + iph + uh + payload


def parse_udp(frame: bytes) -> dict | None:
    if len(frame) < 42 or frame[12:14] != b"\x08\x00" or frame[23] != 17:
        return None
    ihl = (frame[14] & 0x0F) * 4
    ip = frame[14:14 + ihl]
    if csum(ip) != 0:
        return None
    u = frame[14 + ihl:]
    sport, dport, ulen, _ = struct.unpack("!HHHH", u[:8])
    return {"src": socket.inet_ntoa(ip[12:16]), "dst": socket.inet_ntoa(ip[16:20]),
            "sport": sport, "dport": dport, "payload": u[8:ulen], "smac": frame[6:12], "dmac": frame[:6]}


def recv_until(sock: socket.socket, match, timeout: float = 1.0):
    """Frames from sock until match(frame) returns something truthy; (result, seconds) or (None, None)."""
    t0 = time.perf_counter()
    deadline = t0 + timeout
    while True:
        left = deadline - time.perf_counter()
        if left <= 0 or not select.select([sock], [], [], left)[0]:
            return None, None
        frame = sock.recv(65535)
        r = match(frame)
        if r:
            return r, time.perf_counter() - t0


def drain(sock: socket.socket, quiet: float = 0.1) -> list[bytes]:
    frames = []
    while select.select([sock], [], [], quiet)[0]:
        frames.append(sock.recv(65535))
    return frames
