// Protocol behaviour with crafted frames: ARP, IPv4, ICMP echo, UDP in and out, counters,
// and robustness against malformed input (run under ASan/UBSan).
#include <string.h>

#include "EthernetNetIf.h"
#include "UDPSocket.h"
#include "net.h"
#include "netstack.h"
#include "testlib.h"

static const uint8_t ZERO_MAC[6] = {0, 0, 0, 0, 0, 0};
static Bytes mac(const uint8_t* m) { return Bytes(m, m + 6); }
static const NetStats& st() { return Net::stats(); }

TEST(gratuitous_arp_on_setup) {
    host_board::reset();
    EthernetNetIf* e = new EthernetNetIf(IpAddr(192, 0, 2, 10), IpAddr(255, 255, 255, 0),
                                         IpAddr(192, 0, 2, 1), IpAddr(192, 0, 2, 53));
    CHECK_EQ((int)host_board::tx_count(), 0);  // nothing before setup()
    CHECK_EQ(e->setup(), ETH_OK);
    CHECK_EQ((int)host_board::tx_count(), 1);
    Bytes f = host_board::tx_pop();
    CHECK_EQ(f.size(), 42u);
    Parsed p = parse(f);
    CHECK(p.ok);
    CHECK_EQ(p.dst_mac, mac(BCAST_MAC));
    CHECK_EQ(p.src_mac, mac(MY_MAC));
    CHECK_EQ(p.type, 0x0806);
    CHECK_EQ(p.arp_op, 1);
    CHECK_EQ(p.arp_sha, mac(MY_MAC));
    CHECK_EQ(p.arp_spa, MY_IP);
    CHECK_EQ(p.arp_tpa, MY_IP);
    CHECK_EQ(p.arp_tha, mac(ZERO_MAC));
    delete e;
}

TEST(arp_request_gets_reply) {
    EthernetNetIf* e = up_static();
    host_board::inject(eth(BCAST_MAC, PEER_MAC, 0x0806, arp_pkt(1, PEER_MAC, PEER_IP, ZERO_MAC, MY_IP)));
    Net::poll();
    CHECK_EQ((int)host_board::tx_count(), 1);
    Bytes f = host_board::tx_pop();
    // Byte for byte: Ethernet header, then the ARP reply.
    Bytes want = eth(PEER_MAC, MY_MAC, 0x0806, arp_pkt(2, MY_MAC, MY_IP, PEER_MAC, PEER_IP));
    CHECK_EQ(f, want);
    CHECK_EQ(st().arp_rx, 1u);
    CHECK_EQ(st().arp_tx, 1u);
    // The requester was learnt: a datagram to it goes out at once, no ARP request.
    UDPSocket s;
    Host to(IpAddr(192, 0, 2, 20), 7, NULL);
    CHECK_EQ(s.sendto("hi", 2, &to), 2);
    Parsed p = parse(host_board::tx_pop());
    CHECK(p.ok);
    CHECK_EQ(p.type, 0x0800);
    CHECK_EQ(p.dst_mac, mac(PEER_MAC));
    s.close();
    Net::poll();
    delete e;
}

TEST(arp_for_other_ip_ignored) {
    EthernetNetIf* e = up_static();
    host_board::inject(eth(BCAST_MAC, PEER_MAC, 0x0806,
                           arp_pkt(1, PEER_MAC, PEER_IP, ZERO_MAC, ip4(192, 0, 2, 99))));
    host_board::inject(eth(BCAST_MAC, PEER_MAC, 0x0806, arp_pkt(3, PEER_MAC, PEER_IP, ZERO_MAC, ip4(192, 0, 2, 98))));
    Bytes bad = arp_pkt(1, PEER_MAC, PEER_IP, ZERO_MAC, MY_IP);
    bad[4] = 8;  // hardware length
    host_board::inject(eth(BCAST_MAC, PEER_MAC, 0x0806, bad));
    Bytes shortArp = arp_pkt(1, PEER_MAC, PEER_IP, ZERO_MAC, MY_IP);
    shortArp.resize(27);
    host_board::inject(eth(BCAST_MAC, PEER_MAC, 0x0806, shortArp));
    Net::poll();
    CHECK_EQ((int)host_board::tx_count(), 0);
    CHECK_EQ(st().arp_rx, 2u);
    CHECK_EQ(st().arp_bad, 2u);
    // Not learnt from a request for someone else: sending needs an ARP request.
    UDPSocket s;
    Host to(IpAddr(192, 0, 2, 20), 7, NULL);
    CHECK_EQ(s.sendto("x", 1, &to), 1);
    Parsed p = parse(host_board::tx_pop());
    CHECK_EQ(p.type, 0x0806);
    s.close();
    Net::poll();
    delete e;
}

TEST(sendto_resolves_then_sends) {
    EthernetNetIf* e = up_static();
    UDPSocket s;
    CHECK_EQ(s.bind(Host(IpAddr(), 6000, NULL)), UDPSOCKET_OK);
    Host to(IpAddr(192, 0, 2, 20), 7, NULL);
    CHECK_EQ(s.sendto("payload", 7, &to), 7);
    CHECK_EQ((int)host_board::tx_count(), 1);
    Parsed req = parse(host_board::tx_pop());
    CHECK(req.ok);
    CHECK_EQ(req.dst_mac, mac(BCAST_MAC));
    CHECK_EQ(req.arp_op, 1);
    CHECK_EQ(req.arp_spa, MY_IP);
    CHECK_EQ(req.arp_tpa, PEER_IP);
    CHECK_EQ(req.arp_tha, mac(ZERO_MAC));
    CHECK(e->nextTimerUs() > board::micros());  // pending entry expiry
    Net::poll();
    CHECK_EQ((int)host_board::tx_count(), 0);  // held until the reply
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0806, arp_pkt(2, PEER_MAC, PEER_IP, MY_MAC, MY_IP)));
    Net::poll();
    CHECK_EQ((int)host_board::tx_count(), 1);
    Parsed p = parse(host_board::tx_pop());
    CHECK(p.ok);
    if (!p.ok) fprintf(stderr, "%s\n", p.error.c_str());
    CHECK_EQ(p.dst_mac, mac(PEER_MAC));
    CHECK_EQ(p.src_mac, mac(MY_MAC));
    CHECK_EQ(p.ip_src, MY_IP);
    CHECK_EQ(p.ip_dst, PEER_IP);
    CHECK_EQ(p.ip_proto, 17);
    CHECK_EQ(p.ip_ttl, 255);
    CHECK_EQ(p.sport, 6000);
    CHECK_EQ(p.dport, 7);
    CHECK_EQ(p.payload, bytes("payload"));
    // Now resolved: straight out.
    CHECK_EQ(s.sendto("again", 5, &to), 5);
    Parsed q = parse(host_board::tx_pop());
    CHECK(q.ok);
    CHECK_EQ(q.payload, bytes("again"));
    CHECK_EQ(st().udp_tx, 2u);
    s.close();
    Net::poll();
    delete e;
}

TEST(arp_holds_one_packet_newest_wins) {
    EthernetNetIf* e = up_static();
    UDPSocket s;
    Host to(IpAddr(192, 0, 2, 20), 7, NULL);
    CHECK_EQ(s.sendto("one", 3, &to), 3);
    CHECK_EQ(s.sendto("two", 3, &to), 3);
    CHECK_EQ((int)host_board::tx_count(), 1);  // one request only (retry limited to 1/s)
    host_board::tx_clear();
    host_board::advance_ms(1500);
    CHECK_EQ(s.sendto("three", 5, &to), 5);
    CHECK_EQ((int)host_board::tx_count(), 1);  // repeated request after a second
    CHECK_EQ(parse(host_board::tx_pop()).arp_op, 1);
    CHECK_EQ(st().arp_queue_dropped, 2u);
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0806, arp_pkt(2, PEER_MAC, PEER_IP, MY_MAC, MY_IP)));
    Net::poll();
    CHECK_EQ((int)host_board::tx_count(), 1);
    CHECK_EQ(parse(host_board::tx_pop()).payload, bytes("three"));
    s.close();
    Net::poll();
    delete e;
}

TEST(arp_pending_expires) {
    EthernetNetIf* e = up_static();
    UDPSocket s;
    Host to(IpAddr(192, 0, 2, 20), 7, NULL);
    s.sendto("x", 1, &to);
    host_board::tx_clear();
    uint64_t deadline = Net::nextTimerUs();
    CHECK_EQ(deadline, board::micros() + NETCFG_ARP_PENDING_MS * 1000);
    host_board::set_time_us(deadline);
    Net::poll();
    CHECK_EQ(st().arp_queue_dropped, 1u);
    CHECK_EQ(Net::nextTimerUs(), 0u);
    // A late reply no longer releases anything and does not create an entry.
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0806, arp_pkt(2, PEER_MAC, PEER_IP, MY_MAC, MY_IP)));
    Net::poll();
    CHECK_EQ((int)host_board::tx_count(), 0);
    s.close();
    Net::poll();
    delete e;
}

TEST(arp_stable_expires) {
    EthernetNetIf* e = up_static();
    learn_peer();
    uint64_t t0 = board::micros();
    CHECK_EQ(Net::nextTimerUs(), t0 + NETCFG_ARP_STABLE_MS * 1000);
    UDPSocket s;
    Host to(IpAddr(192, 0, 2, 20), 7, NULL);
    host_board::advance_ms(NETCFG_ARP_STABLE_MS - 1);
    Net::poll();
    s.sendto("x", 1, &to);
    CHECK_EQ(parse(host_board::tx_pop()).type, 0x0800);
    host_board::advance_ms(1);
    Net::poll();
    s.sendto("y", 1, &to);
    CHECK_EQ(parse(host_board::tx_pop()).type, 0x0806);  // forgotten: asks again
    s.close();
    Net::poll();
    delete e;
}

TEST(arp_table_eviction) {
    EthernetNetIf* e = up_static();
    uint8_t m[6] = {0x02, 0, 0, 0, 0, 0};
    for (int i = 0; i < NETCFG_ARP_TABLE + 1; i++) {
        m[5] = (uint8_t)(0x40 + i);
        learn(ip4(192, 0, 2, 40 + i), m);
        host_board::advance_ms(10);
    }
    // The oldest entry (.40) was replaced; the newest (.40+N) is known.
    UDPSocket s;
    Host newest(IpAddr(192, 0, 2, (uint8_t)(40 + NETCFG_ARP_TABLE)), 7, NULL);
    Host oldest(IpAddr(192, 0, 2, 40), 7, NULL);
    s.sendto("n", 1, &newest);
    CHECK_EQ(parse(host_board::tx_pop()).type, 0x0800);
    s.sendto("o", 1, &oldest);
    CHECK_EQ(parse(host_board::tx_pop()).type, 0x0806);
    s.close();
    Net::poll();
    delete e;
}

TEST(off_link_goes_via_gateway) {
    EthernetNetIf* e = up_static();
    UDPSocket s;
    Host to(IpAddr(198, 51, 100, 7), 53, NULL);
    CHECK_EQ(s.sendto("q", 1, &to), 1);
    Parsed req = parse(host_board::tx_pop());
    CHECK_EQ(req.arp_tpa, GW_IP);
    host_board::inject(eth(MY_MAC, GW_MAC, 0x0806, arp_pkt(2, GW_MAC, GW_IP, MY_MAC, MY_IP)));
    Net::poll();
    Parsed p = parse(host_board::tx_pop());
    CHECK(p.ok);
    CHECK_EQ(p.dst_mac, mac(GW_MAC));
    CHECK_EQ(p.ip_dst, ip4(198, 51, 100, 7));
    s.close();
    Net::poll();
    delete e;
}

TEST(no_gateway_no_route) {
    host_board::reset();
    Net::resetStats();
    EthernetNetIf* e = new EthernetNetIf(IpAddr(192, 0, 2, 10), IpAddr(255, 255, 255, 0),
                                         IpAddr(), IpAddr());
    e->setup();
    host_board::tx_clear();
    UDPSocket s;
    Host to(IpAddr(198, 51, 100, 7), 53, NULL);
    CHECK_EQ(s.sendto("q", 1, &to), (int)UDPSOCKET_SETUP);
    CHECK_EQ(st().ip_no_route, 1u);
    CHECK_EQ((int)host_board::tx_count(), 0);
    s.close();
    Net::poll();
    delete e;
}

TEST(broadcast_and_multicast_send) {
    EthernetNetIf* e = up_static();
    UDPSocket s;
    Host all(IpAddr(255, 255, 255, 255), 9, NULL);
    Host subnet(IpAddr(192, 0, 2, 255), 9, NULL);
    Host group(IpAddr(239, 192, 1, 100), 50000, NULL);
    CHECK_EQ(s.sendto("b", 1, &all), 1);
    CHECK_EQ(s.sendto("s", 1, &subnet), 1);
    CHECK_EQ(s.sendto("Hello world!", 12, &group), 12);
    auto f = host_board::tx_take_all();
    CHECK_EQ(f.size(), 3u);
    if (f.size() == 3) {
        CHECK_EQ(parse(f[0]).dst_mac, mac(BCAST_MAC));
        CHECK_EQ(parse(f[1]).dst_mac, mac(BCAST_MAC));
        Parsed m = parse(f[2]);
        CHECK(m.ok);
        const uint8_t gm[6] = {0x01, 0x00, 0x5E, 0x40, 0x01, 0x64};
        CHECK_EQ(m.dst_mac, mac(gm));
        CHECK_EQ(m.ip_ttl, 255);
        CHECK_EQ(m.payload, bytes("Hello world!"));
    }
    s.close();
    Net::poll();
    delete e;
}

TEST(tx_failure_counted) {
    EthernetNetIf* e = up_static();
    learn_peer();
    host_board::set_tx_fail(true);
    UDPSocket s;
    Host to(IpAddr(192, 0, 2, 20), 7, NULL);
    CHECK_EQ(s.sendto("x", 1, &to), 1);  // a lost datagram, as on a busy link
    CHECK_EQ(st().frames_tx_failed, 1u);
    host_board::set_tx_fail(false);
    s.close();
    Net::poll();
    delete e;
}

// --- ICMP ----------------------------------------------------------------------------------

static Bytes ping_frame(const Bytes& data, uint32_t dst = MY_IP, bool bad = false) {
    return eth(MY_MAC, PEER_MAC, 0x0800,
               ipv4(PEER_IP, dst, 1, icmp_echo(8, 0x1234, 7, data, bad)));
}

TEST(ping_reply) {
    EthernetNetIf* e = up_static();
    learn_peer();
    for (const char* d : {"abcdefgh", "odd", ""}) {
        host_board::inject(ping_frame(bytes(d)));
        Net::poll();
        CHECK_EQ((int)host_board::tx_count(), 1);
        Bytes f = host_board::tx_pop();
        Parsed p = parse(f);
        CHECK(p.ok);  // valid IP and ICMP checksums
        if (!p.ok) fprintf(stderr, "%s\n", p.error.c_str());
        CHECK_EQ(p.dst_mac, mac(PEER_MAC));
        CHECK_EQ(p.ip_src, MY_IP);
        CHECK_EQ(p.ip_dst, PEER_IP);
        CHECK_EQ(p.ip_proto, 1);
        CHECK_EQ(p.icmp_type, 0);
        CHECK_EQ(p.icmp_code, 0);
        Bytes rest = {0x12, 0x34, 0x00, 0x07};
        Bytes dd = bytes(d);
        rest.insert(rest.end(), dd.begin(), dd.end());
        CHECK_EQ(p.payload, rest);  // identifier, sequence and data echoed
    }
    CHECK_EQ(st().icmp_echo_replied, 3u);
    delete e;
}

TEST(ping_reply_from_unknown_host_waits_for_arp) {
    EthernetNetIf* e = up_static();
    host_board::inject(ping_frame(bytes("x")));
    Net::poll();
    CHECK_EQ(parse(host_board::tx_pop()).arp_tpa, PEER_IP);
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0806, arp_pkt(2, PEER_MAC, PEER_IP, MY_MAC, MY_IP)));
    Net::poll();
    Parsed p = parse(host_board::tx_pop());
    CHECK(p.ok);
    CHECK_EQ(p.icmp_type, 0);
    delete e;
}

TEST(ping_not_answered) {
    EthernetNetIf* e = up_static();
    learn_peer();
    host_board::inject(ping_frame(bytes("x"), 0xFFFFFFFFu));       // broadcast ping
    host_board::inject(ping_frame(bytes("x"), ip4(192, 0, 2, 255))); // subnet broadcast
    host_board::inject(ping_frame(bytes("x"), MY_IP, true));         // bad ICMP checksum
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0800,
                           ipv4(PEER_IP, MY_IP, 1, icmp_echo(0, 1, 1, bytes("r")))));  // a reply
    Bytes tiny = {8, 0, 0xF7, 0xFF};  // shorter than an ICMP header
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0800, ipv4(PEER_IP, MY_IP, 1, tiny)));
    Net::poll();
    CHECK_EQ((int)host_board::tx_count(), 0);
    CHECK_EQ(st().icmp_bad, 2u);
    CHECK_EQ(st().icmp_echo_replied, 0u);
    delete e;
}

// --- IPv4 / UDP input ----------------------------------------------------------------------

struct Rx {
    UDPSocket s;
    int events = 0;
    void on(UDPSocketEvent) { events++; }
    explicit Rx(int port) {
        s.setOnEvent(this, &Rx::on);
        s.bind(Host(IpAddr(), port, NULL));
    }
    Bytes read(Host* from = NULL) {
        char b[2048];
        int n = s.recvfrom(b, sizeof b, from);
        return n > 0 ? Bytes(b, b + n) : Bytes();
    }
};

TEST(udp_receive) {
    EthernetNetIf* e = up_static();
    Rx r(5000);
    host_board::inject(udp_frame(PEER_IP, 4321, 5000, bytes("datagram")));
    Net::poll();
    CHECK_EQ(r.events, 1);
    Host from;
    CHECK_EQ(r.read(&from), bytes("datagram"));
    CHECK(from.getIp() == IpAddr(192, 0, 2, 20));
    CHECK_EQ(from.getPort(), 4321);
    CHECK_EQ(st().udp_rx, 1u);
    CHECK_EQ(st().ip_rx, 1u);
    r.s.close();
    Net::poll();
    delete e;
}

TEST(udp_checksums) {
    EthernetNetIf* e = up_static();
    Rx r(5000);
    UdpOpt bad;
    bad.bad_csum = true;
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0800,
                           ipv4(PEER_IP, MY_IP, 17, udp(PEER_IP, MY_IP, 1, 5000, bytes("bad"), bad))));
    UdpOpt none;
    none.no_csum = true;  // checksum 0: not computed by the sender, accepted
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0800,
                           ipv4(PEER_IP, MY_IP, 17, udp(PEER_IP, MY_IP, 1, 5000, bytes("none"), none))));
    // Checksum computed for another destination (pseudo-header covers the addresses).
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0800,
                           ipv4(PEER_IP, MY_IP, 17, udp(PEER_IP, ip4(192, 0, 2, 11), 1, 5000, bytes("pseudo")))));
    Net::poll();
    CHECK_EQ(st().udp_bad_checksum, 2u);
    CHECK_EQ(r.events, 1);
    CHECK_EQ(r.read(), bytes("none"));
    r.s.close();
    Net::poll();
    delete e;
}

TEST(ip_checks_and_counters) {
    EthernetNetIf* e = up_static();
    Rx r(5000);
    Bytes u = udp(PEER_IP, MY_IP, 1, 5000, bytes("x"));
    IpOpt badsum;
    badsum.bad_csum = true;
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0800, ipv4(PEER_IP, MY_IP, 17, u, badsum)));
    IpOpt mf;
    mf.frag = 0x2000;  // more fragments
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0800, ipv4(PEER_IP, MY_IP, 17, u, mf)));
    IpOpt off;
    off.frag = 0x0010;  // a later fragment
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0800, ipv4(PEER_IP, MY_IP, 17, u, off)));
    IpOpt df;
    df.frag = 0x4000;  // don't fragment: a whole packet
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0800, ipv4(PEER_IP, MY_IP, 17, u, df)));
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0800,
                           ipv4(PEER_IP, ip4(192, 0, 2, 77), 17, udp(PEER_IP, ip4(192, 0, 2, 77), 1, 5000, bytes("x")))));
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0800, ipv4(PEER_IP, MY_IP, 50, bytes("esp-ish-payload-xxxx"))));
    IpOpt opts;
    opts.options = {0x01, 0x01, 0x01, 0x00};  // NOPs + end: options are skipped
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0800, ipv4(PEER_IP, MY_IP, 17, u, opts)));
    Bytes v6 = ipv4(PEER_IP, MY_IP, 17, u);
    v6[0] = 0x65;
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0800, v6));
    host_board::inject(udp_frame(PEER_IP, 1, 5999, bytes("nobody")));
    for (int i = 0; i < 3; i++) Net::poll();
    CHECK_EQ(st().ip_rx, 9u);
    CHECK_EQ(st().ip_bad_checksum, 1u);
    // The MF fragment carries 9 bytes (not a multiple of 8): dropped; the later (last)
    // fragment waits for reassembly (test_frag.cpp).
    CHECK_EQ(st().ip_fragments_dropped, 1u);
    CHECK_EQ(e->reasm().active(), 1);
    CHECK_EQ(st().ip_not_for_us, 1u);
    CHECK_EQ(st().ip_unknown_proto, 1u);
    CHECK_EQ(st().ip_bad_header, 1u);
    CHECK_EQ(st().udp_no_port, 1u);
    CHECK_EQ(r.events, 2);  // DF packet and the one with options
    r.s.close();
    Net::poll();
    delete e;
}

TEST(broadcast_and_multicast_receive) {
    EthernetNetIf* e = up_static();
    Rx r(50000);
    auto to = [](uint32_t dst, const char* text) {
        const uint8_t* dm = BCAST_MAC;
        host_board::inject(eth(dm, PEER_MAC, 0x0800,
                               ipv4(PEER_IP, dst, 17, udp(PEER_IP, dst, 1, 50000, bytes(text)))));
    };
    to(0xFFFFFFFFu, "all");
    to(ip4(192, 0, 2, 255), "subnet");
    to(ip4(239, 192, 1, 100), "group-not-joined");
    Net::poll();
    CHECK_EQ(r.events, 2);
    CHECK_EQ(st().ip_not_for_us, 1u);
    // Bind to the group (UDPSocketExample): group datagrams now accepted.
    r.s.close();
    CHECK_EQ(r.s.bind(Host(IpAddr(239, 192, 1, 100), 50000, NULL)), UDPSOCKET_OK);
    to(ip4(239, 192, 1, 100), "group");
    to(ip4(239, 192, 1, 101), "other-group");
    Net::poll();
    CHECK_EQ(r.events, 3);
    CHECK_EQ(r.read(), bytes("group"));
    r.s.close();
    Net::poll();
    delete e;
}

TEST(ethernet_padding_trimmed) {
    EthernetNetIf* e = up_static();
    Rx r(5000);
    Bytes f = udp_frame(PEER_IP, 1, 5000, bytes("ab"));
    f.resize(60, 0xEE);  // minimum frame with padding after the IP packet
    host_board::inject(f);
    Net::poll();
    CHECK_EQ(r.read(), bytes("ab"));
    r.s.close();
    Net::poll();
    delete e;
}

TEST(runt_and_unknown_ethertype) {
    EthernetNetIf* e = up_static();
    Rx r(5000);
    uint8_t runt[13] = {0};
    host_board::inject(runt, sizeof runt);
    host_board::inject(runt, 1);
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x86DD, Bytes(40, 0)));  // IPv6
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0042, Bytes(46, 0)));  // 802.3 length field
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0800, Bytes()));       // IPv4 type, no header
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0806, Bytes()));       // ARP type, no body
    Net::poll();
    CHECK_EQ(st().frames_runt, 2u);
    CHECK_EQ(st().frames_unknown_type, 2u);
    CHECK_EQ(st().ip_bad_header, 1u);
    CHECK_EQ(st().arp_bad, 1u);
    CHECK_EQ((int)host_board::tx_count(), 0);
    CHECK_EQ(r.events, 0);
    r.s.close();
    Net::poll();
    delete e;
}

TEST(lying_lengths) {
    EthernetNetIf* e = up_static();
    Rx r(5000);
    Bytes u = udp(PEER_IP, MY_IP, 1, 5000, bytes("0123456789"));
    IpOpt longer;
    longer.total_len = 20 + (int)u.size() + 100;  // IP total length > frame
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0800, ipv4(PEER_IP, MY_IP, 17, u, longer)));
    IpOpt shorter;
    shorter.total_len = 19;  // total length < header
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0800, ipv4(PEER_IP, MY_IP, 17, u, shorter)));
    Bytes ihl = ipv4(PEER_IP, MY_IP, 17, u);
    ihl[0] = 0x4F;  // IHL 60 bytes > packet (re-checksummed so only the length is wrong)
    ihl[10] = ihl[11] = 0;
    ihl.resize(40);
    {
        uint16_t c = csum(ihl.data(), 20);
        ihl[10] = (uint8_t)(c >> 8);
        ihl[11] = (uint8_t)c;
    }
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0800, ihl));
    Bytes ihl4 = ipv4(PEER_IP, MY_IP, 17, u);
    ihl4[0] = 0x44;  // IHL 16 < 20
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0800, ihl4));
    UdpOpt ulong;
    ulong.length = (int)u.size() + 50;  // UDP length > IP payload
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0800,
                           ipv4(PEER_IP, MY_IP, 17, udp(PEER_IP, MY_IP, 1, 5000, bytes("0123456789"), ulong))));
    UdpOpt ushort;
    ushort.length = 7;  // UDP length < header
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0800,
                           ipv4(PEER_IP, MY_IP, 17, udp(PEER_IP, MY_IP, 1, 5000, bytes("0123456789"), ushort))));
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0800, ipv4(PEER_IP, MY_IP, 17, Bytes{0, 1, 0x13, 0x88})));
    for (int i = 0; i < 3; i++) Net::poll();
    CHECK_EQ(st().ip_bad_header, 4u);
    CHECK_EQ(st().udp_bad_header, 3u);
    CHECK_EQ(r.events, 0);
    // UDP length shorter than the IP payload (but >= 8): the datagram is what UDP says.
    UdpOpt trimmed;
    trimmed.no_csum = true;
    trimmed.length = 8 + 4;
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0800,
                           ipv4(PEER_IP, MY_IP, 17, udp(PEER_IP, MY_IP, 1, 5000, bytes("0123456789"), trimmed))));
    Net::poll();
    CHECK_EQ(r.read(), bytes("0123"));
    r.s.close();
    Net::poll();
    delete e;
}

TEST(truncated_frames_every_length) {
    EthernetNetIf* e = up_static();
    learn_peer();
    Rx r(5000);
    std::vector<Bytes> good = {
        udp_frame(PEER_IP, 1, 5000, bytes("truncate me please")),
        ping_frame(bytes("ping-data")),
        eth(BCAST_MAC, PEER_MAC, 0x0806, arp_pkt(1, PEER_MAC, PEER_IP, ZERO_MAC, MY_IP)),
    };
    for (const Bytes& g : good) {
        for (size_t n = 0; n < g.size(); n++) {
            host_board::inject(Bytes(g.begin(), g.begin() + (long)n));
            Net::poll();
        }
    }
    CHECK_EQ(r.events, 0);
    char b[64];
    CHECK_EQ(r.s.recvfrom(b, sizeof b, NULL), 0);
    host_board::tx_clear();
    // Still healthy.
    host_board::inject(ping_frame(bytes("alive")));
    Net::poll();
    CHECK(parse(host_board::tx_pop()).ok);
    r.s.close();
    Net::poll();
    delete e;
}

TEST(fuzz_mutated_frames) {
    EthernetNetIf* e = up_static();
    learn_peer();
    Rx r(5000);
    std::vector<Bytes> seeds = {
        udp_frame(PEER_IP, 1, 5000, bytes("fuzz seed datagram")),
        ping_frame(bytes("0123456789abcdef")),
        eth(BCAST_MAC, PEER_MAC, 0x0806, arp_pkt(1, PEER_MAC, PEER_IP, ZERO_MAC, MY_IP)),
        eth(MY_MAC, PEER_MAC, 0x0806, arp_pkt(2, GW_MAC, GW_IP, MY_MAC, MY_IP)),
    };
    uint32_t x = 12345;
    auto rnd = [&x]() {
        x = x * 1103515245u + 12345u;
        return (x >> 16) & 0x7FFF;
    };
    for (int i = 0; i < 100000; i++) {
        Bytes f = seeds[rnd() % seeds.size()];
        int muts = 1 + (int)(rnd() % 4);
        for (int m = 0; m < muts; m++) {
            switch (rnd() % 4) {
                case 0: f[rnd() % f.size()] ^= (uint8_t)(1 << (rnd() % 8)); break;
                case 1: if (f.size() > 14) f[14 + rnd() % (f.size() - 14)] = (uint8_t)rnd(); break;
                case 2: f.resize(rnd() % (f.size() + 1)); if (f.empty()) f.push_back(0); break;
                case 3: f.resize(f.size() + rnd() % 64, (uint8_t)rnd()); break;
            }
        }
        host_board::inject(f);
        if (i % 7 == 0) {
            Net::poll();
            while (r.read().size()) {}
            host_board::tx_clear();
            host_board::advance_ms(rnd() % 3000);
        }
    }
    Net::poll();
    while (r.read().size()) {}
    host_board::tx_clear();
    learn_peer();
    host_board::inject(ping_frame(bytes("alive")));
    Net::poll();
    Parsed p = parse(host_board::tx_pop());
    CHECK(p.ok);
    CHECK_EQ(p.icmp_type, 0);
    r.s.close();
    Net::poll();
    delete e;
}

TEST(rx_budget_per_poll) {
    EthernetNetIf* e = up_static();
    Rx r(5000);
    for (int i = 0; i < NETCFG_RX_BUDGET + 3; i++) host_board::inject(udp_frame(PEER_IP, 1, 7777, bytes("x")));
    Net::poll();
    CHECK_EQ((int)host_board::rx_pending(), 3);
    Net::poll();
    CHECK_EQ((int)host_board::rx_pending(), 0);
    CHECK_EQ(st().udp_no_port, (uint32_t)NETCFG_RX_BUDGET + 3);
    r.s.close();
    Net::poll();
    delete e;
}

TEST(largest_datagrams) {
    EthernetNetIf* e = up_static();
    learn_peer();
    Rx r(5000);
    Bytes big(NETCFG_MTU - 28, 0x5A);
    host_board::inject(udp_frame(PEER_IP, 1, 5000, big));
    Bytes tooBig(NETCFG_MTU - 27, 0x5A);  // frame larger than the receive buffer: dropped by the driver
    host_board::inject(udp_frame(PEER_IP, 1, 5000, tooBig));
    Net::poll();
    CHECK_EQ(r.events, 1);
    CHECK_EQ(r.read(), big);
    CHECK_EQ(board::eth::stats().rx_oversize, 1u);
    Host to(IpAddr(192, 0, 2, 20), 7, NULL);
    CHECK_EQ(r.s.sendto((const char*)big.data(), (int)big.size(), &to), (int)big.size());
    Bytes f = host_board::tx_pop();
    CHECK_EQ((int)f.size(), NETCFG_FRAME_MAX);
    CHECK_EQ(parse(f).payload, big);
    r.s.close();
    Net::poll();
    delete e;
}

TEST(next_timer_none_when_idle) {
    EthernetNetIf* e = up_static();
    CHECK_EQ(Net::nextTimerUs(), 0u);
    delete e;
    CHECK_EQ(Net::nextTimerUs(), 0u);
}

// --- ICMP port unreachable (RFC 1122 3.2.2.1, RFC 792) -----------------------------------------

// A datagram to a UDP port nobody listens on is answered with ICMP destination unreachable,
// port unreachable (type 3, code 3) quoting its IP header and first 8 bytes.
TEST(udp_closed_port_port_unreachable) {
    EthernetNetIf* e = up_static();
    learn_peer();
    Bytes ipd = ipv4(PEER_IP, MY_IP, 17, udp(PEER_IP, MY_IP, 1234, 5999, bytes("nobody home")));
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0800, ipd));
    Net::poll();
    CHECK_EQ((int)host_board::tx_count(), 1);
    Parsed p = parse(host_board::tx_pop());
    CHECK(p.ok);
    CHECK_EQ(p.ip_proto, 1);
    CHECK_EQ(p.ip_src, MY_IP);
    CHECK_EQ(p.ip_dst, PEER_IP);
    CHECK_EQ(p.dst_mac, mac(PEER_MAC));
    CHECK_EQ(p.icmp_type, 3);
    CHECK_EQ(p.icmp_code, 3);
    // 4 unused bytes, then the IP header (20) and the first 8 bytes (the UDP header).
    Bytes want(4, 0);
    want.insert(want.end(), ipd.begin(), ipd.begin() + 28);
    CHECK_EQ(p.payload, want);
    CHECK_EQ(st().udp_no_port, 1u);
    CHECK_EQ(st().icmp_unreach_tx, 1u);
    // With IP options the whole header is quoted.
    IpOpt o;
    o.options = {0x01, 0x01, 0x01, 0x00};
    Bytes ipo = ipv4(PEER_IP, MY_IP, 17, udp(PEER_IP, MY_IP, 1234, 6000, bytes("x")), o);
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0800, ipo));
    Net::poll();
    CHECK_EQ((int)host_board::tx_count(), 1);
    p = parse(host_board::tx_pop());
    want.assign(4, 0);
    want.insert(want.end(), ipo.begin(), ipo.begin() + 32);
    CHECK_EQ(p.payload, want);
    // A bound port is not answered with ICMP, and TCP to a closed port still gets a RST.
    UDPSocket s;
    CHECK_EQ(s.bind(Host(IpAddr(), 5999, NULL)), UDPSOCKET_OK);
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0800, ipd));
    Net::poll();
    CHECK_EQ((int)host_board::tx_count(), 0);
    s.close();
    Net::poll();
    delete e;
}

// Never for broadcast/multicast destinations, nor for a source that is broadcast, multicast,
// zero or a subnet broadcast.
TEST(udp_port_unreachable_not_for_broadcast_multicast_or_bogus_sources) {
    EthernetNetIf* e = up_static();
    learn_peer();
    const uint32_t dsts[] = {0xFFFFFFFFu, ip4(192, 0, 2, 255), ip4(224, 0, 0, 1)};
    for (uint32_t d : dsts) {
        host_board::inject(eth(MY_MAC, PEER_MAC, 0x0800,
                               ipv4(PEER_IP, d, 17, udp(PEER_IP, d, 1234, 5999, bytes("bcast")))));
    }
    const uint32_t srcs[] = {0u, ip4(192, 0, 2, 255)};
    for (uint32_t s : srcs) {
        host_board::inject(eth(MY_MAC, PEER_MAC, 0x0800,
                               ipv4(s, MY_IP, 17, udp(s, MY_IP, 1234, 5999, bytes("bogus")))));
    }
    for (int i = 0; i < 3; i++) Net::poll();
    for (auto& f : host_board::tx_take_all()) {
        Parsed p = parse(f);
        CHECK(!(p.ok && p.ip_proto == 1));
    }
    CHECK_EQ(st().udp_no_port, 5u);
    CHECK_EQ(st().icmp_unreach_tx, 0u);
    CHECK_EQ(st().icmp_unreach_ratelimited, 0u);
    delete e;
}

// Rate limit: a burst is answered up to the bucket size, then at the refill rate.
TEST(udp_port_unreachable_rate_limited) {
    EthernetNetIf* e = up_static();
    learn_peer();
    auto icmps = [] {
        int n = 0;
        for (auto& f : host_board::tx_take_all()) {
            Parsed p = parse(f);
            if (p.ok && p.ip_proto == 1 && p.icmp_type == 3) n++;
        }
        return n;
    };
    auto burst = [](int n) {
        for (int i = 0; i < n; i++) {
            host_board::inject(udp_frame(PEER_IP, 1234, (uint16_t)(20000 + i), bytes("scan")));
            if (i % 4 == 3) Net::poll();
        }
        for (int i = 0; i < 10; i++) Net::poll();
    };
    burst(100);
    CHECK_EQ(icmps(), NETCFG_ICMP_UNREACH_BURST);
    // One second later the bucket holds NETCFG_ICMP_UNREACH_PER_S tokens again.
    host_board::advance_ms(1000);
    burst(100);
    int per_s = NETCFG_ICMP_UNREACH_PER_S < NETCFG_ICMP_UNREACH_BURST ? NETCFG_ICMP_UNREACH_PER_S
                                                                      : NETCFG_ICMP_UNREACH_BURST;
    CHECK_EQ(icmps(), per_s);
    // Long idle: never more than the bucket.
    host_board::advance_ms(3600000);
    burst(100);
    CHECK_EQ(icmps(), NETCFG_ICMP_UNREACH_BURST);
    CHECK_EQ(st().udp_no_port, 300u);
    CHECK_EQ(st().icmp_unreach_tx, (uint32_t)(2 * NETCFG_ICMP_UNREACH_BURST + per_s));
    CHECK_EQ(st().icmp_unreach_ratelimited, 300u - st().icmp_unreach_tx);
    delete e;
}
