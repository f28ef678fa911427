// Fuzz target over the DNS and DHCP parsers, deterministic (seeded) so CI runs the same
// inputs every time, under ASan/UBSan like every host test:
//   * parser level: >= 100,000 inputs per parser (valid replies/offers mutated: bit flips,
//     interesting bytes, compression pointers, length fields, truncation, extension,
//     splicing; plus random bytes), each in a heap buffer of exactly its length so any read
//     past the end is caught;
//   * stack level: mutated DNS responses to live queries and mutated DHCP offers/acks to a
//     running client, injected as frames through Net::poll(); the request must still end
//     with exactly one callback, the client must keep retrying.
// Each TEST is a pytest case (netbuild.py PROGRAMS), in both build profiles.
//
// Optional libFuzzer entry point: build this file alone with
//   clang++ -std=c++17 -fsanitize=fuzzer,address,undefined -DFUZZ_LIBFUZZER
//     -Ifirmware/net/include -Ifirmware/boards/host -idirafter firmware/include
//     tests/firmware/cpp/fuzz_parsers.cpp firmware/net/src/*.cpp firmware/boards/host/board.cpp
// (the first input byte picks the parser).
#include <stdlib.h>
#include <string.h>

#include "dhcpclient.h"
#include "dnsclient.h"

#ifdef FUZZ_LIBFUZZER
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    uint8_t* m = (uint8_t*)malloc(size - 1 ? size - 1 : 1);
    if (size > 1) memcpy(m, data + 1, size - 1);
    if (data[0] & 1) {
        uint32_t ip = 0, ttl = 0;
        NetDns::parseResponse(m, (int)size - 1, 0x1234, "www.example.com", &ip, &ttl);
    } else {
        static const uint8_t mac[6] = {0x00, 0x02, 0xF7, 0xF0, 0x00, 0x00};
        DhcpInfo in;
        DhcpClient::parse(m, (int)size - 1, 0x01020304u, mac, &in);
    }
    free(m);
    return 0;
}
#else

#include <functional>

#include "DNSRequest.h"
#include "EthernetNetIf.h"
#include "net.h"
#include "testlib.h"

namespace {
struct Rng {
    uint64_t s;
    explicit Rng(uint64_t seed) : s(seed) {}
    uint32_t next() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return (uint32_t)(s >> 11);
    }
    uint32_t below(uint32_t n) { return n ? next() % n : 0; }
};

void add16(Bytes& b, uint16_t v) {
    b.push_back((uint8_t)(v >> 8));
    b.push_back((uint8_t)v);
}
void add32(Bytes& b, uint32_t v) {
    add16(b, (uint16_t)(v >> 16));
    add16(b, (uint16_t)v);
}
Bytes wire(const char* n) {
    Bytes b;
    const char* s = n;
    while (*s) {
        const char* dot = strchr(s, '.');
        size_t l = dot ? (size_t)(dot - s) : strlen(s);
        b.push_back((uint8_t)l);
        b.insert(b.end(), s, s + l);
        s += l;
        if (*s == '.') s++;
    }
    b.push_back(0);
    return b;
}

const char* QNAME = "www.example.com";

// Valid DNS responses to (0x1234, QNAME), some with compression.
std::vector<Bytes> dns_seeds() {
    std::vector<Bytes> v;
    auto head = [](int an, uint16_t flags = 0x8180) {
        Bytes m;
        add16(m, 0x1234);
        add16(m, flags);
        add16(m, 1);
        add16(m, (uint16_t)an);
        add16(m, 0);
        add16(m, 0);
        Bytes q = wire(QNAME);
        m.insert(m.end(), q.begin(), q.end());
        add16(m, 1);
        add16(m, 1);
        return m;
    };
    // A record with a pointer to the question name.
    Bytes m = head(1);
    add16(m, 0xC00C);
    add16(m, 1);
    add16(m, 1);
    add32(m, 300);
    add16(m, 4);
    add32(m, 0xC6336407);
    v.push_back(m);
    // Two A records, the owner spelt out.
    m = head(2);
    for (int i = 0; i < 2; i++) {
        Bytes o = wire(QNAME);
        m.insert(m.end(), o.begin(), o.end());
        add16(m, 1);
        add16(m, 1);
        add32(m, 60);
        add16(m, 4);
        add32(m, 0x0A000001u + (uint32_t)i);
    }
    v.push_back(m);
    // CNAME chain with compression: www -> edge.example.com (pointer into the target) -> A.
    m = head(2);
    add16(m, 0xC00C);
    add16(m, 5);
    add16(m, 1);
    add32(m, 120);
    size_t rdl = m.size();
    add16(m, 0);
    size_t target = m.size();
    m.push_back(4);
    m.insert(m.end(), {'e', 'd', 'g', 'e'});
    add16(m, 0xC010);  // "example.com" inside the question
    m[rdl] = 0;
    m[rdl + 1] = (uint8_t)(m.size() - target);
    add16(m, (uint16_t)(0xC000 | target));
    add16(m, 1);
    add16(m, 1);
    add32(m, 30);
    add16(m, 4);
    add32(m, 0xCB007105);
    v.push_back(m);
    // NXDOMAIN, and an AAAA-only answer.
    v.push_back(head(0, 0x8183));
    m = head(1);
    add16(m, 0xC00C);
    add16(m, 28);
    add16(m, 1);
    add32(m, 60);
    add16(m, 16);
    for (int i = 0; i < 16; i++) m.push_back((uint8_t)i);
    v.push_back(m);
    return v;
}

const uint8_t FUZZ_MAC[6] = {0x00, 0x02, 0xF7, 0xF0, 0x00, 0x00};
const uint32_t XID = 0x01020304u;

Bytes dhcp_msg(uint32_t xid, uint8_t type, bool overload) {
    Bytes b(240, 0);
    b[0] = 2;
    b[1] = 1;
    b[2] = 6;
    for (int i = 0; i < 4; i++) b[4 + i] = (uint8_t)(xid >> (24 - 8 * i));
    b[16] = 10;
    b[17] = 9;
    b[18] = 0;
    b[19] = 50;
    memcpy(&b[28], FUZZ_MAC, 6);
    b[236] = 99;
    b[237] = 130;
    b[238] = 83;
    b[239] = 99;
    auto opt = [&](uint8_t code, std::initializer_list<uint8_t> v) {
        b.push_back(code);
        b.push_back((uint8_t)v.size());
        b.insert(b.end(), v);
    };
    opt(53, {type});
    opt(54, {10, 9, 0, 1});
    if (overload) {
        opt(52, {3});
        uint8_t file[] = {51, 4, 0, 0, 14, 16, 1, 4, 255, 255, 255, 0, 255};
        memcpy(&b[108], file, sizeof file);
        uint8_t sname[] = {3, 4, 10, 9, 0, 254, 6, 8, 10, 9, 0, 53, 10, 9, 0, 54, 255};
        memcpy(&b[44], sname, sizeof sname);
    } else {
        opt(51, {0, 0, 14, 16});
        opt(1, {255, 255, 255, 0});
        opt(3, {10, 9, 0, 254});
        opt(6, {10, 9, 0, 53, 10, 9, 0, 54});
        opt(58, {0, 0, 7, 8});
        opt(59, {0, 0, 12, 96});
    }
    b.push_back(255);
    while (b.size() < 300) b.push_back(0);
    return b;
}

std::vector<Bytes> dhcp_seeds() {
    return {dhcp_msg(XID, 2, false), dhcp_msg(XID, 5, false), dhcp_msg(XID, 2, true),
            dhcp_msg(XID, 5, true), dhcp_msg(XID, 6, false)};
}

const uint8_t kInteresting[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0C, 0x10, 0x34,
                                0x3F, 0x40, 0x63, 0x7F, 0x80, 0xC0, 0xC0, 0xFE, 0xFF, 0xFF};

// One mutated input from the seeds (or random bytes).
Bytes mutate(Rng& r, const std::vector<Bytes>& seeds, size_t maxLen) {
    Bytes m;
    if (r.below(16) == 0) {  // random bytes, now and then
        m.resize(r.below((uint32_t)maxLen + 1));
        for (auto& c : m) c = (uint8_t)r.next();
        return m;
    }
    m = seeds[r.below((uint32_t)seeds.size())];
    int n = 1 + (int)r.below(6);
    for (int k = 0; k < n; k++) {
        size_t at = m.empty() ? 0 : r.below((uint32_t)m.size());
        switch (r.below(9)) {
            case 0:
                if (!m.empty()) m[at] ^= (uint8_t)(1u << r.below(8));
                break;
            case 1:
                if (!m.empty()) m[at] = kInteresting[r.below(sizeof kInteresting)];
                break;
            case 2:
                if (!m.empty()) m[at] = (uint8_t)r.next();
                break;
            case 3:  // a compression pointer somewhere
                if (m.size() > 1) {
                    m[at] = (uint8_t)(0xC0 | r.below(4));
                    if (at + 1 < m.size()) m[at + 1] = (uint8_t)r.below((uint32_t)m.size() + 8);
                }
                break;
            case 4:
                m.resize(r.below((uint32_t)m.size() + 1));  // truncate
                break;
            case 5: {  // extend
                size_t add = r.below(64);
                for (size_t i = 0; i < add && m.size() < maxLen; i++) m.push_back((uint8_t)r.next());
                break;
            }
            case 6: {  // a 16-bit count/length field
                if (m.size() > 12 && r.below(2)) {
                    size_t f = 4 + 2 * r.below(4);
                    m[f] = (uint8_t)r.below(3);
                    m[f + 1] = (uint8_t)r.next();
                } else if (m.size() > 1) {
                    m[at] = 0;
                    if (at + 1 < m.size()) m[at + 1] = (uint8_t)r.next();
                }
                break;
            }
            case 7: {  // splice a piece of another seed
                const Bytes& o = seeds[r.below((uint32_t)seeds.size())];
                if (o.empty() || m.empty()) break;
                size_t from = r.below((uint32_t)o.size());
                size_t len = r.below((uint32_t)(o.size() - from) + 1);
                for (size_t i = 0; i < len && at + i < m.size(); i++) m[at + i] = o[from + i];
                break;
            }
            default:  // duplicate a byte run (counts that lie)
                if (!m.empty() && m.size() < maxLen) {
                    size_t len = 1 + r.below(8);
                    Bytes piece(m.begin() + (long)at,
                                m.begin() + (long)(at + len < m.size() ? at + len : m.size()));
                    m.insert(m.begin() + (long)at, piece.begin(), piece.end());
                }
                break;
        }
    }
    if (m.size() > maxLen) m.resize(maxLen);
    return m;
}

// The parsers get exactly len bytes on the heap: ASan sees any read past the end.
int run_dns(const Bytes& m) {
    uint8_t* p = (uint8_t*)malloc(m.empty() ? 1 : m.size());
    if (!m.empty()) memcpy(p, m.data(), m.size());
    uint32_t ip = 0, ttl = 0;
    int r = (int)NetDns::parseResponse(p, (int)m.size(), 0x1234, QNAME, &ip, &ttl);
    free(p);
    return r;
}
int run_dhcp(const Bytes& m, DhcpInfo* in) {
    uint8_t* p = (uint8_t*)malloc(m.empty() ? 1 : m.size());
    if (!m.empty()) memcpy(p, m.data(), m.size());
    int r = DhcpClient::parse(p, (int)m.size(), XID, FUZZ_MAC, in) ? 1 : 0;
    free(p);
    return r;
}
}  // namespace

TEST(fuzz_dns_parser) {
    auto seeds = dns_seeds();
    // The seeds are what they claim to be.
    CHECK_EQ(run_dns(seeds[0]), (int)NetDns::PARSE_FOUND);
    CHECK_EQ(run_dns(seeds[1]), (int)NetDns::PARSE_FOUND);
    CHECK_EQ(run_dns(seeds[2]), (int)NetDns::PARSE_FOUND);
    CHECK_EQ(run_dns(seeds[3]), (int)NetDns::PARSE_NOTFOUND);
    CHECK_EQ(run_dns(seeds[4]), (int)NetDns::PARSE_NOTFOUND);
    Rng r(0xD15EA5E5u);
    int counts[3] = {0, 0, 0};
    const int N = 120000;
    for (int i = 0; i < N; i++) {
        int res = run_dns(mutate(r, seeds, 600));
        CHECK(res >= 0 && res <= 2);
        if (res >= 0 && res <= 2) counts[res]++;
    }
    printf("dns: %d inputs: ignore %d, notfound %d, found %d\n", N, counts[0], counts[1], counts[2]);
    // The mutations reach every outcome (the run is not just rejecting at the header).
    CHECK(counts[0] > 1000 && counts[1] > 1000 && counts[2] > 1000);
    // Name walking: every 2-byte pointer at every position of a small message, exhaustively.
    Bytes base = seeds[2];
    for (size_t at = 12; at + 1 < base.size(); at++) {
        for (int hi = 0xC0; hi <= 0xC1; hi++) {
            for (int lo = 0; lo < 256; lo++) {
                Bytes m = base;
                m[at] = (uint8_t)hi;
                m[at + 1] = (uint8_t)lo;
                run_dns(m);
            }
        }
    }
}

TEST(fuzz_dhcp_parser) {
    auto seeds = dhcp_seeds();
    DhcpInfo in;
    for (auto& s : seeds) CHECK_EQ(run_dhcp(s, &in), 1);
    Rng r(0x0DDC0FFEu);
    int accepted = 0;
    const int N = 120000;
    for (int i = 0; i < N; i++) {
        Bytes m = mutate(r, seeds, 700);
        if (run_dhcp(m, &in)) {
            accepted++;
            // What the parser accepts is usable.
            CHECK(in.type == 2 || in.type == 5 || in.type == 6);
            CHECK(in.ndns <= 2);
            if (in.type != 6) {
                CHECK(in.hasServer && in.hasLease);
                CHECK(in.yiaddr != 0 && (in.yiaddr >> 28) < 0xE);
            }
        }
    }
    printf("dhcp: %d inputs, %d accepted\n", N, accepted);
    CHECK(accepted > 1000 && accepted < N - 1000);
}

// Mutated DNS responses to live queries, through the whole receive path.
TEST(fuzz_dns_through_stack) {
    static const uint8_t DNS_MAC[6] = {0x02, 0, 0, 0, 0, 0x53};
    const uint32_t DNS_IP = ip4(192, 0, 2, 53);
    EthernetNetIf* e = up_static();
    NetDns::flush();
    learn(DNS_IP, DNS_MAC);
    auto seeds = dns_seeds();
    Rng r(0x5EEDu);
    int done = 0, found = 0;
    for (int round = 0; round < 5000; round++) {
        DNSRequest req;
        int calls = 0;
        struct Cb {
            int* calls;
            void on(DNSReply) { (*calls)++; }
        } cb{&calls};
        req.setOnReply(&cb, &Cb::on);
        req.resolve(QNAME);
        Net::poll();
        // Find the query to learn its id and port.
        uint16_t id = 0, port = 0;
        for (auto& f : host_board::tx_take_all()) {
            Parsed p = parse(f);
            if (p.ok && p.ip_proto == 17 && p.dport == 53 && p.payload.size() >= 2) {
                id = (uint16_t)(p.payload[0] << 8 | p.payload[1]);
                port = p.sport;
            }
        }
        if (!port) {
            // Answered from the cache (a mutated reply was FOUND with a TTL): fine.
            Net::poll();
            CHECK_EQ(calls, 1);
            NetDns::flush();
            continue;
        }
        for (int k = 0; k < 8 && calls == 0; k++) {
            Bytes m = mutate(r, seeds, 600);
            if (m.size() >= 2 && r.below(4)) {  // mostly with the right id
                m[0] = (uint8_t)(id >> 8);
                m[1] = (uint8_t)id;
            }
            host_board::inject(udp_frame(DNS_IP, 53, port, m, DNS_MAC));
            Net::poll();
            Net::poll();
        }
        // Whatever happened, the request ends, exactly once, within the retry schedule.
        for (int k = 0; k < 100 && calls == 0; k++) {
            host_board::advance_ms(100);
            Net::poll();
        }
        CHECK_EQ(calls, 1);
        IpAddr ip;
        req.getResult(&ip);
        done++;
        if (!ip.isNull()) found++;
        host_board::tx_clear();
        req.close();
        NetDns::flush();
        Net::poll();
    }
    printf("stack dns: %d requests, %d found\n", done, found);
    delete e;
}

// Mutated DHCP offers and acks to a running client.
TEST(fuzz_dhcp_through_stack) {
    host_board::reset();
    host_board::set_time_us(1000000);
    EthernetNetIf* e = new EthernetNetIf("fuzz");
    e->setupNoWait();
    Rng r(0xFEEDu);
    static const uint8_t SRV_MAC[6] = {0x02, 0, 0, 0, 0, 0x67};
    const uint32_t SRV = ip4(10, 9, 0, 1);
    int binds = 0;
    for (int round = 0; round < 10000; round++) {
        // The client's current xid, from its last message.
        uint32_t xid = 0;
        bool any = false;
        for (auto& f : host_board::tx_take_all()) {
            Parsed p = parse(f);
            if (p.ok && p.ip_proto == 17 && p.sport == 68 && p.payload.size() >= 8) {
                xid = (uint32_t)p.payload[4] << 24 | (uint32_t)p.payload[5] << 16 |
                      (uint32_t)p.payload[6] << 8 | p.payload[7];
                any = true;
            }
        }
        static uint32_t lastXid = 0;
        if (any) lastXid = xid;
        std::vector<Bytes> seeds = {dhcp_msg(lastXid, 2, false), dhcp_msg(lastXid, 5, false),
                                    dhcp_msg(lastXid, 5, true), dhcp_msg(lastXid, 6, false)};
        Bytes m = r.below(3) ? mutate(r, seeds, 700) : seeds[r.below((uint32_t)seeds.size())];
        host_board::inject(eth(BCAST_MAC, SRV_MAC, 0x0800,
                               ipv4(SRV, 0xFFFFFFFFu, 17, udp(SRV, 0xFFFFFFFFu, 67, 68, m))));
        Net::poll();
        bool was = e->isUp();
        host_board::advance_ms(100 + r.below(3000));
        Net::poll();
        if (!was && e->isUp()) binds++;
        if (e->isUp() && r.below(20) == 0) host_board::advance_ms(4000000);  // lease timers
        // Never stuck: a timer is always pending while the client runs.
        const DhcpClient* c = e->dhcpClient();
        CHECK(c->nextTimerUs() != 0 || (c->state() == DhcpClient::BOUND && c->leaseEndAt() == 0));
    }
    printf("stack dhcp: %d binds\n", binds);
    CHECK(binds > 0);
    delete e;
}
#endif
