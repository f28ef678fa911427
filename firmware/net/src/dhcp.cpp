// DHCP client (RFC 2131 / 2132), written from the RFCs and the contract.  See dhcpclient.h.
// Also EthernetNetIf's DHCP-mode setup (setup() calls dhcpSetup()).
#include "dhcpclient.h"

#include <stdlib.h>
#include <string.h>

#include <new>

#include "EthernetNetIf.h"
#include "board.h"
#include "dnsclient.h"
#include "net.h"
#include "netstack.h"
#include "netudpsocket.h"

namespace {
enum : uint16_t { PORT_CLIENT = 68, PORT_SERVER = 67 };
enum { BOOTP_FIXED = 236, OPT_START = 240, MSG_MIN = 300, MSG_MAX = 340 };
const uint32_t kCookie = 0x63825363u;
const uint8_t kBcastMac[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
const uint8_t kZeroMac[6] = {0, 0, 0, 0, 0, 0};
const uint64_t kSec = 1000000u;
bool g_noWait = false;  // setupNoWait(): start DHCP and return

// DISCOVER/REQUEST retransmission: 2, 4, 8, 16, 32 s, then 60 s (after the n-th try).
uint64_t backoff(uint8_t tries) { return (tries < 6 ? (uint64_t)1u << tries : 60u) * kSec; }

bool usableAddr(uint32_t a) {
    uint8_t top = (uint8_t)(a >> 24);
    return top != 0 && top != 127 && top < 224;
}

bool contiguous(uint32_t mask) {
    uint32_t inv = ~mask;
    return mask != 0 && (inv & (inv + 1)) == 0;
}

uint32_t classMask(uint32_t a) {
    uint8_t top = (uint8_t)(a >> 24);
    return top < 128 ? 0xFF000000u : top < 192 ? 0xFFFF0000u : 0xFFFFFF00u;
}

// Options in m[i..end).  false on a length that is wrong for its option or runs past end,
// or when the END option is missing.
bool parseOptions(const uint8_t* m, int i, int end, DhcpInfo* o, int* overload) {
    while (i < end) {
        uint8_t code = m[i];
        if (code == 0) {
            i++;
            continue;
        }
        if (code == 255) return true;
        if (i + 2 > end) return false;
        int l = m[i + 1];
        const uint8_t* v = m + i + 2;
        if (i + 2 + l > end) return false;
        switch (code) {
            case 53:
                if (l != 1) return false;
                o->type = v[0];
                break;
            case 1:
                if (l != 4) return false;
                o->mask = rd32(v);
                o->hasMask = true;
                break;
            case 3:
                if (l < 4 || l % 4) return false;
                o->router = rd32(v);
                o->hasRouter = true;
                break;
            case 6:
                if (l < 4 || l % 4) return false;
                for (int k = 0; k < l / 4 && o->ndns < 2; k++) {
                    uint32_t d = rd32(v + 4 * k);
                    if (d) o->dns[o->ndns++] = d;
                }
                break;
            case 51:
            case 54:
            case 58:
            case 59: {
                if (l != 4) return false;
                uint32_t x = rd32(v);
                if (code == 51) { o->lease = x; o->hasLease = true; }
                else if (code == 54) { o->server = x; o->hasServer = true; }
                else if (code == 58) { o->t1 = x; o->hasT1 = true; }
                else { o->t2 = x; o->hasT2 = true; }
                break;
            }
            case 52:  // option overload: only in the options field itself
                if (!overload || l != 1 || v[0] < 1 || v[0] > 3) return false;
                *overload = v[0];
                break;
            default:
                break;
        }
        i += 2 + l;
    }
    return false;  // no END option (RFC 2131 4.1): malformed
}
}  // namespace

bool DhcpClient::parse(const uint8_t* m, int len, uint32_t xid, const uint8_t mac[6],
                       DhcpInfo* o) {
    if (!m || !o || len < OPT_START || m[0] != 2 || m[1] != 1 || m[2] != 6 || rd32(m + 4) != xid ||
        memcmp(m + 28, mac, 6) != 0 || rd32(m + BOOTP_FIXED) != kCookie)
        return false;
    memset(o, 0, sizeof *o);
    o->yiaddr = rd32(m + 16);
    int overload = 0;
    if (!parseOptions(m, OPT_START, len, o, &overload)) return false;
    if ((overload & 1) && !parseOptions(m, 108, 236, o, NULL)) return false;  // file
    if ((overload & 2) && !parseOptions(m, 44, 108, o, NULL)) return false;   // sname
    switch (o->type) {
        case DHCP_OFFER:
        case DHCP_ACK:
            return usableAddr(o->yiaddr) && o->hasServer && o->hasLease &&
                   (!o->hasMask || contiguous(o->mask));
        case DHCP_NAK:
            return true;
        default:
            return false;
    }
}

// --- client ----------------------------------------------------------------------------------

DhcpClient::DhcpClient(EthernetNetIf* netif)
    : m_if(netif),
      m_sock(NULL),
      m_deadline(0),
      m_started(0),
      m_reqSent(0),
      m_t1(0),
      m_t2(0),
      m_end(0),
      m_xid(0),
      m_offered(0),
      m_server(0),
      m_mask(0),
      m_router(0),
      m_dns{0, 0},
      m_lease(0),
      m_state(OFF),
      m_tries(0) {}

DhcpClient::~DhcpClient() { closeSocket(); }

void DhcpClient::openSocket() {
    if (m_sock) return;
    // The pool slot and port 68 are taken as lwIP's DHCP PCB did; datagrams themselves come
    // through input() (EthernetNetIf hands port 68 to the client first).
    m_sock = Net::udpSocket(*m_if);
    if (m_sock) m_sock->bind(Host(IpAddr(), PORT_CLIENT));
}

void DhcpClient::closeSocket() {
    if (!m_sock) return;
    m_sock->close();
    Net::releaseUdpSocket(m_sock);
    m_sock = NULL;
}

void DhcpClient::newXid() {
    net_random_seed(rd32(m_if->m_mac + 2));
    m_xid = net_random();
}

void DhcpClient::start() {
    down();
    openSocket();
    m_state = SELECTING;
    m_tries = 0;
    m_started = board::micros();
    m_t1 = m_t2 = m_end = 0;
    m_offered = m_server = 0;
    newXid();
    sendDiscover();
}

void DhcpClient::stop() {
    m_state = OFF;
    m_deadline = 0;
    m_t1 = m_t2 = m_end = 0;
    closeSocket();
}

void DhcpClient::down() {
    if (m_if->m_up || !m_if->m_ip.isNull()) {
        m_if->m_up = false;
        m_if->m_ip = IpAddr();
        m_if->arpClear();
    }
}

void DhcpClient::sendDiscover() {
    m_tries++;
    send(DHCP_DISCOVER, 0, true, 0, 0, 0xFFFFFFFFu);
    m_deadline = board::micros() + backoff(m_tries);
}

void DhcpClient::sendRequest() {
    uint64_t now = board::micros();
    m_tries++;
    m_reqSent = now;
    uint32_t me = m_if->m_ip.toU32();
    if (m_state == REQUESTING) {
        send(DHCP_REQUEST, 0, true, m_offered, m_server, 0xFFFFFFFFu);
        m_deadline = now + backoff(m_tries);
    } else if (m_state == RENEWING) {
        send(DHCP_REQUEST, me, false, 0, 0, m_server);
        m_deadline = retryAt(now, m_t2);
    } else {  // REBINDING
        send(DHCP_REQUEST, me, false, 0, 0, 0xFFFFFFFFu);
        m_deadline = retryAt(now, m_end);
    }
}

void DhcpClient::sendDecline() { send(DHCP_DECLINE, 0, true, m_offered, m_server, 0xFFFFFFFFu); }

// RFC 2131 4.4.5: wait half the time left until limit, at least 60 s (but not past limit).
uint64_t DhcpClient::retryAt(uint64_t now, uint64_t limit) const {
    uint64_t wait = limit > now ? (limit - now) / 2 : 0;
    if (wait < 60 * kSec) wait = 60 * kSec;
    return now + wait < limit ? now + wait : limit;
}

void DhcpClient::probe() {
    m_tries++;
    m_if->arpSend(1, kBcastMac, kZeroMac, m_offered);  // sender 0.0.0.0: m_ip is still unset
    m_deadline = board::micros() + (uint64_t)NETCFG_DHCP_PROBE_MS * 1000u;
}

void DhcpClient::send(uint8_t type, uint32_t ciaddr, bool bcastFlag, uint32_t reqIp,
                      uint32_t serverId, uint32_t dst) {
    uint8_t b[MSG_MAX];
    memset(b, 0, sizeof b);
    b[0] = 1;  // BOOTREQUEST
    b[1] = 1;  // Ethernet
    b[2] = 6;
    wr32(b + 4, m_xid);
    uint64_t secs = (board::micros() - m_started) / kSec;
    wr16(b + 8, (uint16_t)(secs > 0xFFFF ? 0xFFFF : secs));
    wr16(b + 10, bcastFlag ? 0x8000 : 0);
    wr32(b + 12, ciaddr);
    memcpy(b + 28, m_if->m_mac, 6);
    wr32(b + BOOTP_FIXED, kCookie);
    int n = OPT_START;
    b[n++] = 53;
    b[n++] = 1;
    b[n++] = type;
    if (reqIp) {
        b[n++] = 50;
        b[n++] = 4;
        wr32(b + n, reqIp);
        n += 4;
    }
    if (serverId) {
        b[n++] = 54;
        b[n++] = 4;
        wr32(b + n, serverId);
        n += 4;
    }
    if (type != DHCP_DECLINE) {
        b[n++] = 57;  // maximum message size we take
        b[n++] = 2;
        wr16(b + n, (uint16_t)NETCFG_MTU);
        n += 2;
        const char* h = m_if->m_hostname;
        size_t hl = h ? strnlen(h, NETCFG_DHCP_HOSTNAME_MAX) : 0;
        if (hl) {
            b[n++] = 12;
            b[n++] = (uint8_t)hl;
            memcpy(b + n, h, hl);
            n += (int)hl;
        }
        static const uint8_t params[] = {1, 3, 6, 51, 58, 59};
        b[n++] = 55;
        b[n++] = (uint8_t)sizeof params;
        memcpy(b + n, params, sizeof params);
        n += (int)sizeof params;
    }
    b[n++] = 255;
    if (n < MSG_MIN) n = MSG_MIN;  // BOOTP minimum, for old relays

    uint8_t u[UDP_HDR];
    uint16_t ulen = (uint16_t)(UDP_HDR + n);
    uint32_t src = m_if->m_ip.toU32();
    wr16(u, PORT_CLIENT);
    wr16(u + 2, PORT_SERVER);
    wr16(u + 4, ulen);
    wr16(u + 6, 0);
    uint32_t sum = inet_sum(inet_pseudo(src, dst, NET_PROTO_UDP, ulen), u, UDP_HDR);
    uint16_t c = inet_fold(inet_sum(sum, b, (size_t)n));
    wr16(u + 6, c ? c : 0xFFFF);
    NetCore::stats.udp_tx++;
    if (dst != 0xFFFFFFFFu) {  // renewing: unicast to the server, through ARP
        m_if->ipOutput(IpAddr::fromU32(dst), NET_PROTO_UDP, u, UDP_HDR, b, n);
        return;
    }
    // Broadcast, possibly from 0.0.0.0 while the interface is not up: built here.
    uint8_t* ip = m_if->m_tx + ETH_HDR;
    int ipLen = IP_HDR + UDP_HDR + n;
    ip[0] = 0x45;
    ip[1] = 0;
    wr16(ip + 2, (uint16_t)ipLen);
    wr16(ip + 4, m_if->m_ipId++);
    wr16(ip + 6, 0);
    ip[8] = NETCFG_TTL;
    ip[9] = NET_PROTO_UDP;
    wr16(ip + 10, 0);
    wr32(ip + 12, src);
    wr32(ip + 16, dst);
    wr16(ip + 10, inet_fold(inet_sum(0, ip, IP_HDR)));
    memcpy(ip + IP_HDR, u, UDP_HDR);
    memcpy(ip + IP_HDR + UDP_HDR, b, (size_t)n);
    NetCore::stats.ip_tx++;
    m_if->sendFrame(kBcastMac, ETHTYPE_IPV4, ipLen);
}

void DhcpClient::offer(const DhcpInfo& in) {
    m_offered = in.yiaddr;
    m_server = in.server;
    m_state = REQUESTING;
    m_tries = 0;
    sendRequest();
}

void DhcpClient::ack(const DhcpInfo& in) {
    if (m_state == REQUESTING && in.server != m_server) return;  // not the server we chose
    m_mask = in.hasMask ? in.mask : classMask(in.yiaddr);
    m_router = in.hasRouter ? in.router : 0;
    m_dns[0] = in.ndns > 0 ? in.dns[0] : 0;
    m_dns[1] = in.ndns > 1 ? in.dns[1] : 0;
    m_lease = in.lease;
    if (m_state != REQUESTING && in.hasServer) m_server = in.server;
    if (in.lease == 0xFFFFFFFFu) {
        m_t1 = m_t2 = m_end = 0;  // infinite
    } else {
        uint64_t L = in.lease, t1 = in.hasT1 ? in.t1 : L / 2, t2 = in.hasT2 ? in.t2 : L * 7 / 8;
        if (t1 > t2 || t2 > L) {
            t1 = L / 2;
            t2 = L * 7 / 8;
        }
        m_t1 = m_reqSent + t1 * kSec;
        m_t2 = m_reqSent + t2 * kSec;
        m_end = m_reqSent + L * kSec;
    }
    if (m_state == REQUESTING) {
        m_offered = in.yiaddr;
        m_state = CHECKING;
        m_tries = 0;
        probe();
        return;
    }
    // Renewed or rebound.
    if (in.yiaddr != m_if->m_ip.toU32()) {
        down();
        m_offered = in.yiaddr;
    }
    bind(board::micros());
}

void DhcpClient::bind(uint64_t) {
    bool fresh = m_if->m_ip.toU32() != m_offered || !m_if->m_up;
    m_if->m_ip = IpAddr::fromU32(m_offered);
    m_if->m_netmask = IpAddr::fromU32(m_mask);
    m_if->m_gateway = IpAddr::fromU32(m_router);
    m_if->m_dns = IpAddr::fromU32(m_dns[0]);
    NetDns::setServers(IpAddr::fromU32(m_dns[0]), IpAddr::fromU32(m_dns[1]));
    m_state = BOUND;
    m_deadline = 0;
    m_tries = 0;
    if (fresh) {
        m_if->m_up = true;
        m_if->arpSend(1, kBcastMac, kZeroMac, m_offered);  // gratuitous ARP
    }
}

bool DhcpClient::input(const IpAddr&, uint16_t sport, const uint8_t* data, int len) {
    if (m_state == OFF) return false;
    DhcpInfo in;
    if (sport != PORT_SERVER || !parse(data, len, m_xid, m_if->m_mac, &in)) return true;
    bool asking = m_state == REQUESTING || m_state == RENEWING || m_state == REBINDING;
    if (in.type == DHCP_OFFER && m_state == SELECTING) {
        offer(in);
    } else if (in.type == DHCP_ACK && asking) {
        ack(in);
    } else if (in.type == DHCP_NAK && asking) {
        if (in.hasServer && m_server && in.server != m_server) return true;
        start();  // the address must not be used any more: from scratch, now
    }
    return true;
}

void DhcpClient::arpInput(uint16_t op, const uint8_t* sha, uint32_t spa, uint32_t tpa) {
    if (m_state != CHECKING) return;
    bool conflict = spa == m_offered ||
                    (op == 1 && spa == 0 && tpa == m_offered && memcmp(sha, m_if->m_mac, 6) != 0);
    if (!conflict) return;
    sendDecline();
    m_state = BACKOFF;
    m_deadline = board::micros() + (uint64_t)NETCFG_DHCP_DECLINE_WAIT_MS * 1000u;
}

void DhcpClient::poll() {
    uint64_t now = board::micros();
    switch (m_state) {
        case OFF:
            return;
        case SELECTING:
            if (now >= m_deadline) sendDiscover();
            return;
        case REQUESTING:
            if (now < m_deadline) return;
            if (m_tries < NETCFG_DHCP_REQUEST_TRIES) sendRequest();
            else start();
            return;
        case CHECKING:
            if (now < m_deadline) return;
            if (m_tries < NETCFG_DHCP_PROBES) probe();
            else bind(now);
            return;
        case BACKOFF:
            if (now >= m_deadline) start();
            return;
        default:
            break;
    }
    // BOUND, RENEWING, REBINDING
    if (!m_end) return;  // infinite lease
    if (now >= m_end) {
        start();  // lease expired: the address goes down, DISCOVER again
    } else if (now >= m_t2 && m_state != REBINDING) {
        m_state = REBINDING;
        m_tries = 0;
        newXid();
        sendRequest();
    } else if (now >= m_t1 && m_state == BOUND) {
        m_state = RENEWING;
        m_tries = 0;
        newXid();
        sendRequest();
    } else if (m_state != BOUND && now >= m_deadline) {
        sendRequest();
    }
}

uint64_t DhcpClient::nextTimerUs() const {
    switch (m_state) {
        case OFF: return 0;
        case BOUND: return m_t1;  // 0 for an infinite lease
        case RENEWING: return m_deadline < m_t2 ? m_deadline : m_t2;
        default: return m_deadline;
    }
}

// --- EthernetNetIf in DHCP mode -----------------------------------------------------------------

void EthernetNetIf::setupNoWait() {
    g_noWait = true;
    setup();
    g_noWait = false;
}

EthernetErr EthernetNetIf::dhcpSetup(int timeout_ms) {
    m_ip = IpAddr();
    if (!m_dhcpc) m_dhcpc = new (std::nothrow) DhcpClient(this);
    if (m_dhcpc) m_dhcpc->start();
    if (g_noWait) return ETH_OK;
    uint64_t end = board::micros() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000u;
    for (;;) {
        poll();
        if (m_up) return ETH_OK;
        uint64_t now = board::micros();
        if (now >= end) break;
        uint64_t wake = nextTimerUs();
        if (!wake || wake > end) wake = end;
        board::wait_for_event(wake);
    }
    if (m_dhcpc) m_dhcpc->stop();
    return ETH_TIMEOUT;
}
