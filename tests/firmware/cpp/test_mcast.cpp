// IGMPv2 (RFC 2236) and multicast reception: join/leave reports (bytes, TTL 1, Router
// Alert), the repeat report, General and Group-Specific Queries, suppression, use counts
// across sockets, the group limit, re-reports when the interface comes up, and which
// datagrams get in.  IGMP frames are parsed here, independently of the stack.
#include <string.h>

#include "EthernetNetIf.h"
#include "UDPSocket.h"
#include "net.h"
#include "netstack.h"
#include "testlib.h"

static const NetStats& st() { return Net::stats(); }
static const uint32_t G1 = ip4(239, 192, 1, 100);
static const uint32_t G2 = ip4(239, 1, 2, 3);
static const uint32_t ALL_HOSTS = ip4(224, 0, 0, 1);
static const uint32_t ALL_ROUTERS = ip4(224, 0, 0, 2);
static const uint8_t OTHER_MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x33};
static const uint32_t OTHER_IP = ip4(192, 0, 2, 33);

static uint16_t g16(const Bytes& b, size_t at) { return (uint16_t)(b[at] << 8 | b[at + 1]); }
static uint32_t g32(const Bytes& b, size_t at) { return (uint32_t)g16(b, at) << 16 | g16(b, at + 2); }
static Bytes group_mac(uint32_t g) {
    return Bytes{0x01, 0x00, 0x5E, (uint8_t)((g >> 16) & 0x7F), (uint8_t)(g >> 8), (uint8_t)g};
}

struct Igmp {
    bool ok = false;
    std::string error;
    Bytes dst_mac;
    uint32_t ip_src = 0, ip_dst = 0;
    uint8_t ttl = 0;
    Bytes options;
    uint8_t type = 0, max_resp = 0;
    uint32_t group = 0;
};

static Igmp igmp_of(const Bytes& f) {
    Igmp m;
    if (f.size() < 14 + 20 || g16(f, 12) != 0x0800) { m.error = "not ipv4"; return m; }
    Bytes b(f.begin() + 14, f.end());
    size_t hl = (b[0] & 15) * 4u;
    size_t total = g16(b, 2);
    if ((b[0] >> 4) != 4 || hl < 20 || total < hl || total > b.size()) { m.error = "bad ip"; return m; }
    if (csum(b.data(), hl) != 0) { m.error = "bad ip checksum"; return m; }
    if (b[9] != 2) { m.error = "not igmp"; return m; }
    if (total - hl != 8) { m.error = "igmp length"; return m; }
    if (csum(b.data() + hl, 8) != 0) { m.error = "bad igmp checksum"; return m; }
    m.dst_mac.assign(f.begin(), f.begin() + 6);
    m.ip_src = g32(b, 12);
    m.ip_dst = g32(b, 16);
    m.ttl = b[8];
    m.options.assign(b.begin() + 20, b.begin() + (long)hl);
    m.type = b[hl];
    m.max_resp = b[hl + 1];
    m.group = g32(b, hl + 4);
    m.ok = true;
    return m;
}

// IGMP message from another host (or the querier) to dst.
static Bytes igmp_msg(uint8_t type, uint8_t maxResp, uint32_t group, bool bad = false) {
    Bytes m{type, maxResp, 0, 0, (uint8_t)(group >> 24), (uint8_t)(group >> 16),
            (uint8_t)(group >> 8), (uint8_t)group};
    uint16_t c = csum(m.data(), m.size());
    if (bad) c ^= 0x0101;
    m[2] = (uint8_t)(c >> 8);
    m[3] = (uint8_t)c;
    return m;
}
static void inject_igmp(uint32_t src, uint32_t dst, const Bytes& msg) {
    IpOpt o;
    o.ttl = 1;
    o.options = {0x94, 0x04, 0x00, 0x00};
    Bytes dm = group_mac(dst);
    host_board::inject(eth(dm.data(), OTHER_MAC, 0x0800, ipv4(src, dst, 2, msg, o)));
}
static void query(uint32_t dst, uint32_t group, uint8_t maxResp) {
    inject_igmp(GW_IP, dst, igmp_msg(0x11, maxResp, group));
}

// All IGMP frames sent so far (other frames are dropped).
static std::vector<Igmp> sent_igmp() {
    std::vector<Igmp> v;
    for (auto& f : host_board::tx_take_all()) {
        Igmp m = igmp_of(f);
        if (m.ok) v.push_back(m);
    }
    return v;
}

// Poll with the fake clock moving in 10 ms steps for `ms`; returns the IGMP frames sent
// and the board time of the first one (0 if none).
static std::vector<Igmp> run_ms(uint64_t ms, uint64_t* first = nullptr) {
    std::vector<Igmp> all;
    if (first) *first = 0;
    for (uint64_t t = 0; t <= ms; t += 10) {
        Net::poll();
        auto v = sent_igmp();
        if (!v.empty() && first && !*first) *first = board::micros();
        all.insert(all.end(), v.begin(), v.end());
        host_board::advance_ms(10);
    }
    return all;
}

static void check_report(const Igmp& m, uint32_t group) {
    CHECK(m.ok);
    CHECK_EQ(m.type, 0x16);
    CHECK_EQ(m.max_resp, 0);
    CHECK_EQ(m.group, group);
    CHECK_EQ(m.ip_dst, group);
    CHECK_EQ(m.ip_src, MY_IP);
    CHECK_EQ(m.ttl, 1);
    CHECK_EQ(m.options, (Bytes{0x94, 0x04, 0x00, 0x00}));
    CHECK_EQ(m.dst_mac, group_mac(group));
}

// Join and let the join reports (immediate + repeat) go out.
static void settle() {
    run_ms(1000);
    host_board::tx_clear();
}

TEST(join_sends_report_at_once) {
    EthernetNetIf* e = up_static();
    UDPSocket s;
    CHECK_EQ(s.bind(Host(IpAddr(239, 192, 1, 100), 50000, NULL)), UDPSOCKET_OK);
    auto f = host_board::tx_take_all();  // sent by bind itself, before any poll
    CHECK_EQ(f.size(), 1u);
    if (f.size() == 1) {
        Igmp m = igmp_of(f[0]);
        CHECK_EQ(m.error, std::string(""));
        check_report(m, G1);
        // Exact bytes: 0x46 header (24 bytes), TTL 1, protocol 2, router alert, report.
        Bytes ip(f[0].begin() + 14, f[0].end());
        CHECK_EQ(ip.size(), 32u);
        CHECK_EQ(ip[0], 0x46);
        CHECK_EQ(g16(ip, 2), 32);
        CHECK_EQ(g16(ip, 6), 0);  // not fragmented
        CHECK_EQ(ip[9], 2);
        Bytes msg(ip.begin() + 24, ip.end());
        Bytes want = igmp_msg(0x16, 0, G1);
        CHECK_EQ(msg, want);
    }
    CHECK_EQ(st().igmp_tx, 1u);
    CHECK_EQ(e->igmp().groupCount(), 1);
    s.close();
    Net::poll();
    delete e;
}

TEST(repeat_report_within_half_second) {
    EthernetNetIf* e = up_static();
    UDPSocket s;
    uint64_t t0 = board::micros();
    CHECK_EQ(s.bind(Host(IpAddr(239, 192, 1, 100), 50000, NULL)), UDPSOCKET_OK);
    host_board::tx_clear();
    // The repeat is due within 0.5 s, and Net::nextTimerUs() says when.
    uint64_t next = Net::nextTimerUs();
    CHECK(next > t0);
    CHECK(next <= t0 + 500000);
    host_board::set_time_us(next - 1);
    Net::poll();
    CHECK_EQ(sent_igmp().size(), 0u);
    host_board::set_time_us(next);
    Net::poll();
    auto v = sent_igmp();
    CHECK_EQ(v.size(), 1u);
    if (v.size() == 1) check_report(v[0], G1);
    // Then nothing more without a query.
    CHECK_EQ(Net::nextTimerUs(), 0u);
    CHECK_EQ(run_ms(20000).size(), 0u);
    s.close();
    Net::poll();
    delete e;
}

TEST(random_delays_differ) {
    // Several joins: the repeat delays are spread, not all the same.
    EthernetNetIf* e = up_static();
    uint64_t seen[6];
    bool differ = false;
    for (int i = 0; i < 6; i++) {
        UDPSocket s;
        s.bind(Host(IpAddr(239, 9, 9, (uint8_t)(i + 1)), 7000, NULL));
        uint64_t now = board::micros();
        seen[i] = Net::nextTimerUs() - now;
        CHECK(seen[i] > 0 && seen[i] <= 500000);
        if (i && seen[i] != seen[0]) differ = true;
        s.close();
        Net::poll();
        host_board::advance_ms(3);
    }
    CHECK(differ);
    delete e;
}

TEST(general_query_answered_within_max_resp_time) {
    EthernetNetIf* e = up_static();
    UDPSocket a, b;
    CHECK_EQ(a.bind(Host(IpAddr(239, 192, 1, 100), 50000, NULL)), UDPSOCKET_OK);
    CHECK_EQ(b.bind(Host(IpAddr(239, 1, 2, 3), 50001, NULL)), UDPSOCKET_OK);
    settle();
    uint64_t tq = board::micros();
    query(ALL_HOSTS, 0, 20);  // 2.0 s
    uint64_t first = 0;
    auto v = run_ms(2100, &first);
    CHECK_EQ(v.size(), 2u);
    bool g1 = false, g2 = false;
    for (auto& m : v) {
        CHECK_EQ(m.type, 0x16);
        CHECK_EQ(m.ttl, 1);
        g1 |= m.group == G1;
        g2 |= m.group == G2;
    }
    CHECK(g1 && g2);
    CHECK(first > tq && first <= tq + 2000000 + 10000);
    // A general query not sent to 224.0.0.1 is ignored.
    query(G1, 0, 20);
    CHECK_EQ(run_ms(3000).size(), 0u);
    // IGMPv1 query (max resp 0): answered within 10 s.
    query(ALL_HOSTS, 0, 0);
    v = run_ms(10100);
    CHECK_EQ(v.size(), 2u);
    CHECK_EQ(st().igmp_bad, 0u);
    a.close();
    b.close();
    Net::poll();
    delete e;
}

TEST(group_specific_query) {
    EthernetNetIf* e = up_static();
    UDPSocket a, b;
    a.bind(Host(IpAddr(239, 192, 1, 100), 50000, NULL));
    b.bind(Host(IpAddr(239, 1, 2, 3), 50001, NULL));
    settle();
    uint64_t tq = board::micros();
    query(G2, G2, 10);  // 1.0 s, for G2 only
    // The report timer is armed when the query is processed: nextTimerUs within 1 s.
    Net::poll();
    uint64_t next = Net::nextTimerUs();
    CHECK(next > tq && next <= tq + 1000000);
    uint64_t first = 0;
    auto v = run_ms(1100, &first);
    CHECK_EQ(v.size(), 1u);
    if (v.size() == 1) check_report(v[0], G2);
    CHECK(first <= tq + 1000000 + 10000);
    // A query for a group we are not in: nothing.
    query(ip4(239, 5, 5, 5), ip4(239, 5, 5, 5), 10);
    CHECK_EQ(run_ms(1500).size(), 0u);
    a.close();
    b.close();
    Net::poll();
    delete e;
}

TEST(running_timer_only_shortened) {
    EthernetNetIf* e = up_static();
    UDPSocket a;
    a.bind(Host(IpAddr(239, 192, 1, 100), 50000, NULL));
    settle();
    query(ALL_HOSTS, 0, 10);  // within 1 s
    Net::poll();
    uint64_t t1 = Net::nextTimerUs();
    query(ALL_HOSTS, 0, 250);  // 25 s: must not push the running timer back
    Net::poll();
    CHECK_EQ(Net::nextTimerUs(), t1);
    a.close();
    Net::poll();
    delete e;
}

TEST(report_suppressed_by_other_host) {
    EthernetNetIf* e = up_static();
    UDPSocket a;
    a.bind(Host(IpAddr(239, 192, 1, 100), 50000, NULL));
    settle();
    query(ALL_HOSTS, 0, 100);  // 10 s: plenty of time for another host to answer first
    Net::poll();
    CHECK(Net::nextTimerUs() != 0);
    inject_igmp(OTHER_IP, G1, igmp_msg(0x16, 0, G1));  // someone else's report
    auto v = run_ms(11000);
    CHECK_EQ(v.size(), 0u);
    CHECK_EQ(Net::nextTimerUs(), 0u);
    // We were not the last reporter: no Leave on close.
    a.close();
    Net::poll();
    CHECK_EQ(sent_igmp().size(), 0u);
    CHECK_EQ(e->igmp().groupCount(), 0);
    delete e;
}

TEST(v1_report_also_suppresses) {
    EthernetNetIf* e = up_static();
    UDPSocket a;
    a.bind(Host(IpAddr(239, 192, 1, 100), 50000, NULL));
    settle();
    query(ALL_HOSTS, 0, 100);
    Net::poll();
    inject_igmp(OTHER_IP, G1, igmp_msg(0x12, 0, G1));
    CHECK_EQ(run_ms(11000).size(), 0u);
    a.close();
    Net::poll();
    delete e;
}

TEST(leave_on_last_close_only) {
    EthernetNetIf* e = up_static();
    UDPSocket a, b;
    CHECK_EQ(a.bind(Host(IpAddr(239, 192, 1, 100), 50000, NULL)), UDPSOCKET_OK);
    CHECK_EQ(b.bind(Host(IpAddr(239, 192, 1, 100), 50001, NULL)), UDPSOCKET_OK);
    auto v = sent_igmp();
    CHECK_EQ(v.size(), 1u);  // the second join of the same group sends nothing
    CHECK_EQ(e->igmp().uses(G1), 2);
    settle();
    CHECK_EQ(a.close(), UDPSOCKET_OK);
    Net::poll();
    CHECK_EQ(sent_igmp().size(), 0u);  // b still uses the group
    CHECK(e->igmp().isMember(G1));
    CHECK_EQ(b.close(), UDPSOCKET_OK);
    v = sent_igmp();
    CHECK_EQ(v.size(), 1u);
    if (v.size() == 1) {
        CHECK_EQ(v[0].type, 0x17);
        CHECK_EQ(v[0].group, G1);
        CHECK_EQ(v[0].ip_dst, ALL_ROUTERS);
        CHECK_EQ(v[0].dst_mac, group_mac(ALL_ROUTERS));
        CHECK_EQ(v[0].ttl, 1);
        CHECK_EQ(v[0].options, (Bytes{0x94, 0x04, 0x00, 0x00}));
    }
    CHECK(!e->igmp().isMember(G1));
    // Datagrams to the group are no longer accepted.
    Net::resetStats();
    host_board::inject(eth(group_mac(G1).data(), PEER_MAC, 0x0800,
                           ipv4(PEER_IP, G1, 17, udp(PEER_IP, G1, 1, 50000, bytes("late")))));
    Net::poll();
    CHECK_EQ(st().ip_not_for_us, 1u);
    Net::poll();
    delete e;
}

TEST(rebind_and_failed_bind_leave_the_group) {
    EthernetNetIf* e = up_static();
    UDPSocket a, b;
    CHECK_EQ(a.bind(Host(IpAddr(), 6000, NULL)), UDPSOCKET_OK);
    // b's port is taken: INUSE, and the group it joined on the way is left again.
    CHECK_EQ(b.bind(Host(IpAddr(239, 1, 2, 3), 6000, NULL)), UDPSOCKET_INUSE);
    CHECK_EQ(e->igmp().groupCount(), 0);
    // Rebinding a to another group leaves the first one.
    CHECK_EQ(a.bind(Host(IpAddr(239, 192, 1, 100), 6000, NULL)), UDPSOCKET_OK);
    CHECK_EQ(a.bind(Host(IpAddr(239, 1, 2, 3), 6000, NULL)), UDPSOCKET_OK);
    CHECK(!e->igmp().isMember(G1));
    CHECK(e->igmp().isMember(G2));
    CHECK_EQ(e->igmp().groupCount(), 1);
    a.close();
    b.close();
    CHECK_EQ(e->igmp().groupCount(), 0);
    Net::poll();
    delete e;
}

TEST(group_visible_to_every_socket_on_the_port) {
    EthernetNetIf* e = up_static();
    UDPSocket a, b;
    int ea = 0, eb = 0;
    struct L {
        int* n;
        void on(UDPSocketEvent) { (*n)++; }
    } la{&ea}, lb{&eb};
    a.setOnEvent(&la, &L::on);
    b.setOnEvent(&lb, &L::on);
    CHECK_EQ(a.bind(Host(IpAddr(239, 192, 1, 100), 6000, NULL)), UDPSOCKET_OK);
    CHECK_EQ(b.bind(Host(IpAddr(239, 1, 2, 3), 7000, NULL)), UDPSOCKET_OK);
    auto to = [](uint32_t g, uint16_t port, const char* text) {
        host_board::inject(eth(group_mac(g).data(), PEER_MAC, 0x0800,
                               ipv4(PEER_IP, g, 17, udp(PEER_IP, g, 1, port, bytes(text)))));
    };
    to(G2, 6000, "G2 to a's port");     // b's group, a's port: a gets it
    to(G1, 7000, "G1 to b's port");     // a's group, b's port: b gets it
    to(ip4(239, 7, 7, 7), 6000, "x");   // nobody's group: dropped by IP
    Net::poll();
    CHECK_EQ(ea, 1);
    CHECK_EQ(eb, 1);
    char buf[64];
    Host from;
    int n = a.recvfrom(buf, sizeof buf, &from);
    CHECK_EQ(Bytes(buf, buf + (n > 0 ? n : 0)), bytes("G2 to a's port"));
    CHECK(from.getIp() == IpAddr(192, 0, 2, 20));
    CHECK_EQ(st().ip_not_for_us, 1u);
    a.close();
    b.close();
    Net::poll();
    delete e;
}

TEST(group_limit_gives_udpsocket_if) {
    EthernetNetIf* e = up_static();
    // NETCFG_IGMP_GROUPS includes 224.0.0.1: NETCFG_IGMP_GROUPS - 1 more groups fit.
    for (int i = 0; i < NETCFG_IGMP_GROUPS - 2; i++)
        CHECK(e->igmpJoin(IpAddr(239, 0, 0, (uint8_t)(i + 1))));
    UDPSocket s, t2;
    CHECK_EQ(s.bind(Host(IpAddr(239, 192, 1, 100), 50000, NULL)), UDPSOCKET_OK);  // the last one
    CHECK_EQ(e->igmp().groupCount(), NETCFG_IGMP_GROUPS - 1);
    CHECK_EQ(t2.bind(Host(IpAddr(239, 1, 2, 3), 50001, NULL)), UDPSOCKET_IF);
    // The port was not bound by the failed call; a joined group and 224.0.0.1 still work.
    CHECK_EQ(t2.bind(Host(IpAddr(239, 192, 1, 100), 50001, NULL)), UDPSOCKET_OK);
    UDPSocket u;
    host_board::tx_clear();
    CHECK_EQ(u.bind(Host(IpAddr(224, 0, 0, 1), 50002, NULL)), UDPSOCKET_OK);
    CHECK_EQ(sent_igmp().size(), 0u);  // 224.0.0.1 is never reported
    u.close();
    CHECK_EQ(sent_igmp().size(), 0u);  // ... nor left
    // Freeing one makes room.
    s.close();
    t2.close();
    CHECK_EQ(t2.bind(Host(IpAddr(239, 1, 2, 3), 50001, NULL)), UDPSOCKET_OK);
    t2.close();
    for (int i = 0; i < NETCFG_IGMP_GROUPS - 2; i++) e->igmpLeave(IpAddr(239, 0, 0, (uint8_t)(i + 1)));
    CHECK_EQ(e->igmp().groupCount(), 0);
    Net::poll();
    delete e;
}

TEST(all_hosts_always_member) {
    EthernetNetIf* e = up_static();
    CHECK(e->igmp().isMember(ALL_HOSTS));
    UDPSocket s;
    int ev = 0;
    struct L {
        int* n;
        void on(UDPSocketEvent) { (*n)++; }
    } l{&ev};
    s.setOnEvent(&l, &L::on);
    s.bind(Host(IpAddr(), 9999, NULL));
    host_board::inject(eth(group_mac(ALL_HOSTS).data(), PEER_MAC, 0x0800,
                           ipv4(PEER_IP, ALL_HOSTS, 17, udp(PEER_IP, ALL_HOSTS, 1, 9999, bytes("all")))));
    Net::poll();
    CHECK_EQ(ev, 1);
    // A general query with no groups joined: nothing to report (224.0.0.1 never is).
    query(ALL_HOSTS, 0, 10);
    CHECK_EQ(run_ms(1500).size(), 0u);
    s.close();
    Net::poll();
    delete e;
}

TEST(bad_igmp_dropped_and_counted) {
    EthernetNetIf* e = up_static();
    UDPSocket a;
    a.bind(Host(IpAddr(239, 192, 1, 100), 50000, NULL));
    settle();
    inject_igmp(GW_IP, ALL_HOSTS, igmp_msg(0x11, 10, 0, true));  // bad checksum
    Bytes shortMsg{0x11, 10, 0, 0};
    IpOpt o;
    o.ttl = 1;
    host_board::inject(eth(group_mac(ALL_HOSTS).data(), OTHER_MAC, 0x0800,
                           ipv4(GW_IP, ALL_HOSTS, 2, shortMsg, o)));
    CHECK_EQ(run_ms(2000).size(), 0u);
    CHECK_EQ(st().igmp_rx, 2u);
    CHECK_EQ(st().igmp_bad, 2u);
    // An IGMPv3 query (12+ bytes) is answered like a v2 one.
    Bytes v3 = igmp_msg(0x11, 10, 0);
    v3.insert(v3.end(), {0, 0, 0, 0});
    v3[2] = v3[3] = 0;
    uint16_t c = csum(v3.data(), v3.size());
    v3[2] = (uint8_t)(c >> 8);
    v3[3] = (uint8_t)c;
    inject_igmp(GW_IP, ALL_HOSTS, v3);
    CHECK_EQ(run_ms(1100).size(), 1u);
    a.close();
    Net::poll();
    delete e;
}

TEST(groups_reported_when_interface_comes_up) {
    host_board::reset();
    host_board::set_time_us(1000000);
    Net::poll();
    EthernetNetIf* e = new EthernetNetIf(IpAddr(192, 0, 2, 10), IpAddr(255, 255, 255, 0),
                                         IpAddr(192, 0, 2, 1), IpAddr());
    UDPSocket s;
    // Before setup(): the group is recorded, nothing can be sent yet.
    CHECK_EQ(s.bind(Host(IpAddr(239, 192, 1, 100), 50000, NULL)), UDPSOCKET_OK);
    CHECK_EQ(host_board::tx_count(), 0u);
    CHECK_EQ(e->setup(), ETH_OK);
    auto v = sent_igmp();  // the gratuitous ARP is skipped by sent_igmp
    CHECK_EQ(v.size(), 1u);
    if (v.size() == 1) check_report(v[0], G1);
    v = run_ms(600);
    CHECK_EQ(v.size(), 1u);  // and its repeat
    // setup() again: reported again.
    CHECK_EQ(e->setup(), ETH_OK);
    CHECK_EQ(sent_igmp().size(), 1u);
    s.close();
    Net::poll();
    delete e;
}

TEST(example_flow_hello_world) {
    // UDPSocketExample: bind to 239.192.1.100:50000 (join), send "Hello world!" to the group,
    // receive a datagram another host sends to it; our own is not looped back.
    EthernetNetIf* e = up_static();
    UDPSocket s;
    int ev = 0;
    struct L {
        int* n;
        void on(UDPSocketEvent) { (*n)++; }
    } l{&ev};
    s.setOnEvent(&l, &L::on);
    Host group(IpAddr(239, 192, 1, 100), 50000, NULL);
    CHECK_EQ(s.bind(group), UDPSOCKET_OK);
    host_board::tx_clear();
    CHECK_EQ(s.sendto("Hello world!", 12, &group), 12);
    Bytes f = host_board::tx_pop();
    Parsed p = parse(f);
    CHECK(p.ok);
    CHECK_EQ(p.dst_mac, group_mac(G1));
    CHECK_EQ(p.sport, 50000);
    CHECK_EQ(p.dport, 50000);
    CHECK_EQ(p.payload, bytes("Hello world!"));
    Net::poll();
    CHECK_EQ(ev, 0);
    host_board::inject(eth(group_mac(G1).data(), PEER_MAC, 0x0800,
                           ipv4(PEER_IP, G1, 17, udp(PEER_IP, G1, 4000, 50000, bytes("hi")))));
    Net::poll();
    CHECK_EQ(ev, 1);
    s.close();
    Net::poll();
    delete e;
}
