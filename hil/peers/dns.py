"""A scriptable DNS server (UDP) built on dnslib, for the board's resolver tests.

    with DnsServer(net) as dns:
        dns.add_a("board.test", "192.0.2.77", ttl=60)
        dns.add_a("multi.test", ["192.0.2.1", "192.0.2.2"])
        dns.add_cname("alias.test", "board.test")
        dns.set_behaviour("slow.test", delay=1.5)
        dns.set_behaviour("gone.test", "servfail")
        dns.set_raw("evil.test", dnsraw.compression_loop)
        ... board resolves ...
        q = dns.queries()[0]      # DnsQuery(time, source, id, name, qtype, rd, ...)

Messages are parsed and built with dnslib; only the deliberately malformed replies of
:mod:`hil.peers.dnsraw` are made by patching bytes dnslib produced.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Union

from dnslib import AAAA, CNAME, QTYPE, RCODE, RR, A, DNSError, DNSHeader, DNSQuestion, DNSRecord

from dnslib.buffer import Buffer

from .base import Peer, PeerError

__all__ = ["BEHAVIOURS", "DnsQuery", "DnsServer"]

#: What a name can be scripted to do (``answer`` = the records of the zone).
BEHAVIOURS = ("answer", "nxdomain", "servfail", "refused", "silent", "truncated", "cutoff",
              "wrong_id", "wrong_name")

RawBuilder = Union[bytes, Callable[[DNSRecord], bytes]]


def _key(name: str) -> str:
    return str(name).rstrip(".").lower()


@dataclass(frozen=True)
class DnsQuery:
    """One query the server received (``name`` without the trailing dot, as sent)."""
    wall: float
    mono: float
    source: tuple
    id: int
    name: str
    qtype: str
    rd: bool
    action: str          # what the server did: answer, nxdomain, silent, delay 1.5 s + answer...
    raw: bytes = field(repr=False, default=b"")

    @property
    def time(self) -> float:
        return self.wall


@dataclass
class _Entry:
    records: list = field(default_factory=list)   # dnslib RR
    behaviour: str | None = None                  # None: answer (or nxdomain when no record)
    delay: float = 0.0
    raw: RawBuilder | None = None
    times: int | None = None                      # behaviour applies to the next N queries only
    follow: bool = False                          # wrong_id/wrong_name: then send the right reply
    wrong_name: str | None = None


class DnsServer(Peer):
    """Authoritative-style DNS over UDP on ``host:port`` inside the bench namespace.

    Unknown names get ``default`` (``"nxdomain"``; any of :data:`BEHAVIOURS` but ``answer``).
    Names are matched case-insensitively; the reply echoes the question as sent.
    """

    name = "dns"

    def __init__(self, net, port: int = 53, host: str = "0.0.0.0", default: str = "nxdomain",
                 bufsize: int = 4096) -> None:
        super().__init__(net, host=host, port=port)
        self._check_behaviour(default)
        self.default = default
        self.bufsize = bufsize
        self._zone: dict[str, _Entry] = {}
        self._queries: list[DnsQuery] = []

    # -- scripting (any thread) --------------------------------------------
    @staticmethod
    def _check_behaviour(b: str | None) -> None:
        if b is not None and b not in BEHAVIOURS:
            raise PeerError(f"unknown DNS behaviour {b!r} (one of {', '.join(BEHAVIOURS)})")

    def _entry(self, name: str) -> _Entry:
        return self._zone.setdefault(_key(name), _Entry())

    def add_a(self, name: str, addresses: str | Iterable[str], ttl: int = 300) -> "DnsServer":
        """A record(s) for name (added to those already there)."""
        addrs = [addresses] if isinstance(addresses, str) else list(addresses)
        for a in addrs:
            try:
                socket.inet_aton(a)
            except OSError:
                raise PeerError(f"not an IPv4 address for {name}: {a!r}") from None
        with self._lock:
            e = self._entry(name)
            e.records += [RR(_key(name), QTYPE.A, rdata=A(a), ttl=int(ttl)) for a in addrs]
        return self

    def add_aaaa(self, name: str, addresses: str | Iterable[str], ttl: int = 300) -> "DnsServer":
        addrs = [addresses] if isinstance(addresses, str) else list(addresses)
        with self._lock:
            self._entry(name).records += [RR(_key(name), QTYPE.AAAA, rdata=AAAA(a), ttl=int(ttl))
                                          for a in addrs]
        return self

    def add_cname(self, name: str, target: str, ttl: int = 300) -> "DnsServer":
        """name is an alias of target; queries for name get the chain and target's records."""
        with self._lock:
            self._entry(name).records.append(RR(_key(name), QTYPE.CNAME, rdata=CNAME(_key(target)),
                                                ttl=int(ttl)))
        return self

    def add_record(self, zone_line: str) -> "DnsServer":
        """Any record(s) in zone file syntax, e.g. ``"x.test 30 IN TXT hello"``."""
        try:
            rrs = RR.fromZone(zone_line)
        except Exception as e:  # dnslib raises several types
            raise PeerError(f"bad zone line {zone_line!r}: {e}") from None
        with self._lock:
            for rr in rrs:
                self._entry(str(rr.rname)).records.append(rr)
        return self

    def remove(self, name: str) -> None:
        with self._lock:
            self._zone.pop(_key(name), None)

    def set_behaviour(self, name: str, behaviour: str | None = None, *, delay: float | None = None,
                      times: int | None = None, follow: bool = False,
                      wrong_name: str | None = None) -> "DnsServer":
        """Script what queries for name get.

        behaviour: one of :data:`BEHAVIOURS` (None keeps the current one, "answer" restores
        normal answers).  delay: seconds before the reply is sent (the server keeps serving
        other queries meanwhile).  times: the behaviour (and delay) apply to the next N queries
        only, then the name is answered normally.  follow: with wrong_id/wrong_name, the right
        reply is sent right after the wrong one.  wrong_name: the name used by wrong_name
        (default ``"wrong-" + name``).
        """
        self._check_behaviour(behaviour)
        if delay is not None and delay < 0:
            raise PeerError(f"negative DNS delay {delay}")
        with self._lock:
            e = self._entry(name)
            if behaviour is not None:
                e.behaviour = None if behaviour == "answer" else behaviour
            if delay is not None:
                e.delay = float(delay)
            e.times = times
            e.follow = follow
            e.wrong_name = wrong_name
        return self

    def set_raw(self, name: str, raw: RawBuilder, *, delay: float | None = None,
                times: int | None = None) -> "DnsServer":
        """Reply to queries for name with raw bytes, or with builder(query) (see :mod:`hil.peers.dnsraw`)."""
        if not (isinstance(raw, (bytes, bytearray)) or callable(raw)):
            raise PeerError("set_raw needs bytes or a callable(query) -> bytes")
        with self._lock:
            e = self._entry(name)
            e.raw = bytes(raw) if isinstance(raw, (bytes, bytearray)) else raw
            e.times = times
            if delay is not None:
                e.delay = float(delay)
        return self

    def queries(self, name: str | None = None) -> list[DnsQuery]:
        """Queries received so far (optionally only those for name)."""
        with self._lock:
            qs = list(self._queries)
        return qs if name is None else [q for q in qs if _key(q.name) == _key(name)]

    def wait_queries(self, count: int = 1, name: str | None = None, timeout: float = 5.0) -> list[DnsQuery]:
        """Wait until count queries (for name) arrived; returns them (fewer on timeout)."""
        self.wait_for(lambda _: len(self._q_nolock(name)) >= count, timeout)
        return self.queries(name)

    def _q_nolock(self, name):
        return self._queries if name is None else [q for q in self._queries if _key(q.name) == _key(name)]

    # -- serving (peer thread) ---------------------------------------------
    def _open(self) -> None:
        s = self.net.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sockets.append(s)
        s.bind((self.host, self.port))

    def _on_readable(self, sock: socket.socket) -> None:
        data, addr = sock.recvfrom(self.bufsize)
        self.record("rx", addr, data)
        now_w, now_m = time.time(), time.monotonic()
        try:
            query = DNSRecord.parse(data)
        except (DNSError, Exception) as e:  # dnslib raises DNSError or struct/index errors
            self._formerr(sock, addr, data, f"unparseable query: {e}")
            return
        if query.header.qr or not query.questions:
            self._formerr(sock, addr, data, "not a query" if query.header.qr else "no question")
            return
        q = query.q
        name = str(q.qname).rstrip(".")
        with self._lock:
            entry = self._zone.get(_key(name))
            plan = self._plan(entry)
            if entry is not None and entry.times is not None and plan[0] != "answer":
                entry.times -= 1
                if entry.times <= 0:
                    entry.behaviour, entry.delay, entry.raw, entry.times = None, 0.0, None, None
        behaviour, delay, raw, follow, wrong = plan
        action = ("raw" if raw is not None else behaviour)
        if delay:
            action = f"delay {delay:g} s + {action}"
        qrec = DnsQuery(now_w, now_m, addr, query.header.id, name, QTYPE.get(q.qtype, str(q.qtype)),
                        bool(query.header.rd), action, bytes(data))
        with self._changed:
            self._queries.append(qrec)
            self._changed.notify_all()
        if behaviour == "silent" and raw is None:
            self.note(f"query {qrec.id} {name} {qrec.qtype}: silent, dropped")
            return
        replies = self._replies(query, behaviour, raw, follow, wrong)
        if delay:
            self.call_later(delay, lambda: self._send(sock, addr, replies, qrec))
        else:
            self._send(sock, addr, replies, qrec)

    def _plan(self, entry: _Entry | None):
        if entry is None:
            return (self.default, 0.0, None, False, None)
        if entry.raw is not None:
            return ("raw", entry.delay, entry.raw, False, None)
        b = entry.behaviour or ("answer" if entry.records else self.default)
        return (b, entry.delay, None, entry.follow, entry.wrong_name)

    def _send(self, sock, addr, replies: list[tuple[bytes, str]], q: DnsQuery) -> None:
        for data, note in replies:
            try:
                sock.sendto(data, addr)
            except OSError as e:
                self.record("note", addr, data, f"send failed: {e.strerror or e}")
                continue
            self.record("tx", addr, data, f"id {q.id} {q.name} {q.qtype}: {note}")

    def _formerr(self, sock, addr, data: bytes, why: str) -> None:
        self.note(why)
        if len(data) < 12:
            return
        hdr = DNSHeader.parse(Buffer(data[:12]))
        r = DNSRecord(DNSHeader(id=hdr.id, qr=1, opcode=hdr.opcode, rcode=RCODE.FORMERR))
        self._send(sock, addr, [(r.pack(), "FORMERR")],
                   DnsQuery(time.time(), time.monotonic(), addr, hdr.id, "", "", bool(hdr.rd), "formerr"))

    # -- building replies (dnslib) -----------------------------------------
    def _answer(self, query: DNSRecord) -> DNSRecord:
        reply = query.reply()          # qr=1 aa=1 ra=1, same id and question
        q = query.q
        name, seen = _key(q.qname), set()
        with self._lock:
            while name not in seen:
                seen.add(name)
                entry = self._zone.get(name)
                if entry is None:
                    break
                cnames = [rr for rr in entry.records if rr.rtype == QTYPE.CNAME]
                wanted = [rr for rr in entry.records
                          if rr.rtype == q.qtype or q.qtype == QTYPE.ANY]
                for rr in wanted:
                    reply.add_answer(_renamed(rr, name, q.qname if name == _key(q.qname) else None))
                if cnames and q.qtype not in (QTYPE.CNAME, QTYPE.ANY):
                    if not wanted:
                        reply.add_answer(_renamed(cnames[0], name, q.qname if name == _key(q.qname) else None))
                    name = _key(cnames[0].rdata.label)
                    continue
                break
            first = self._zone.get(_key(q.qname))
            if not reply.rr and (first is None or not first.records):
                reply.header.rcode = RCODE.NXDOMAIN
        return reply

    def _replies(self, query: DNSRecord, behaviour: str, raw, follow: bool, wrong: str | None):
        if raw is not None:
            data = raw(query) if callable(raw) else raw
            return [(bytes(data), f"raw {len(data)} bytes")]
        if behaviour in ("nxdomain", "servfail", "refused"):
            r = query.reply()
            r.header.rcode = getattr(RCODE, behaviour.upper())
            return [(r.pack(), behaviour.upper())]
        good = self._answer(query)
        desc = f"{RCODE.get(good.header.rcode)} {len(good.rr)} answer(s)"
        if behaviour == "answer":
            return [(good.pack(), desc)]
        if behaviour == "truncated":
            r = query.reply()
            r.header.tc = 1
            return [(r.pack(), "TC bit, empty answer section")]
        if behaviour == "cutoff":
            data = good.pack()
            cut = max(12, len(data) - max(1, (len(data) - 12) // 2)) if good.rr else max(12, len(data) - 2)
            return [(data[:cut], f"cut off at {cut} of {len(data)} bytes")]
        if behaviour == "wrong_id":
            bad = DNSRecord.parse(good.pack())
            bad.header.id = (query.header.id + 1) & 0xFFFF
            out = [(bad.pack(), f"wrong id {bad.header.id}")]
        elif behaviour == "wrong_name":
            other = wrong or ("wrong-" + str(query.q.qname).rstrip("."))
            bad = DNSRecord.parse(good.pack())
            bad.questions = [DNSQuestion(other, query.q.qtype, query.q.qclass)]
            for rr in bad.rr:
                if _key(rr.rname) == _key(query.q.qname):
                    rr.rname = other
            out = [(bad.pack(), f"wrong question name {other}")]
        else:  # pragma: no cover - checked at scripting time
            raise PeerError(f"unknown DNS behaviour {behaviour!r}")
        if follow:
            out.append((good.pack(), desc))
        return out


def _renamed(rr: RR, key: str, qname) -> RR:
    """rr with the owner name spelled as in the question (case preserved)."""
    if qname is None:
        return rr
    return RR(qname, rr.rtype, rr.rclass, rr.ttl, rr.rdata)
