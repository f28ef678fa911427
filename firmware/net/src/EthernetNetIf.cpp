// EthernetNetIf: Ethernet II, IPv4, ICMP echo and the UDP input path (ARP: arp.cpp).
// See EthernetNetIf.h for the behaviour and netcfg.h for the limits.
//
// Buffers: one receive and one transmit frame buffer inside the object.  A frame is
// processed completely (including any reply) before the next one is read, so the two
// buffers are enough; packets waiting for ARP are copied to the heap (one per entry).
#include "EthernetNetIf.h"

#include <stdlib.h>
#include <string.h>

#include "arp.h"
#include "board.h"
#include "dhcpclient.h"
#include "dnsclient.h"
#include "netstack.h"
#include "netudpsocket.h"
#include "nettcpsocket.h"
#include "tcp.h"

namespace {
NetStats& S = NetCore::stats;
}  // namespace

EthernetNetIf::EthernetNetIf(const char* hostname)
    : NetIf(),
      m_ipId(0),
      m_started(false),
      m_netmask(),
      m_gateway(),
      m_dns(),
      m_hostname(hostname),
      m_mac{0, 0, 0, 0, 0, 0},
      m_dhcp(true),
      m_up(false),
      m_customMac(false),
      m_igmp(this),
      m_reasm() {
    memset(m_arp, 0, sizeof m_arp);
}

EthernetNetIf::EthernetNetIf(IpAddr ip, IpAddr netmask, IpAddr gateway, IpAddr dns)
    : NetIf(),
      m_ipId(0),
      m_started(false),
      m_netmask(netmask),
      m_gateway(gateway),
      m_dns(dns),
      m_hostname(NULL),
      m_mac{0, 0, 0, 0, 0, 0},
      m_dhcp(false),
      m_up(false),
      m_customMac(false),
      m_igmp(this),
      m_reasm() {
    memset(m_arp, 0, sizeof m_arp);
    m_ip = ip;  // getIp() answers before setup(), as the original
}

EthernetNetIf::~EthernetNetIf() {
    delete m_dhcpc;  // releases its socket
    m_dhcpc = NULL;
    m_up = false;
    arpClear();
    // NetIf's destructor unregisters the interface and closes its sockets.
}

const char* EthernetNetIf::getHwAddr() const { return (const char*)m_mac; }

void EthernetNetIf::setHwAddr(const uint8_t mac[6]) {
    memcpy(m_mac, mac, 6);
    m_customMac = true;
}

EthernetErr EthernetNetIf::setup(int timeout_ms) {
    m_up = false;
    m_igmp.stop();
    m_reasm.clear();
    arpClear();
    if (!m_customMac) board::mac_address(m_mac);
    // Static mode answers ETH_OK whatever the driver/link says (as the original); a driver
    // that failed to start simply never delivers frames.
    board::eth::init(m_mac);
    m_started = true;

    if (!m_dhcp) {
        m_up = true;
        if (!m_ip.isNull()) arpSend(ARP_REQUEST, kBroadcastMac, kZeroMac, m_ip.toU32());  // gratuitous
        NetDns::setServers(m_dns, IpAddr());  // the static dns argument is honoured (6.5)
        m_igmp.start();  // (re-)report the groups joined so far
        return ETH_OK;
    }

    return dhcpSetup(timeout_ms);  // DHCP mode: dhcp.cpp
}

NetUdpSocket* EthernetNetIf::udpSocket() { return new (std::nothrow) NetUdpSocket(this); }
NetTcpSocket* EthernetNetIf::tcpSocket() { return new (std::nothrow) NetTcpSocket(this); }

uint64_t EthernetNetIf::nextTimerUs() const {
    uint64_t best = m_dhcpc ? m_dhcpc->nextTimerUs() : 0;  // DHCP runs while down too
    if (!m_up) return best;
    for (const ArpEntry& e : m_arp)
        if (e.state != ARP_FREE && (!best || e.expires < best)) best = e.expires;
    uint64_t t = m_igmp.nextTimerUs();
    if (t && (!best || t < best)) best = t;
    t = m_reasm.nextTimerUs();
    if (t && (!best || t < best)) best = t;
    return best;
}

void EthernetNetIf::poll() {
    if (!m_started) return;
    if (m_up) {
        uint64_t now = board::micros();
        for (ArpEntry& e : m_arp) {
            if (e.state != ARP_FREE && e.expires <= now) {
                if (e.queued) {
                    free(e.queued);
                    S.arp_queue_dropped++;
                }
                memset(&e, 0, sizeof e);
            }
        }
        // IGMP starts whenever the interface comes up (static setup() or DHCP), reports due.
        if (!m_igmp.running()) m_igmp.start();
        m_igmp.poll(now);
        m_reasm.poll(now);
    } else if (m_igmp.running()) {
        m_igmp.stop();
    }
    for (int i = 0; i < NETCFG_RX_BUDGET; i++) {
        int n = board::eth::receive(m_rx, (int)sizeof m_rx);
        if (n <= 0) break;
        if (n > (int)sizeof m_rx) n = (int)sizeof m_rx;  // a driver must not do this; be safe
        S.frames_rx++;
        if (m_up || (m_dhcpc && m_dhcpc->running())) input(n);
    }
    if (m_dhcpc) m_dhcpc->poll();  // DHCP timers, also after setup() (renew, rebind, expiry)
}

// --- Ethernet ------------------------------------------------------------------------------

void EthernetNetIf::input(int len) {
    if (len < ETH_HDR) {
        S.frames_runt++;
        return;
    }
    switch (rd16(m_rx + 12)) {
        case ETHTYPE_IPV4: ipInput(len); break;
        case ETHTYPE_ARP: arpInput(len); break;
        default: S.frames_unknown_type++; break;
    }
}

int EthernetNetIf::sendFrame(const uint8_t* dstMac, uint16_t type, int payloadLen) {
    memcpy(m_tx, dstMac, 6);
    memcpy(m_tx + 6, m_mac, 6);
    wr16(m_tx + 12, type);
    if (!board::eth::send(m_tx, ETH_HDR + payloadLen)) {
        S.frames_tx_failed++;
        return NETOUT_LINK;
    }
    S.frames_tx++;
    return NETOUT_OK;
}

// --- IPv4 ----------------------------------------------------------------------------------

int EthernetNetIf::ipOutput(const IpAddr& dst, uint8_t proto, const uint8_t* hdr, int hlen,
                            const void* data, int dlen) {
    return ipOutputOpt(dst, proto, NETCFG_TTL, NULL, 0, hdr, hlen, data, dlen);
}

// Fragments of the datagram with header template tmpl (ihl bytes) and payload p1 then p2,
// each at most NETCFG_MTU bytes, to mac.  Stops at the first fragment the driver refuses.
int EthernetNetIf::sendFragments(const uint8_t* mac, const uint8_t* tmpl, int ihl,
                                 const uint8_t* p1, int n1, const uint8_t* p2, int n2) {
    uint8_t h[60];
    uint8_t to[6];
    memcpy(h, tmpl, (size_t)ihl);  // tmpl may live in m_tx, which each fragment overwrites
    memcpy(to, mac, 6);
    int err = NETOUT_OK;
    for (int off = 0; off < n1 + n2;) {
        int used = 0;
        int len = ipfrag_build(m_tx + ETH_HDR, h, ihl, NETCFG_MTU, off, p1, n1, p2, n2, &used);
        S.ip_frag_tx++;
        err = sendFrame(to, ETHTYPE_IPV4, len);
        if (err != NETOUT_OK) break;
        off += used;
    }
    return err;
}

int EthernetNetIf::ipOutputOpt(const IpAddr& dst, uint8_t proto, uint8_t ttl, const uint8_t* opts,
                               int optLen, const uint8_t* hdr, int hlen, const void* data,
                               int dlen) {
    if (!m_up) return NETOUT_DOWN;
    int ihl = IP_HDR + optLen;
    int ipLen = ihl + hlen + dlen;
    if (optLen < 0 || optLen > 40 || (optLen & 3) || ipLen > 0xFFFF) return NETOUT_TOOBIG;
    uint32_t d = dst.toU32();
    uint32_t me = m_ip.toU32();
    uint32_t mask = m_netmask.toU32();
    bool onLink = (d & mask) == (me & mask);
    bool bcast = d == 0xFFFFFFFFu || (onLink && mask != 0xFFFFFFFFu && (d | mask) == 0xFFFFFFFFu);
    bool mcast = (d >> 28) == 0xE;
    uint32_t nextHop = onLink ? d : m_gateway.toU32();
    if (d == 0 || (!bcast && !mcast && nextHop == 0)) {
        S.ip_no_route++;
        return NETOUT_NOROUTE;
    }

    uint8_t* ip = m_tx + ETH_HDR;
    ip[0] = (uint8_t)(0x40 | (ihl / 4));
    ip[1] = 0;
    wr16(ip + 2, (uint16_t)ipLen);
    wr16(ip + 4, m_ipId++);
    wr16(ip + 6, 0);  // no DF, offset 0 (fragments get theirs in sendFragments)
    ip[8] = ttl;
    ip[9] = proto;
    wr16(ip + 10, 0);
    wr32(ip + 12, me);
    wr32(ip + 16, d);
    if (optLen) memcpy(ip + IP_HDR, opts, (size_t)optLen);
    wr16(ip + 10, inet_fold(inet_sum(0, ip, (size_t)ihl)));
    S.ip_tx++;

    uint8_t gmac[6] = {0x01, 0x00, 0x5E, (uint8_t)((d >> 16) & 0x7F), (uint8_t)(d >> 8),
                       (uint8_t)d};
    const uint8_t* to = bcast ? kBroadcastMac : mcast ? gmac : NULL;
    if (ipLen <= NETCFG_MTU) {
        if (hlen) memcpy(ip + ihl, hdr, (size_t)hlen);
        if (dlen) memcpy(ip + ihl + hlen, data, (size_t)dlen);
        return to ? sendFrame(to, ETHTYPE_IPV4, ipLen) : resolveAndSend(nextHop, ipLen);
    }
    // Larger than the MTU: fragments straight from the caller's buffers when the MAC is
    // known; otherwise the whole datagram waits for the ARP reply (one per entry, as any
    // packet) and is fragmented when it is released.
    if (!to) {
        int i = arpFind(nextHop);
        if (i >= 0 && m_arp[i].state == ARP_STABLE) to = m_arp[i].mac;
    }
    if (to) return sendFragments(to, ip, ihl, hdr, hlen, (const uint8_t*)data, dlen);
    uint8_t* q = (uint8_t*)malloc((size_t)ipLen);
    if (!q) return NETOUT_MEM;
    memcpy(q, ip, (size_t)ihl);
    if (hlen) memcpy(q + ihl, hdr, (size_t)hlen);
    if (dlen) memcpy(q + ihl + hlen, data, (size_t)dlen);
    return arpHold(nextHop, q, ipLen);
}

void EthernetNetIf::ipInput(int len) {
    S.ip_rx++;
    const uint8_t* ip = m_rx + ETH_HDR;
    int n = len - ETH_HDR;
    if (n < IP_HDR) {
        S.ip_bad_header++;
        return;
    }
    int ihl = (ip[0] & 0x0F) * 4;
    int total = rd16(ip + 2);
    // Lengths that lie: header longer than the packet, total length beyond the frame.
    // Shorter totals are fine (Ethernet padding is cut off).
    if ((ip[0] >> 4) != 4 || ihl < IP_HDR || ihl > n || total < ihl || total > n) {
        S.ip_bad_header++;
        return;
    }
    if (inet_fold(inet_sum(0, ip, (size_t)ihl)) != 0) {
        S.ip_bad_checksum++;
        return;
    }
    uint32_t src = rd32(ip + 12);
    uint32_t dst = rd32(ip + 16);
    uint32_t me = m_ip.toU32();
    uint32_t mask = m_netmask.toU32();
    bool subnetBcast = mask != 0xFFFFFFFFu && (dst & mask) == (me & mask) && (dst | mask) == 0xFFFFFFFFu;
    bool mcast = (dst >> 28) == 0xE;
    bool accept = (me != 0 && dst == me) || dst == 0xFFFFFFFFu || subnetBcast ||
                  (mcast && m_igmp.isMember(dst));
    // No address yet: a DHCP server may unicast to the offered one (lwIP took UDP to port 68
    // then too).
    if (!accept && me == 0 && m_dhcpc && m_dhcpc->running() && ip[9] == NET_PROTO_UDP &&
        ihl + 4 <= total)
        accept = rd16(ip + ihl + 2) == 68;
    if (!accept) {
        S.ip_not_for_us++;
        return;
    }
    if ((src >> 28) >= 0xE || src == me) {  // multicast/broadcast/our own source: bogus
        S.ip_bad_header++;
        return;
    }
    uint8_t* whole = NULL;        // a reassembled datagram (heap), freed at the end
    if (rd16(ip + 6) & 0x3FFF) {  // MF set or a non-zero offset: reassembly (ipfrag.h)
        int wlen = 0;
        whole = m_reasm.input(ip, ihl, total, board::micros(), &wlen);
        if (!whole) return;
        ip = whole;
        ihl = IP_HDR;
        total = wlen;
    }
    // Trust the source MAC of IP packets from on-link hosts we already know (lwIP's
    // ETHARP_TRUST_IP_MAC): refresh existing entries only.
    if (src != 0 && (src & mask) == (me & mask)) arpUpdate(src, m_rx + 6, false);

    switch (ip[9]) {
        case NET_PROTO_ICMP: icmpInput(ip, ihl, total); break;
        case NET_PROTO_UDP: udpInput(ip, ihl, total); break;
        case tcp::PROTO: TcpCore::input(this, ip, ihl, total); break;
        case 2: m_igmp.input(ip, ihl, total); break;  // IGMP
        default: S.ip_unknown_proto++; break;
    }
    free(whole);
}

// --- IGMP (igmp.h) -------------------------------------------------------------------------

bool EthernetNetIf::igmpJoin(const IpAddr& group) { return m_igmp.join(group.toU32()); }
void EthernetNetIf::igmpLeave(const IpAddr& group) { m_igmp.leave(group.toU32()); }

// --- ICMP ----------------------------------------------------------------------------------

void EthernetNetIf::icmpInput(const uint8_t* ip, int ihl, int total) {
    S.icmp_rx++;
    const uint8_t* ic = ip + ihl;
    int n = total - ihl;
    if (n < ICMP_HDR || inet_fold(inet_sum(0, ic, (size_t)n)) != 0) {
        S.icmp_bad++;
        return;
    }
    // Only echo requests to our unicast address are answered (no broadcast/multicast ping).
    if (ic[0] != 8 || ic[1] != 0 || rd32(ip + 16) != m_ip.toU32()) return;
    uint8_t h[4] = {0, 0, 0, 0};  // type 0 (echo reply), code 0, checksum
    uint16_t c = inet_fold(inet_sum(0, ic + 4, (size_t)(n - 4)));
    wr16(h + 2, c);
    int err = ipOutput(IpAddr::fromU32(rd32(ip + 12)), NET_PROTO_ICMP, h, 4, ic + 4, n - 4);
    if (err == NETOUT_OK) S.icmp_echo_replied++;
}

// --- ICMP errors -----------------------------------------------------------------------------

// ICMP destination unreachable, port unreachable (type 3, code 3; RFC 792, RFC 1122
// 3.2.2.1) for the datagram at ip, quoting its IP header and the first 8 bytes of its data.
// Never (RFC 1122 3.2.2) for a datagram to an IP broadcast or multicast address or sent as
// a link-layer broadcast/multicast, nor one whose source is not a single host (0.0.0.0,
// broadcast, multicast, class E, our subnet's broadcast address).  Only UDP calls this, so
// no ICMP error is ever answered with one; fragments come here only reassembled (the first
// fragment's header).  Rate-limited by a token bucket (netcfg.h).
void EthernetNetIf::portUnreachable(const uint8_t* ip, int ihl, int total) {
    uint32_t src = rd32(ip + 12);
    uint32_t dst = rd32(ip + 16);
    uint32_t me = m_ip.toU32();
    uint32_t mask = m_netmask.toU32();
    if (me == 0 || dst != me || (m_rx[0] & 1)) return;  // not unicast to us
    if (src == 0 || (src >> 28) >= 0xE) return;
    if (mask != 0xFFFFFFFFu && (src & mask) == (me & mask) && (src | mask) == 0xFFFFFFFFu) return;
    // Token bucket, in microseconds of credit.
    const uint64_t cost = 1000000u / NETCFG_ICMP_UNREACH_PER_S;
    const uint64_t cap = cost * NETCFG_ICMP_UNREACH_BURST;
    uint64_t now = board::micros();
    if (m_unreachCredit > cap) m_unreachCredit = cap;
    if (now > m_unreachAt) {
        uint64_t dt = now - m_unreachAt;
        m_unreachCredit = dt >= cap - m_unreachCredit ? cap : m_unreachCredit + dt;
    }
    m_unreachAt = now;
    if (m_unreachCredit < cost) {
        S.icmp_unreach_ratelimited++;
        return;
    }
    m_unreachCredit -= cost;
    int quote = total - ihl < 8 ? total - ihl : 8;
    uint8_t h[8] = {3, 3, 0, 0, 0, 0, 0, 0};  // type, code, checksum, unused
    uint32_t sum = inet_sum(0, h, sizeof h);
    sum = inet_sum(sum, ip, (size_t)(ihl + quote));
    wr16(h + 2, inet_fold(sum));
    if (ipOutputOpt(IpAddr::fromU32(src), NET_PROTO_ICMP, NETCFG_TTL, NULL, 0, h, (int)sizeof h, ip,
                    ihl + quote) == NETOUT_OK)
        S.icmp_unreach_tx++;
}

// --- UDP -----------------------------------------------------------------------------------

void EthernetNetIf::udpInput(const uint8_t* ip, int ihl, int total) {
    S.udp_rx++;
    const uint8_t* u = ip + ihl;
    int n = total - ihl;
    if (n < UDP_HDR) {
        S.udp_bad_header++;
        return;
    }
    int ulen = rd16(u + 4);
    if (ulen < UDP_HDR || ulen > n) {  // UDP length larger than the IP payload: lies
        S.udp_bad_header++;
        return;
    }
    uint32_t src = rd32(ip + 12);
    uint32_t dst = rd32(ip + 16);
    if (rd16(u + 6) != 0) {  // 0: sender did not compute one
        uint32_t sum = inet_pseudo(src, dst, NET_PROTO_UDP, (uint16_t)ulen);
        if (inet_fold(inet_sum(sum, u, (size_t)ulen)) != 0) {
            S.udp_bad_checksum++;
            return;
        }
    }
    // DHCP replies to port 68 go to the client while it runs.
    if (m_dhcpc && rd16(u + 2) == 68 && m_dhcpc->input(IpAddr::fromU32(src), rd16(u), u + UDP_HDR, ulen - UDP_HDR))
        return;
    // Answers to the DNS client's outstanding queries (their ports are its own).
    if (NetDns::input(IpAddr::fromU32(src), rd16(u), rd16(u + 2), u + UDP_HDR, ulen - UDP_HDR))
        return;
    NetUdpSocket* s = NetUdpSocket::findByPort(rd16(u + 2));
    if (!s) {
        S.udp_no_port++;
        portUnreachable(ip, ihl, total);
        return;
    }
    if (!s->input(IpAddr::fromU32(src), rd16(u), u + UDP_HDR, ulen - UDP_HDR)) S.udp_queue_full++;
}
