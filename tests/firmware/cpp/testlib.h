// Tiny test harness for the network stack's host unit tests.
//
//   TEST(name) { CHECK(cond); CHECK_EQ(a, b); }
//
// The program runs one test case given by name (argv[1]), or all of them; `--list` prints
// the names.  Failures print file:line and the expression; the exit status is the number of
// failed checks (capped), so pytest can run each case as its own process.
//
// Frame builders/parsers are written independently of the stack (own checksum code) so the
// tests do not trust the code they test.
#pragma once
#include <stdint.h>
#include <stdio.h>

#include <string>
#include <vector>

#include "board.h"
#include "host_board.h"

using Bytes = std::vector<uint8_t>;

namespace t {
struct Case {
    const char* name;
    void (*fn)();
};
std::vector<Case>& cases();
struct Reg {
    Reg(const char* n, void (*f)()) { cases().push_back({n, f}); }
};
extern int failures;
void fail(const char* file, int line, const std::string& what);
std::string show(long long v);
std::string show(unsigned long long v);
std::string show(const std::string& v);
std::string show(const char* v);
std::string show(const Bytes& v);
template <class T>
std::string show(T* p) {
    char b[32];
    snprintf(b, sizeof b, "%p", (const void*)p);
    return b;
}
inline std::string show(int v) { return show((long long)v); }
inline std::string show(long v) { return show((long long)v); }
inline std::string show(unsigned v) { return show((unsigned long long)v); }
inline std::string show(unsigned long v) { return show((unsigned long long)v); }
inline std::string show(unsigned short v) { return show((unsigned long long)v); }
inline std::string show(unsigned char v) { return show((unsigned long long)v); }
inline std::string show(bool v) { return v ? "true" : "false"; }
}  // namespace t

#define TEST(name)                                  \
    static void test_##name();                      \
    static t::Reg reg_##name(#name, &test_##name);  \
    static void test_##name()

#define CHECK(cond)                                                             \
    do {                                                                        \
        if (!(cond)) t::fail(__FILE__, __LINE__, "CHECK(" #cond ")");           \
    } while (0)

#define CHECK_EQ(a, b)                                                                    \
    do {                                                                                  \
        auto _a = (a);                                                                    \
        auto _b = (b);                                                                    \
        if (!(_a == _b))                                                                  \
            t::fail(__FILE__, __LINE__,                                                   \
                    "CHECK_EQ(" #a ", " #b "): " + t::show(_a) + " != " + t::show(_b));   \
    } while (0)

// --- addresses used by the tests ------------------------------------------------------------
extern const uint8_t MY_MAC[6];     // 00:02:F7:F0:00:00 (the board default)
extern const uint8_t PEER_MAC[6];   // 02:00:00:00:00:20
extern const uint8_t GW_MAC[6];     // 02:00:00:00:00:01
extern const uint8_t BCAST_MAC[6];
uint32_t ip4(int a, int b, int c, int d);
extern const uint32_t MY_IP;        // 192.0.2.10/24
extern const uint32_t PEER_IP;      // 192.0.2.20
extern const uint32_t GW_IP;        // 192.0.2.1

// --- builders -------------------------------------------------------------------------------
uint16_t csum(const uint8_t* p, size_t n, uint32_t init = 0);
Bytes eth(const uint8_t* dst, const uint8_t* src, uint16_t type, const Bytes& payload);
Bytes arp_pkt(uint16_t op, const uint8_t* sha, uint32_t spa, const uint8_t* tha, uint32_t tpa);
struct IpOpt {
    uint8_t ttl = 64;
    uint16_t id = 1;
    uint16_t frag = 0;       // flags+offset field
    int total_len = -1;      // override total length
    bool bad_csum = false;
    Bytes options;           // IP options (multiple of 4)
};
Bytes ipv4(uint32_t src, uint32_t dst, uint8_t proto, const Bytes& payload, const IpOpt& o = IpOpt());
struct UdpOpt {
    bool no_csum = false;
    bool bad_csum = false;
    int length = -1;         // override UDP length
};
Bytes udp(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, const Bytes& data,
          const UdpOpt& o = UdpOpt());
Bytes icmp_echo(uint8_t type, uint16_t id, uint16_t seq, const Bytes& data, bool bad = false);
Bytes bytes(const char* s);
// Whole frames from the peer to us.
Bytes udp_frame(uint32_t src, uint16_t sport, uint16_t dport, const Bytes& data,
                const uint8_t* src_mac = PEER_MAC, uint32_t dst = MY_IP);

// --- parsers of what the stack sent ----------------------------------------------------------
struct Parsed {
    bool ok = false;         // well-formed Ethernet + (ARP | IPv4 with valid checksums)
    Bytes dst_mac, src_mac;
    uint16_t type = 0;
    // ARP
    uint16_t arp_op = 0;
    Bytes arp_sha, arp_tha;
    uint32_t arp_spa = 0, arp_tpa = 0;
    // IPv4
    uint32_t ip_src = 0, ip_dst = 0;
    uint8_t ip_proto = 0, ip_ttl = 0;
    uint16_t ip_frag = 0;
    // UDP / ICMP
    uint16_t sport = 0, dport = 0;
    uint8_t icmp_type = 0, icmp_code = 0;
    Bytes payload;           // UDP data, or ICMP bytes after the 4-byte type/code/checksum
    std::string error;
};
Parsed parse(const Bytes& frame);

// --- stack set-up ---------------------------------------------------------------------------
class EthernetNetIf;
// Fresh board + stack: static interface 192.0.2.10/24 gw .1, set up; transmit queue cleared
// (the gratuitous ARP is checked by its own test).
EthernetNetIf* up_static();
// Make the stack learn PEER_IP -> PEER_MAC (the peer ARPs for us), clear the replies.
void learn_peer();
void learn(uint32_t ip, const uint8_t* mac);
