"""A scriptable RFC 2131 DHCP server on the bench network (UDP 67 on br0).

    with DhcpServer(net, pool=("192.0.2.100", "192.0.2.150"), lease=3600) as dhcp:
        dhcp.set_lease(10)                       # short lease: the board renews after 5 s
        dhcp.nak_next()                          # the next REQUEST gets a NAK
        dhcp.ignore("discover", times=2)         # the first two DISCOVERs go unanswered
        dhcp.offer_address("192.0.2.120")        # e.g. an address another host answers ARP for
        dhcp.mutate("offer", drop_option(54))    # malformed offers (hil.peers.dhcpmsg)
        ... board boots ...
        dhcp.wait_message("ACK", direction="tx")
        [m.type for m in dhcp.messages()]

Replies go where RFC 2131 section 4.1 says: to the relay (giaddr), NAKs broadcast, to ciaddr
when set, broadcast when the client sets the BROADCAST flag, otherwise unicast to yiaddr at
chaddr (a frame written on br0 through AF_PACKET, since the client has no address to ARP for).
``reply_mode="broadcast"`` broadcasts every reply instead.
"""

from __future__ import annotations

import ctypes
import ipaddress
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Iterable

from ..net.frames import udp_frame
from .base import Peer, PeerError
from .dhcpmsg import (ACK, BOOTREPLY, BROADCAST_FLAG, DECLINE, DISCOVER, INFORM, MSG_TYPES, NAK, OFFER,
                      RELEASE, REQUEST, DhcpError, DhcpMessage, Mutation, apply_mutations, ip_bytes,
                      ips_bytes, u32)

__all__ = ["DhcpRecord", "DhcpServer"]

_TYPE_BY_NAME = {v: k for k, v in MSG_TYPES.items()}
SO_ATTACH_FILTER = 26


@dataclass(frozen=True)
class DhcpRecord:
    """One DHCP message received or sent by the server."""
    wall: float
    mono: float
    direction: str              # "rx" or "tx"
    type: str                   # DISCOVER, OFFER, ... ("?" when unparseable)
    xid: int
    chaddr: str                 # aa:bb:cc:dd:ee:ff
    ciaddr: str
    yiaddr: str
    requested_ip: str | None
    host_name: str | None
    peer: tuple                 # source (rx) or destination (tx) address
    note: str = ""
    message: DhcpMessage | None = field(default=None, repr=False, compare=False)
    raw: bytes = field(default=b"", repr=False, compare=False)

    @property
    def time(self) -> float:
        return self.wall


class DhcpServer(Peer):
    """RFC 2131 server on ``0.0.0.0:67`` bound to ``interface`` (br0) inside the bench namespace."""

    name = "dhcp"

    def __init__(self, net, pool: tuple[str, str] = ("192.0.2.100", "192.0.2.150"),
                 server_ip: str | None = None, lease: int = 3600, router: str | list | None = None,
                 dns: Iterable[str] | None = None, subnet_mask: str | None = None,
                 domain: str | None = None, t1: int | None = None, t2: int | None = None,
                 echo_host_name: bool = True, reply_mode: str = "rfc", interface: str = "br0",
                 port: int = 67, client_port: int = 68, extra_options: dict | None = None) -> None:
        super().__init__(net, host="0.0.0.0", port=port)
        try:
            lo, hi = (ipaddress.IPv4Address(a) for a in pool)
        except (ValueError, TypeError):
            raise PeerError(f"bad DHCP pool {pool!r}: two IPv4 addresses expected") from None
        if hi < lo:
            raise PeerError(f"bad DHCP pool {pool!r}: end before start")
        if reply_mode not in ("rfc", "broadcast"):
            raise PeerError(f"reply_mode must be 'rfc' or 'broadcast', not {reply_mode!r}")
        self.pool = [str(ipaddress.IPv4Address(i)) for i in range(int(lo), int(hi) + 1)]
        self.server_ip = server_ip or net.host_ip
        self.router = ([router] if isinstance(router, str) else list(router)) if router is not None \
            else [net.host_ip]
        self.dns = list(dns) if dns is not None else [self.server_ip]
        self.subnet_mask = subnet_mask or net.netmask
        self.domain = domain
        self.echo_host_name = echo_host_name
        self.reply_mode = reply_mode
        self.interface = interface
        self.client_port = client_port
        self.extra_options = dict(extra_options or {})
        self.set_lease(lease, t1, t2)
        self.leases: dict[str, tuple[str, float]] = {}     # mac -> (ip, expiry monotonic)
        self.offers: dict[str, str] = {}                   # mac -> ip offered
        self.declined: set[str] = set()
        self._records: list[DhcpRecord] = []
        self._scripted: list[list] = []                    # [ip, mac or None, times or None]
        self._ignore: dict[str, int | None] = {}
        self._nak_next = 0
        self._nak_macs: set[str] = set()
        self._mutations: dict[str, list] = {}              # kind -> [mutations, times]
        self._raw: socket.socket | None = None
        self._ifmac: bytes | None = None

    # -- scripting (any thread) --------------------------------------------
    def set_lease(self, lease: int, t1: int | None = None, t2: int | None = None) -> None:
        """Lease time (option 51) and T1/T2 (58/59; default 1/2 and 7/8 of the lease)."""
        self.lease, self.t1 = int(lease), int(t1) if t1 is not None else int(lease) // 2
        self.t2 = int(t2) if t2 is not None else int(lease) * 7 // 8

    def offer_address(self, ip: str, mac: str | None = None, times: int | None = None) -> None:
        """Offer ip (in the pool or not, in use or not) to mac (or anyone), the next `times` times."""
        ip_bytes(ip)
        with self._lock:
            self._scripted.insert(0, [ip, mac.lower() if mac else None, times])

    def ignore(self, what: str, times: int | None = None) -> None:
        """Silence: ignore "discover", "request" (or "all") messages; times=None: until unignore()."""
        if what not in ("discover", "request", "all"):
            raise PeerError(f"ignore what? 'discover', 'request' or 'all', not {what!r}")
        with self._lock:
            for w in (("discover", "request") if what == "all" else (what,)):
                self._ignore[w] = times

    def unignore(self) -> None:
        with self._lock:
            self._ignore.clear()

    def nak_next(self, count: int = 1) -> None:
        """NAK the next `count` REQUESTs (whoever sends them)."""
        with self._lock:
            self._nak_next += count

    def nak_for(self, mac: str, on: bool = True) -> None:
        """NAK every REQUEST from mac (until nak_for(mac, False))."""
        with self._lock:
            (self._nak_macs.add if on else self._nak_macs.discard)(mac.lower())

    def mutate(self, kind: str, *mutations: Mutation, times: int | None = None) -> None:
        """Malform the server's next "offer"/"ack"/"nak" messages (times=None: all of them)."""
        if kind not in ("offer", "ack", "nak"):
            raise PeerError(f"mutate what? 'offer', 'ack' or 'nak', not {kind!r}")
        with self._lock:
            if mutations:
                self._mutations[kind] = [list(mutations), times]
            else:
                self._mutations.pop(kind, None)

    def messages(self, type: str | None = None, direction: str | None = None) -> list[DhcpRecord]:
        with self._lock:
            recs = list(self._records)
        return [r for r in recs if (type is None or r.type == type.upper())
                and (direction is None or r.direction == direction)]

    def wait_message(self, type: str, direction: str = "rx", count: int = 1,
                     timeout: float = 5.0) -> list[DhcpRecord]:
        """Wait until count messages of type were received (rx) or sent (tx); returns them."""
        t = type.upper()
        self.wait_for(lambda _: sum(r.type == t and r.direction == direction
                                    for r in self._records) >= count, timeout)
        return self.messages(t, direction)

    def lease_of(self, mac: str) -> str | None:
        with self._lock:
            l = self.leases.get(mac.lower())
        return l[0] if l else None

    # -- socket ------------------------------------------------------------
    def _open(self) -> None:
        s = self.net.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sockets.append(s)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        if self.interface:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, self.interface.encode())
        s.bind((self.host, self.port))

    def stop(self) -> None:
        super().stop()
        if self._raw is not None:
            self._raw.close()
            self._raw = None

    def _raw_socket(self) -> socket.socket:
        if self._raw is None:
            raw = self.net.raw_socket(self.interface)
            # receive nothing: a one-instruction BPF program "return 0"
            prog = ctypes.create_string_buffer(struct.pack("HBBI", 0x06, 0, 0, 0))
            raw.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER,
                           struct.pack("HL", 1, ctypes.addressof(prog)))
            self._ifmac = raw.getsockname()[4]
            self._raw = raw
        return self._raw

    # -- serving (peer thread) ---------------------------------------------
    def _rec(self, direction, m: DhcpMessage | None, peer, raw: bytes, note: str = "") -> None:
        r = DhcpRecord(time.time(), time.monotonic(), direction, m.type_name if m else "?",
                       m.xid if m else 0, m.mac if m else "", m.ciaddr if m else "",
                       m.yiaddr if m else "", m.requested_ip if m else None,
                       m.host_name if m else None, peer, note, m, bytes(raw))
        with self._changed:
            self._records.append(r)
        self.record(direction, peer, raw, (m.summary() if m else "unparseable") + (f": {note}" if note else ""))

    def _on_readable(self, sock: socket.socket) -> None:
        data, addr = sock.recvfrom(4096)
        try:
            m = DhcpMessage.parse(data, strict=False)
        except DhcpError as e:
            self._rec("rx", None, addr, data, f"malformed: {e}")
            return
        if m.op != 1 or m.type is None:
            self._rec("rx", m, addr, data, "not a DHCP request, ignored")
            return
        t = m.type
        kind = {DISCOVER: "discover", REQUEST: "request"}.get(t)
        with self._lock:
            silent = kind in self._ignore
            if silent and self._ignore[kind] is not None:
                self._ignore[kind] -= 1
                if self._ignore[kind] <= 0:
                    del self._ignore[kind]
        if silent:
            self._rec("rx", m, addr, data, "ignored (silence)")
            return
        self._rec("rx", m, addr, data)
        if t == DISCOVER:
            self._discover(sock, m)
        elif t == REQUEST:
            self._request(sock, m)
        elif t == DECLINE:
            with self._lock:
                ip = m.requested_ip
                if ip:
                    self.declined.add(ip)
                self.offers.pop(m.mac, None)
                if self.leases.get(m.mac, ("",))[0] == ip:
                    del self.leases[m.mac]
            self.note(f"{m.mac} declined {ip}")
        elif t == RELEASE:
            with self._lock:
                self.leases.pop(m.mac, None)
            self.note(f"{m.mac} released {m.ciaddr}")
        elif t == INFORM:
            self._send(sock, m, ACK, "0.0.0.0", lease=False)

    def _free(self, ip: str, mac: str) -> bool:
        if ip in self.declined:
            return False
        now = time.monotonic()
        for other, (lip, exp) in self.leases.items():
            if other != mac and lip == ip and exp > now:
                return False
        return all(oip != ip for other, oip in self.offers.items() if other != mac)

    def _choose(self, m: DhcpMessage) -> str | None:
        with self._lock:
            for entry in self._scripted:
                ip, mac, times = entry
                if mac is None or mac == m.mac:
                    if times is not None:
                        entry[2] -= 1
                        if entry[2] <= 0:
                            self._scripted.remove(entry)
                    return ip
            lease = self.leases.get(m.mac)
            if lease and lease[0] not in self.declined:
                return lease[0]
            if m.mac in self.offers and self.offers[m.mac] not in self.declined:
                return self.offers[m.mac]
            req = m.requested_ip
            if req in self.pool and self._free(req, m.mac):
                return req
            for ip in self.pool:
                if self._free(ip, m.mac):
                    return ip
        return None

    def _discover(self, sock, m: DhcpMessage) -> None:
        ip = self._choose(m)
        if ip is None:
            self.note(f"pool exhausted, no offer for {m.mac}")
            return
        with self._lock:
            self.offers[m.mac] = ip
        self._send(sock, m, OFFER, ip)

    def _request(self, sock, m: DhcpMessage) -> None:
        with self._lock:
            nak = m.mac in self._nak_macs or self._nak_next > 0
            if nak and m.mac not in self._nak_macs:
                self._nak_next -= 1
        if nak:
            self._send(sock, m, NAK, note="scripted NAK")
            return
        sid, req = m.server_id, m.requested_ip
        with self._lock:
            offered = self.offers.get(m.mac)
            lease = self.leases.get(m.mac)
            if sid is not None:                                   # SELECTING
                if sid != self.server_ip:
                    self.offers.pop(m.mac, None)
                    ok, why = None, f"client chose server {sid}"
                else:
                    want = req or (m.ciaddr if m.ciaddr != "0.0.0.0" else None)
                    ok, why = (want if want and want == offered else False), \
                        f"requested {want}, offered {offered}"
            elif req is not None:                                 # INIT-REBOOT
                scripted = any(e[0] == req for e in self._scripted)
                good = (req in self.pool or scripted or req == offered) and self._free(req, m.mac)
                ok, why = (req if good else False), f"INIT-REBOOT {req} not valid here"
            elif m.ciaddr != "0.0.0.0":                           # RENEWING / REBINDING
                good = lease is not None and lease[0] == m.ciaddr
                ok, why = (m.ciaddr if good else False), f"no lease of {m.ciaddr} for {m.mac}"
            else:
                ok, why = False, "REQUEST with neither server id, requested IP nor ciaddr"
            if ok:
                self.leases[m.mac] = (ok, time.monotonic() + self.lease)
                self.offers.pop(m.mac, None)
        if ok is None:
            self.note(why)
        elif ok:
            self._send(sock, m, ACK, ok)
        else:
            self._send(sock, m, NAK, note=why)

    def _options(self, req: DhcpMessage, t: int, lease: bool) -> list:
        opts = [(53, bytes([t])), (54, ip_bytes(self.server_ip))]
        if t == NAK:
            return opts
        if lease:
            opts += [(51, u32(self.lease)), (58, u32(self.t1)), (59, u32(self.t2))]
        opts += [(1, ip_bytes(self.subnet_mask))]
        if self.router:
            opts.append((3, ips_bytes(self.router)))
        if self.dns:
            opts.append((6, ips_bytes(self.dns)))
        hn = req.option(12)
        if self.echo_host_name and hn is not None:
            opts.append((12, hn))
        if self.domain:
            opts.append((15, self.domain.encode()))
        opts += [(c, bytes(v)) for c, v in self.extra_options.items()]
        return opts

    def _send(self, sock, req: DhcpMessage, t: int, yiaddr: str = "0.0.0.0", lease: bool = True,
              note: str = "") -> None:
        reply = DhcpMessage(op=BOOTREPLY, xid=req.xid, chaddr=req.chaddr, htype=req.htype, hlen=req.hlen,
                            flags=req.flags, giaddr=req.giaddr, yiaddr=yiaddr if t != NAK else "0.0.0.0",
                            ciaddr=req.ciaddr if t == ACK and req.type == INFORM else "0.0.0.0",
                            siaddr="0.0.0.0", options=self._options(req, t, lease and t != NAK))
        kind = {OFFER: "offer", ACK: "ack", NAK: "nak"}[t]
        with self._lock:
            mut = self._mutations.get(kind)
            mutations = list(mut[0]) if mut else []
            if mut and mut[1] is not None:
                mut[1] -= 1
                if mut[1] <= 0:
                    del self._mutations[kind]
        data = apply_mutations(reply, mutations)
        if mutations:
            note = ", ".join(filter(None, [note, *(mu.description for mu in mutations)]))
        # RFC 2131 4.1: where the reply goes
        port = self.client_port
        if req.giaddr != "0.0.0.0":
            dest, how = (req.giaddr, self.port), "relay"
        elif t == NAK or self.reply_mode == "broadcast" or req.flags & BROADCAST_FLAG:
            dest, how = ("255.255.255.255", port), "broadcast"
        elif req.ciaddr != "0.0.0.0":
            dest, how = (req.ciaddr, port), "unicast"
        else:
            dest, how = (yiaddr, port), "chaddr"
        try:
            if how == "chaddr":
                raw = self._raw_socket()
                raw.send(udp_frame(bytes(req.chaddr[:6]), self._ifmac, self.server_ip, yiaddr,
                                   self.port, port, data, tos=0x10))
            else:
                sock.sendto(data, dest)
        except OSError as e:
            self.note(f"sending {MSG_TYPES[t]} to {dest[0]} failed: {e.strerror or e}")
            return
        note = ", ".join(filter(None, [note, f"{how} to {dest[0]}" + (f" at {reply.mac}" if how == "chaddr" else "")]))
        self._rec("tx", reply, dest, data, note)
