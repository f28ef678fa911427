"""Building Ethernet/IPv4 frames by hand, for peers and tests that put crafted frames on the
bench network (checksums right, or wrong on purpose)."""

from __future__ import annotations

import socket
import struct


def mac_bytes(mac: str | bytes) -> bytes:
    return bytes(mac) if isinstance(mac, (bytes, bytearray)) else bytes(
        int(x, 16) for x in mac.split(":"))


def inet_checksum(data: bytes) -> int:
    """RFC 1071 Internet checksum."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4_header(src_ip: str, dst_ip: str, proto: int, payload_len: int, ttl: int = 64,
                ident: int = 0, tos: int = 0, options: bytes = b"", bad_checksum: bool = False) -> bytes:
    ihl = 5 + len(options) // 4
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, tos, ihl * 4 + payload_len, ident & 0xFFFF, 0,
                    ttl, proto, 0, socket.inet_aton(src_ip), socket.inet_aton(dst_ip)) + options
    cs = inet_checksum(h) ^ (0x5555 if bad_checksum else 0)
    return h[:10] + struct.pack("!H", cs) + h[12:]


def _pseudo(src_ip: str, dst_ip: str, proto: int, length: int) -> bytes:
    return socket.inet_aton(src_ip) + socket.inet_aton(dst_ip) + struct.pack("!BBH", 0, proto, length)


def udp_frame(dst_mac, src_mac, src_ip: str, dst_ip: str, sport: int, dport: int,
              payload: bytes, corrupt: str = "none", ident: int = 0, tos: int = 0) -> bytes:
    """Ethernet/IPv4/UDP.  ``corrupt``: ``none``, ``ip_checksum`` or ``udp_checksum``."""
    if corrupt not in ("none", "ip_checksum", "udp_checksum"):
        raise ValueError(f"corrupt must be none, ip_checksum or udp_checksum, not {corrupt!r}")
    ulen = 8 + len(payload)
    udp = struct.pack("!HHHH", sport, dport, ulen, 0) + payload
    ucs = inet_checksum(_pseudo(src_ip, dst_ip, 17, ulen) + udp) or 0xFFFF
    if corrupt == "udp_checksum":
        ucs ^= 0x5555
    udp = udp[:6] + struct.pack("!H", ucs) + udp[8:]
    ip = ipv4_header(src_ip, dst_ip, 17, ulen, ident=ident, tos=tos,
                     bad_checksum=corrupt == "ip_checksum")
    return mac_bytes(dst_mac) + mac_bytes(src_mac) + b"\x08\x00" + ip + udp


def tcp_frame(dst_mac, src_mac, src_ip: str, dst_ip: str, sport: int, dport: int,
              seq: int, flags: int, payload: bytes = b"", ack: int = 0, window: int = 8192) -> bytes:
    """Ethernet/IPv4/TCP with correct checksums (flags: 0x02 SYN, 0x10 ACK, ...)."""
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, window, 0, 0) + payload
    tcp = tcp[:16] + struct.pack("!H", inet_checksum(_pseudo(src_ip, dst_ip, 6, len(tcp)) + tcp)) + tcp[18:]
    return (mac_bytes(dst_mac) + mac_bytes(src_mac) + b"\x08\x00"
            + ipv4_header(src_ip, dst_ip, 6, len(tcp)) + tcp)


def igmp_query_frame(src_mac, src_ip: str, group: str = "0.0.0.0", max_resp_ds: int = 10) -> bytes:
    """Ethernet/IPv4/IGMPv2 membership query (RFC 2236): general when ``group`` is 0.0.0.0
    (sent to 224.0.0.1), else group-specific (sent to the group).  TTL 1 and the Router
    Alert option, as a querier sends it."""
    igmp = struct.pack("!BBH4s", 0x11, int(max_resp_ds), 0, socket.inet_aton(group))
    igmp = igmp[:2] + struct.pack("!H", inet_checksum(igmp)) + igmp[4:]
    dst = "224.0.0.1" if group == "0.0.0.0" else group
    ip = ipv4_header(src_ip, dst, 2, len(igmp), ttl=1, options=b"\x94\x04\x00\x00")
    return multicast_mac(dst) + mac_bytes(src_mac) + b"\x08\x00" + ip + igmp


def multicast_mac(group: str) -> bytes:
    """The Ethernet address of IPv4 multicast ``group`` (01:00:5e + its low 23 bits)."""
    d = socket.inet_aton(group)
    return bytes([0x01, 0x00, 0x5E, d[1] & 0x7F, d[2], d[3]])
