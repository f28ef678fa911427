// NetTcpSocket: TCP socket implementation over the engine in tcp.cpp, the Net factory
// functions for it, and Net::poll()'s TCP step.  See nettcpsocket.h and TCPSocket.h.
#include "nettcpsocket.h"

#include <new>

#include "board.h"
#include "net.h"
#include "netif.h"
#include "netstack.h"
#include "tcp.h"

using tcp::Pcb;

namespace {
void registerSocket(NetTcpSocket* s) {
    s->m_pNextSocket = NULL;
    NetTcpSocket** pp = &TcpCore::sockets;
    while (*pp) pp = &(*pp)->m_pNextSocket;
    *pp = s;
}
void unregisterSocket(NetTcpSocket* s) {
    for (NetTcpSocket** pp = &TcpCore::sockets; *pp; pp = &(*pp)->m_pNextSocket) {
        if (*pp == s) {
            *pp = s->m_pNextSocket;
            return;
        }
    }
}
}  // namespace

void NetTcpSocket::init(NetIf* pIf) {
    m_pNextSocket = NULL;
    m_pNextAccept = NULL;
    m_pIf = pIf;
    m_pcb = NULL;
    m_evHead = 0;
    m_evCount = 0;
    m_refs = 0;
    m_hadPcb = false;
    m_closed = false;
}

NetTcpSocket::NetTcpSocket(NetIf* pIf) : m_cb() {
    init(pIf);
    m_pcb = tcp::pcbNew(pIf);
    if (m_pcb) m_pcb->sock = this;
    m_hadPcb = m_pcb != NULL;
    registerSocket(this);
}

NetTcpSocket::NetTcpSocket(NetIf* pIf, Pcb* pcb) : m_cb() {
    init(pIf);
    m_pcb = pcb;
    m_hadPcb = true;
    registerSocket(this);
}

NetTcpSocket::~NetTcpSocket() {
    if (m_pcb) {  // only when deleted without close (not by the stack)
        m_pcb->sock = NULL;
        tcp::close(m_pcb);
        m_pcb = NULL;
    }
    unregisterSocket(this);
}

void NetTcpSocket::queueEvent(NetTcpSocketEvent e) {
    if (m_closed && e != NETTCPSOCKET_CONRST && e != NETTCPSOCKET_CONABRT) return;
    if (m_evCount == EVQ) {
        // Full (only WRITEABLE/READABLE can pile up): keep the newest state-changing events.
        if (e == NETTCPSOCKET_WRITEABLE || e == NETTCPSOCKET_READABLE) return;
        m_evHead = (uint8_t)((m_evHead + 1) % EVQ);
        m_evCount--;
    }
    m_ev[(m_evHead + m_evCount) % EVQ] = (uint8_t)e;
    m_evCount++;
}

void NetTcpSocket::pcbLost(NetTcpSocketEvent e) {
    m_pcb = NULL;
    bool wasClosed = m_closed;
    m_closed = true;
    m_evCount = 0;
    m_evHead = 0;
    if (!wasClosed) queueEvent(e);
}

void NetTcpSocket::poll() {
    // Each event is popped before its callback runs: a callback that closes the socket
    // (clearing the queue and the callback) ends the loop.
    while (m_evCount) {
        NetTcpSocketEvent e = (NetTcpSocketEvent)m_ev[m_evHead];
        m_evHead = (uint8_t)((m_evHead + 1) % EVQ);
        m_evCount--;
        if (m_cb.isSet()) m_cb.call(e);
    }
}

void NetTcpSocket::detachIf() {
    if (m_pcb) {
        Pcb* p = m_pcb;
        m_pcb = NULL;
        p->sock = NULL;
        p->netif = NULL;
        tcp::close(p);
    }
    m_closed = true;
    m_evCount = 0;
    m_cb.reset();
    m_pIf = NULL;
}

NetTcpSocketErr NetTcpSocket::bind(const Host& me) {
    if (!m_pcb) return NETTCPSOCKET_MEM;
    int port = me.getPort();
    if (port < 0 || port > 0xFFFF) return NETTCPSOCKET_INUSE;
    if (m_pcb->state != tcp::CLOSED) return NETTCPSOCKET_INUSE;
    if (port == 0) {
        uint16_t p = tcp::ephemeralPort();
        if (!p) return NETTCPSOCKET_INUSE;
        m_pcb->localPort = p;
        return NETTCPSOCKET_OK;
    }
    if (tcp::portInUse((uint16_t)port, m_pcb)) return NETTCPSOCKET_INUSE;
    m_pcb->localPort = (uint16_t)port;
    return NETTCPSOCKET_OK;
}

NetTcpSocketErr NetTcpSocket::listen() {
    if (!m_pcb) return NETTCPSOCKET_MEM;
    if (m_pcb->state == tcp::LISTEN) return NETTCPSOCKET_OK;
    if (m_pcb->state != tcp::CLOSED) return NETTCPSOCKET_MEM;
    if (!m_pcb->localPort) {
        uint16_t p = tcp::ephemeralPort();
        if (!p) return NETTCPSOCKET_MEM;
        m_pcb->localPort = p;
    }
    if (!tcp::listen(m_pcb)) return NETTCPSOCKET_MEM;
    return NETTCPSOCKET_OK;
}

NetTcpSocketErr NetTcpSocket::connect(const Host& host) {
    if (!m_pcb) return NETTCPSOCKET_MEM;
    if (m_pcb->state != tcp::CLOSED) return NETTCPSOCKET_MEM;
    int port = host.getPort();
    if (port <= 0 || port > 0xFFFF) return NETTCPSOCKET_MEM;
    if (!tcp::connect(m_pcb, host.getIp().toU32(), (uint16_t)port)) return NETTCPSOCKET_MEM;
    return NETTCPSOCKET_OK;
}

NetTcpSocketErr NetTcpSocket::accept(Host* pClient, NetTcpSocket** ppNew) {
    if (!m_pcb) return NETTCPSOCKET_MEM;
    if (m_pcb->state != tcp::LISTEN) return NETTCPSOCKET_EMPTY;
    NetTcpSocket* s = m_pcb->acceptHead;
    if (!s) return NETTCPSOCKET_EMPTY;
    m_pcb->acceptHead = s->m_pNextAccept;
    if (!m_pcb->acceptHead) m_pcb->acceptTail = NULL;
    s->m_pNextAccept = NULL;
    Pcb* c = s->m_pcb;
    if (!c || s->m_closed) {
        // Reset (or aborted) before the application took it.
        Net::releaseTcpSocket(s);
        return NETTCPSOCKET_RST;
    }
    if (c->parent) {
        if (c->parent->pending) c->parent->pending--;
        c->parent = NULL;
    }
    if (pClient) {
        pClient->setIp(IpAddr::fromU32(c->remoteIp));
        pClient->setPort(c->remotePort);
    }
    if (ppNew) *ppNew = s;  // the queue's reference becomes the caller's
    return NETTCPSOCKET_OK;
}

int NetTcpSocket::send(const char* buf, int len) {
    if (!m_pcb) return NETTCPSOCKET_MEM;
    switch (m_pcb->state) {
        case tcp::SYN_SENT:
        case tcp::SYN_RCVD:
        case tcp::ESTABLISHED:
        case tcp::CLOSE_WAIT:
            break;
        default:
            return NETTCPSOCKET_SETUP;
    }
    if (len < 0 || (!buf && len > 0)) return NETTCPSOCKET_SETUP;
    uint32_t room = tcp::sndSpace(m_pcb);
    int n = (uint32_t)len < room ? len : (int)room;
    if (n == 0) return 0;
    int got = m_pcb->sndq.append((const uint8_t*)buf, n);
    if (got == 0) return NETTCPSOCKET_MEM;
    // Out at once (the original waited for lwIP's 250 ms timer, 6.5).
    tcp::output(m_pcb);
    return got;
}

int NetTcpSocket::recv(char* buf, int len) {
    if (!m_pcb) return NETTCPSOCKET_MEM;
    if (m_pcb->rcvq.bytes == 0) return 0;
    if (len < 0 || (!buf && len > 0)) return NETTCPSOCKET_SETUP;
    int n = m_pcb->rcvq.read((uint8_t*)buf, len);
    if (n > 0) tcp::windowUpdate(m_pcb);
    return n;
}

int NetTcpSocket::sendQueued() const { return m_pcb ? (int)m_pcb->sndq.bytes : 0; }

NetTcpSocketErr NetTcpSocket::close() {
    if (m_closed) return NETTCPSOCKET_OK;
    m_closed = true;
    m_cb.reset();
    m_evCount = 0;
    if (!m_pcb) return NETTCPSOCKET_MEM;
    Pcb* p = m_pcb;
    m_pcb = NULL;
    p->sock = NULL;
    if (p->parent) {  // still in a listener's queue (closed by the listener itself)
        if (p->parent->pending) p->parent->pending--;
        p->parent = NULL;
    }
    tcp::close(p);
    return NETTCPSOCKET_OK;
}

// --- Net factory and poll step -------------------------------------------------------------

NetTcpSocket* Net::tcpSocket(NetIf& netif) {
    NetTcpSocket* s = netif.tcpSocket();
    if (s) s->ref();
    return s;
}

NetTcpSocket* Net::tcpSocket() {
    if (!Net::getDefaultIf()) return NULL;
    return tcpSocket(*Net::getDefaultIf());
}

void Net::releaseTcpSocket(NetTcpSocket* s) {
    if (!s) return;
    s->unref();
    if (s->refs() <= 0 && !s->isClosed()) s->close();
}

void TcpCore::poll() {
    timers(board::micros());
    // Creation order: a listener is older than the connections it spawns, so its ACCEPT is
    // delivered first and the new socket's own events follow in the same pass.
    NetTcpSocket** pp = &sockets;
    while (*pp) {
        NetTcpSocket* s = *pp;
        s->poll();
        if (s->isClosed() && s->refs() <= 0) {
            *pp = s->m_pNextSocket;
            s->m_pNextSocket = NULL;
            delete s;
        } else {
            pp = &s->m_pNextSocket;
        }
    }
    flushAcks();
}
