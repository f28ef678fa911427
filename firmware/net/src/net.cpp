// Net facade, registration lists, NetIf base.  See net.h for the order of Net::poll().
#include "net.h"

#include <string.h>

#include "dnsclient.h"
#include "netif.h"
#include "netservice.h"
#include "netstack.h"
#include "netudpsocket.h"
#include "tcp.h"

NetStats NetCore::stats;
NetIf* NetCore::ifs;
NetIf* NetCore::defaultIf;
NetUdpSocket* NetCore::udpSockets;

void NetCore::registerIf(NetIf* pIf) {
    pIf->m_pNextIf = NULL;
    NetIf** pp = &ifs;
    while (*pp) pp = &(*pp)->m_pNextIf;
    *pp = pIf;
    defaultIf = pIf;  // the last interface created is the default (single-interface stack)
}

void NetCore::unregisterIf(NetIf* pIf) {
    for (NetIf** pp = &ifs; *pp; pp = &(*pp)->m_pNextIf) {
        if (*pp == pIf) {
            *pp = pIf->m_pNextIf;
            break;
        }
    }
    if (defaultIf == pIf) defaultIf = NULL;
    // Sockets created on this interface can no longer send: close them (their wrappers
    // get UDPSOCKET_MEM from now on, as for any closed implementation).
    for (NetUdpSocket* s = udpSockets; s; s = s->m_pNextSocket)
        if (s->netIf() == pIf) s->detachIf();
    TcpCore::detachIf(pIf);
}

void NetCore::registerUdp(NetUdpSocket* s) {
    s->m_pNextSocket = NULL;
    NetUdpSocket** pp = &udpSockets;
    while (*pp) pp = &(*pp)->m_pNextSocket;
    *pp = s;
}

void NetCore::unregisterUdp(NetUdpSocket* s) {
    for (NetUdpSocket** pp = &udpSockets; *pp; pp = &(*pp)->m_pNextSocket) {
        if (*pp == s) {
            *pp = s->m_pNextSocket;
            return;
        }
    }
}

// --- NetIf ---------------------------------------------------------------------------------

NetIf::NetIf() : m_ip(), m_pNextIf(NULL) { NetCore::registerIf(this); }
NetIf::~NetIf() { NetCore::unregisterIf(this); }
NetTcpSocket* NetIf::tcpSocket() { return NULL; }
// NetIf::dnsRequest(): dns.cpp.
uint64_t NetIf::nextTimerUs() const { return 0; }
bool NetIf::igmpJoin(const IpAddr&) { return false; }
void NetIf::igmpLeave(const IpAddr&) {}

// --- Net -----------------------------------------------------------------------------------

void Net::poll() {
    // 1. services (deferred deletion first, inside servicesPoll)
    NetService::servicesPoll();

    // 2. interfaces: timers, then received frames.  Read the next pointer first: nothing in
    //    an interface's poll deletes interfaces, but be safe against reordering anyway.
    for (NetIf* pIf = NetCore::ifs; pIf;) {
        NetIf* next = pIf->m_pNextIf;
        pIf->poll();
        pIf = next;
    }

    // 3. TCP: timers, then every socket's queued events and deferred deletion (creation
    //    order, so a listener's ACCEPT comes before its new connection's own events).
    TcpCore::poll();

    // 4. UDP sockets, creation order.  Callbacks may create sockets (appended, visited in this
    //    same pass) or close/release them (deleted here only, so the list stays valid).
    NetUdpSocket** pp = &NetCore::udpSockets;
    while (*pp) {
        NetUdpSocket* s = *pp;
        s->poll();
        if (s->isClosed() && s->refs() <= 0) {
            *pp = s->m_pNextSocket;
            s->m_pNextSocket = NULL;
            delete s;  // its destructor finds it already unlinked
        } else {
            pp = &s->m_pNextSocket;
        }
    }
}

NetUdpSocket* Net::udpSocket(NetIf& netif) {
    NetUdpSocket* s = netif.udpSocket();
    if (s) s->ref();
    return s;
}

NetUdpSocket* Net::udpSocket() {
    if (!NetCore::defaultIf) return NULL;
    return udpSocket(*NetCore::defaultIf);
}

void Net::releaseUdpSocket(NetUdpSocket* s) {
    if (!s) return;
    s->unref();
    if (s->refs() <= 0 && !s->isClosed()) s->close();
}

void Net::setDefaultIf(NetIf& netif) { NetCore::defaultIf = &netif; }
void Net::setDefaultIf(NetIf* netif) { NetCore::defaultIf = netif; }
NetIf* Net::getDefaultIf() { return NetCore::defaultIf; }

const NetStats& Net::stats() { return NetCore::stats; }
void Net::resetStats() { memset(&NetCore::stats, 0, sizeof NetCore::stats); }

uint64_t Net::nextTimerUs() {
    uint64_t best = NetDns::nextTimerUs();  // DNS retries, results waiting for a poll
    for (NetIf* pIf = NetCore::ifs; pIf; pIf = pIf->m_pNextIf) {
        uint64_t t = pIf->nextTimerUs();
        if (t && (!best || t < best)) best = t;
    }
    uint64_t tt = TcpCore::nextTimerUs();  // retransmission, persist, delayed ACK, TIME_WAIT
    if (tt && (!best || tt < best)) best = tt;
    return best;
}
