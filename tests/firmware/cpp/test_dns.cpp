// DNS: DNSRequest API, resolver schedule, response matching and parsing, cache.
// Queries are captured from the transmit queue and answered with crafted frames.
#include <string.h>

#include <functional>

#include "DNSRequest.h"
#include "EthernetNetIf.h"
#include "UDPSocket.h"
#include "dnsclient.h"
#include "net.h"
#include "netstack.h"
#include "testlib.h"

namespace {
const uint8_t DNS_MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x53};
const uint32_t DNS_IP = ip4(192, 0, 2, 53);  // the static interface's dns argument
const uint32_t DNS2_IP = ip4(192, 0, 2, 54);
const uint8_t DNS2_MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x54};

struct Query {
    bool ok = false;
    uint64_t t = 0;
    uint32_t dst = 0;
    uint16_t sport = 0, id = 0, flags = 0, qd = 0, an = 0, qtype = 0, qclass = 0;
    std::string name;
};

Query decode(const Bytes& f) {
    Query q;
    Parsed p = parse(f);
    if (!p.ok || p.ip_proto != 17 || p.dport != 53) return q;
    const Bytes& m = p.payload;
    if (m.size() < 12) return q;
    q.dst = p.ip_dst;
    q.sport = p.sport;
    q.id = (uint16_t)(m[0] << 8 | m[1]);
    q.flags = (uint16_t)(m[2] << 8 | m[3]);
    q.qd = (uint16_t)(m[4] << 8 | m[5]);
    q.an = (uint16_t)(m[6] << 8 | m[7]);
    size_t i = 12;
    while (i < m.size() && m[i]) {
        if (!q.name.empty()) q.name += '.';
        q.name.append((const char*)&m[i + 1], m[i]);
        i += 1 + m[i];
    }
    i++;
    if (i + 4 > m.size()) return q;
    q.qtype = (uint16_t)(m[i] << 8 | m[i + 1]);
    q.qclass = (uint16_t)(m[i + 2] << 8 | m[i + 3]);
    q.ok = true;
    q.t = board::micros();
    return q;
}

// Every query sent since the last call (other frames are discarded).
std::vector<Query> sent() {
    std::vector<Query> v;
    for (auto& f : host_board::tx_take_all()) {
        Query q = decode(f);
        if (q.ok) v.push_back(q);
    }
    return v;
}

Bytes name_wire(const std::string& n) {
    Bytes b;
    size_t start = 0;
    for (size_t i = 0; i <= n.size(); i++) {
        if (i == n.size() || n[i] == '.') {
            if (i > start) {
                b.push_back((uint8_t)(i - start));
                b.insert(b.end(), n.begin() + (long)start, n.begin() + (long)i);
            }
            start = i + 1;
        }
    }
    b.push_back(0);
    return b;
}

void add16(Bytes& b, uint16_t v) {
    b.push_back((uint8_t)(v >> 8));
    b.push_back((uint8_t)v);
}
void add32(Bytes& b, uint32_t v) {
    add16(b, (uint16_t)(v >> 16));
    add16(b, (uint16_t)v);
}

struct RR {
    Bytes owner;  // wire form
    uint16_t type;
    uint16_t cls;
    uint32_t ttl;
    Bytes rdata;
};
RR rr_a(const std::string& owner, uint32_t ip, uint32_t ttl = 300) {
    Bytes d;
    add32(d, ip);
    return RR{name_wire(owner), 1, 1, ttl, d};
}
RR rr_cname(const std::string& owner, const std::string& target, uint32_t ttl = 300) {
    return RR{name_wire(owner), 5, 1, ttl, name_wire(target)};
}

Bytes message(uint16_t id, uint16_t flags, const Bytes& qname, const std::vector<RR>& an,
              int qd = 1, int an_count = -1) {
    Bytes m;
    add16(m, id);
    add16(m, flags);
    add16(m, (uint16_t)qd);
    add16(m, (uint16_t)(an_count >= 0 ? an_count : (int)an.size()));
    add16(m, 0);
    add16(m, 0);
    if (qd) {
        m.insert(m.end(), qname.begin(), qname.end());
        add16(m, 1);
        add16(m, 1);
    }
    for (const RR& r : an) {
        m.insert(m.end(), r.owner.begin(), r.owner.end());
        add16(m, r.type);
        add16(m, r.cls);
        add32(m, r.ttl);
        add16(m, (uint16_t)r.rdata.size());
        m.insert(m.end(), r.rdata.begin(), r.rdata.end());
    }
    return m;
}
Bytes reply(const Query& q, const std::vector<RR>& an, uint16_t rcode = 0) {
    return message(q.id, (uint16_t)(0x8180 | rcode), name_wire(q.name), an);
}

void deliver(const Query& q, const Bytes& msg, uint32_t from = DNS_IP, uint16_t sport = 53,
             const uint8_t* mac = DNS_MAC) {
    host_board::inject(udp_frame(from, sport, q.sport, msg, mac));
}

std::vector<int> g_replies;
void on_reply(DNSReply r) { g_replies.push_back((int)r); }

struct Catcher {
    std::vector<int> replies;
    IpAddr seen;
    DNSRequest* req = nullptr;
    void onReply(DNSReply r) {
        replies.push_back((int)r);
        if (req) req->getResult(&seen);
    }
};

EthernetNetIf* g_if = nullptr;
EthernetNetIf* dns_setup() {
    delete g_if;  // one interface at a time (cases may set up several times)
    Net::poll();
    EthernetNetIf* e = g_if = up_static();
    NetDns::flush();
    learn(DNS_IP, DNS_MAC);
    learn(DNS2_IP, DNS2_MAC);
    g_replies.clear();
    return e;
}

std::string ipstr(const IpAddr& a) {
    char b[20];
    snprintf(b, sizeof b, "%d.%d.%d.%d", a[0], a[1], a[2], a[3]);
    return b;
}
}  // namespace

TEST(query_leaves_on_next_poll_with_rd) {
    dns_setup();
    DNSRequest r;
    r.setOnReply(on_reply);
    CHECK_EQ((int)r.resolve("mbed.example.org"), (int)DNS_OK);
    CHECK_EQ(host_board::tx_count(), (size_t)0);  // nothing sent by resolve() itself
    Net::poll();
    auto q = sent();
    CHECK_EQ(q.size(), (size_t)1);
    if (q.size() != 1) return;
    CHECK_EQ(q[0].dst, DNS_IP);  // the static dns argument is honoured
    CHECK_EQ(q[0].flags, (uint16_t)0x0100);  // query, RD
    CHECK_EQ(q[0].qd, (uint16_t)1);
    CHECK_EQ(q[0].an, (uint16_t)0);
    CHECK_EQ(q[0].name, std::string("mbed.example.org"));
    CHECK_EQ(q[0].qtype, (uint16_t)1);
    CHECK_EQ(q[0].qclass, (uint16_t)1);
    CHECK(q[0].sport >= 49152);
    CHECK(g_replies.empty());
}

TEST(a_answer_found_result_and_host) {
    dns_setup();
    Catcher c;
    DNSRequest r;
    c.req = &r;
    Host h(IpAddr(1, 2, 3, 4), 80, "www.example.com");
    r.setOnReply(&c, &Catcher::onReply);
    CHECK_EQ((int)r.resolve(&h), (int)DNS_OK);
    IpAddr ip(9, 9, 9, 9);
    CHECK_EQ((int)r.getResult(&ip), (int)DNS_OK);
    CHECK(ip.isNull());
    Net::poll();
    auto q = sent();
    CHECK_EQ(q.size(), (size_t)1);
    if (q.size() != 1) return;
    CHECK_EQ(q[0].name, std::string("www.example.com"));
    deliver(q[0], reply(q[0], {rr_a("www.example.com", ip4(198, 51, 100, 7))}));
    Net::poll();  // answer processed in the interface step; the callback comes next poll
    CHECK(c.replies.empty());
    Net::poll();
    CHECK_EQ(c.replies.size(), (size_t)1);
    if (c.replies.size() == 1) CHECK_EQ(c.replies[0], (int)DNS_FOUND);
    CHECK_EQ(ipstr(c.seen), std::string("198.51.100.7"));  // getResult inside the callback
    CHECK_EQ(ipstr(h.getIp()), std::string("198.51.100.7"));
    CHECK_EQ(h.getPort(), 80);
    r.getResult(&ip);
    CHECK_EQ(ipstr(ip), std::string("198.51.100.7"));
    for (int i = 0; i < 20; i++) {
        host_board::advance_ms(1000);
        Net::poll();
    }
    CHECK_EQ(c.replies.size(), (size_t)1);  // exactly once
    CHECK(sent().empty());
    CHECK_EQ((int)r.close(), (int)DNS_OK);
}

TEST(several_a_records_first_one) {
    dns_setup();
    DNSRequest r;
    r.setOnReply(on_reply);
    r.resolve("multi.example");
    Net::poll();
    auto q = sent();
    if (q.size() != 1) { CHECK(false); return; }
    deliver(q[0], reply(q[0], {rr_a("multi.example", ip4(10, 0, 0, 1)),
                               rr_a("multi.example", ip4(10, 0, 0, 2)),
                               rr_a("multi.example", ip4(10, 0, 0, 3))}));
    Net::poll();
    Net::poll();
    CHECK_EQ(g_replies.size(), (size_t)1);
    IpAddr ip;
    r.getResult(&ip);
    CHECK_EQ(ipstr(ip), std::string("10.0.0.1"));
}

TEST(nxdomain_and_servfail_not_found) {
    for (uint16_t rcode : {3, 2, 5}) {
        dns_setup();
        DNSRequest r;
        Host h(IpAddr(1, 1, 1, 1), 0, "nope.example");
        r.setOnReply(on_reply);
        r.resolve(&h);
        Net::poll();
        auto q = sent();
        if (q.size() != 1) { CHECK(false); return; }
        deliver(q[0], reply(q[0], {rr_a("nope.example", ip4(10, 0, 0, 1))}, rcode));
        Net::poll();
        Net::poll();
        CHECK_EQ(g_replies.size(), (size_t)1);
        if (g_replies.size() == 1) CHECK_EQ(g_replies[0], (int)DNS_NOTFOUND);
        CHECK(h.getIp().isNull());  // 0.0.0.0 written on failure
        IpAddr ip(1, 1, 1, 1);
        r.getResult(&ip);
        CHECK(ip.isNull());
        CHECK(sent().empty());  // no retry after an answer
    }
}

// Step the fake clock in 100 ms steps, polling, and record when queries leave.
static std::vector<Query> run_until(uint64_t end_us, size_t want_replies = 1) {
    std::vector<Query> all;
    while (board::micros() < end_us && g_replies.size() < want_replies) {
        host_board::advance_ms(100);
        Net::poll();
        for (auto& q : sent()) all.push_back(q);
    }
    return all;
}

TEST(no_answer_retry_schedule_then_not_found) {
    dns_setup();
    DNSRequest r;
    r.setOnReply(on_reply);
    r.resolve("silent.example");
    uint64_t t0 = board::micros();
    Net::poll();
    auto all = sent();
    auto more = run_until(t0 + 20000000);
    all.insert(all.end(), more.begin(), more.end());
    CHECK_EQ(all.size(), (size_t)4);
    uint64_t expect[] = {0, 1000000, 2000000, 4000000};
    for (size_t i = 0; i < all.size() && i < 4; i++) {
        CHECK_EQ(all[i].t - t0, expect[i]);
        CHECK_EQ(all[i].dst, DNS_IP);
        CHECK_EQ(all[i].id, all[0].id);  // the same question each time
        CHECK_EQ(all[i].name, std::string("silent.example"));
    }
    CHECK_EQ(g_replies.size(), (size_t)1);
    if (g_replies.size() == 1) CHECK_EQ(g_replies[0], (int)DNS_NOTFOUND);
    // Given up at 7 s (the callback comes on the poll after, 100 ms later here).
    CHECK_EQ(board::micros() - t0, (uint64_t)7100000);
}

TEST(second_server_same_schedule) {
    dns_setup();
    NetDns::setServers(IpAddr::fromU32(DNS_IP), IpAddr::fromU32(DNS2_IP));  // as DHCP does
    DNSRequest r;
    r.setOnReply(on_reply);
    r.resolve("silent.example");
    uint64_t t0 = board::micros();
    Net::poll();
    auto all = sent();
    auto more = run_until(t0 + 30000000);
    all.insert(all.end(), more.begin(), more.end());
    CHECK_EQ(all.size(), (size_t)8);
    uint64_t expect[] = {0, 1, 2, 4, 7, 8, 9, 11};
    for (size_t i = 0; i < all.size() && i < 8; i++) {
        CHECK_EQ(all[i].t - t0, expect[i] * 1000000);
        CHECK_EQ(all[i].dst, i < 4 ? DNS_IP : DNS2_IP);
    }
    CHECK_EQ(g_replies.size(), (size_t)1);
    CHECK_EQ(board::micros() - t0, (uint64_t)14100000);
    // The second server's answer is taken (and the first server's is not any more).
    g_replies.clear();
    DNSRequest r2;
    r2.setOnReply(on_reply);
    r2.resolve("late.example");
    Net::poll();
    std::vector<Query> q;
    for (int i = 0; i < 70; i++) {
        host_board::advance_ms(100);
        Net::poll();
        q = sent();
        if (!q.empty()) CHECK_EQ(q[0].dst, i < 69 ? DNS_IP : DNS2_IP);
    }
    if (q.size() != 1) { CHECK(false); return; }
    CHECK_EQ(q[0].dst, DNS2_IP);
    deliver(q[0], reply(q[0], {rr_a("late.example", ip4(10, 1, 1, 1))}), DNS_IP, 53, DNS_MAC);
    Net::poll();
    Net::poll();
    CHECK(g_replies.empty());
    deliver(q[0], reply(q[0], {rr_a("late.example", ip4(10, 1, 1, 2))}), DNS2_IP, 53, DNS2_MAC);
    Net::poll();
    Net::poll();
    CHECK_EQ(g_replies.size(), (size_t)1);
    IpAddr ip;
    r2.getResult(&ip);
    CHECK_EQ(ipstr(ip), std::string("10.1.1.2"));
}

TEST(wrong_id_name_source_ignored) {
    dns_setup();
    DNSRequest r;
    r.setOnReply(on_reply);
    r.resolve("host.example");
    Net::poll();
    auto q = sent();
    if (q.size() != 1) { CHECK(false); return; }
    Query bad = q[0];
    bad.id = (uint16_t)(q[0].id + 1);
    deliver(q[0], reply(bad, {rr_a("host.example", ip4(10, 0, 0, 66))}));  // other id
    Query other = q[0];
    other.name = "other.example";
    deliver(q[0], reply(other, {rr_a("other.example", ip4(10, 0, 0, 67))}));  // other name
    deliver(q[0], reply(q[0], {rr_a("host.example", ip4(10, 0, 0, 68))}), PEER_IP, 53,
            PEER_MAC);  // not from the server asked
    deliver(q[0], reply(q[0], {rr_a("host.example", ip4(10, 0, 0, 69))}), DNS_IP, 5353);
    Net::poll();
    Net::poll();
    CHECK(g_replies.empty());
    // Case does not matter (RFC 4343), and the real answer still counts.
    Query upper = q[0];
    upper.name = "HOST.Example";
    deliver(q[0], reply(upper, {rr_a("host.EXAMPLE", ip4(10, 0, 0, 70))}));
    Net::poll();
    Net::poll();
    CHECK_EQ(g_replies.size(), (size_t)1);
    if (g_replies.size() == 1) CHECK_EQ(g_replies[0], (int)DNS_FOUND);
    IpAddr ip;
    r.getResult(&ip);
    CHECK_EQ(ipstr(ip), std::string("10.0.0.70"));
}

TEST(cname_chain_followed) {
    dns_setup();
    DNSRequest r;
    r.setOnReply(on_reply);
    r.resolve("www.example.net");
    Net::poll();
    auto q = sent();
    if (q.size() != 1) { CHECK(false); return; }
    // Out of order on purpose, with an unrelated A record first.
    deliver(q[0], reply(q[0], {rr_a("decoy.example.net", ip4(10, 9, 9, 9)),
                               rr_a("edge.cdn.example", ip4(203, 0, 113, 5), 30),
                               rr_cname("alias.example.net", "edge.cdn.example", 600),
                               rr_cname("www.example.net", "alias.example.net", 60)}));
    Net::poll();
    Net::poll();
    CHECK_EQ(g_replies.size(), (size_t)1);
    if (g_replies.size() == 1) CHECK_EQ(g_replies[0], (int)DNS_FOUND);
    IpAddr ip;
    r.getResult(&ip);
    CHECK_EQ(ipstr(ip), std::string("203.0.113.5"));
    // A chain without an address, and a CNAME loop: not found.
    uint32_t a = 0, ttl = 0;
    uint8_t buf[512];
    Bytes m = reply(q[0], {rr_cname("www.example.net", "nowhere.example")});
    memcpy(buf, m.data(), m.size());
    CHECK_EQ((int)NetDns::parseResponse(buf, (int)m.size(), q[0].id, "www.example.net", &a, &ttl),
             (int)NetDns::PARSE_NOTFOUND);
    m = reply(q[0], {rr_cname("www.example.net", "b.example"), rr_cname("b.example", "www.example.net")});
    memcpy(buf, m.data(), m.size());
    CHECK_EQ((int)NetDns::parseResponse(buf, (int)m.size(), q[0].id, "www.example.net", &a, &ttl),
             (int)NetDns::PARSE_NOTFOUND);
    // The chain's TTL is its smallest one.
    m = reply(q[0], {rr_cname("www.example.net", "e.example", 60), rr_a("e.example", ip4(1, 2, 3, 4), 600)});
    memcpy(buf, m.data(), m.size());
    CHECK_EQ((int)NetDns::parseResponse(buf, (int)m.size(), q[0].id, "www.example.net", &a, &ttl),
             (int)NetDns::PARSE_FOUND);
    CHECK_EQ(ttl, (uint32_t)60);
    CHECK_EQ(a, ip4(1, 2, 3, 4));
}

TEST(answers_cached_for_ttl) {
    dns_setup();
    {
        DNSRequest r;
        r.setOnReply(on_reply);
        r.resolve("cached.example");
        Net::poll();
        auto q = sent();
        if (q.size() != 1) { CHECK(false); return; }
        deliver(q[0], reply(q[0], {rr_a("cached.example", ip4(10, 2, 2, 2), 10)}));
        Net::poll();
        Net::poll();
        CHECK_EQ(g_replies.size(), (size_t)1);
    }
    // Within the TTL: no query, DNS_FOUND on the poll after the lookup.
    host_board::advance_ms(9000);
    g_replies.clear();
    {
        DNSRequest r;
        r.setOnReply(on_reply);
        r.resolve("CACHED.example.");
        Net::poll();
        CHECK(sent().empty());
        CHECK(g_replies.empty());
        Net::poll();
        CHECK_EQ(g_replies.size(), (size_t)1);
        if (g_replies.size() == 1) CHECK_EQ(g_replies[0], (int)DNS_FOUND);
        IpAddr ip;
        r.getResult(&ip);
        CHECK_EQ(ipstr(ip), std::string("10.2.2.2"));
    }
    // After it: asked again.
    host_board::advance_ms(1500);
    {
        DNSRequest r;
        r.resolve("cached.example");
        Net::poll();
        CHECK_EQ(sent().size(), (size_t)1);
    }
    // TTL 0 is not cached.
    NetDns::flush();
    {
        DNSRequest r;
        r.resolve("zero.example");
        Net::poll();
        auto q = sent();
        if (q.size() != 1) { CHECK(false); return; }
        deliver(q[0], reply(q[0], {rr_a("zero.example", ip4(10, 3, 3, 3), 0)}));
        Net::poll();
        Net::poll();
    }
    {
        DNSRequest r;
        r.resolve("zero.example");
        Net::poll();
        CHECK_EQ(sent().size(), (size_t)1);
    }
}

TEST(ttl_capped_at_one_week) {
    dns_setup();
    {
        DNSRequest r;
        r.resolve("long.example");
        Net::poll();
        auto q = sent();
        if (q.size() != 1) { CHECK(false); return; }
        deliver(q[0], reply(q[0], {rr_a("long.example", ip4(10, 4, 4, 4), 0x7FFFFFF0u)}));
        Net::poll();
        Net::poll();
    }
    host_board::advance_us(604799ull * 1000000ull);
    {
        DNSRequest r;
        r.resolve("long.example");
        Net::poll();
        CHECK(sent().empty());
    }
    host_board::advance_us(2000000ull);
    learn(DNS_IP, DNS_MAC);  // the ARP entry expired meanwhile
    {
        DNSRequest r;
        r.resolve("long.example");
        Net::poll();
        CHECK_EQ(sent().size(), (size_t)1);
    }
}

TEST(inuse_until_close_setup_codes) {
    dns_setup();
    DNSRequest r;
    IpAddr ip;
    CHECK_EQ((int)r.getResult(&ip), (int)DNS_SETUP);
    CHECK_EQ((int)r.close(), (int)DNS_SETUP);
    r.setOnReply(on_reply);
    CHECK_EQ((int)r.resolve("10.0.0.1"), (int)DNS_OK);
    CHECK_EQ((int)r.resolve("10.0.0.2"), (int)DNS_INUSE);
    Net::poll();
    Net::poll();
    CHECK_EQ(g_replies.size(), (size_t)1);
    CHECK_EQ((int)r.resolve("10.0.0.2"), (int)DNS_INUSE);  // even when finished
    CHECK_EQ((int)r.close(), (int)DNS_OK);
    CHECK_EQ((int)r.close(), (int)DNS_SETUP);
    CHECK_EQ((int)r.getResult(&ip), (int)DNS_SETUP);
    CHECK_EQ((int)r.resolve("10.0.0.3"), (int)DNS_OK);  // reusable, keeps its callback
    Net::poll();
    Net::poll();
    CHECK_EQ(g_replies.size(), (size_t)2);
    r.getResult(&ip);
    CHECK_EQ(ipstr(ip), std::string("10.0.0.3"));
}

TEST(no_interface_gives_dns_if) {
    host_board::reset();
    EthernetNetIf* e = new EthernetNetIf(IpAddr(192, 0, 2, 10), IpAddr(255, 255, 255, 0),
                                         IpAddr(192, 0, 2, 1), IpAddr());
    delete e;
    CHECK(Net::getDefaultIf() == nullptr);
    DNSRequest r;
    CHECK_EQ((int)r.resolve("example.com"), (int)DNS_IF);
    Host h(IpAddr(), 0, "example.com");
    CHECK_EQ((int)r.resolve(&h), (int)DNS_IF);
    CHECK_EQ((int)r.close(), (int)DNS_SETUP);
}

TEST(bad_names_give_dns_error) {
    dns_setup();
    std::string longname;
    for (int i = 0; i < 30; i++) longname += "abcdefghi.";
    longname += "com";  // 303 characters
    std::string longlabel(64, 'a');
    longlabel += ".com";
    const char* names[] = {"", "a..b", ".lead", "has space.com", longname.c_str(),
                           longlabel.c_str(), "trailing..", nullptr};
    for (const char* n : names) {
        g_replies.clear();
        DNSRequest r;
        r.setOnReply(on_reply);
        CHECK_EQ((int)r.resolve(n), (int)DNS_OK);
        Net::poll();
        CHECK(g_replies.empty());
        Net::poll();
        CHECK_EQ(g_replies.size(), (size_t)1);
        if (g_replies.size() == 1) CHECK_EQ(g_replies[0], (int)DNS_ERROR);
        CHECK(sent().empty());
    }
    // A Host without a name: DNS_ERROR, Host set to 0.0.0.0.
    g_replies.clear();
    Host h(IpAddr(1, 2, 3, 4), 5, nullptr);
    DNSRequest r;
    r.setOnReply(on_reply);
    CHECK_EQ((int)r.resolve(&h), (int)DNS_OK);
    Net::poll();
    Net::poll();
    CHECK_EQ(g_replies.size(), (size_t)1);
    if (g_replies.size() == 1) CHECK_EQ(g_replies[0], (int)DNS_ERROR);
    CHECK(h.getIp().isNull());
    // 253 characters is fine.
    std::string ok;
    for (int i = 0; i < 25; i++) ok += "abcdefghi.";
    ok += "abc";
    CHECK_EQ(ok.size(), (size_t)253);
    CHECK(NetDns::validName(ok.c_str()));
    CHECK(!NetDns::validName((ok + "d").c_str()));
}

TEST(interface_not_set_up_gives_dns_error) {
    host_board::reset();
    NetDns::flush();
    EthernetNetIf e(IpAddr(192, 0, 2, 10), IpAddr(255, 255, 255, 0), IpAddr(192, 0, 2, 1),
                    IpAddr());
    g_replies.clear();
    DNSRequest r;
    r.setOnReply(on_reply);
    CHECK_EQ((int)r.resolve("example.com"), (int)DNS_OK);
    Net::poll();
    Net::poll();
    CHECK_EQ(g_replies.size(), (size_t)1);
    if (g_replies.size() == 1) CHECK_EQ(g_replies[0], (int)DNS_ERROR);
    r.close();
    Net::poll();
}

TEST(dotted_quad_literal) {
    dns_setup();
    Catcher c;
    DNSRequest r;
    c.req = &r;
    Host h(IpAddr(), 7, "203.0.113.77");
    r.setOnReply(&c, &Catcher::onReply);
    r.setOnReply(on_reply);  // the member callback wins
    CHECK_EQ((int)r.resolve(&h), (int)DNS_OK);
    Net::poll();
    CHECK(c.replies.empty());
    Net::poll();
    CHECK_EQ(c.replies.size(), (size_t)1);
    if (c.replies.size() == 1) CHECK_EQ(c.replies[0], (int)DNS_FOUND);
    CHECK(g_replies.empty());
    CHECK_EQ(ipstr(c.seen), std::string("203.0.113.77"));
    CHECK_EQ(ipstr(h.getIp()), std::string("203.0.113.77"));
    CHECK(sent().empty());
    uint32_t ip = 0;
    CHECK(NetDns::parseDottedQuad("0.0.0.0", &ip));
    CHECK(!NetDns::parseDottedQuad("1.2.3", &ip));
    CHECK(!NetDns::parseDottedQuad("1.2.3.256", &ip));
    CHECK(!NetDns::parseDottedQuad("1.2.3.4.", &ip));
    CHECK(!NetDns::parseDottedQuad("1.2.3.0004", &ip));
}

TEST(default_server_when_none_given) {
    host_board::reset();
    host_board::set_time_us(1000000);
    NetDns::flush();
    EthernetNetIf e(IpAddr(192, 0, 2, 10), IpAddr(255, 255, 255, 0), IpAddr(192, 0, 2, 1),
                    IpAddr());
    e.setup();
    learn(GW_IP, GW_MAC);
    DNSRequest r;
    r.resolve("example.com");
    Net::poll();
    auto q = sent();
    CHECK_EQ(q.size(), (size_t)1);
    if (q.size() == 1) CHECK_EQ(q[0].dst, ip4(208, 67, 222, 222));
    CHECK_EQ(ipstr(NetDns::server(0)), std::string("208.67.222.222"));
    r.close();
}

TEST(close_while_outstanding_is_deferred) {
    dns_setup();
    int services_before = 0;
    DNSRequest r;
    r.setOnReply(on_reply);
    Host h(IpAddr(5, 5, 5, 5), 1, "deferred.example");
    r.resolve(&h);
    Net::poll();
    auto q = sent();
    if (q.size() != 1) { CHECK(false); return; }
    CHECK_EQ((int)r.close(), (int)DNS_OK);
    CHECK_EQ((int)r.close(), (int)DNS_SETUP);
    (void)services_before;
    // The query goes on: retries still leave.
    host_board::advance_ms(1000);
    Net::poll();
    CHECK_EQ(sent().size(), (size_t)1);
    deliver(q[0], reply(q[0], {rr_a("deferred.example", ip4(10, 5, 5, 5))}));
    Net::poll();
    Net::poll();
    Net::poll();
    CHECK(g_replies.empty());             // never called back
    CHECK_EQ(ipstr(h.getIp()), std::string("5.5.5.5"));  // Host untouched after close
    CHECK_EQ(NetDns::nextTimerUs(), (uint64_t)0);  // nothing left to do
    // The answer went to the cache.
    DNSRequest r2;
    r2.setOnReply(on_reply);
    r2.resolve("deferred.example");
    Net::poll();
    CHECK(sent().empty());
    Net::poll();
    CHECK_EQ(g_replies.size(), (size_t)1);
    // Closing a finished or unstarted request closes at once.
    DNSRequest r3;
    r3.setOnReply(on_reply);
    r3.resolve("never.example");
    r3.close();
    Net::poll();
    Net::poll();
    CHECK(sent().empty());
    CHECK_EQ(g_replies.size(), (size_t)1);
}

TEST(close_on_timeout_path_too) {
    dns_setup();
    {
        DNSRequest r;  // destructor closes while outstanding
        r.setOnReply(on_reply);
        r.resolve("gone.example");
        Net::poll();
        CHECK_EQ(sent().size(), (size_t)1);
    }
    run_until(board::micros() + 10000000, 1);
    CHECK(g_replies.empty());
    CHECK_EQ(NetDns::nextTimerUs(), (uint64_t)0);
}

TEST(malformed_replies_not_found) {
    struct Case {
        const char* what;
        std::function<Bytes(const Query&)> make;
    };
    auto hdr = [](const Query& q, uint16_t flags, int qd, int an) {
        Bytes m;
        add16(m, q.id);
        add16(m, flags);
        add16(m, (uint16_t)qd);
        add16(m, (uint16_t)an);
        add16(m, 0);
        add16(m, 0);
        return m;
    };
    std::vector<Case> cases = {
        {"not a response", [](const Query& q) {
             return message(q.id, 0x0100, name_wire(q.name), {rr_a(q.name, 1)});
         }},
        {"no questions", [](const Query& q) {
             return message(q.id, 0x8180, name_wire(q.name), {rr_a(q.name, 1)}, 0);
         }},
        {"two questions", [&](const Query& q) {
             Bytes m = hdr(q, 0x8180, 2, 0);
             for (int i = 0; i < 2; i++) {
                 Bytes n = name_wire(q.name);
                 m.insert(m.end(), n.begin(), n.end());
                 add16(m, 1);
                 add16(m, 1);
             }
             return m;
         }},
        {"no answer", [](const Query& q) { return reply(q, {}); }},
        {"AAAA only", [](const Query& q) {
             return reply(q, {RR{name_wire(q.name), 28, 1, 60, Bytes(16, 1)}});
         }},
        {"A with 5 bytes", [](const Query& q) {
             return reply(q, {RR{name_wire(q.name), 1, 1, 60, Bytes(5, 1)}});
         }},
        {"A of class CH", [](const Query& q) {
             return reply(q, {RR{name_wire(q.name), 1, 3, 60, Bytes(4, 1)}});
         }},
        {"answer count lies", [](const Query& q) {
             return message(q.id, 0x8180, name_wire(q.name), {rr_a(q.name, 1)}, 1, 3);
         }},
        {"truncated answer", [](const Query& q) {
             Bytes m = reply(q, {rr_a(q.name, ip4(1, 2, 3, 4))});
             m.resize(m.size() - 2);
             return m;
         }},
        {"rdlength past the end", [](const Query& q) {
             Bytes m = reply(q, {rr_a(q.name, ip4(1, 2, 3, 4))});
             m[m.size() - 5] = 0x40;
             return m;
         }},
        {"compression loop", [&](const Query& q) {
             Bytes m = hdr(q, 0x8180, 1, 1);
             Bytes n = name_wire(q.name);
             m.insert(m.end(), n.begin(), n.end());
             add16(m, 1);
             add16(m, 1);
             size_t at = m.size();
             add16(m, (uint16_t)(0xC000 | at));  // points to itself
             add16(m, 1);
             add16(m, 1);
             add32(m, 60);
             add16(m, 4);
             add32(m, 1);
             return m;
         }},
        {"forward pointer", [&](const Query& q) {
             Bytes m = hdr(q, 0x8180, 1, 1);
             Bytes n = name_wire(q.name);
             m.insert(m.end(), n.begin(), n.end());
             add16(m, 1);
             add16(m, 1);
             size_t at = m.size();
             add16(m, (uint16_t)(0xC000 | (at + 2)));
             m.push_back(0);
             add16(m, 1);
             add16(m, 1);
             add32(m, 60);
             add16(m, 4);
             add32(m, 1);
             return m;
         }},
        {"label past the end", [&](const Query& q) {
             Bytes m = reply(q, {});
             m[7] = 1;  // one answer
             m.push_back(60);
             m.push_back('x');
             return m;
         }},
        {"oversized name", [&](const Query& q) {
             Bytes m = hdr(q, 0x8180, 1, 1);
             Bytes n = name_wire(q.name);
             m.insert(m.end(), n.begin(), n.end());
             add16(m, 1);
             add16(m, 1);
             for (int i = 0; i < 5; i++) {
                 m.push_back(60);
                 for (int j = 0; j < 60; j++) m.push_back('a');
             }
             m.push_back(0);
             add16(m, 1);
             add16(m, 1);
             add32(m, 60);
             add16(m, 4);
             add32(m, 1);
             return m;
         }},
        {"reserved label type", [&](const Query& q) {
             Bytes m = reply(q, {rr_a(q.name, ip4(1, 2, 3, 4))});
             m[12 + name_wire(q.name).size() + 4] = 0x41;
             return m;
         }},
        {"truncated question", [&](const Query& q) {
             Bytes m = hdr(q, 0x8180, 1, 0);
             Bytes n = name_wire(q.name);
             m.insert(m.end(), n.begin(), n.begin() + 4);
             return m;
         }},
        {"CNAME to a bad pointer", [&](const Query& q) {
             Bytes m = reply(q, {RR{name_wire(q.name), 5, 1, 60, Bytes{0xC1, 0xFF}}});
             return m;
         }},
    };
    for (auto& c : cases) {
        dns_setup();
        DNSRequest r;
        r.setOnReply(on_reply);
        r.resolve("bad.example.org");
        Net::poll();
        auto q = sent();
        if (q.size() != 1) { CHECK(false); return; }
        deliver(q[0], c.make(q[0]));
        Net::poll();
        Net::poll();
        if (g_replies.size() != 1 || g_replies[0] != (int)DNS_NOTFOUND)
            t::fail(__FILE__, __LINE__, std::string("case: ") + c.what);
        CHECK(sent().empty());
    }
    // Too short to be a DNS message, or larger than 512 bytes: ignored (then the timeout).
    for (int size : {0, 5, 11, 513, 600}) {
        dns_setup();
        DNSRequest r;
        r.setOnReply(on_reply);
        r.resolve("bad.example.org");
        Net::poll();
        auto q = sent();
        if (q.size() != 1) { CHECK(false); return; }
        Bytes m = reply(q[0], {rr_a(q[0].name, ip4(1, 2, 3, 4))});
        m.resize((size_t)size, 0);
        deliver(q[0], m);
        Net::poll();
        Net::poll();
        CHECK(g_replies.empty());
        run_until(board::micros() + 8000000);
        CHECK_EQ(g_replies.size(), (size_t)1);
        if (g_replies.size() == 1) CHECK_EQ(g_replies[0], (int)DNS_NOTFOUND);
    }
}

TEST(table_full_gives_error) {
    dns_setup();
    std::vector<DNSRequest*> reqs;
    char name[32];
    for (int i = 0; i < NETCFG_DNS_TABLE; i++) {
        DNSRequest* r = new DNSRequest;
        snprintf(name, sizeof name, "h%d.example", i);
        r->resolve(name);
        reqs.push_back(r);
    }
    Net::poll();
    CHECK_EQ(sent().size(), (size_t)NETCFG_DNS_TABLE);
    DNSRequest extra;
    extra.setOnReply(on_reply);
    extra.resolve("one-too-many.example");
    Net::poll();
    Net::poll();
    CHECK_EQ(g_replies.size(), (size_t)1);
    if (g_replies.size() == 1) CHECK_EQ(g_replies[0], (int)DNS_ERROR);
    // Distinct ids and ports.
    for (auto* r : reqs) delete r;
    Net::poll();
}

TEST(dns_uses_no_socket_and_ports_distinct) {
    dns_setup();
    DNSRequest a, b;
    a.resolve("a.example");
    b.resolve("b.example");
    Net::poll();
    auto q = sent();
    CHECK_EQ(q.size(), (size_t)2);
    if (q.size() == 2) {
        CHECK(q[0].sport != q[1].sport);
        CHECK(q[0].id != q[1].id || q[0].sport != q[1].sport);
    }
    // The application still has every UDP socket.
    UDPSocket s[NETCFG_UDP_SOCKETS];
    for (int i = 0; i < NETCFG_UDP_SOCKETS; i++)
        CHECK_EQ((int)s[i].bind(Host(IpAddr(), 7000 + i)), (int)UDPSOCKET_OK);
}

TEST(next_timer_includes_dns) {
    dns_setup();
    CHECK_EQ(NetDns::nextTimerUs(), (uint64_t)0);
    DNSRequest r;
    r.resolve("timer.example");
    uint64_t now = board::micros();
    CHECK(Net::nextTimerUs() != 0 && Net::nextTimerUs() <= now);  // wants a poll now
    Net::poll();
    sent();
    CHECK_EQ(NetDns::nextTimerUs(), now + 1000000);
    CHECK(Net::nextTimerUs() <= now + 1000000);
    // Sleeping until the deadline (as a main loop would) gets the retry out on time.
    board::wait_for_event(Net::nextTimerUs());
    Net::poll();
    auto q = sent();
    CHECK_EQ(q.size(), (size_t)1);
    if (q.size() == 1) CHECK_EQ(q[0].t, now + 1000000);
}

TEST(build_query_bytes) {
    uint8_t b[64];
    int n = NetDns::buildQuery(b, (int)sizeof b, 0x1234, "ab.c.");
    const uint8_t want[] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
                            2, 'a', 'b', 1, 'c', 0, 0, 1, 0, 1};
    CHECK_EQ(n, (int)sizeof want);
    CHECK(memcmp(b, want, sizeof want) == 0);
    CHECK_EQ(NetDns::buildQuery(b, 10, 1, "ab.c"), 0);  // does not fit
    CHECK_EQ(NetDns::buildQuery(b, (int)sizeof b, 1, "a..c"), 0);
}

// close() and a new resolve() from inside the reply callback (the usual pattern).
struct Chain {
    DNSRequest req;
    std::vector<int> replies;
    std::vector<std::string> ips;
    void onReply(DNSReply r) {
        replies.push_back((int)r);
        IpAddr ip;
        req.getResult(&ip);
        ips.push_back(ipstr(ip));
        CHECK_EQ((int)req.close(), (int)DNS_OK);
        if (replies.size() < 3) {
            char n[16];
            snprintf(n, sizeof n, "10.0.0.%d", (int)replies.size() + 1);
            CHECK_EQ((int)req.resolve(n), (int)DNS_OK);
        }
    }
};

TEST(close_and_resolve_inside_callback) {
    dns_setup();
    Chain c;
    c.req.setOnReply(&c, &Chain::onReply);
    c.req.resolve("10.0.0.0");
    for (int i = 0; i < 10; i++) Net::poll();
    CHECK_EQ(c.replies.size(), (size_t)3);
    CHECK_EQ(c.ips.size(), (size_t)3);
    if (c.ips.size() == 3) {
        CHECK_EQ(c.ips[0], std::string("10.0.0.0"));
        CHECK_EQ(c.ips[1], std::string("10.0.0.2"));
        CHECK_EQ(c.ips[2], std::string("10.0.0.3"));
    }
    CHECK_EQ(NetDns::nextTimerUs(), (uint64_t)0);
}
