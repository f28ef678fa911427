// NetUdpSocket: UDP socket implementation.  See netudpsocket.h and UDPSocket.h.
#include "netudpsocket.h"

#include <stdlib.h>
#include <string.h>

#include "netcfg.h"
#include "netif.h"
#include "netstack.h"

// One received datagram; the payload follows the header in the same heap block.
struct NetUdpSocket::Dgram {
    Dgram* next;
    IpAddr src;
    uint16_t srcPort;
    uint16_t len;
    uint16_t off;  // bytes already read
    uint8_t* data() { return (uint8_t*)(this + 1); }
};

namespace {
int g_open = 0;           // sockets holding a "PCB" (bounded by NETCFG_UDP_SOCKETS)
size_t g_rxBytes = 0;     // payload bytes queued in all sockets
}  // namespace

NetUdpSocket::NetUdpSocket(NetIf* pIf)
    : m_pNextSocket(NULL),
      m_pIf(pIf),
      m_head(NULL),
      m_tail(NULL),
      m_group(),
      m_port(0),
      m_count(0),
      m_events(0),
      m_refs(0),
      m_hasPcb(g_open < NETCFG_UDP_SOCKETS),
      m_closed(false) {
    if (m_hasPcb) g_open++;
    NetCore::registerUdp(this);
}

NetUdpSocket::~NetUdpSocket() {
    freeQueue();
    if (m_hasPcb) g_open--;
    NetCore::unregisterUdp(this);
}

void NetUdpSocket::freeQueue() {
    while (m_head) {
        Dgram* d = m_head;
        m_head = d->next;
        g_rxBytes -= d->len;
        free(d);
    }
    m_tail = NULL;
    m_count = 0;
}

NetUdpSocket* NetUdpSocket::findByPort(uint16_t port) {
    for (NetUdpSocket* s = NetCore::udpSockets; s; s = s->m_pNextSocket)
        if (!s->m_closed && s->m_hasPcb && s->m_port == port) return s;
    return NULL;
}

bool NetUdpSocket::groupJoined(const IpAddr& group) {
    for (NetUdpSocket* s = NetCore::udpSockets; s; s = s->m_pNextSocket)
        if (!s->m_closed && s->m_hasPcb && s->m_port && s->m_group == group) return true;
    return false;
}

size_t NetUdpSocket::rxBytesHeld() { return g_rxBytes; }

NetUdpSocketErr NetUdpSocket::bindPort(uint16_t port) {
    if (port == 0) {
        for (uint32_t p = NETCFG_UDP_EPHEMERAL_FIRST; p <= NETCFG_UDP_EPHEMERAL_LAST; p++) {
            if (!findByPort((uint16_t)p)) {
                m_port = (uint16_t)p;
                return NETUDPSOCKET_OK;
            }
        }
        return NETUDPSOCKET_INUSE;
    }
    NetUdpSocket* other = findByPort(port);
    if (other && other != this) return NETUDPSOCKET_INUSE;
    m_port = port;
    return NETUDPSOCKET_OK;
}

NetUdpSocketErr NetUdpSocket::bind(const Host& me) {
    if (m_closed || !m_hasPcb) return NETUDPSOCKET_MEM;
    int port = me.getPort();
    if (port < 0 || port > 0xFFFF) return NETUDPSOCKET_SETUP;
    // A multicast address joins the group first (5.1; no room: NETUDPSOCKET_IF), then the
    // port is bound.  Unlike the original, a failed port bind leaves the group again, and
    // rebinding leaves the group of the previous bind.
    IpAddr group = me.getIp().isMulticast() ? me.getIp() : IpAddr();
    if (!group.isNull() && !(m_pIf && m_pIf->igmpJoin(group))) return NETUDPSOCKET_IF;
    NetUdpSocketErr err = bindPort((uint16_t)port);
    if (err != NETUDPSOCKET_OK) {
        if (!group.isNull()) m_pIf->igmpLeave(group);
        return err;
    }
    if (!m_group.isNull() && m_pIf) m_pIf->igmpLeave(m_group);
    m_group = group;
    return NETUDPSOCKET_OK;
}

int NetUdpSocket::sendto(const char* buf, int len, Host* pHost) {
    if (m_closed || !m_hasPcb || !m_pIf) return NETUDPSOCKET_MEM;
    if (!pHost || len < 0 || (!buf && len > 0)) return NETUDPSOCKET_SETUP;
    int dport = pHost->getPort();
    if (dport < 0 || dport > 0xFFFF) return NETUDPSOCKET_SETUP;
    if (!m_pIf->isUp()) return NETUDPSOCKET_SETUP;
    if (len > 0xFFFF - IP_HDR - UDP_HDR) return NETUDPSOCKET_MEM;  // above MTU - 28: fragmented
    if (m_port == 0) {
        // lwIP binds an unbound socket to an ephemeral port on its first send.
        if (bindPort(0) != NETUDPSOCKET_OK) return NETUDPSOCKET_MEM;
    }
    const IpAddr& dst = pHost->getIp();
    uint8_t h[UDP_HDR];
    uint16_t ulen = (uint16_t)(UDP_HDR + len);
    wr16(h, m_port);
    wr16(h + 2, (uint16_t)dport);
    wr16(h + 4, ulen);
    wr16(h + 6, 0);
    uint32_t sum = inet_pseudo(m_pIf->getIp().toU32(), dst.toU32(), NET_PROTO_UDP, ulen);
    sum = inet_sum(sum, h, UDP_HDR);
    sum = inet_sum(sum, buf, (size_t)len);
    uint16_t c = inet_fold(sum);
    wr16(h + 6, c ? c : 0xFFFF);  // 0 means "no checksum" in UDP
    int err = m_pIf->ipOutput(dst, NET_PROTO_UDP, h, UDP_HDR, buf, len);
    switch (err) {
        case NETOUT_OK:
        case NETOUT_LINK:  // handed over; the driver's loss is a datagram loss
            NetCore::stats.udp_tx++;
            return len;
        case NETOUT_MEM:
        case NETOUT_TOOBIG:
            return NETUDPSOCKET_MEM;
        default:
            return NETUDPSOCKET_SETUP;
    }
}

int NetUdpSocket::recvfrom(char* buf, int len, Host* pHost) {
    if (m_closed || !m_hasPcb) return NETUDPSOCKET_MEM;
    if (!m_head) return 0;
    if (len < 0 || (!buf && len > 0)) return NETUDPSOCKET_SETUP;
    Dgram* d = m_head;
    if (pHost) {
        pHost->setIp(d->src);
        pHost->setPort(d->srcPort);
    }
    int n = d->len - d->off;
    if (n > len) n = len;
    if (n > 0) memcpy(buf, d->data() + d->off, (size_t)n);
    d->off = (uint16_t)(d->off + n);
    if (d->off >= d->len) {
        m_head = d->next;
        if (!m_head) m_tail = NULL;
        m_count--;
        g_rxBytes -= d->len;
        free(d);
    }
    return n;
}

NetUdpSocketErr NetUdpSocket::close() {
    if (m_closed) return NETUDPSOCKET_OK;
    m_closed = true;
    m_cb.reset();
    m_events = 0;
    freeQueue();
    m_port = 0;
    if (!m_group.isNull() && m_pIf) m_pIf->igmpLeave(m_group);  // last user: IGMP leave
    m_group = IpAddr();
    if (!m_hasPcb) return NETUDPSOCKET_MEM;
    m_hasPcb = false;
    g_open--;
    return NETUDPSOCKET_OK;
}

void NetUdpSocket::detachIf() {
    close();
    m_pIf = NULL;
}

bool NetUdpSocket::input(const IpAddr& src, uint16_t srcPort, const uint8_t* data, int len) {
    if (m_count >= NETCFG_UDP_RX_QUEUE || g_rxBytes + (size_t)len > NETCFG_UDP_RX_POOL_BYTES)
        return false;
    Dgram* d = (Dgram*)malloc(sizeof(Dgram) + (size_t)len);
    if (!d) return false;
    d->next = NULL;
    d->src = src;
    d->srcPort = srcPort;
    d->len = (uint16_t)len;
    d->off = 0;
    if (len) memcpy(d->data(), data, (size_t)len);
    if (m_tail) m_tail->next = d;
    else m_head = d;
    m_tail = d;
    m_count++;
    g_rxBytes += (size_t)len;
    if (m_events < 0xFFFF) m_events++;
    return true;
}

void NetUdpSocket::poll() {
    // Each queued event is popped before its callback runs, so a callback that closes the
    // socket (clearing the queue and the callback) ends the loop.
    while (m_events) {
        m_events--;
        if (m_cb.isSet()) m_cb.call(NETUDPSOCKET_READABLE);
    }
}
