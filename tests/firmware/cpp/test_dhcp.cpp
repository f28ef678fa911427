// DHCP client: DORA with options, ARP probe/DECLINE, NAK, back-off, timeout, renewing at T1,
// rebinding at T2, lease expiry, malformed replies.  The server is played by the test with
// crafted frames; time is the host board's fake clock.
#include <string.h>

#include <algorithm>
#include <functional>
#include <map>

#include "EthernetNetIf.h"
#include "UDPSocket.h"
#include "dhcpclient.h"
#include "dnsclient.h"
#include "net.h"
#include "netstack.h"
#include "testlib.h"

namespace {
const uint8_t SRV_MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x67};
const uint8_t OTHER_MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x99};
const uint32_t SRV_IP = ip4(10, 9, 0, 1);
const uint32_t OFFER_IP = ip4(10, 9, 0, 50);
const uint32_t ROUTER_IP = ip4(10, 9, 0, 254);
const uint32_t DNS1 = ip4(10, 9, 0, 53);
const uint32_t DNS2 = ip4(10, 9, 0, 54);
const uint32_t BCAST = 0xFFFFFFFFu;

uint32_t g32(const Bytes& b, size_t at) {
    return (uint32_t)b[at] << 24 | (uint32_t)b[at + 1] << 16 | (uint32_t)b[at + 2] << 8 | b[at + 3];
}

struct Msg {
    bool ok = false;
    uint64_t t = 0;
    uint32_t ip_src = 0, ip_dst = 0;
    Bytes dst_mac;
    uint8_t op = 0;
    uint32_t xid = 0, ciaddr = 0;
    uint16_t secs = 0, flags = 0;
    Bytes chaddr;
    std::map<int, Bytes> opt;
    int type = 0;
    size_t size = 0;
};

Msg decode(const Bytes& f) {
    Msg m;
    Parsed p = parse(f);
    if (!p.ok || p.ip_proto != 17 || p.sport != 68 || p.dport != 67) return m;
    const Bytes& b = p.payload;
    if (b.size() < 240) return m;
    m.size = b.size();
    m.ip_src = p.ip_src;
    m.ip_dst = p.ip_dst;
    m.dst_mac = p.dst_mac;
    m.op = b[0];
    m.xid = g32(b, 4);
    m.secs = (uint16_t)(b[8] << 8 | b[9]);
    m.flags = (uint16_t)(b[10] << 8 | b[11]);
    m.ciaddr = g32(b, 12);
    m.chaddr.assign(b.begin() + 28, b.begin() + 34);
    if (g32(b, 236) != 0x63825363u) return m;
    for (size_t i = 240; i < b.size();) {
        if (b[i] == 0) { i++; continue; }
        if (b[i] == 255) break;
        if (i + 2 > b.size() || i + 2 + b[i + 1] > b.size()) return m;
        m.opt[b[i]] = Bytes(b.begin() + (long)i + 2, b.begin() + (long)i + 2 + b[i + 1]);
        i += 2 + b[i + 1];
    }
    if (m.opt.count(53) && m.opt[53].size() == 1) m.type = m.opt[53][0];
    m.t = board::micros();
    m.ok = true;
    return m;
}

struct Sent {
    std::vector<Msg> dhcp;
    std::vector<Parsed> arp;
};
Sent take() {
    Sent s;
    for (auto& f : host_board::tx_take_all()) {
        Msg m = decode(f);
        if (m.ok) s.dhcp.push_back(m);
        Parsed p = parse(f);
        if (p.ok && p.type == 0x0806) s.arp.push_back(p);
    }
    return s;
}

Bytes be32(uint32_t v) { return Bytes{(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v}; }

using Opts = std::vector<std::pair<int, Bytes>>;

Opts std_opts(uint8_t type, uint32_t lease = 3600) {
    Bytes dns = be32(DNS1);
    Bytes d2 = be32(DNS2);
    dns.insert(dns.end(), d2.begin(), d2.end());
    return {{53, {type}}, {54, be32(SRV_IP)}, {51, be32(lease)}, {1, be32(0xFFFFFF00u)},
            {3, be32(ROUTER_IP)}, {6, dns}};
}

Bytes bootp(uint32_t xid, uint32_t yiaddr, const Opts& opts, const uint8_t* chaddr = MY_MAC,
            uint8_t op = 2) {
    Bytes b(240, 0);
    b[0] = op;
    b[1] = 1;
    b[2] = 6;
    for (int i = 0; i < 4; i++) b[4 + i] = (uint8_t)(xid >> (24 - 8 * i));
    for (int i = 0; i < 4; i++) b[16 + i] = (uint8_t)(yiaddr >> (24 - 8 * i));
    for (int i = 0; i < 4; i++) b[20 + i] = (uint8_t)(SRV_IP >> (24 - 8 * i));
    memcpy(&b[28], chaddr, 6);
    b[236] = 99;
    b[237] = 130;
    b[238] = 83;
    b[239] = 99;
    for (auto& o : opts) {
        b.push_back((uint8_t)o.first);
        b.push_back((uint8_t)o.second.size());
        b.insert(b.end(), o.second.begin(), o.second.end());
    }
    b.push_back(255);
    while (b.size() < 300) b.push_back(0);
    return b;
}

void serve(const Bytes& msg, uint32_t dst = BCAST, uint16_t sport = 67) {
    host_board::inject(eth(dst == BCAST ? BCAST_MAC : MY_MAC, SRV_MAC, 0x0800,
                           ipv4(SRV_IP, dst, 17, udp(SRV_IP, dst, sport, 68, msg))));
}

EthernetNetIf* g_if = nullptr;
EthernetNetIf* dhcp_if(const char* hostname = nullptr) {
    delete g_if;
    host_board::reset();
    host_board::set_time_us(1000000);
    Net::poll();
    NetDns::setServers(IpAddr(), IpAddr());
    g_if = new EthernetNetIf(hostname);
    g_if->setupNoWait();
    return g_if;
}

// The server asks for our (DHCP) address: the stack learns its MAC.
void learn_srv() {
    host_board::inject(eth(BCAST_MAC, SRV_MAC, 0x0806, arp_pkt(1, SRV_MAC, SRV_IP, BCAST_MAC, OFFER_IP)));
    Net::poll();
    host_board::tx_clear();
}

// Poll in 100 ms steps until the interface is up (at most 3 s).
void settle() {
    for (int i = 0; i < 30 && !g_if->isUp(); i++) {
        host_board::advance_ms(100);
        Net::poll();
    }
}

std::string ipstr(const IpAddr& a) {
    char b[20];
    snprintf(b, sizeof b, "%d.%d.%d.%d", a[0], a[1], a[2], a[3]);
    return b;
}
std::string ipstr(uint32_t a) { return ipstr(IpAddr::fromU32(a)); }

// Runs DORA up to the bound state: returns the DISCOVER and the REQUEST.
struct Dora {
    Msg discover, request;
    bool ok = false;
};
Dora dora(const Opts& offer_opts, const Opts& ack_opts) {
    Dora d;
    Sent s = take();
    if (s.dhcp.size() != 1) return d;
    d.discover = s.dhcp[0];
    serve(bootp(d.discover.xid, OFFER_IP, offer_opts));
    Net::poll();
    s = take();
    if (s.dhcp.size() != 1) return d;
    d.request = s.dhcp[0];
    serve(bootp(d.request.xid, OFFER_IP, ack_opts));
    Net::poll();
    for (int i = 0; i < 20 && !g_if->isUp(); i++) {
        host_board::advance_ms(100);
        Net::poll();
    }
    d.ok = g_if->isUp();
    return d;
}
}  // namespace

TEST(dora_with_hostname_and_options) {
    EthernetNetIf* e = dhcp_if("mbed-bench");
    CHECK_EQ(std::string(e->getHostname()), std::string("mbed-bench"));
    CHECK(!e->isUp());
    CHECK(e->getIp().isNull());
    Sent s = take();
    CHECK_EQ(s.dhcp.size(), (size_t)1);
    if (s.dhcp.size() != 1) return;
    Msg d = s.dhcp[0];
    CHECK_EQ(d.type, 1);  // DISCOVER
    CHECK_EQ(d.op, (uint8_t)1);
    CHECK_EQ(d.ip_src, 0u);
    CHECK_EQ(d.ip_dst, BCAST);
    CHECK_EQ(d.dst_mac, Bytes(BCAST_MAC, BCAST_MAC + 6));
    CHECK_EQ(d.flags, (uint16_t)0x8000);
    CHECK_EQ(d.chaddr, Bytes(MY_MAC, MY_MAC + 6));
    CHECK_EQ(d.opt[12], bytes("mbed-bench"));  // option 12, exactly the name
    CHECK(d.opt.count(55) == 1);
    Bytes prl = d.opt[55];
    for (uint8_t want : {1, 3, 6, 51, 58, 59})
        CHECK(std::find(prl.begin(), prl.end(), want) != prl.end());
    CHECK(!d.opt.count(50));
    CHECK(d.size >= 300);
    // OFFER -> REQUEST (same xid, requested address, server id, host name).
    serve(bootp(d.xid, OFFER_IP, std_opts(2)));
    Net::poll();
    s = take();
    CHECK_EQ(s.dhcp.size(), (size_t)1);
    if (s.dhcp.size() != 1) return;
    Msg r = s.dhcp[0];
    CHECK_EQ(r.type, 3);
    CHECK_EQ(r.xid, d.xid);
    CHECK_EQ(r.ip_src, 0u);
    CHECK_EQ(r.ip_dst, BCAST);
    CHECK_EQ(r.ciaddr, 0u);
    CHECK_EQ(r.opt[50], be32(OFFER_IP));
    CHECK_EQ(r.opt[54], be32(SRV_IP));
    CHECK_EQ(r.opt[12], bytes("mbed-bench"));
    // A second OFFER is ignored now.
    serve(bootp(d.xid, ip4(10, 9, 0, 77), std_opts(2)));
    Net::poll();
    CHECK(take().dhcp.empty());
    // ACK -> ARP probe of the address (sender 0.0.0.0), twice, 500 ms apart, then bound.
    serve(bootp(r.xid, OFFER_IP, std_opts(5)));
    Net::poll();
    s = take();
    CHECK_EQ(s.arp.size(), (size_t)1);
    if (s.arp.size() == 1) {
        CHECK_EQ(s.arp[0].arp_op, (uint16_t)1);
        CHECK_EQ(s.arp[0].arp_spa, 0u);
        CHECK_EQ(s.arp[0].arp_tpa, OFFER_IP);
    }
    CHECK(!e->isUp());
    host_board::advance_ms(500);
    Net::poll();
    s = take();
    CHECK_EQ(s.arp.size(), (size_t)1);
    CHECK(!e->isUp());
    host_board::advance_ms(500);
    Net::poll();
    CHECK(e->isUp());
    s = take();
    CHECK_EQ(s.arp.size(), (size_t)1);  // gratuitous ARP
    if (s.arp.size() == 1) {
        CHECK_EQ(s.arp[0].arp_spa, OFFER_IP);
        CHECK_EQ(s.arp[0].arp_tpa, OFFER_IP);
    }
    CHECK_EQ(ipstr(e->getIp()), ipstr(OFFER_IP));
    CHECK_EQ(ipstr(e->getNetmask()), std::string("255.255.255.0"));
    CHECK_EQ(ipstr(e->getGateway()), ipstr(ROUTER_IP));
    CHECK_EQ(ipstr(e->getDns()), ipstr(DNS1));
    CHECK_EQ(ipstr(NetDns::server(0)), ipstr(DNS1));  // the DNS client uses them
    CHECK_EQ(ipstr(NetDns::server(1)), ipstr(DNS2));
    CHECK_EQ((int)e->dhcpClient()->state(), (int)DhcpClient::BOUND);
    // Ping works on the new address.
    learn_srv();
    host_board::inject(eth(MY_MAC, SRV_MAC, 0x0800,
                           ipv4(SRV_IP, OFFER_IP, 1, icmp_echo(8, 1, 1, bytes("hi")))));
    Net::poll();
    bool replied = false;
    for (auto& f : host_board::tx_take_all()) {
        Parsed p = parse(f);
        if (p.ok && p.ip_proto == 1 && p.icmp_type == 0 && p.ip_src == OFFER_IP) replied = true;
    }
    CHECK(replied);
}

TEST(no_hostname_no_option_12) {
    EthernetNetIf* e = dhcp_if();
    CHECK(e->getHostname() == nullptr);
    Dora d = dora(std_opts(2), std_opts(5));
    CHECK(d.ok);
    CHECK(!d.discover.opt.count(12));
    CHECK(!d.request.opt.count(12));
}

TEST(defaults_without_mask_router_dns) {
    EthernetNetIf* e = dhcp_if();
    Opts o = {{53, {2}}, {54, be32(SRV_IP)}, {51, be32(600)}};
    Opts a = {{53, {5}}, {54, be32(SRV_IP)}, {51, be32(600)}};
    Dora d = dora(o, a);
    CHECK(d.ok);
    CHECK_EQ(ipstr(e->getNetmask()), std::string("255.0.0.0"));  // class A default
    CHECK(e->getGateway().isNull());
    CHECK(e->getDns().isNull());
    CHECK_EQ(ipstr(NetDns::server(0)), std::string("208.67.222.222"));
}

TEST(setup_times_out_with_discover_backoff) {
    delete g_if;
    host_board::reset();
    host_board::set_time_us(1000000);
    g_if = new EthernetNetIf("x");
    // setup() blocks: the host board's wait_for_event() moves the fake clock.
    CHECK_EQ((int)g_if->setup(15000), (int)ETH_TIMEOUT);
    CHECK_EQ((int)ETH_TIMEOUT, -65534);
    CHECK_EQ(board::micros(), (uint64_t)16000000);  // exactly at the timeout
    CHECK(g_if->getIp().isNull());
    Sent s = take();
    CHECK_EQ(s.dhcp.size(), (size_t)4);
    uint64_t want[] = {0, 2, 6, 14};
    for (size_t i = 0; i < s.dhcp.size() && i < 4; i++) {
        CHECK_EQ((uint64_t)s.dhcp[i].secs, want[i]);  // seconds since the start
        CHECK_EQ(s.dhcp[i].type, 1);
        CHECK_EQ(s.dhcp[i].xid, s.dhcp[0].xid);
    }
    // Stopped: nothing more, no timer.
    for (int i = 0; i < 100; i++) {
        host_board::advance_ms(1000);
        Net::poll();
    }
    CHECK(take().dhcp.empty());
    CHECK_EQ(Net::nextTimerUs(), (uint64_t)0);
    // The DHCP socket was given back: all sockets free again.
    UDPSocket u[NETCFG_UDP_SOCKETS];
    for (int i = 0; i < NETCFG_UDP_SOCKETS; i++)
        CHECK_EQ((int)u[i].bind(Host(IpAddr(), 9000 + i)), (int)UDPSOCKET_OK);
}

TEST(discover_backoff_caps_at_60s) {
    dhcp_if();
    uint64_t t0 = board::micros();
    take();
    std::vector<uint64_t> times;
    for (int i = 0; i < 2000; i++) {
        host_board::advance_ms(100);
        Net::poll();
        for (auto& m : take().dhcp) times.push_back((m.t - t0) / 1000000);
    }
    // The first DISCOVER left in setupNoWait() (t0); then after 2, 4, 8, 16, 32, 60, 60 s.
    std::vector<uint64_t> want = {2, 6, 14, 30, 62, 122, 182};
    CHECK_EQ(times.size(), want.size());
    for (size_t i = 0; i < times.size() && i < want.size(); i++) CHECK_EQ(times[i], want[i]);
    CHECK(Net::nextTimerUs() > board::micros());
}

TEST(arp_conflict_declines_and_restarts) {
    EthernetNetIf* e = dhcp_if();
    Sent s = take();
    if (s.dhcp.size() != 1) { CHECK(false); return; }
    serve(bootp(s.dhcp[0].xid, OFFER_IP, std_opts(2)));
    Net::poll();
    s = take();
    if (s.dhcp.size() != 1) { CHECK(false); return; }
    uint32_t xid = s.dhcp[0].xid;
    serve(bootp(xid, OFFER_IP, std_opts(5)));
    Net::poll();
    CHECK_EQ(take().arp.size(), (size_t)1);  // probe
    // Somebody already has it.
    host_board::inject(eth(MY_MAC, OTHER_MAC, 0x0806, arp_pkt(2, OTHER_MAC, OFFER_IP, MY_MAC, 0)));
    Net::poll();
    s = take();
    CHECK_EQ(s.dhcp.size(), (size_t)1);
    if (s.dhcp.size() == 1) {
        CHECK_EQ(s.dhcp[0].type, 4);  // DECLINE
        CHECK_EQ(s.dhcp[0].opt[50], be32(OFFER_IP));
        CHECK_EQ(s.dhcp[0].opt[54], be32(SRV_IP));
        CHECK_EQ(s.dhcp[0].ip_src, 0u);
        CHECK_EQ(s.dhcp[0].ip_dst, BCAST);
    }
    CHECK(!e->isUp());
    host_board::advance_ms(1000);
    Net::poll();
    CHECK(!e->isUp());  // not bound after the probe time either
    CHECK(take().dhcp.empty());
    host_board::advance_ms(9000);  // 10 s after the DECLINE: DISCOVER again, new xid
    Net::poll();
    s = take();
    CHECK_EQ(s.dhcp.size(), (size_t)1);
    if (s.dhcp.size() == 1) {
        CHECK_EQ(s.dhcp[0].type, 1);
        CHECK(s.dhcp[0].xid != xid);
    }
}

TEST(other_hosts_probe_is_a_conflict_too) {
    EthernetNetIf* e = dhcp_if();
    Sent s = take();
    serve(bootp(s.dhcp[0].xid, OFFER_IP, std_opts(2)));
    Net::poll();
    s = take();
    serve(bootp(s.dhcp[0].xid, OFFER_IP, std_opts(5)));
    Net::poll();
    take();
    host_board::inject(eth(BCAST_MAC, OTHER_MAC, 0x0806, arp_pkt(1, OTHER_MAC, 0, BCAST_MAC, OFFER_IP)));
    Net::poll();
    s = take();
    CHECK_EQ(s.dhcp.size(), (size_t)1);
    if (s.dhcp.size() == 1) CHECK_EQ(s.dhcp[0].type, 4);
    CHECK(!e->isUp());
}

TEST(nak_restarts_discovery) {
    EthernetNetIf* e = dhcp_if();
    Sent s = take();
    serve(bootp(s.dhcp[0].xid, OFFER_IP, std_opts(2)));
    Net::poll();
    s = take();
    uint32_t xid = s.dhcp[0].xid;
    serve(bootp(xid, 0, {{53, {6}}, {54, be32(SRV_IP)}}));
    Net::poll();
    s = take();
    CHECK_EQ(s.dhcp.size(), (size_t)1);
    if (s.dhcp.size() == 1) {
        CHECK_EQ(s.dhcp[0].type, 1);
        CHECK(s.dhcp[0].xid != xid);
    }
    CHECK(!e->isUp());
    // And the new round works.
    if (s.dhcp.size() != 1) return;
    serve(bootp(s.dhcp[0].xid, OFFER_IP, std_opts(2)));
    Net::poll();
    s = take();
    if (s.dhcp.size() != 1) { CHECK(false); return; }
    serve(bootp(s.dhcp[0].xid, OFFER_IP, std_opts(5)));
    Net::poll();
    settle();
    CHECK(e->isUp());
}

TEST(request_retries_then_discover) {
    dhcp_if();
    Sent s = take();
    uint64_t t0 = board::micros();
    serve(bootp(s.dhcp[0].xid, OFFER_IP, std_opts(2)));
    Net::poll();
    std::vector<std::pair<int, uint64_t>> seen;
    for (int i = 0; i < 630; i++) {
        for (auto& m : take().dhcp) seen.push_back({m.type, (m.t - t0) / 1000000});
        host_board::advance_ms(100);
        Net::poll();
    }
    // REQUEST at 0, 2, 6, 14, 30; DISCOVER at 62.
    std::vector<std::pair<int, uint64_t>> want = {{3, 0}, {3, 2}, {3, 6}, {3, 14}, {3, 30}, {1, 62}};
    CHECK_EQ(seen.size(), want.size());
    for (size_t i = 0; i < seen.size() && i < want.size(); i++) {
        CHECK_EQ(seen[i].first, want[i].first);
        CHECK_EQ(seen[i].second, want[i].second);
    }
}

TEST(renew_at_t1_rebind_at_t2) {
    EthernetNetIf* e = dhcp_if();
    Dora d = dora(std_opts(2, 1000), std_opts(5, 1000));
    CHECK(d.ok);
    if (!d.ok) return;
    uint64_t t0 = d.request.t;  // the lease starts when the REQUEST left
    const DhcpClient* c = e->dhcpClient();
    CHECK_EQ(c->t1At(), t0 + 500000000ull);
    CHECK_EQ(c->t2At(), t0 + 875000000ull);
    CHECK_EQ(c->leaseEndAt(), t0 + 1000000000ull);
    take();
    CHECK_EQ(Net::nextTimerUs() <= c->t1At(), true);
    // Nothing until T1.
    host_board::set_time_us(t0 + 499000000ull);
    Net::poll();
    CHECK(take().dhcp.empty());
    // At T1: unicast REQUEST to the server (its MAC is asked for first).
    host_board::set_time_us(t0 + 500000000ull);
    Net::poll();
    Sent s = take();
    CHECK(s.dhcp.empty());
    CHECK_EQ(s.arp.size(), (size_t)1);
    if (s.arp.size() == 1) CHECK_EQ(s.arp[0].arp_tpa, SRV_IP);
    host_board::inject(eth(MY_MAC, SRV_MAC, 0x0806, arp_pkt(2, SRV_MAC, SRV_IP, MY_MAC, OFFER_IP)));
    Net::poll();
    s = take();
    CHECK_EQ(s.dhcp.size(), (size_t)1);
    if (s.dhcp.size() != 1) return;
    Msg r = s.dhcp[0];
    CHECK_EQ(r.type, 3);
    CHECK_EQ(r.ip_src, OFFER_IP);
    CHECK_EQ(r.ip_dst, SRV_IP);
    CHECK_EQ(r.dst_mac, Bytes(SRV_MAC, SRV_MAC + 6));
    CHECK_EQ(r.ciaddr, OFFER_IP);
    CHECK_EQ(r.flags, (uint16_t)0);
    CHECK(!r.opt.count(50));
    CHECK(!r.opt.count(54));
    CHECK_EQ((int)c->state(), (int)DhcpClient::RENEWING);
    CHECK(e->isUp());
    // No answer: retransmitted after half the time to T2 (187.5 s), then REBINDING at T2.
    host_board::set_time_us(t0 + 687000000ull);
    Net::poll();
    CHECK(take().dhcp.empty());
    host_board::set_time_us(t0 + 687500000ull);
    Net::poll();
    s = take();
    CHECK_EQ(s.dhcp.size(), (size_t)1);
    if (s.dhcp.size() == 1) CHECK_EQ(s.dhcp[0].ip_dst, SRV_IP);
    host_board::set_time_us(t0 + 875000000ull);
    Net::poll();
    s = take();
    CHECK_EQ(s.dhcp.size(), (size_t)1);
    if (s.dhcp.size() != 1) return;
    Msg b = s.dhcp[0];
    CHECK_EQ(b.type, 3);
    CHECK_EQ(b.ip_src, OFFER_IP);
    CHECK_EQ(b.ip_dst, BCAST);
    CHECK_EQ(b.ciaddr, OFFER_IP);
    CHECK_EQ((int)c->state(), (int)DhcpClient::REBINDING);
    // The ACK (unicast to us) renews the lease from this REQUEST.
    serve(bootp(b.xid, OFFER_IP, std_opts(5, 1000)), OFFER_IP);
    Net::poll();
    CHECK_EQ((int)c->state(), (int)DhcpClient::BOUND);
    CHECK(e->isUp());
    CHECK_EQ(c->t1At(), t0 + 875000000ull + 500000000ull);
    CHECK_EQ(c->leaseEndAt(), t0 + 875000000ull + 1000000000ull);
    CHECK(take().arp.empty());  // same address: no new announcement
}

TEST(renew_ack_at_t1_keeps_address) {
    EthernetNetIf* e = dhcp_if();
    Opts ack = std_opts(5, 100);
    ack.push_back({58, be32(20)});
    ack.push_back({59, be32(40)});
    Dora d = dora(std_opts(2, 100), ack);
    CHECK(d.ok);
    if (!d.ok) return;
    uint64_t t0 = d.request.t;
    const DhcpClient* c = e->dhcpClient();
    CHECK_EQ(c->t1At(), t0 + 20000000ull);  // options 58/59 honoured
    CHECK_EQ(c->t2At(), t0 + 40000000ull);
    learn_srv();
    host_board::set_time_us(t0 + 20000000ull);
    Net::poll();
    Sent s = take();
    if (s.dhcp.size() != 1) { CHECK(false); return; }
    serve(bootp(s.dhcp[0].xid, OFFER_IP, ack), OFFER_IP);
    Net::poll();
    CHECK_EQ((int)c->state(), (int)DhcpClient::BOUND);
    CHECK_EQ(c->t1At(), t0 + 40000000ull);
    CHECK(e->isUp());
}

TEST(lease_expiry_takes_address_down) {
    EthernetNetIf* e = dhcp_if();
    Dora d = dora(std_opts(2, 100), std_opts(5, 100));
    CHECK(d.ok);
    if (!d.ok) return;
    uint64_t t0 = d.request.t;
    UDPSocket u;
    CHECK_EQ((int)u.bind(Host(IpAddr(), 5000)), (int)UDPSOCKET_OK);
    Host peer(IpAddr::fromU32(ROUTER_IP), 9);
    host_board::set_time_us(t0 + 99000000ull);
    Net::poll();
    CHECK(e->isUp());
    host_board::set_time_us(t0 + 100000000ull);
    Net::poll();
    CHECK(!e->isUp());
    CHECK(e->getIp().isNull());
    CHECK_EQ(u.sendto("x", 1, &peer), (int)UDPSOCKET_SETUP);
    Sent s = take();
    bool discover = false;
    for (auto& m : s.dhcp) discover |= m.type == 1 && m.ip_src == 0;
    CHECK(discover);
    CHECK_EQ((int)e->dhcpClient()->state(), (int)DhcpClient::SELECTING);
}

TEST(nak_while_renewing_drops_address) {
    EthernetNetIf* e = dhcp_if();
    Dora d = dora(std_opts(2, 100), std_opts(5, 100));
    if (!d.ok) { CHECK(false); return; }
    learn_srv();
    host_board::set_time_us(d.request.t + 50000000ull);
    Net::poll();
    Sent s = take();
    if (s.dhcp.size() != 1) { CHECK(false); return; }
    serve(bootp(s.dhcp[0].xid, 0, {{53, {6}}, {54, be32(SRV_IP)}}), OFFER_IP);
    Net::poll();
    CHECK(!e->isUp());
    CHECK(e->getIp().isNull());
    s = take();
    CHECK_EQ(s.dhcp.size(), (size_t)1);
    if (s.dhcp.size() == 1) CHECK_EQ(s.dhcp[0].type, 1);
}

TEST(infinite_lease_has_no_timers) {
    EthernetNetIf* e = dhcp_if();
    Dora d = dora(std_opts(2, 0xFFFFFFFFu), std_opts(5, 0xFFFFFFFFu));
    CHECK(d.ok);
    CHECK_EQ(e->dhcpClient()->t1At(), (uint64_t)0);
    host_board::advance_us(10000000000ull);
    Net::poll();
    CHECK(e->isUp());
}

TEST(malformed_offers_ignored) {
    struct Case {
        const char* what;
        std::function<Bytes(uint32_t xid)> make;
    };
    auto o = [](std::initializer_list<int> drop) {
        Opts v;
        for (auto& p : std_opts(2)) {
            bool skip = false;
            for (int d : drop) skip |= p.first == d;
            if (!skip) v.push_back(p);
        }
        return v;
    };
    std::vector<Case> cases = {
        {"wrong xid", [&](uint32_t x) { return bootp(x + 1, OFFER_IP, std_opts(2)); }},
        {"wrong chaddr", [&](uint32_t x) { return bootp(x, OFFER_IP, std_opts(2), OTHER_MAC); }},
        {"op request", [&](uint32_t x) { return bootp(x, OFFER_IP, std_opts(2), MY_MAC, 1); }},
        {"no type", [&](uint32_t x) { return bootp(x, OFFER_IP, o({53})); }},
        {"no server id", [&](uint32_t x) { return bootp(x, OFFER_IP, o({54})); }},
        {"no lease", [&](uint32_t x) { return bootp(x, OFFER_IP, o({51})); }},
        {"yiaddr 0", [&](uint32_t x) { return bootp(x, 0, std_opts(2)); }},
        {"yiaddr multicast", [&](uint32_t x) { return bootp(x, ip4(224, 0, 0, 5), std_opts(2)); }},
        {"type ack", [&](uint32_t x) { return bootp(x, OFFER_IP, std_opts(5)); }},
        {"type 0", [&](uint32_t x) {
             Opts v = o({53});
             v.insert(v.begin(), {53, {0}});
             return bootp(x, OFFER_IP, v);
         }},
        {"mask length 3", [&](uint32_t x) {
             Opts v = o({1});
             v.push_back({1, {255, 255, 255}});
             return bootp(x, OFFER_IP, v);
         }},
        {"mask not contiguous", [&](uint32_t x) {
             Opts v = o({1});
             v.push_back({1, be32(0xFF00FF00u)});
             return bootp(x, OFFER_IP, v);
         }},
        {"router length 5", [&](uint32_t x) {
             Opts v = o({3});
             v.push_back({3, Bytes(5, 1)});
             return bootp(x, OFFER_IP, v);
         }},
        {"dns length 6", [&](uint32_t x) {
             Opts v = o({6});
             v.push_back({6, Bytes(6, 1)});
             return bootp(x, OFFER_IP, v);
         }},
        {"type length 2", [&](uint32_t x) {
             Opts v = o({53});
             v.insert(v.begin(), {53, {2, 2}});
             return bootp(x, OFFER_IP, v);
         }},
        {"lease length 2", [&](uint32_t x) {
             Opts v = o({51});
             v.push_back({51, {0, 1}});
             return bootp(x, OFFER_IP, v);
         }},
        {"option past the end", [&](uint32_t x) {
             Bytes b = bootp(x, OFFER_IP, std_opts(2));
             b.resize(240);
             for (auto& p : std_opts(2)) {
                 b.push_back((uint8_t)p.first);
                 b.push_back((uint8_t)p.second.size());
                 b.insert(b.end(), p.second.begin(), p.second.end());
             }
             b.push_back(6);
             b.push_back(200);  // runs past the end
             b.push_back(1);
             return b;
         }},
        {"bad cookie", [&](uint32_t x) {
             Bytes b = bootp(x, OFFER_IP, std_opts(2));
             b[239] = 98;
             return b;
         }},
        {"truncated before cookie", [&](uint32_t x) {
             Bytes b = bootp(x, OFFER_IP, std_opts(2));
             b.resize(238);
             return b;
         }},
        {"truncated in the options", [&](uint32_t x) {
             Bytes b = bootp(x, OFFER_IP, std_opts(2));
             b.resize(250);
             return b;
         }},
        {"no end option", [&](uint32_t x) {
             Bytes b = bootp(x, OFFER_IP, std_opts(2));
             for (size_t i = b.size(); i-- > 240;)
                 if (b[i] == 255) { b[i] = 0; break; }
             return b;
         }},
        {"overload value 7", [&](uint32_t x) {
             Opts v = std_opts(2);
             v.push_back({52, {7}});
             return bootp(x, OFFER_IP, v);
         }},
        {"overload into garbage", [&](uint32_t x) {
             Opts v = std_opts(2);
             v.push_back({52, {1}});
             Bytes b = bootp(x, OFFER_IP, v);
             b[108] = 6;
             b[109] = 250;  // option in 'file' running past the field
             return b;
         }},
    };
    for (auto& c : cases) {
        EthernetNetIf* e = dhcp_if();
        Sent s = take();
        if (s.dhcp.size() != 1) { CHECK(false); return; }
        uint32_t xid = s.dhcp[0].xid;
        serve(c.make(xid));
        Net::poll();
        s = take();
        if (!s.dhcp.empty()) t::fail(__FILE__, __LINE__, std::string("answered: ") + c.what);
        // The DISCOVER is retried on schedule, and a good offer still works.
        host_board::advance_ms(2000);
        Net::poll();
        s = take();
        if (s.dhcp.size() != 1 || s.dhcp[0].type != 1)
            t::fail(__FILE__, __LINE__, std::string("no retry: ") + c.what);
        serve(bootp(xid, OFFER_IP, std_opts(2)));
        Net::poll();
        s = take();
        if (s.dhcp.size() != 1 || s.dhcp[0].type != 3)
            t::fail(__FILE__, __LINE__, std::string("stuck after: ") + c.what);
        CHECK(!e->isUp());
    }
    // From another source port: ignored.
    dhcp_if();
    Sent s = take();
    serve(bootp(s.dhcp[0].xid, OFFER_IP, std_opts(2)), BCAST, 1067);
    Net::poll();
    CHECK(take().dhcp.empty());
}

TEST(unicast_offer_to_the_offered_address) {
    EthernetNetIf* e = dhcp_if();
    Sent s = take();
    // A server ignoring the broadcast flag: OFFER and ACK unicast to yiaddr / our MAC.
    serve(bootp(s.dhcp[0].xid, OFFER_IP, std_opts(2)), OFFER_IP);
    Net::poll();
    s = take();
    CHECK_EQ(s.dhcp.size(), (size_t)1);
    if (s.dhcp.size() != 1) return;
    serve(bootp(s.dhcp[0].xid, OFFER_IP, std_opts(5)), OFFER_IP);
    Net::poll();
    settle();
    CHECK(e->isUp());
    // Other unicast traffic to that address before binding is not taken.
    dhcp_if();
    take();
    Net::resetStats();
    host_board::inject(udp_frame(SRV_IP, 67, 5000, bytes("x"), SRV_MAC, OFFER_IP));
    Net::poll();
    CHECK_EQ(Net::stats().ip_not_for_us, 1u);
}

TEST(options_in_overloaded_file_field) {
    EthernetNetIf* e = dhcp_if();
    Sent s = take();
    uint32_t xid = s.dhcp[0].xid;
    // Type and server id in the options field; lease, mask, router in 'file'.
    Bytes b = bootp(xid, OFFER_IP, {{53, {2}}, {54, be32(SRV_IP)}, {52, {1}}});
    uint8_t file[] = {51, 4, 0, 0, 0x0E, 0x10, 1, 4, 255, 255, 0, 0, 3, 4, 10, 9, 0, 254, 255};
    memcpy(&b[108], file, sizeof file);
    serve(b);
    Net::poll();
    s = take();
    CHECK_EQ(s.dhcp.size(), (size_t)1);
    if (s.dhcp.size() != 1) return;
    CHECK_EQ(s.dhcp[0].type, 3);
    b = bootp(s.dhcp[0].xid, OFFER_IP, {{53, {5}}, {54, be32(SRV_IP)}, {52, {1}}});
    memcpy(&b[108], file, sizeof file);
    serve(b);
    Net::poll();
    settle();
    CHECK(e->isUp());
    CHECK_EQ(ipstr(e->getNetmask()), std::string("255.255.0.0"));
    CHECK_EQ(ipstr(e->getGateway()), ipstr(ROUTER_IP));
}

TEST(dhcp_takes_one_udp_socket) {
    dhcp_if();
    UDPSocket u[NETCFG_UDP_SOCKETS];
    for (int i = 0; i < NETCFG_UDP_SOCKETS - 1; i++)
        CHECK_EQ((int)u[i].bind(Host(IpAddr(), 7000 + i)), (int)UDPSOCKET_OK);
    CHECK_EQ((int)u[NETCFG_UDP_SOCKETS - 1].bind(Host(IpAddr(), 7100)), (int)UDPSOCKET_MEM);
    u[0].close();
    UDPSocket v;
    CHECK_EQ((int)v.bind(Host(IpAddr(), 68)), (int)UDPSOCKET_INUSE);
}

TEST(next_timer_includes_dhcp) {
    dhcp_if();
    uint64_t t0 = board::micros();
    take();
    CHECK_EQ(Net::nextTimerUs(), t0 + 2000000);
    board::wait_for_event(Net::nextTimerUs());
    Net::poll();
    Sent s = take();
    CHECK_EQ(s.dhcp.size(), (size_t)1);
    CHECK_EQ(board::micros(), t0 + 2000000);
}

TEST(parser_direct) {
    DhcpInfo in;
    Bytes b = bootp(0x11223344u, OFFER_IP, std_opts(2, 7200));
    CHECK(DhcpClient::parse(b.data(), (int)b.size(), 0x11223344u, MY_MAC, &in));
    CHECK_EQ((int)in.type, 2);
    CHECK_EQ(in.yiaddr, OFFER_IP);
    CHECK_EQ(in.server, SRV_IP);
    CHECK_EQ(in.lease, 7200u);
    CHECK_EQ(in.mask, 0xFFFFFF00u);
    CHECK_EQ(in.router, ROUTER_IP);
    CHECK_EQ((int)in.ndns, 2);
    CHECK_EQ(in.dns[0], DNS1);
    CHECK_EQ(in.dns[1], DNS2);
    for (size_t n = 0; n < b.size(); n++) {
        Bytes c(b.begin(), b.begin() + (long)n);
        bool ok = DhcpClient::parse(c.data(), (int)c.size(), 0x11223344u, MY_MAC, &in);
        // Cut anywhere before the END option: rejected (an option is cut) or, once every
        // option is complete, accepted.
        if (n < 240) CHECK(!ok);
    }
    CHECK(!DhcpClient::parse(nullptr, 0, 0, MY_MAC, &in));
}
