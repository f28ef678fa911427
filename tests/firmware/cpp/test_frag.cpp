// IP fragmentation on send and reassembly on receive (RFC 791/815): offsets, MF, sizes and
// checksums of what the stack sends; reassembly in order, out of order, with duplicates and
// overlaps, timeouts, and every limit (slots, bytes, 65535, malformed fragments).
#include <string.h>

#include "EthernetNetIf.h"
#include "UDPSocket.h"
#include "net.h"
#include "netstack.h"
#include "testlib.h"

static const NetStats& st() { return Net::stats(); }
static const int MAX_DATA = (NETCFG_MTU - 20) & ~7;  // payload bytes per fragment

static uint16_t g16(const Bytes& b, size_t at) { return (uint16_t)(b[at] << 8 | b[at + 1]); }
static uint32_t g32(const Bytes& b, size_t at) { return (uint32_t)g16(b, at) << 16 | g16(b, at + 2); }

static Bytes pattern(size_t n, int seed = 0) {
    Bytes b(n);
    for (size_t i = 0; i < n; i++) b[i] = (uint8_t)(i * 7 + seed + (i >> 8));
    return b;
}

// Fragments sent by the stack, checked one by one, then put together again: returns the IP
// header of the first one (20 bytes) + the whole payload, or empty on any error.
static Bytes rejoin(const std::vector<Bytes>& frames, const Bytes& wantMac) {
    Bytes payload, first;
    int expectOff = 0;
    uint16_t id = 0;
    for (size_t i = 0; i < frames.size(); i++) {
        const Bytes& f = frames[i];
        CHECK((int)f.size() <= NETCFG_FRAME_MAX);
        CHECK_EQ(Bytes(f.begin(), f.begin() + 6), wantMac);
        CHECK_EQ(g16(f, 12), 0x0800);
        Bytes ip(f.begin() + 14, f.end());
        CHECK_EQ(ip[0], 0x45);
        CHECK_EQ(csum(ip.data(), 20), 0);
        int total = g16(ip, 2);
        CHECK(total <= NETCFG_MTU);
        CHECK_EQ((size_t)total, ip.size());
        uint16_t fl = g16(ip, 6);
        bool mf = (fl & 0x2000) != 0;
        int off = (fl & 0x1FFF) * 8;
        CHECK_EQ(fl & 0x4000, 0);  // no DF
        CHECK_EQ(off, expectOff);
        CHECK_EQ(mf, i + 1 < frames.size());
        if (i == 0) {
            first.assign(ip.begin(), ip.begin() + 20);
            id = g16(ip, 4);
        } else {
            CHECK_EQ(g16(ip, 4), id);
            CHECK_EQ(g32(ip, 12), g32(first, 12));
            CHECK_EQ(g32(ip, 16), g32(first, 16));
        }
        if (mf) {
            CHECK_EQ(total - 20, MAX_DATA);
        }
        payload.insert(payload.end(), ip.begin() + 20, ip.begin() + total);
        expectOff += total - 20;
    }
    if (t::failures) return Bytes();
    first.insert(first.end(), payload.begin(), payload.end());
    return first;
}

// UDP checksum of a rejoined datagram (header + payload) is valid and its data is returned.
static Bytes udp_data(const Bytes& d) {
    Bytes u(d.begin() + 20, d.end());
    CHECK_EQ((size_t)g16(u, 4), u.size());
    Bytes ph(12, 0);
    for (int i = 0; i < 8; i++) ph[i] = d[12 + i];
    ph[9] = 17;
    ph[10] = (uint8_t)(u.size() >> 8);
    ph[11] = (uint8_t)u.size();
    uint32_t s = 0;
    for (size_t i = 0; i < 12; i += 2) s += g16(ph, i);
    CHECK_EQ(csum(u.data(), u.size(), s), 0);
    return Bytes(u.begin() + 8, u.end());
}

TEST(sendto_2000_is_fragmented) {
    EthernetNetIf* e = up_static();
    learn_peer();
    UDPSocket s;
    s.bind(Host(IpAddr(), 5000, NULL));
    Bytes data = pattern(2000);
    Host to(IpAddr(192, 0, 2, 20), 7, NULL);
    CHECK_EQ(s.sendto((const char*)data.data(), 2000, &to), 2000);
    auto f = host_board::tx_take_all();
    int want = (2008 + MAX_DATA - 1) / MAX_DATA;
    CHECK_EQ((int)f.size(), want);
    CHECK_EQ((int)st().ip_frag_tx, want);
    CHECK_EQ(st().udp_tx, 1u);
    Bytes d = rejoin(f, Bytes(PEER_MAC, PEER_MAC + 6));
    if (!d.empty()) {
        CHECK_EQ(d.size(), 2028u);
        CHECK_EQ(g16(d, 20), 5000);  // UDP ports in the first fragment
        CHECK_EQ(g16(d, 22), 7);
        CHECK_EQ(udp_data(d), data);
        CHECK_EQ(d[8], 255);  // TTL
        // Sizes: all but the last carry MAX_DATA bytes, the last the rest.
        CHECK_EQ(f.back().size(), (size_t)(14 + 20 + 2008 - (want - 1) * MAX_DATA));
    }
    // The next datagram gets another identification.
    CHECK_EQ(s.sendto((const char*)data.data(), 2000, &to), 2000);
    auto f2 = host_board::tx_take_all();
    CHECK(!f2.empty() && g16(f2[0], 18) != g16(f[0], 18));
    s.close();
    Net::poll();
    delete e;
}

TEST(mtu_boundary) {
    EthernetNetIf* e = up_static();
    learn_peer();
    UDPSocket s;
    Host to(IpAddr(192, 0, 2, 20), 7, NULL);
    Bytes data = pattern(NETCFG_MTU);
    CHECK_EQ(s.sendto((const char*)data.data(), NETCFG_MTU - 28, &to), NETCFG_MTU - 28);
    auto f = host_board::tx_take_all();
    CHECK_EQ(f.size(), 1u);
    if (f.size() == 1) CHECK_EQ(parse(f[0]).ip_frag, 0);
    CHECK_EQ(s.sendto((const char*)data.data(), NETCFG_MTU - 27, &to), NETCFG_MTU - 27);
    f = host_board::tx_take_all();
    CHECK_EQ(f.size(), 2u);
    Bytes d = rejoin(f, Bytes(PEER_MAC, PEER_MAC + 6));
    if (!d.empty()) CHECK_EQ(udp_data(d), Bytes(data.begin(), data.begin() + NETCFG_MTU - 27));
    s.close();
    Net::poll();
    delete e;
}

TEST(largest_udp_datagram) {
    EthernetNetIf* e = up_static();
    learn_peer();
    UDPSocket s;
    Host to(IpAddr(192, 0, 2, 20), 7, NULL);
    Bytes data = pattern(65507, 3);
    CHECK_EQ(s.sendto((const char*)data.data(), 65507, &to), 65507);
    auto f = host_board::tx_take_all();
    Bytes d = rejoin(f, Bytes(PEER_MAC, PEER_MAC + 6));
    CHECK_EQ(d.size(), 65535u);
    if (!d.empty()) CHECK_EQ(udp_data(d), data);
    CHECK_EQ(s.sendto((const char*)data.data(), 65508, &to), (int)UDPSOCKET_MEM);
    s.close();
    Net::poll();
    delete e;
}

TEST(fragments_wait_for_arp_then_all_go) {
    EthernetNetIf* e = up_static();
    UDPSocket s;
    Host to(IpAddr(192, 0, 2, 20), 7, NULL);
    Bytes data = pattern(2000, 5);
    CHECK_EQ(s.sendto((const char*)data.data(), 2000, &to), 2000);
    auto f = host_board::tx_take_all();
    CHECK_EQ(f.size(), 1u);  // only the ARP request
    if (f.size() == 1) CHECK_EQ(parse(f[0]).arp_op, 1);
    static const uint8_t zero[6] = {0, 0, 0, 0, 0, 0};
    (void)zero;
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0806, arp_pkt(2, PEER_MAC, PEER_IP, MY_MAC, MY_IP)));
    Net::poll();
    f = host_board::tx_take_all();
    Bytes d = rejoin(f, Bytes(PEER_MAC, PEER_MAC + 6));
    if (!d.empty()) CHECK_EQ(udp_data(d), data);
    s.close();
    Net::poll();
    delete e;
}

TEST(multicast_fragmented) {
    EthernetNetIf* e = up_static();
    UDPSocket s;
    Host to(IpAddr(239, 192, 1, 100), 50000, NULL);
    Bytes data = pattern(1500, 9);
    CHECK_EQ(s.sendto((const char*)data.data(), 1500, &to), 1500);
    auto f = host_board::tx_take_all();
    CHECK((int)f.size() >= 2 || NETCFG_MTU >= 1528);
    const uint8_t gm[6] = {0x01, 0x00, 0x5E, 0x40, 0x01, 0x64};
    Bytes d = rejoin(f, Bytes(gm, gm + 6));
    if (!d.empty()) CHECK_EQ(udp_data(d), data);
    s.close();
    Net::poll();
    delete e;
}

// --- reassembly ------------------------------------------------------------------------------

struct Rx {
    UDPSocket s;
    int events = 0;
    void on(UDPSocketEvent) { events++; }
    explicit Rx(int port) {
        s.setOnEvent(this, &Rx::on);
        s.bind(Host(IpAddr(), port, NULL));
    }
    Bytes read(Host* from = NULL) {
        static char b[70000];
        int n = s.recvfrom(b, sizeof b, from);
        return n > 0 ? Bytes(b, b + n) : Bytes();
    }
};

// The IP payload (UDP header + data) of a datagram from the peer to port.
static Bytes udp_payload(const Bytes& data, uint16_t port, bool csum = true) {
    UdpOpt o;
    o.no_csum = !csum;
    return udp(PEER_IP, MY_IP, 4000, port, data, o);
}
// One fragment [off, off+len) of the IP payload p, with MF as given.
static void frag(const Bytes& p, int off, int len, bool mf, uint16_t id = 77,
                 uint32_t src = PEER_IP) {
    IpOpt o;
    o.id = id;
    o.frag = (uint16_t)((mf ? 0x2000 : 0) | (off / 8));
    Bytes part(p.begin() + off, p.begin() + off + len);
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0800, ipv4(src, MY_IP, 17, part, o)));
}
// Cut p into pieces of `step` bytes (multiple of 8), in the given order of indexes.
static int pieces(const Bytes& p, int step) { return ((int)p.size() + step - 1) / step; }
static void send_piece(const Bytes& p, int step, int i, uint16_t id = 77) {
    int off = i * step;
    int len = (int)p.size() - off < step ? (int)p.size() - off : step;
    frag(p, off, len, off + len < (int)p.size(), id);
}

TEST(reassembly_in_order) {
    EthernetNetIf* e = up_static();
    Rx r(5000);
    Bytes data = pattern(2000);
    Bytes p = udp_payload(data, 5000);
    for (int i = 0; i < pieces(p, 720); i++) send_piece(p, 720, i);
    Net::poll();
    CHECK_EQ(r.events, 1);
    Host from;
    CHECK_EQ(r.read(&from), data);
    CHECK(from.getIp() == IpAddr(192, 0, 2, 20));
    CHECK_EQ(from.getPort(), 4000);
    CHECK_EQ(st().ip_reassembled, 1u);
    CHECK_EQ(e->reasm().active(), 0);
    CHECK_EQ(e->reasm().bytesHeld(), 0u);
    CHECK_EQ(Net::nextTimerUs(), 0u);
    r.s.close();
    Net::poll();
    delete e;
}

TEST(reassembly_out_of_order) {
    EthernetNetIf* e = up_static();
    Rx r(5000);
    Bytes data = pattern(3000, 1);
    Bytes p = udp_payload(data, 5000);
    int n = pieces(p, 512);
    // last first, then the odd ones backwards, then the even ones
    send_piece(p, 512, n - 1);
    for (int i = n - 2; i >= 0; i -= 2) send_piece(p, 512, i);
    Net::poll();
    CHECK_EQ(r.events, 0);
    CHECK_EQ(e->reasm().active(), 1);
    for (int i = n - 3; i >= 0; i -= 2) send_piece(p, 512, i);
    Net::poll();
    CHECK_EQ(r.events, 1);
    CHECK_EQ(r.read(), data);
    CHECK_EQ(e->reasm().bytesHeld(), 0u);
    r.s.close();
    Net::poll();
    delete e;
}

TEST(reassembly_duplicates_and_overlaps) {
    EthernetNetIf* e = up_static();
    Rx r(5000);
    Bytes data = pattern(1200, 2);
    Bytes p = udp_payload(data, 5000);  // 1208 bytes
    frag(p, 0, 400, true);
    frag(p, 0, 400, true);        // exact duplicate
    frag(p, 200, 400, true);      // overlaps the end of the first
    frag(p, 800, 408, false);     // the last
    frag(p, 800, 408, false);     // duplicate last
    frag(p, 560, 320, true);      // covers the gap [600, 800) and overlaps both sides
    Net::poll();
    CHECK_EQ(r.events, 1);
    CHECK_EQ(r.read(), data);
    CHECK_EQ(st().ip_reassembled, 1u);
    CHECK_EQ(st().ip_fragments_dropped, 0u);
    CHECK_EQ(e->reasm().bytesHeld(), 0u);
    r.s.close();
    Net::poll();
    delete e;
}

TEST(overlap_first_copy_wins) {
    // Different bytes in an overlapping fragment never replace what is already there.
    EthernetNetIf* e = up_static();
    Rx r(5000);
    Bytes data = pattern(64, 4);
    Bytes p = udp_payload(data, 5000, false);  // no UDP checksum: the content is checked here
    Bytes evil = p;
    for (size_t i = 8; i < evil.size(); i++) evil[i] ^= 0xFF;
    frag(p, 0, 32, true);
    frag(evil, 16, 40, true);  // [16, 56): only [32, 56) is new
    frag(p, 56, (int)p.size() - 56, false);
    Net::poll();
    CHECK_EQ(r.events, 1);
    Bytes got = r.read();
    Bytes want(p.begin() + 8, p.end());
    for (size_t i = 32; i < 56; i++) want[i - 8] = evil[i];
    CHECK_EQ(got, want);
    r.s.close();
    Net::poll();
    delete e;
}

TEST(reassembly_timeout_frees) {
    EthernetNetIf* e = up_static();
    Rx r(5000);
    Bytes p = udp_payload(pattern(1500), 5000);
    uint64_t t0 = board::micros();
    frag(p, 0, 720, true);
    Net::poll();
    CHECK_EQ(e->reasm().active(), 1);
    CHECK(e->reasm().bytesHeld() > 720u);
    CHECK_EQ(Net::nextTimerUs(), t0 + NETCFG_IPFRAG_TIMEOUT_MS * 1000);
    host_board::set_time_us(t0 + NETCFG_IPFRAG_TIMEOUT_MS * 1000 - 1);
    Net::poll();
    CHECK_EQ(e->reasm().active(), 1);
    host_board::set_time_us(t0 + NETCFG_IPFRAG_TIMEOUT_MS * 1000);
    Net::poll();
    CHECK_EQ(e->reasm().active(), 0);
    CHECK_EQ(e->reasm().bytesHeld(), 0u);
    CHECK_EQ(st().ip_reasm_timeout, 1u);
    CHECK_EQ(Net::nextTimerUs(), 0u);
    // The rest arriving late starts a new (incomplete) datagram: nothing delivered.
    frag(p, 720, 720, true);
    frag(p, 1440, (int)p.size() - 1440, false);
    Net::poll();
    CHECK_EQ(r.events, 0);
    host_board::advance_ms(NETCFG_IPFRAG_TIMEOUT_MS);
    Net::poll();
    CHECK_EQ(st().ip_reasm_timeout, 2u);
    r.s.close();
    Net::poll();
    delete e;
}

TEST(too_many_reassemblies) {
    EthernetNetIf* e = up_static();
    Rx r(5000);
    Bytes p = udp_payload(pattern(100), 5000);
    for (int i = 0; i < NETCFG_IPFRAG_SLOTS + 1; i++) frag(p, 0, 64, true, (uint16_t)(100 + i));
    Net::poll();
    CHECK_EQ(e->reasm().active(), NETCFG_IPFRAG_SLOTS);
    CHECK_EQ(st().ip_fragments_dropped, 1u);
    // The ones that got a slot complete; the dropped one cannot.
    for (int i = 0; i < NETCFG_IPFRAG_SLOTS + 1; i++)
        frag(p, 64, (int)p.size() - 64, false, (uint16_t)(100 + i));
    Net::poll();
    CHECK_EQ(r.events, NETCFG_IPFRAG_SLOTS < NETCFG_UDP_RX_QUEUE ? NETCFG_IPFRAG_SLOTS : NETCFG_UDP_RX_QUEUE);
    CHECK_EQ((int)st().ip_reassembled, NETCFG_IPFRAG_SLOTS);
    CHECK_EQ(e->reasm().active(), 1);  // the tail of the dropped one waits, then times out
    host_board::advance_ms(NETCFG_IPFRAG_TIMEOUT_MS);
    Net::poll();
    CHECK_EQ(e->reasm().active(), 0);
    r.s.close();
    Net::poll();
    delete e;
}

TEST(too_many_bytes_gives_up_the_datagram) {
    EthernetNetIf* e = up_static();
    Rx r(5000);
    int size = NETCFG_IPFRAG_BYTES + 1000;
    if (size > 65000) size = 65000;
    Bytes p = udp_payload(pattern((size_t)size), 5000);
    int n = pieces(p, MAX_DATA);
    for (int i = 0; i < n; i++) {
        send_piece(p, MAX_DATA, i);
        Net::poll();  // one frame at a time (the receive budget)
        CHECK(e->reasm().bytesHeld() <= (size_t)NETCFG_IPFRAG_BYTES);
    }
    CHECK_EQ(r.events, 0);
    CHECK(st().ip_fragments_dropped >= 1u);
    // Another, small datagram still gets through.
    Bytes q = udp_payload(pattern(100), 5000);
    frag(q, 0, 64, true, 9);
    frag(q, 64, (int)q.size() - 64, false, 9);
    Net::poll();
    CHECK_EQ(r.events, 1);
    host_board::advance_ms(NETCFG_IPFRAG_TIMEOUT_MS);
    Net::poll();
    CHECK_EQ(e->reasm().bytesHeld(), 0u);
    r.s.close();
    Net::poll();
    delete e;
}

TEST(malformed_fragments_dropped) {
    EthernetNetIf* e = up_static();
    Rx r(5000);
    Bytes p = udp_payload(pattern(200), 5000);
    // MF with a length that is not a multiple of 8.
    frag(p, 0, 60, true, 1);
    // Beyond 65535 bytes (the "ping of death").
    IpOpt o;
    o.id = 2;
    o.frag = (uint16_t)(65528 / 8);
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0800, ipv4(PEER_IP, MY_IP, 17, Bytes(100, 1), o)));
    Net::poll();
    CHECK_EQ(st().ip_fragments_dropped, 2u);
    CHECK_EQ(e->reasm().active(), 0);
    // Two last fragments disagreeing about the length: the datagram is given up.
    frag(p, 64, 64, false, 3);
    frag(p, 64, 80, false, 3);
    Net::poll();
    CHECK_EQ(st().ip_fragments_dropped, 3u);
    CHECK_EQ(e->reasm().active(), 0);
    // Data beyond an already known end: given up too.
    frag(p, 64, 64, false, 4);
    frag(p, 128, 64, true, 4);
    Net::poll();
    CHECK_EQ(st().ip_fragments_dropped, 4u);
    CHECK_EQ(e->reasm().active(), 0);
    CHECK_EQ(r.events, 0);
    CHECK_EQ(e->reasm().bytesHeld(), 0u);
    r.s.close();
    Net::poll();
    delete e;
}

TEST(same_id_other_source_kept_apart) {
    EthernetNetIf* e = up_static();
    Rx r(5000);
    Bytes a = udp_payload(pattern(100, 1), 5000);
    Bytes b = udp(ip4(192, 0, 2, 21), MY_IP, 4000, 5000, pattern(100, 2));
    frag(a, 0, 64, true, 5);
    frag(b, 0, 64, true, 5, ip4(192, 0, 2, 21));
    frag(b, 64, (int)b.size() - 64, false, 5, ip4(192, 0, 2, 21));
    frag(a, 64, (int)a.size() - 64, false, 5);
    Net::poll();
    CHECK_EQ(r.events, 2);
    Host from;
    CHECK_EQ(r.read(&from), pattern(100, 2));
    CHECK(from.getIp() == IpAddr(192, 0, 2, 21));
    CHECK_EQ(r.read(&from), pattern(100, 1));
    r.s.close();
    Net::poll();
    delete e;
}

TEST(fragmented_ping_answered_fragmented) {
    EthernetNetIf* e = up_static();
    learn_peer();
    Bytes data = pattern(1800, 6);
    Bytes req = icmp_echo(8, 0x1234, 1, data);
    int n = pieces(req, MAX_DATA);
    for (int i = 0; i < n; i++) {
        IpOpt o;
        o.id = 42;
        int off = i * MAX_DATA;
        int len = (int)req.size() - off < MAX_DATA ? (int)req.size() - off : MAX_DATA;
        o.frag = (uint16_t)((off + len < (int)req.size() ? 0x2000 : 0) | (off / 8));
        host_board::inject(eth(MY_MAC, PEER_MAC, 0x0800,
                               ipv4(PEER_IP, MY_IP, 1, Bytes(req.begin() + off, req.begin() + off + len), o)));
    }
    Net::poll();
    auto f = host_board::tx_take_all();
    Bytes d = rejoin(f, Bytes(PEER_MAC, PEER_MAC + 6));
    if (!d.empty()) {
        CHECK_EQ(d[9], 1);
        Bytes ic(d.begin() + 20, d.end());
        CHECK_EQ(csum(ic.data(), ic.size()), 0);
        CHECK_EQ(ic[0], 0);  // echo reply
        CHECK_EQ(Bytes(ic.begin() + 8, ic.end()), data);
    }
    CHECK_EQ(st().icmp_echo_replied, 1u);
    delete e;
}
