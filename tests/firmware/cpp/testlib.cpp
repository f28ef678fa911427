#include "testlib.h"

#include <string.h>

#include "EthernetNetIf.h"
#include "net.h"

namespace t {
std::vector<Case>& cases() {
    static std::vector<Case> v;
    return v;
}
int failures = 0;
void fail(const char* file, int line, const std::string& what) {
    failures++;
    fprintf(stderr, "%s:%d: FAILED %s\n", file, line, what.c_str());
}
std::string show(long long v) { return std::to_string(v); }
std::string show(unsigned long long v) { return std::to_string(v); }
std::string show(const std::string& v) { return "\"" + v + "\""; }
std::string show(const char* v) { return v ? show(std::string(v)) : "NULL"; }
std::string show(const Bytes& v) {
    std::string s = "[";
    char b[4];
    for (size_t i = 0; i < v.size(); i++) {
        snprintf(b, sizeof b, "%02x", v[i]);
        s += (i ? " " : "") + std::string(b);
    }
    return s + "]";
}
}  // namespace t

int main(int argc, char** argv) {
    if (argc > 1 && strcmp(argv[1], "--list") == 0) {
        for (auto& c : t::cases()) printf("%s\n", c.name);
        return 0;
    }
    int ran = 0;
    for (auto& c : t::cases()) {
        if (argc > 1 && strcmp(argv[1], c.name) != 0) continue;
        ran++;
        int before = t::failures;
        c.fn();
        printf("%s %s\n", t::failures == before ? "PASS" : "FAIL", c.name);
    }
    if (!ran) {
        fprintf(stderr, "no test named %s\n", argc > 1 ? argv[1] : "?");
        return 2;
    }
    return t::failures > 100 ? 100 : t::failures;
}

const uint8_t MY_MAC[6] = {0x00, 0x02, 0xF7, 0xF0, 0x00, 0x00};
const uint8_t PEER_MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x20};
const uint8_t GW_MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
const uint8_t BCAST_MAC[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
uint32_t ip4(int a, int b, int c, int d) {
    return ((uint32_t)a << 24) | ((uint32_t)b << 16) | ((uint32_t)c << 8) | (uint32_t)d;
}
const uint32_t MY_IP = ip4(192, 0, 2, 10);
const uint32_t PEER_IP = ip4(192, 0, 2, 20);
const uint32_t GW_IP = ip4(192, 0, 2, 1);

static void put16(Bytes& b, size_t at, uint16_t v) {
    b[at] = (uint8_t)(v >> 8);
    b[at + 1] = (uint8_t)v;
}
static void put32(Bytes& b, size_t at, uint32_t v) {
    put16(b, at, (uint16_t)(v >> 16));
    put16(b, at + 2, (uint16_t)v);
}
static uint16_t get16(const Bytes& b, size_t at) { return (uint16_t)(b[at] << 8 | b[at + 1]); }
static uint32_t get32(const Bytes& b, size_t at) {
    return (uint32_t)get16(b, at) << 16 | get16(b, at + 2);
}

uint16_t csum(const uint8_t* p, size_t n, uint32_t init) {
    uint64_t s = init;
    for (size_t i = 0; i + 1 < n; i += 2) s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1) s += (uint32_t)(p[n - 1] << 8);
    while (s >> 16) s = (s & 0xFFFF) + (s >> 16);
    return (uint16_t)~s;
}

Bytes eth(const uint8_t* dst, const uint8_t* src, uint16_t type, const Bytes& payload) {
    Bytes b(14);
    memcpy(&b[0], dst, 6);
    memcpy(&b[6], src, 6);
    put16(b, 12, type);
    b.insert(b.end(), payload.begin(), payload.end());
    return b;
}

Bytes arp_pkt(uint16_t op, const uint8_t* sha, uint32_t spa, const uint8_t* tha, uint32_t tpa) {
    Bytes b(28);
    put16(b, 0, 1);
    put16(b, 2, 0x0800);
    b[4] = 6;
    b[5] = 4;
    put16(b, 6, op);
    memcpy(&b[8], sha, 6);
    put32(b, 14, spa);
    memcpy(&b[18], tha, 6);
    put32(b, 24, tpa);
    return b;
}

Bytes ipv4(uint32_t src, uint32_t dst, uint8_t proto, const Bytes& payload, const IpOpt& o) {
    size_t hl = 20 + o.options.size();
    Bytes b(hl);
    b[0] = (uint8_t)(0x40 | (hl / 4));
    put16(b, 2, (uint16_t)(o.total_len >= 0 ? o.total_len : (int)(hl + payload.size())));
    put16(b, 4, o.id);
    put16(b, 6, o.frag);
    b[8] = o.ttl;
    b[9] = proto;
    put32(b, 12, src);
    put32(b, 16, dst);
    for (size_t i = 0; i < o.options.size(); i++) b[20 + i] = o.options[i];
    uint16_t c = csum(b.data(), hl);
    put16(b, 10, o.bad_csum ? (uint16_t)(c ^ 0x1234) : c);
    b.insert(b.end(), payload.begin(), payload.end());
    return b;
}

Bytes udp(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, const Bytes& data,
          const UdpOpt& o) {
    Bytes b(8);
    put16(b, 0, sport);
    put16(b, 2, dport);
    uint16_t len = (uint16_t)(8 + data.size());
    put16(b, 4, o.length >= 0 ? (uint16_t)o.length : len);
    b.insert(b.end(), data.begin(), data.end());
    if (!o.no_csum) {
        Bytes ph(12);
        put32(ph, 0, src);
        put32(ph, 4, dst);
        ph[9] = 17;
        put16(ph, 10, len);
        uint32_t s = 0;
        for (size_t i = 0; i < 12; i += 2) s += get16(ph, i);
        uint16_t c = csum(b.data(), b.size(), s);
        if (c == 0) c = 0xFFFF;
        put16(b, 6, o.bad_csum ? (uint16_t)(c ^ 0x0101) : c);
    }
    return b;
}

Bytes icmp_echo(uint8_t type, uint16_t id, uint16_t seq, const Bytes& data, bool bad) {
    Bytes b(8);
    b[0] = type;
    put16(b, 4, id);
    put16(b, 6, seq);
    b.insert(b.end(), data.begin(), data.end());
    uint16_t c = csum(b.data(), b.size());
    put16(b, 2, bad ? (uint16_t)(c + 1) : c);
    return b;
}

Bytes bytes(const char* s) { return Bytes(s, s + strlen(s)); }

Bytes udp_frame(uint32_t src, uint16_t sport, uint16_t dport, const Bytes& data,
                const uint8_t* src_mac, uint32_t dst) {
    return eth(MY_MAC, src_mac, 0x0800, ipv4(src, dst, 17, udp(src, dst, sport, dport, data)));
}

Parsed parse(const Bytes& f) {
    Parsed p;
    if (f.size() < 14) {
        p.error = "runt";
        return p;
    }
    p.dst_mac.assign(f.begin(), f.begin() + 6);
    p.src_mac.assign(f.begin() + 6, f.begin() + 12);
    p.type = get16(f, 12);
    Bytes b(f.begin() + 14, f.end());
    if (p.type == 0x0806) {
        if (b.size() < 28) { p.error = "short arp"; return p; }
        if (get16(b, 0) != 1 || get16(b, 2) != 0x0800 || b[4] != 6 || b[5] != 4) {
            p.error = "bad arp header";
            return p;
        }
        p.arp_op = get16(b, 6);
        p.arp_sha.assign(b.begin() + 8, b.begin() + 14);
        p.arp_spa = get32(b, 14);
        p.arp_tha.assign(b.begin() + 18, b.begin() + 24);
        p.arp_tpa = get32(b, 24);
        p.ok = true;
        return p;
    }
    if (p.type != 0x0800) { p.error = "unknown type"; return p; }
    if (b.size() < 20 || (b[0] >> 4) != 4) { p.error = "bad ip"; return p; }
    size_t hl = (b[0] & 15) * 4u;
    size_t total = get16(b, 2);
    if (hl < 20 || total < hl || total > b.size()) { p.error = "bad ip lengths"; return p; }
    if (csum(b.data(), hl) != 0) { p.error = "bad ip checksum"; return p; }
    p.ip_src = get32(b, 12);
    p.ip_dst = get32(b, 16);
    p.ip_proto = b[9];
    p.ip_ttl = b[8];
    p.ip_frag = get16(b, 6);
    Bytes pl(b.begin() + (long)hl, b.begin() + (long)total);
    if (p.ip_proto == 17) {
        if (pl.size() < 8 || get16(pl, 4) != pl.size()) { p.error = "bad udp length"; return p; }
        if (get16(pl, 6) == 0) { p.error = "udp checksum missing"; return p; }
        Bytes ph(12);
        put32(ph, 0, p.ip_src);
        put32(ph, 4, p.ip_dst);
        ph[9] = 17;
        put16(ph, 10, (uint16_t)pl.size());
        uint32_t s = 0;
        for (size_t i = 0; i < 12; i += 2) s += get16(ph, i);
        if (csum(pl.data(), pl.size(), s) != 0) { p.error = "bad udp checksum"; return p; }
        p.sport = get16(pl, 0);
        p.dport = get16(pl, 2);
        p.payload.assign(pl.begin() + 8, pl.end());
    } else if (p.ip_proto == 1) {
        if (pl.size() < 8 || csum(pl.data(), pl.size()) != 0) { p.error = "bad icmp"; return p; }
        p.icmp_type = pl[0];
        p.icmp_code = pl[1];
        p.payload.assign(pl.begin() + 4, pl.end());
    }
    p.ok = true;
    return p;
}

EthernetNetIf* up_static() {
    host_board::reset();
    host_board::set_time_us(1000000);
    Net::poll();  // collect implementations left closed by an earlier case in this process
    EthernetNetIf* e = new EthernetNetIf(IpAddr(192, 0, 2, 10), IpAddr(255, 255, 255, 0),
                                         IpAddr(192, 0, 2, 1), IpAddr(192, 0, 2, 53));
    if (e->setup() != ETH_OK) t::fail(__FILE__, __LINE__, "setup failed");
    host_board::tx_clear();
    Net::resetStats();
    return e;
}

void learn(uint32_t ip, const uint8_t* mac) {
    static const uint8_t zero[6] = {0, 0, 0, 0, 0, 0};
    host_board::inject(eth(BCAST_MAC, mac, 0x0806, arp_pkt(1, mac, ip, zero, MY_IP)));
    Net::poll();
    host_board::tx_clear();
}

void learn_peer() { learn(PEER_IP, PEER_MAC); }
