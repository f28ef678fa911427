"""The scriptable DNS server, queried with dnslib over namespace UDP sockets."""

import logging
import socket
import time

import pytest
from dnslib import QTYPE, RCODE, DNSRecord

from hil.peers import DnsServer, PeerError, dnsraw


def ask(net, name, qtype="A", timeout=2.0, port=53, rd=True, sock=None):
    q = DNSRecord.question(name, qtype)
    q.header.rd = int(rd)
    s = sock or net.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.settimeout(timeout)
        s.sendto(q.pack(), (net.host_ip, port))
        data, src = s.recvfrom(4096)
        assert src == (net.host_ip, port)
        return q, data
    finally:
        if sock is None:
            s.close()


def answers(data):
    r = DNSRecord.parse(data)
    return [(str(rr.rname), QTYPE[rr.rtype], str(rr.rdata), rr.ttl) for rr in r.rr]


def test_a_records_ttl_and_query_log(net, caplog):
    caplog.set_level(logging.INFO, logger="hil.peers")
    with DnsServer(net) as dns:
        dns.add_a("board.test", "192.0.2.77", ttl=60)
        dns.add_a("multi.test", ["192.0.2.1", "192.0.2.2"], ttl=5)
        t0 = time.time()
        q, data = ask(net, "board.test")
        r = DNSRecord.parse(data)
        assert r.header.id == q.header.id and r.header.qr == 1 and r.header.rcode == RCODE.NOERROR
        assert r.header.aa == 1 and str(r.q.qname) == "board.test."
        assert answers(data) == [("board.test.", "A", "192.0.2.77", 60)]
        _, data = ask(net, "MULTI.test", rd=False)
        assert answers(data) == [("MULTI.test.", "A", "192.0.2.1", 5), ("MULTI.test.", "A", "192.0.2.2", 5)]
        _, data = ask(net, "board.test", "AAAA")   # name exists, no AAAA: NOERROR, no data
        assert DNSRecord.parse(data).header.rcode == RCODE.NOERROR and answers(data) == []
        qs = dns.queries()
        assert [(x.name, x.qtype, x.rd, x.action) for x in qs] == [
            ("board.test", "A", True, "answer"), ("MULTI.test", "A", False, "answer"),
            ("board.test", "AAAA", True, "answer")]
        assert qs[0].id == q.header.id and qs[0].source[0] == net.host_ip and t0 <= qs[0].time <= time.time()
        assert dns.queries("multi.test")[0].name == "MULTI.test"
        assert dns.wait_for(lambda log: sum(e.direction == "tx" for e in log) == 3, 2)
    assert "board.test A: NOERROR 1 answer(s)" in caplog.text
    assert dns.error is None


def test_unknown_names_nxdomain_servfail_refused(net):
    with DnsServer(net) as dns:
        dns.add_a("gone.test", "192.0.2.5")
        _, data = ask(net, "nobody.test")
        assert DNSRecord.parse(data).header.rcode == RCODE.NXDOMAIN
        for b in ("nxdomain", "servfail", "refused"):
            dns.set_behaviour("gone.test", b)
            _, data = ask(net, "gone.test")
            r = DNSRecord.parse(data)
            assert r.header.rcode == getattr(RCODE, b.upper()) and not r.rr
        dns.set_behaviour("gone.test", "answer")
        assert answers(ask(net, "gone.test")[1])[0][2] == "192.0.2.5"
        dns.default = "servfail"
        assert DNSRecord.parse(ask(net, "other.test")[1]).header.rcode == RCODE.SERVFAIL
        with pytest.raises(PeerError, match="unknown DNS behaviour 'bogus'"):
            dns.set_behaviour("x.test", "bogus")


def test_cname_chain(net):
    with DnsServer(net) as dns:
        dns.add_a("board.test", "192.0.2.77", ttl=60)
        dns.add_cname("alias.test", "mid.test", ttl=30)
        dns.add_cname("mid.test", "board.test", ttl=20)
        dns.add_cname("dangling.test", "nowhere.test")
        dns.add_cname("loop1.test", "loop2.test")
        dns.add_cname("loop2.test", "loop1.test")
        assert answers(ask(net, "alias.test")[1]) == [
            ("alias.test.", "CNAME", "mid.test.", 30), ("mid.test.", "CNAME", "board.test.", 20),
            ("board.test.", "A", "192.0.2.77", 60)]
        assert answers(ask(net, "alias.test", "CNAME")[1]) == [("alias.test.", "CNAME", "mid.test.", 30)]
        assert answers(ask(net, "dangling.test")[1]) == [("dangling.test.", "CNAME", "nowhere.test.", 300)]
        assert [a[2] for a in answers(ask(net, "loop1.test")[1])] == ["loop2.test.", "loop1.test."]


def test_silent_then_answered_and_delay_measured(net):
    with DnsServer(net) as dns:
        dns.add_a("quiet.test", "192.0.2.8")
        dns.set_behaviour("quiet.test", "silent", times=1)
        with pytest.raises(socket.timeout):
            ask(net, "quiet.test", timeout=0.3)
        assert answers(ask(net, "quiet.test")[1])[0][2] == "192.0.2.8"    # times=1: back to normal
        assert [q.action for q in dns.queries()] == ["silent", "answer"]
        dns.set_behaviour("gone.test", "silent")
        with pytest.raises(socket.timeout):
            ask(net, "gone.test", timeout=0.3)

        dns.add_a("slow.test", "192.0.2.9")
        dns.set_behaviour("slow.test", delay=0.5)
        s1 = net.socket(socket.AF_INET, socket.SOCK_DGRAM)
        t0 = time.perf_counter()
        s1.sendto(DNSRecord.question("slow.test").pack(), (net.host_ip, 53))
        # the server keeps answering others while the slow reply waits
        _, data = ask(net, "quiet.test")
        assert time.perf_counter() - t0 < 0.3 and answers(data)
        s1.settimeout(2)
        data = s1.recv(512)
        dt = time.perf_counter() - t0
        s1.close()
        assert 0.5 <= dt < 0.9 and answers(data)[0][2] == "192.0.2.9"
        assert dns.queries("slow.test")[0].action == "delay 0.5 s + answer"


def test_truncated_and_cutoff(net):
    with DnsServer(net) as dns:
        dns.add_a("big.test", [f"192.0.2.{i}" for i in range(20, 40)])
        full = ask(net, "big.test")[1]
        dns.set_behaviour("big.test", "truncated")
        r = DNSRecord.parse(ask(net, "big.test")[1])
        assert r.header.tc == 1 and not r.rr and str(r.q.qname) == "big.test."
        dns.set_behaviour("big.test", "cutoff")
        data = ask(net, "big.test")[1]
        assert 12 < len(data) < len(full) and full[2:].startswith(data[2:])
        with pytest.raises(Exception):
            DNSRecord.parse(data)


def test_wrong_id_and_wrong_name(net):
    with DnsServer(net) as dns, net.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        dns.add_a("board.test", "192.0.2.77")
        dns.set_behaviour("board.test", "wrong_id")
        q, data = ask(net, "board.test")
        r = DNSRecord.parse(data)
        assert r.header.id == (q.header.id + 1) & 0xFFFF and answers(data)[0][2] == "192.0.2.77"
        dns.set_behaviour("board.test", "wrong_id", follow=True)   # wrong one, then the right one
        q, data = ask(net, "board.test", sock=s)
        assert DNSRecord.parse(data).header.id != q.header.id
        assert DNSRecord.parse(s.recv(512)).header.id == q.header.id
        dns.set_behaviour("board.test", "wrong_name")
        q, data = ask(net, "board.test")
        r = DNSRecord.parse(data)
        assert r.header.id == q.header.id and str(r.q.qname) == "wrong-board.test."
        assert answers(data) == [("wrong-board.test.", "A", "192.0.2.77", 300)]
        dns.set_behaviour("board.test", "wrong_name", wrong_name="evil.test")
        assert str(DNSRecord.parse(ask(net, "board.test")[1]).q.qname) == "evil.test."


def test_raw_replies_and_malformed_builders(net):
    q = DNSRecord.question("evil.test")
    valid = dnsraw.valid_reply(q)
    off = dnsraw.answer_offset(q)
    assert off == 12 + len(b"\x04evil\x04test\x00") + 4
    assert DNSRecord.parse(valid).rr[0].rdata.toZone() == "192.0.2.99"
    loop = dnsraw.compression_loop(q)
    assert loop[off:off + 2] == bytes([0xC0, off]) and len(loop) == len(valid)
    assert dnsraw.pointer_past_end(q)[off] & 0xC0 == 0xC0
    lpe = dnsraw.label_past_end(q)
    assert lpe[off] == 63 and len(lpe) == off + 11
    assert dnsraw.lying_counts(q, ancount=5)[6:8] == b"\x00\x05"
    big = dnsraw.oversized_name(q)
    assert big[off:off + 64] == b"\x3f" + b"a" * 63 and big[off + 5 * 64] == 0
    assert dnsraw.label_too_long(q)[off] == 65
    assert dnsraw.rdlength_past_end(q)[-6:-4] == b"\x00\xc8"
    assert len(dnsraw.short_header(q)) == 6
    assert dnsraw.garbage(q, 10)[:2] == valid[:2] and len(dnsraw.garbage(q, 10)) == 12
    for builder in (dnsraw.compression_loop, dnsraw.pointer_past_end, dnsraw.label_past_end,
                    lambda q: dnsraw.lying_counts(q, ancount=5), dnsraw.short_header):
        with pytest.raises(Exception):   # dnslib itself rejects these (it accepts the 3 others)
            DNSRecord.parse(builder(q))
    with DnsServer(net) as dns:
        dns.set_raw("evil.test", dnsraw.compression_loop)
        dns.set_raw("fixed.test", b"\x12\x34hello")
        q2, data = ask(net, "evil.test")
        assert data == dnsraw.compression_loop(q2)   # built from the board's own query (same id)
        assert ask(net, "fixed.test")[1] == b"\x12\x34hello"
        assert [q.action for q in dns.queries()] == ["raw", "raw"]


def test_garbage_query_gets_formerr_and_is_logged(net):
    with DnsServer(net, port=5353) as dns, net.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        s.sendto(b"\xab\xcd\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x05ab", (net.host_ip, 5353))
        r = DNSRecord.parse(s.recv(512))
        assert r.header.id == 0xABCD and r.header.rcode == RCODE.FORMERR
        s.sendto(b"\x01", (net.host_ip, 5353))       # too short for a header: dropped
        assert dns.wait_for(lambda log: any("unparseable" in e.note for e in log)
                            and sum(e.direction == "rx" for e in log) == 2)
        assert dns.queries() == [] and dns.error is None
