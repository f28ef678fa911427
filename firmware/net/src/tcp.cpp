// TCP engine, split as lwIP splits its tcp.c: this file holds the PCB pool (allocation,
// TIME_WAIT reuse, freeing), the API NetTcpSocket calls (tcp.h: listen, connect, close,
// ports) and the timers Net::poll() runs.  Segment input is tcp_in.cpp (with ACK processing
// in tcp_ack.cpp and the receive queues/reassembly in tcp_queue.cpp); segment output,
// windows and retransmission are tcp_out.cpp.  Shared internals: tcp_priv.h.
#include "tcp_priv.h"

#include <stdlib.h>
#include <string.h>

#include "netif.h"

using namespace tcp;

NetTcpSocket* TcpCore::sockets;

namespace {

uint16_t g_port = NETCFG_TCP_EPHEMERAL_FIRST - 1;
uint32_t g_isnKey;

void unlinkPcb(Pcb* p) {
    for (Pcb** pp = &g_pcbs; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
}

// Oldest PCB in TIME_WAIT (reused when the pool is full).
Pcb* oldestTimeWait() {
    Pcb* best = NULL;
    for (Pcb* p = g_pcbs; p; p = p->next)
        if (p->state == TIME_WAIT && (!best || p->created < best->created)) best = p;
    return best;
}

}  // namespace

namespace tcp {

NetStats& S = NetCore::stats;
Pcb* g_pcbs;
int g_active;     // PCBs that are not listeners (bounded by NETCFG_TCP_PCBS)
int g_listeners;  // bounded by NETCFG_TCP_LISTENERS

// ISN (RFC 6528 in spirit): a 4 us clock plus a keyed hash of the connection's identity.
uint32_t makeIsn(uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport) {
    if (!g_isnKey) {
        uint8_t mac[6];
        board::mac_address(mac);
        g_isnKey = 0x9E3779B9u ^ ((uint32_t)mac[2] << 24 | (uint32_t)mac[3] << 16 |
                                  (uint32_t)mac[4] << 8 | mac[5]) ^ (uint32_t)board::micros();
        if (!g_isnKey) g_isnKey = 1;
    }
    uint32_t h = g_isnKey;
    uint32_t words[3] = {lip, rip, ((uint32_t)lport << 16) | rport};
    for (uint32_t w : words) {
        h ^= w;
        h *= 0x01000193u;
        h ^= h >> 15;
        h *= 0x2C1B3C6Du;
        h ^= h >> 12;
    }
    return h + (uint32_t)(board::micros() / 4u);
}

// Free a PCB (its socket, if any, must have been told already).
void freePcb(Pcb* p) {
    unlinkPcb(p);
    if (p->parent) {
        if (p->parent->pending) p->parent->pending--;
        p->parent = NULL;
    }
    if (p->state == LISTEN) g_listeners--;
    else g_active--;
    p->sndq.clear();
    p->rcvq.clear();
    freeOoo(p);
    free(p);
}

// The connection ends abnormally: tell the socket (event e), free the PCB.
void dropPcb(Pcb* p, NetTcpSocketEvent e) {
    NetTcpSocket* s = p->sock;
    p->sock = NULL;
    if (s) s->pcbLost(e);
    freePcb(p);
}

// A new PCB.  A full pool reuses the oldest TIME_WAIT PCB, and nothing else: a half-open
// connection that was sent a SYN-ACK is never evicted (its client's final ACK would meet a
// RST after its handshake completed); the new SYN is dropped instead and its client retries.
Pcb* allocPcb(NetIf* nif) {
    if (g_active >= NETCFG_TCP_PCBS) {
        Pcb* victim = oldestTimeWait();
        if (!victim) return NULL;
        dropPcb(victim, NETTCPSOCKET_CONABRT);
    }
    Pcb* p = (Pcb*)malloc(sizeof(Pcb));
    if (!p) return NULL;
    memset(p, 0, sizeof *p);
    p->netif = nif;
    p->created = now();
    p->state = CLOSED;
    p->mss = 536;  // RFC 1122 default until the peer tells
    p->rto = (uint32_t)ms(NETCFG_TCP_RTO_INIT_MS);
    p->next = g_pcbs;
    g_pcbs = p;
    g_active++;
    return p;
}

void enterTimeWait(Pcb* p) {
    p->state = TIME_WAIT;
    p->rtxAt = 0;
    p->persistAt = 0;
    p->delackAt = 0;
    p->waitAt = now() + ms(2 * NETCFG_TCP_MSL_MS);
    p->sndq.clear();
    p->rcvq.clear();
    freeOoo(p);
}

}  // namespace tcp

Pcb* tcp::pcbNew(NetIf* nif) { return allocPcb(nif); }

bool tcp::portInUse(uint16_t port, const Pcb* except) {
    for (Pcb* p = g_pcbs; p; p = p->next)
        if (p != except && p->localPort == port && p->state != TIME_WAIT) return true;
    return false;
}

uint16_t tcp::ephemeralPort() {
    for (int i = 0; i <= NETCFG_TCP_EPHEMERAL_LAST - NETCFG_TCP_EPHEMERAL_FIRST; i++) {
        g_port++;
        if (g_port > NETCFG_TCP_EPHEMERAL_LAST || g_port < NETCFG_TCP_EPHEMERAL_FIRST)
            g_port = NETCFG_TCP_EPHEMERAL_FIRST;
        bool used = false;
        for (Pcb* p = g_pcbs; p && !used; p = p->next) used = p->localPort == g_port;
        if (!used) return g_port;
    }
    return 0;
}

bool tcp::listen(Pcb* p) {
    if (g_listeners >= NETCFG_TCP_LISTENERS) return false;
    g_active--;
    g_listeners++;
    p->state = LISTEN;
    return true;
}

uint32_t tcp::sndSpace(const Pcb* p) {
    return p->sndq.bytes >= NETCFG_TCP_SND_BUF ? 0 : NETCFG_TCP_SND_BUF - p->sndq.bytes;
}

bool tcp::connect(Pcb* p, uint32_t ip, uint16_t port) {
    if (!p->netif || !p->netif->isUp() || ip == 0 || (ip >> 28) >= 0xE || ip == 0xFFFFFFFFu)
        return false;
    if (!p->localPort) {
        uint16_t lp = ephemeralPort();
        if (!lp) return false;
        p->localPort = lp;
    }
    p->localIp = p->netif->getIp().toU32();
    p->remoteIp = ip;
    p->remotePort = port;
    p->iss = makeIsn(p->localIp, p->localPort, ip, port);
    p->snd_una = p->iss;
    p->snd_nxt = p->iss;
    p->snd_max = p->iss;
    p->cwnd = p->mss;
    p->ssthresh = 0xFFFF;
    p->state = SYN_SENT;
    p->nrtx = 0;
    p->created = now();
    sendSyn(p);
    p->rtxAt = now() + ms(NETCFG_TCP_RTO_INIT_MS);
    return true;
}

void tcp::close(Pcb* p) {
    switch (p->state) {
        case LISTEN: {
            // Connections never accepted are reset (the original leaked them, 6.5), and so
            // are half-open ones.
            while (NetTcpSocket* s = p->acceptHead) {
                p->acceptHead = s->m_pNextAccept;
                s->m_pNextAccept = NULL;
                if (Pcb* c = s->pcb()) {
                    c->sock = NULL;
                    c->parent = NULL;
                    s->pcbLost(NETTCPSOCKET_CONRST);
                    abortRst(c);
                }
                s->resetOnEvent();
                s->close();
                Net::releaseTcpSocket(s);
            }
            p->acceptTail = NULL;
            for (Pcb* c = g_pcbs; c;) {
                Pcb* next = c->next;
                if (c->parent == p) {
                    c->parent = NULL;
                    if (!c->sock) abortRst(c);
                }
                c = next;
            }
            freePcb(p);
            return;
        }
        case CLOSED:
        case SYN_SENT:
            freePcb(p);
            return;
        case SYN_RCVD:
        case ESTABLISHED:
            p->finQueued = true;
            p->state = FIN_WAIT_1;
            break;
        case CLOSE_WAIT:
            p->finQueued = true;
            p->state = LAST_ACK;
            break;
        default:
            return;
    }
    p->rcvq.clear();  // unread data is dropped; later data is ACKed and discarded
    freeOoo(p);
    if (p->state == FIN_WAIT_1 && p->snd_una == p->iss) {
        // Simultaneous open still in SYN_RCVD: the FIN follows once the SYN is ACKed.
        return;
    }
    output(p);
}

void tcp::abortRst(Pcb* p) {
    if (p->state >= SYN_RCVD && p->state != TIME_WAIT)
        sendRaw(p->netif, p->localIp, p->remoteIp, p->localPort, p->remotePort, p->snd_nxt,
                p->rcv_nxt, RST | ACK, 0, NULL, 0);
    dropPcb(p, NETTCPSOCKET_CONRST);
}

void TcpCore::timers(uint64_t t) {
    for (Pcb* p = g_pcbs; p;) {
        Pcb* next = p->next;  // p may be freed; freeing never touches other PCBs here
        if (p->state == LISTEN || p->state == CLOSED) {
            p = next;
            continue;
        }
        if (p->waitAt && t >= p->waitAt) {
            dropPcb(p, NETTCPSOCKET_CONABRT);
            p = next;
            continue;
        }
        if (p->rtxAt && t >= p->rtxAt) {
            // Freeing p may abort a listener's child elsewhere in the list only via a
            // listener close, which cannot happen here.
            rtxTimeout(p, t);
            if (!next || true) {
                // p may be gone: re-find it before touching it again.
                bool alive = false;
                for (Pcb* q = g_pcbs; q; q = q->next) alive |= q == p;
                if (!alive) {
                    p = next;
                    continue;
                }
            }
        }
        if (p->persistAt && t >= p->persistAt) {
            persistTimeout(p, t);
            bool alive = false;
            for (Pcb* q = g_pcbs; q; q = q->next) alive |= q == p;
            if (!alive) {
                p = next;
                continue;
            }
        }
        if (p->delackAt && t >= p->delackAt) sendAck(p);
        p = next;
    }
}

void TcpCore::flushAcks() {
    for (Pcb* p = g_pcbs; p; p = p->next) {
        // A window held small by a short heap reopens when memory comes back (another
        // connection read or had its data acknowledged): tell the peer, or it waits for
        // its zero-window probe.
        if (!p->ackPending && p->state == ESTABLISHED) {
            uint32_t edge = lt(p->rcv_nxt, p->rcv_adv) ? p->rcv_adv - p->rcv_nxt : 0;
            uint32_t step = umin(NETCFG_TCP_WND / 2, kOurMss);
            if (edge < step && rcvSpace(p) >= edge + step) p->ackPending = true;
        }
        if (p->ackPending) {
            if (p->state == ESTABLISHED || p->state == FIN_WAIT_1 || p->state == FIN_WAIT_2 ||
                p->state == CLOSE_WAIT)
                sendAck(p);
            p->ackPending = false;
        }
    }
}

uint64_t TcpCore::nextTimerUs() {
    uint64_t best = 0;
    for (Pcb* p = g_pcbs; p; p = p->next) {
        if (p->ackPending) return 1;  // owed now (read outside Net::poll()): due at once
        uint64_t ts[4] = {p->rtxAt, p->persistAt, p->delackAt, p->waitAt};
        for (uint64_t v : ts)
            if (v && (!best || v < best)) best = v;
    }
    return best;
}

void TcpCore::detachIf(NetIf* nif) {
    // Called from the interface's destructor: nothing may be sent any more.
    for (Pcb* p = g_pcbs; p; p = p->next)
        if (p->netif == nif) p->netif = NULL;
    for (NetTcpSocket* s = sockets; s; s = s->m_pNextSocket)
        if (s->netIf() == nif) s->detachIf();
    for (Pcb* p = g_pcbs; p;) {
        Pcb* next = p->next;
        if (!p->netif) {
            if (p->state == LISTEN) {
                tcp::close(p);
                next = g_pcbs;  // the list changed
            } else {
                dropPcb(p, NETTCPSOCKET_CONABRT);
            }
        }
        p = next;
    }
}

int TcpCore::pcbsInUse() { return g_active; }

int TcpCore::listenersInUse() { return g_listeners; }
