// TCP engine: segment input (RFC 793 3.9 "SEGMENT ARRIVES" with RFC 1122 corrections and
// RFC 5961 checks), output with congestion control (RFC 5681: slow start, congestion
// avoidance, fast retransmit/recovery), retransmission timer (RFC 6298, Karn's rule,
// exponential back-off), zero-window probes, delayed ACKs, TIME_WAIT.  Written from the RFCs.
//
// All work happens inside Net::poll() (input from the interface step, timers at the start
// of the TCP step) or inside a socket call made by the application (send/recv/close/
// connect output at once).  Events for the application are queued on its NetTcpSocket.
#include "tcp.h"

#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "netif.h"
#include "netstack.h"
#include "nettcpsocket.h"
#include "rt.h"

using namespace tcp;

struct tcp::Blk {
    Blk* next;
    uint16_t off;  // first unread byte
    uint16_t len;  // bytes written
    uint16_t cap;
    uint8_t* data() { return (uint8_t*)(this + 1); }
};

struct tcp::Ooo {
    Ooo* next;
    uint32_t seq;
    uint16_t len;
    bool fin;
    uint8_t* data() { return (uint8_t*)(this + 1); }
};

NetTcpSocket* TcpCore::sockets;

namespace {
NetStats& S = NetCore::stats;
Pcb* g_pcbs;
int g_active;     // PCBs that are not listeners (bounded by NETCFG_TCP_PCBS)
int g_listeners;  // bounded by NETCFG_TCP_LISTENERS
uint16_t g_port = NETCFG_TCP_EPHEMERAL_FIRST - 1;
uint32_t g_isnKey;

const uint16_t kOurMss = NETCFG_TCP_MSS;

inline bool lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
inline bool le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
inline uint32_t umin(uint32_t a, uint32_t b) { return a < b ? a : b; }
inline uint32_t umax(uint32_t a, uint32_t b) { return a > b ? a : b; }
inline uint64_t now() { return board::micros(); }
inline uint64_t ms(uint32_t v) { return (uint64_t)v * 1000u; }

struct Seg {
    uint32_t seq, ack;
    const uint8_t* data;
    uint32_t len;  // data bytes
    uint16_t wnd;
    uint16_t mss;  // MSS option, 0 if none
    uint8_t flags;
    bool sackPerm;   // SACK-permitted option
    uint8_t nsack;   // SACK blocks (at most 4 kept)
    uint32_t sackL[4], sackR[4];
};

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

// Heap kept from receive queues: NETCFG_TCP_MEM_RESERVE while connections share the heap.
// A lone connection needs none: its own send queue frees itself as the peer acknowledges.
size_t memReserve() { return g_active > 1 ? NETCFG_TCP_MEM_RESERVE : 0; }

// Heap the receive side may still take, above the reserve.
uint32_t rcvHeap() {
    size_t size = rt_heap_size(), used = rt_heap_used(), keep = memReserve();
    return size > used + keep ? (uint32_t)(size - used - keep) : 0;
}

// Receive space of one connection: its window's room, and no more than its share of the
// heap the receive side may still take, plus what its own unacknowledged data holds (that
// comes back by itself as the peer acknowledges).  Queue blocks cost a header per MSS:
// 1/8 is kept for that.
uint32_t rcvSpace(const Pcb* p) {
    uint32_t used = p->rcvq.bytes + p->oooBytes;
    uint32_t room = used >= NETCFG_TCP_WND ? 0 : NETCFG_TCP_WND - used;
    uint32_t share = rcvHeap() / (uint32_t)(g_active > 0 ? g_active : 1) + p->sndq.bytes;
    return umin(room, share - share / 8);
}

// The window to advertise: never shrinks the right edge already advertised; grows it only
// by a useful amount (receiver-side silly window avoidance, RFC 1122 4.2.3.3).
uint16_t advWindow(const Pcb* p) {
    uint32_t space = rcvSpace(p);
    uint32_t edge = lt(p->rcv_nxt, p->rcv_adv) ? p->rcv_adv - p->rcv_nxt : 0;
    if (space <= edge) return (uint16_t)edge;
    uint32_t step = umin(NETCFG_TCP_WND / 2, kOurMss);
    if (space - edge < step && space < NETCFG_TCP_WND) return (uint16_t)edge;
    return (uint16_t)umin(space, 0xFFFF);
}

void freeOoo(Pcb* p) {
    while (p->ooo) {
        Ooo* o = p->ooo;
        p->ooo = o->next;
        free(o);
    }
    p->oooBytes = 0;
    p->oooCount = 0;
    p->sackRecentN = 0;
}

int sendRaw(NetIf* nif, uint32_t lip, uint32_t rip, uint16_t lport, uint16_t rport, uint32_t seq,
            uint32_t ack, uint8_t flags, uint16_t wnd, const uint8_t* data, uint32_t len,
            const uint8_t* opt = NULL, int optLen = 0) {
    if (!nif) return NETOUT_DOWN;
    uint8_t h[60];
    int hl = 20 + optLen;  // optLen: a multiple of 4, at most 40
    wr16(h, lport);
    wr16(h + 2, rport);
    wr32(h + 4, seq);
    wr32(h + 8, (flags & ACK) ? ack : 0);
    h[12] = (uint8_t)((hl / 4) << 4);
    h[13] = flags;
    wr16(h + 14, wnd);
    wr16(h + 16, 0);
    wr16(h + 18, 0);
    if (optLen) memcpy(h + 20, opt, (size_t)optLen);
    uint32_t sum = inet_pseudo(lip, rip, PROTO, (uint16_t)(hl + len));
    sum = inet_sum(sum, h, (size_t)hl);
    if (len) sum = inet_sum(sum, data, len);
    wr16(h + 16, inet_fold(sum));
    S.tcp_tx++;
    if (flags & RST) S.tcp_rst_tx++;
    return nif->ipOutput(IpAddr::fromU32(rip), PROTO, h, hl, data, (int)len);
}

// SACK blocks (RFC 2018 section 4) for the out-of-order data held, at most max: the block
// holding the most recently received out-of-order segment first, then the blocks of the
// segments received before it (newest first), then the others in sequence order.  Adjacent
// and overlapping segments make one block; a held FIN counts as its sequence number.
int sackBlocks(const Pcb* p, uint32_t* bl, uint32_t* br, int max) {
    uint32_t rl[NETCFG_TCP_OOSEQ_SEGS], rr[NETCFG_TCP_OOSEQ_SEGS];
    bool used[NETCFG_TCP_OOSEQ_SEGS];
    int nr = 0;
    for (const Ooo* o = p->ooo; o; o = o->next) {
        uint32_t end = o->seq + o->len + (o->fin ? 1u : 0u);
        if (nr && le(o->seq, rr[nr - 1])) {
            if (lt(rr[nr - 1], end)) rr[nr - 1] = end;
        } else if (nr < NETCFG_TCP_OOSEQ_SEGS) {
            rl[nr] = o->seq;
            rr[nr] = end;
            used[nr] = false;
            nr++;
        }
    }
    int n = 0;
    for (int i = 0; i < p->sackRecentN && n < max; i++) {
        uint32_t q = p->sackRecent[i];
        for (int k = 0; k < nr; k++) {
            if (!used[k] && le(rl[k], q) && lt(q, rr[k])) {
                used[k] = true;
                bl[n] = rl[k];
                br[n] = rr[k];
                n++;
                break;
            }
        }
    }
    for (int k = 0; k < nr && n < max; k++) {
        if (!used[k]) {
            bl[n] = rl[k];
            br[n] = rr[k];
            n++;
        }
    }
    return n;
}

// Option bytes the SACK blocks of our next ACK take (0 without out-of-order data).
uint32_t sackOptLen(const Pcb* p) {
    if (!p->sackOk || !p->ooo) return 0;
    uint32_t l[4], r[4];
    int n = sackBlocks(p, l, r, 4);
    return n ? 4u + 8u * (uint32_t)n : 0u;
}

// Largest data a segment may carry now: the send MSS less the options it carries (RFC 6691),
// so a data segment with SACK blocks still fits the peer's MSS and our MTU.
uint32_t sendMss(const Pcb* p) { return p->mss - sackOptLen(p); }

// A segment of the connection.  syn: a SYN or SYN-ACK (MSS option, SACK-permitted when we
// offer it); otherwise an ACK carries SACK blocks while out-of-order data is held (as many as
// fit beside its data within the send MSS; all of them in segments sized by sendMss()).
void sendSeg(Pcb* p, uint32_t seq, uint8_t flags, const uint8_t* data, uint32_t len, bool syn) {
    uint16_t wnd = advWindow(p);
    uint8_t opt[40];
    int ol = 0;
    if (syn) {
        opt[0] = 2;
        opt[1] = 4;
        wr16(opt + 2, kOurMss);
        ol = 4;
        // Offered in our SYN; in a SYN-ACK only if the peer's SYN offered it.
        bool sack = p->state == SYN_SENT ? NETCFG_TCP_SACK != 0 : p->sackOk;
        if (sack) {
            opt[4] = 1;  // NOP NOP SACK-permitted
            opt[5] = 1;
            opt[6] = 4;
            opt[7] = 2;
            ol = 8;
        }
    } else if ((flags & ACK) && p->sackOk && p->ooo) {
        int max = 4;  // 4 + 4 x 8 = 36 option bytes (no timestamps)
        if (len) {
            int room = (int)p->mss - (int)len - 4;
            max = room >= 8 ? (room / 8 < 4 ? room / 8 : 4) : 0;
        }
        uint32_t l[4], r[4];
        int n = max ? sackBlocks(p, l, r, max) : 0;
        if (n) {
            opt[0] = 1;
            opt[1] = 1;
            opt[2] = 5;
            opt[3] = (uint8_t)(2 + 8 * n);
            for (int i = 0; i < n; i++) {
                wr32(opt + 4 + 8 * i, l[i]);
                wr32(opt + 8 + 8 * i, r[i]);
            }
            ol = 4 + 8 * n;
        }
    }
    sendRaw(p->netif, p->localIp, p->remoteIp, p->localPort, p->remotePort, seq, p->rcv_nxt, flags,
            wnd, data, len, opt, ol);
    if (flags & ACK) {
        p->delackAt = 0;
        p->fullSegs = 0;
        p->ackPending = false;
        uint32_t edge = p->rcv_nxt + wnd;
        if (lt(p->rcv_adv, edge)) p->rcv_adv = edge;
    }
}

void sendSyn(Pcb* p) {
    uint8_t fl = SYN;
    if (p->state == SYN_RCVD) fl |= ACK;
    // Karn's rule for the handshake: only a SYN sent once gives an RTT sample.
    bool first = lt(p->snd_max, p->iss + 1);
    p->rttTiming = first;
    if (first) p->rttStart = now();
    sendSeg(p, p->iss, fl, NULL, 0, true);
    if (lt(p->snd_nxt, p->iss + 1)) p->snd_nxt = p->iss + 1;
    if (lt(p->snd_max, p->iss + 1)) p->snd_max = p->iss + 1;
}

// RST in answer to a segment that has no connection (RFC 793 "reset generation").
void rstFor(NetIf* nif, uint32_t lip, uint32_t rip, uint16_t lport, uint16_t rport, const Seg& s) {
    if (s.flags & RST) return;
    if (s.flags & ACK)
        sendRaw(nif, lip, rip, lport, rport, s.ack, 0, RST, 0, NULL, 0);
    else
        sendRaw(nif, lip, rip, lport, rport, 0,
                s.seq + s.len + ((s.flags & SYN) ? 1 : 0) + ((s.flags & FIN) ? 1 : 0), RST | ACK, 0,
                NULL, 0);
}

void unlinkPcb(Pcb* p) {
    for (Pcb** pp = &g_pcbs; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
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

// Oldest PCB in TIME_WAIT (reused when the pool is full).
Pcb* oldestTimeWait() {
    Pcb* best = NULL;
    for (Pcb* p = g_pcbs; p; p = p->next)
        if (p->state == TIME_WAIT && (!best || p->created < best->created)) best = p;
    return best;
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

void armRtx(Pcb* p) { p->rtxAt = now() + p->rto; }

bool outstanding(const Pcb* p) { return p->snd_una != p->snd_max; }

// Make sure a timer watches unacknowledged data.
void checkTimers(Pcb* p) {
    if (outstanding(p)) {
        if (!p->rtxAt && !p->persistAt) armRtx(p);
    } else {
        p->rtxAt = 0;
    }
}

void rttSample(Pcb* p, uint32_t r) {
    if (r == 0) r = 1;
    if (!p->srtt) {
        p->srtt = r;
        p->rttvar = r / 2;
    } else {
        uint32_t d = p->srtt > r ? p->srtt - r : r - p->srtt;
        p->rttvar = (3 * p->rttvar + d) / 4;
        p->srtt = (7 * p->srtt + r) / 8;
    }
    uint64_t rto = (uint64_t)p->srtt + umax(1000u, 4 * p->rttvar);  // G = 1 ms
    if (rto < ms(NETCFG_TCP_RTO_MIN_MS)) rto = ms(NETCFG_TCP_RTO_MIN_MS);
    if (rto > ms(NETCFG_TCP_RTO_MAX_MS)) rto = ms(NETCFG_TCP_RTO_MAX_MS);
    p->rto = (uint32_t)rto;
}

// Duplicate ACKs that trigger a fast retransmit: 3 (RFC 5681), or with early retransmit
// (RFC 5827, the byte-based variant: oseg = ceiling(FlightSize / SMSS)) oseg - 1 when fewer
// than 4 segments are outstanding and no new segment can be sent (no unsent data, or the
// peer's window allows none).  Byte-based, because an echo through our small windows sends
// many small segments: counted one by one they would keep the threshold at 3 for about
// two segments' worth of data.
uint32_t dupThresh(const Pcb* p) {
    uint32_t flight = p->snd_max - p->snd_una;
    uint32_t oseg = (flight + p->mss - 1) / p->mss;
    if (oseg < 2 || oseg >= 4) return 3;
    uint32_t unsent = 0;
    if (!p->finSent) {
        unsent = p->sndq.bytes > flight ? p->sndq.bytes - flight : 0;
        if (p->finQueued) unsent++;
    }
    if (unsent) {
        uint32_t right = p->snd_una + p->snd_wnd;
        uint32_t room = lt(p->snd_max, right) ? right - p->snd_max : 0;
        if (room >= umin(unsent, sendMss(p))) return 3;  // new data can go: limited transmit
    }
    return oseg - 1;
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

// Store an out-of-order segment (bounded by NETCFG_TCP_OOSEQ_SEGS and the window).
void oooInsert(Pcb* p, uint32_t seq, const uint8_t* data, uint32_t len, bool fin) {
    if (!len && !fin) return;
    Ooo** pp = &p->ooo;
    while (*pp && lt((*pp)->seq, seq)) pp = &(*pp)->next;
    if (*pp && (*pp)->seq == seq && (*pp)->len >= len) return;  // duplicate
    if (p->oooCount >= NETCFG_TCP_OOSEQ_SEGS) return;
    if (rt_heap_used() + sizeof(Ooo) + len + memReserve() > rt_heap_size()) return;
    Ooo* o = (Ooo*)malloc(sizeof(Ooo) + len);
    if (!o) return;
    o->seq = seq;
    o->len = (uint16_t)len;
    o->fin = fin;
    if (len) memcpy(o->data(), data, len);
    o->next = *pp;
    *pp = o;
    p->oooBytes += len;
    p->oooCount++;
    S.tcp_ooseq++;
}

// The latest out-of-order segment began at seq: its SACK block goes first.
void sackNote(Pcb* p, uint32_t seq) {
    int n = 0;
    uint32_t keep[4];
    for (int i = 0; i < p->sackRecentN && n < 3; i++)
        if (p->sackRecent[i] != seq) keep[n++] = p->sackRecent[i];
    p->sackRecent[0] = seq;
    for (int i = 0; i < n; i++) p->sackRecent[i + 1] = keep[i];
    p->sackRecentN = (uint8_t)(n + 1);
}

}  // namespace

// --- byte queues -----------------------------------------------------------------------------

int Queue::append(const uint8_t* p, int n) {
    int done = 0;
    while (done < n) {
        if (!tail || tail->len == tail->cap) {
            Blk* b = (Blk*)malloc(sizeof(Blk) + NETCFG_TCP_MSS);
            if (!b) break;
            b->next = NULL;
            b->off = 0;
            b->len = 0;
            b->cap = NETCFG_TCP_MSS;
            if (tail) tail->next = b;
            else head = b;
            tail = b;
        }
        int k = n - done;
        if (k > tail->cap - tail->len) k = tail->cap - tail->len;
        memcpy(tail->data() + tail->len, p + done, (size_t)k);
        tail->len = (uint16_t)(tail->len + k);
        done += k;
    }
    bytes += (uint32_t)done;
    return done;
}

void Queue::drop(uint32_t n) {
    while (n && head) {
        uint32_t k = umin(n, (uint32_t)(head->len - head->off));
        head->off = (uint16_t)(head->off + k);
        n -= k;
        bytes -= k;
        if (head->off == head->len) {
            Blk* b = head;
            head = b->next;
            if (!head) tail = NULL;
            free(b);
        }
    }
}

int Queue::read(uint8_t* dst, int n) {
    int done = 0;
    while (done < n && head) {
        int k = umin((uint32_t)(n - done), (uint32_t)(head->len - head->off));
        memcpy(dst + done, head->data() + head->off, (size_t)k);
        done += k;
        drop((uint32_t)k);
    }
    return done;
}

const uint8_t* Queue::at(uint32_t off, uint32_t* contig) const {
    for (Blk* b = head; b; b = b->next) {
        uint32_t avail = (uint32_t)(b->len - b->off);
        if (off < avail) {
            *contig = avail - off;
            return b->data() + b->off + off;
        }
        off -= avail;
    }
    *contig = 0;
    return NULL;
}

void Queue::peek(uint32_t off, uint8_t* dst, uint32_t n) const {
    for (Blk* b = head; b && n; b = b->next) {
        uint32_t avail = (uint32_t)(b->len - b->off);
        if (off >= avail) {
            off -= avail;
            continue;
        }
        uint32_t k = umin(avail - off, n);
        memcpy(dst, b->data() + b->off + off, k);
        dst += k;
        n -= k;
        off = 0;
    }
}

void Queue::clear() {
    while (head) {
        Blk* b = head;
        head = b->next;
        free(b);
    }
    tail = NULL;
    bytes = 0;
}

// --- API for NetTcpSocket ----------------------------------------------------------------------

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

void tcp::sendAck(Pcb* p) { sendSeg(p, p->snd_nxt, ACK, NULL, 0, false); }

void tcp::windowUpdate(Pcb* p) {
    if (p->state != ESTABLISHED && p->state != FIN_WAIT_1 && p->state != FIN_WAIT_2) return;
    uint32_t edge = lt(p->rcv_nxt, p->rcv_adv) ? p->rcv_adv - p->rcv_nxt : 0;
    uint32_t space = rcvSpace(p);
    // Owed, not sent: if the application answers within this poll (an echo, a request's
    // reply), its data segment carries the new window; otherwise flushAcks() sends it.
    if (space > edge && space - edge >= umin(NETCFG_TCP_WND / 2, kOurMss)) p->ackPending = true;
}

void tcp::output(Pcb* p) {
    if (p->state != ESTABLISHED && p->state != CLOSE_WAIT && p->state != FIN_WAIT_1 &&
        p->state != CLOSING && p->state != LAST_ACK)
        return;
    bool waiting = false;
    uint32_t smss = sendMss(p);
    for (;;) {
        uint32_t off = p->snd_nxt - p->snd_una;
        if (off > p->sndq.bytes) break;  // only the FIN was beyond the data: sent
        uint32_t avail = p->sndq.bytes - off;
        // Limited transmit (RFC 3042): the first and second duplicate ACK each let one new
        // segment out beyond the congestion window (the peer's window still applies).
        uint32_t extra = 0;
        if (!p->inRecovery && p->dupacks && p->dupacks < 3 && p->snd_nxt == p->snd_max)
            extra = (uint32_t)p->dupacks * smss;
        uint32_t wnd = umin(p->snd_wnd, p->cwnd + extra);
        uint32_t flight = p->snd_nxt - p->snd_una;
        uint32_t usable = wnd > flight ? wnd - flight : 0;
        uint32_t n = umin(umin(avail, usable), smss);
        // Sender-side silly window avoidance: no small segment while the window (not the
        // data) is what limits it, unless it is at least half the largest window seen.
        if (n && n < avail && n < smss && n < p->maxSndWnd / 2) n = 0;
        uint32_t contig = 0;
        const uint8_t* d = n ? p->sndq.at(off, &contig) : NULL;
        uint8_t tmp[NETCFG_TCP_MSS];
        if (n > contig) {  // the segment spans two buffer blocks: gather it
            p->sndq.peek(off, tmp, n);
            d = tmp;
        }
        bool fin = p->finQueued && off + n == p->sndq.bytes;
        if (!n && !fin) {
            waiting = avail > 0;
            break;
        }
        uint8_t fl = ACK;
        if (n && off + n == p->sndq.bytes) fl |= PSH;
        if (fin) fl |= FIN;
        if (!p->rttTiming && le(p->snd_max, p->snd_nxt)) {  // new data only (Karn)
            p->rttTiming = true;
            p->rttSeq = p->snd_nxt;
            p->rttStart = now();
        }
        sendSeg(p, p->snd_nxt, fl, d, n, false);
        if (fin) {
            p->finSent = true;
            p->finSeq = p->snd_nxt + n;
        }
        p->snd_nxt += n + (fin ? 1 : 0);
        if (lt(p->snd_max, p->snd_nxt)) p->snd_max = p->snd_nxt;
        if (!p->rtxAt) armRtx(p);
        p->persistAt = 0;
        if (fin) break;
    }
    // Data waiting for the window with nothing in flight: probe (RFC 1122 4.2.2.17).
    if (waiting && p->snd_nxt == p->snd_una && !p->persistAt) {
        p->rtxAt = 0;
        p->persistShift = 0;
        p->persistAt = now() + p->rto;
    }
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

// --- input ---------------------------------------------------------------------------------------

namespace {

Pcb* findPcb(uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport, bool* listener) {
    Pcb* lis = NULL;
    for (Pcb* p = g_pcbs; p; p = p->next) {
        if (p->localPort != lport) continue;
        if (p->state == LISTEN) {
            lis = p;
        } else if (p->state != CLOSED && p->remotePort == rport && p->remoteIp == rip &&
                   p->localIp == lip) {
            *listener = false;
            return p;
        }
    }
    *listener = lis != NULL;
    return lis;
}

void listenInput(Pcb* lis, NetIf* nif, uint32_t lip, uint32_t rip, uint16_t lport, uint16_t rport,
                 const Seg& s) {
    if (s.flags & RST) return;
    if (s.flags & ACK) {
        rstFor(nif, lip, rip, lport, rport, s);
        return;
    }
    if (!(s.flags & SYN)) return;
    if (lis->pending >= NETCFG_TCP_BACKLOG) {
        // Queue full (half-open + not yet accepted): the SYN is dropped silently and its
        // client retries.  No half-open connection is evicted: its client already has our
        // SYN-ACK and would be reset right after completing the handshake.  A flood cannot
        // lock the listener for good: half-open connections give up after
        // NETCFG_TCP_SYNACK_MAXRTX retransmissions (rtxTimeout).
        S.tcp_syn_dropped++;
        return;
    }
    Pcb* p = allocPcb(nif);
    if (!p) {
        S.tcp_syn_dropped++;
        return;
    }
    p->parent = lis;
    lis->pending++;
    p->localIp = lip;
    p->remoteIp = rip;
    p->localPort = lport;
    p->remotePort = rport;
    p->irs = s.seq;
    p->rcv_nxt = s.seq + 1;
    p->rcv_adv = p->rcv_nxt;
    p->iss = makeIsn(lip, lport, rip, rport);
    p->snd_una = p->iss;
    p->snd_nxt = p->iss;
    p->snd_max = p->iss;
    p->snd_wnd = s.wnd;
    p->maxSndWnd = s.wnd;
    p->snd_wl1 = s.seq;
    p->snd_wl2 = p->iss;
    p->mss = (uint16_t)umin(s.mss ? s.mss : 536, kOurMss);
    if (p->mss < 64) p->mss = 64;
    p->sackOk = NETCFG_TCP_SACK && s.sackPerm;
    p->state = SYN_RCVD;
    sendSyn(p);
    p->rtxAt = now() + ms(NETCFG_TCP_RTO_INIT_MS);
}

void synSentInput(Pcb* p, const Seg& s) {
    bool ackOk = false;
    if (s.flags & ACK) {
        if (le(s.ack, p->iss) || lt(p->snd_max, s.ack)) {
            if (!(s.flags & RST))
                sendRaw(p->netif, p->localIp, p->remoteIp, p->localPort, p->remotePort, s.ack, 0,
                        RST, 0, NULL, 0);
            return;
        }
        ackOk = true;
    }
    if (s.flags & RST) {
        if (ackOk) dropPcb(p, NETTCPSOCKET_CONRST);  // connection refused
        return;
    }
    if (!(s.flags & SYN)) return;
    p->irs = s.seq;
    p->rcv_nxt = s.seq + 1;
    p->rcv_adv = p->rcv_nxt;
    p->mss = (uint16_t)umin(s.mss ? s.mss : 536, kOurMss);
    if (p->mss < 64) p->mss = 64;
    p->sackOk = NETCFG_TCP_SACK && s.sackPerm;
    p->snd_wnd = s.wnd;
    p->maxSndWnd = s.wnd;
    p->snd_wl1 = s.seq;
    p->snd_wl2 = s.ack;
    if (ackOk) {
        p->snd_una = s.ack;
        p->snd_nxt = s.ack;
        p->state = ESTABLISHED;
        p->rtxAt = 0;
        p->nrtx = 0;
        p->cwnd = umin(4u * p->mss, umax(2u * p->mss, 4380u));
        if (p->rttTiming) rttSample(p, (uint32_t)(now() - p->rttStart));  // Karn
        p->rttTiming = false;
        sendAck(p);
        if (p->sock) p->sock->queueEvent(NETTCPSOCKET_CONNECTED);
        output(p);  // data queued while connecting
    } else {
        // Simultaneous open (RFC 793 figure 8).
        p->state = SYN_RCVD;
        sendSyn(p);
        p->rtxAt = now() + ms(NETCFG_TCP_RTO_INIT_MS);
    }
}

// A data/FIN segment in sequence: deliver, then anything from the out-of-order list that
// now fits.  Returns true when a FIN was consumed.
bool deliver(Pcb* p, uint32_t seq, const uint8_t* data, uint32_t len, bool fin) {
    bool finDone = false;
    for (;;) {
        // seq <= rcv_nxt here: cut what we already have.
        uint32_t skip = p->rcv_nxt - seq;
        if (skip > len) {  // entirely old (a FIN counted too)
            if (skip == len + 1 && fin) fin = false;
            len = 0;
            skip = 0;
            fin = false;
        }
        data += skip;
        len -= skip;
        if (len) {
            if (p->sock) {
                bool wasEmpty = p->rcvq.bytes == 0;
                // Data inside a window offered earlier may meet a heap shared since: it
                // never takes the last half of the reserve (the rest comes again).
                size_t hsize = rt_heap_size(), hused = rt_heap_used();
                size_t keep = memReserve() / 2;
                uint32_t fits = hsize > hused + keep ? (uint32_t)(hsize - hused - keep) : 0;
                uint32_t take = umin(len, fits - fits / 8);
                uint32_t got = take ? (uint32_t)p->rcvq.append(data, (int)take) : 0;
                if (got < len) fin = false;  // out of memory: the rest comes again
                p->rcv_nxt += got;
                if (got && wasEmpty) p->sock->queueEvent(NETTCPSOCKET_READABLE);
            } else {
                p->rcv_nxt += len;  // closed by the application: ACKed and discarded
            }
        }
        if (fin) {
            p->rcv_nxt++;
            finDone = true;
            freeOoo(p);
            break;
        }
        // Pull the next out-of-order piece if it is now in sequence.
        Ooo* o = p->ooo;
        if (!o || lt(p->rcv_nxt, o->seq)) break;
        p->ooo = o->next;
        p->oooBytes -= o->len;
        p->oooCount--;
        // Copy out before freeing.
        uint32_t oseq = o->seq, olen = o->len;
        bool ofin = o->fin;
        uint32_t oskip = p->rcv_nxt - oseq;
        if (oskip < olen || (oskip == olen && ofin)) {
            uint32_t n = olen > oskip ? olen - oskip : 0;
            if (n) {
                if (p->sock) {
                    bool wasEmpty = p->rcvq.bytes == 0;
                    uint32_t got = (uint32_t)p->rcvq.append(o->data() + oskip, (int)n);
                    p->rcv_nxt += got;
                    if (got && wasEmpty) p->sock->queueEvent(NETTCPSOCKET_READABLE);
                    if (got < n) ofin = false;
                } else {
                    p->rcv_nxt += n;
                }
            }
            free(o);
            if (ofin) {
                p->rcv_nxt++;
                finDone = true;
                freeOoo(p);
                break;
            }
        } else {
            free(o);
        }
        seq = p->rcv_nxt;
        data = NULL;
        len = 0;
        fin = false;
    }
    return finDone;
}

// The third segment of a passive open arrived: the connection goes to the listener's
// accept queue (one ACCEPT event on the listener, none on the new socket).
bool passiveEstablished(Pcb* p) {
    Pcb* lis = p->parent;
    if (!lis) return true;
    NetTcpSocket* s = new (std::nothrow) NetTcpSocket(p->netif, p);
    if (!s) {
        abortRst(p);
        return false;
    }
    s->ref();  // held by the accept queue until accept() hands it over
    p->sock = s;
    if (lis->acceptTail) lis->acceptTail->m_pNextAccept = s;
    else lis->acceptHead = s;
    lis->acceptTail = s;
    if (lis->sock) lis->sock->queueEvent(NETTCPSOCKET_ACCEPT);
    return true;
}

void ackNewData(Pcb* p, const Seg& s) {
    uint32_t acked = s.ack - p->snd_una;
    uint32_t dataAcked = umin(acked, p->sndq.bytes);
    p->sndq.drop(dataAcked);
    p->snd_una = s.ack;
    if (lt(p->snd_nxt, p->snd_una)) p->snd_nxt = p->snd_una;
    // SACKed bytes still above the ACK (at most; holes between blocks are not tracked).
    p->sackBytes = lt(s.ack, p->sackHigh) ? umin(p->sackBytes, p->sackHigh - s.ack) : 0;
    if (p->finSent && s.ack == p->finSeq + 1) p->finAcked = true;
    // RTT (Karn: only when nothing timed was retransmitted).
    if (p->rttTiming && lt(p->rttSeq, s.ack)) {
        p->rttTiming = false;
        rttSample(p, (uint32_t)(now() - p->rttStart));
    }
    p->nrtx = 0;
    p->probes = 0;
    // Congestion control.
    if (p->inRecovery) {
        if (le(p->recover, s.ack)) {
            p->inRecovery = false;
            p->cwnd = p->ssthresh;  // full ACK: deflate
        } else {
            // Partial ACK (RFC 6582): retransmit the next hole, partially deflate.
            uint32_t contig = 0;
            const uint8_t* d = p->sndq.at(0, &contig);
            uint32_t n = umin(umin(contig, p->sndq.bytes), sendMss(p));
            if (n) {
                if (p->rttTiming && lt(p->rttSeq, p->snd_una + n)) p->rttTiming = false;  // Karn
                sendSeg(p, p->snd_una, ACK, d, n, false);
                S.tcp_retransmits++;
            }
            p->cwnd = p->cwnd > acked ? p->cwnd - acked + p->mss : p->mss;
        }
    } else if (p->cwnd < p->ssthresh) {
        p->cwnd += umin(acked, p->mss);
    } else {
        uint32_t inc = (uint32_t)p->mss * p->mss / (p->cwnd ? p->cwnd : 1);
        p->cwnd += inc ? inc : 1;
    }
    if (p->cwnd > 0xFFFFFu) p->cwnd = 0xFFFFFu;
    p->dupacks = 0;
    if (outstanding(p)) armRtx(p);
    else p->rtxAt = 0;
    if (dataAcked && p->sock) p->sock->queueEvent(NETTCPSOCKET_WRITEABLE);
}

void fastRetransmit(Pcb* p) {
    uint32_t flight = p->snd_max - p->snd_una;
    p->ssthresh = umax(flight / 2, 2u * p->mss);
    p->recover = p->snd_max;
    p->inRecovery = true;
    uint32_t contig = 0;
    const uint8_t* d = p->sndq.at(0, &contig);
    uint32_t n = umin(umin(contig, p->sndq.bytes), sendMss(p));
    bool fin = p->finSent && n == p->sndq.bytes;
    if (n || fin) {
        sendSeg(p, p->snd_una, (uint8_t)(ACK | (fin ? FIN : 0)), d, n, false);
        S.tcp_retransmits++;
    }
    // Karn: the timed segment retransmitted gives no sample.  Without SACK a timed segment
    // after the hole would be ACKed only when the hole is filled (a stretched sample): stop
    // timing; with SACK its own SACK times it.
    if (!p->sackOk || (p->rttTiming && lt(p->rttSeq, p->snd_una + (n ? n : 1)))) p->rttTiming = false;
    // Inflated by the segments the duplicate ACKs say have left the network (3, or fewer
    // with early retransmit).
    p->cwnd = p->ssthresh + (uint32_t)p->dupacks * p->mss;
    armRtx(p);
}

enum AckResult { ACK_OK, ACK_TOO_NEW, ACK_GONE };

// Step 5 of RFC 793 (p. 72) for a connection past SYN_RCVD: new data acknowledged, the
// send window, duplicate ACKs (counted only for acceptable segments), our FIN acknowledged.
// ACK_TOO_NEW: it acknowledges something not yet sent (nothing done); ACK_GONE: p was
// freed (LAST_ACK done).  CLOSING -> TIME_WAIT leaves p in TIME_WAIT.
AckResult ackInput(Pcb* p, const Seg& s, bool acceptable) {
    if (lt(p->snd_max, s.ack)) return ACK_TOO_NEW;
    // SACK blocks (RFC 2018) covering data above the highest yet SACKed: the peer holds a
    // segment that left after a missing one.  Blocks below the ACK (D-SACK) or beyond what
    // we sent are ignored.
    bool sackNews = false;
    if (p->sackOk) {
        if (lt(p->sackHigh, p->snd_una) || lt(p->snd_max, p->sackHigh)) {
            p->sackHigh = p->snd_una;
            p->sackBytes = 0;
        }
        for (int i = 0; i < s.nsack; i++) {
            if (!(lt(s.sackL[i], s.sackR[i]) && le(s.ack, s.sackL[i]) && le(s.sackR[i], p->snd_max)))
                continue;
            if (lt(p->sackHigh, s.sackR[i])) {
                uint32_t from = lt(p->sackHigh, s.sackL[i]) ? s.sackL[i] : p->sackHigh;
                p->sackBytes += s.sackR[i] - from;
                p->sackHigh = s.sackR[i];
                sackNews = true;
            }
            // The timed segment SACKed: an RTT sample at once, not one stretched by the
            // recovery of a hole before it (the only samples a lossy path would give, and
            // a backed-off RTO would wait for them).
            if (p->rttTiming && le(s.sackL[i], p->rttSeq) && lt(p->rttSeq, s.sackR[i])) {
                p->rttTiming = false;
                rttSample(p, (uint32_t)(now() - p->rttStart));
            }
        }
    }
    bool dup = false;
    if (lt(p->snd_una, s.ack)) {
        ackNewData(p, s);
    } else if (s.ack == p->snd_una && outstanding(p)) {
        // A duplicate ACK: with SACK, one that SACKs new data, data-carrying or not, even
        // one whose sequence number is at the right edge of our full window (RFC 6675: a
        // duplicated or reordered copy of an ACK tells nothing new); without, an acceptable
        // pure ACK with the same window (RFC 5681).
        if (p->sackOk)
            dup = sackNews;
        else
            dup = acceptable && s.len == 0 && !(s.flags & FIN) && s.wnd == p->snd_wnd;
    }
    // Window update (RFC 793 p. 72: SND.WL1 < SEG.SEQ, or SND.WL1 = SEG.SEQ and
    // SND.WL2 =< SEG.ACK).  Also when the ACK is newer than SND.WL2: the peer's ACKs only
    // grow, so that segment was sent later than the one the window came from (a window
    // probe or a duplicate below SND.WL1 still updates the window then).  Old segments,
    // with older sequence numbers and ACKs, never move the window.
    bool opened = false;
    if (lt(p->snd_wl1, s.seq) || (p->snd_wl1 == s.seq && le(p->snd_wl2, s.ack)) ||
        lt(p->snd_wl2, s.ack)) {
        opened = s.wnd > p->snd_wnd;
        p->snd_wnd = s.wnd;
        if (lt(p->snd_wl1, s.seq)) p->snd_wl1 = s.seq;
        p->snd_wl2 = s.ack;
        if (s.wnd > p->maxSndWnd) p->maxSndWnd = s.wnd;
        if (s.wnd) p->probes = 0;
    }
    if (s.ack == p->snd_una) p->probes = 0;  // the peer is alive
    if (dup) {
        if (p->dupacks < 255) p->dupacks++;
        if (p->inRecovery) {
            p->cwnd += p->mss;  // inflate: each dup ACK means a segment left the network
        } else {
            // 3 duplicate ACKs, or fewer: early retransmit (RFC 5827); or, with SACK, more
            // than (threshold - 1) x SMSS bytes SACKed above the first unacknowledged
            // segment (RFC 6675 IsLost): one ACK whose SACK block covers the rest of the
            // flight says as much as several duplicate ACKs.
            uint32_t th = dupThresh(p);
            if (p->dupacks >= th || (p->sackOk && p->sackBytes > (th - 1) * (uint32_t)p->mss))
                fastRetransmit(p);
        }
    }
    // (An old ACK, below snd_una, is ignored: reordering must not reset the count.)
    if (opened && p->snd_wnd && p->persistAt) {
        p->persistAt = 0;
        p->persistShift = 0;
    }
    // FIN acknowledged?
    switch (p->state) {
        case FIN_WAIT_1:
            if (p->finAcked) {
                p->state = FIN_WAIT_2;
                if (!p->sock) p->waitAt = now() + ms(NETCFG_TCP_FIN_WAIT_MS);
            }
            break;
        case CLOSING:
            if (p->finAcked) enterTimeWait(p);
            break;
        case LAST_ACK:
            if (p->finAcked) {
                dropPcb(p, NETTCPSOCKET_CONRST);
                return ACK_GONE;
            }
            break;
        default:
            break;
    }
    return ACK_OK;
}

// A segment outside the window that may still carry a useful ACK: its sequence number lies
// between one window below rcv_nxt (old: a probe at rcv_nxt - 1, a duplicate) and the
// right edge of what we advertised (beyond rcv_nxt only while our window is zero), not a
// blind guess from far away.
bool oldOrZeroWindow(const Pcb* p, const Seg& s, uint32_t wnd) {
    uint32_t edge = p->rcv_nxt + wnd;
    if (lt(edge, p->rcv_adv)) edge = p->rcv_adv;
    return le(p->rcv_nxt - 0xFFFFu, s.seq) && le(s.seq, edge);
}

// States SYN_RCVD .. TIME_WAIT (RFC 793 p. 69 onwards).
void syncInput(Pcb* p, Seg s) {
    uint32_t segLen = s.len + ((s.flags & SYN) ? 1 : 0) + ((s.flags & FIN) ? 1 : 0);
    uint32_t wnd = advWindow(p);
    if (lt(p->rcv_nxt, p->rcv_adv) && p->rcv_adv - p->rcv_nxt > wnd) wnd = p->rcv_adv - p->rcv_nxt;
    // 1. sequence number acceptable?
    bool ok;
    if (segLen == 0)
        ok = wnd == 0 ? s.seq == p->rcv_nxt : (le(p->rcv_nxt, s.seq) && lt(s.seq, p->rcv_nxt + wnd));
    else  // any overlap with the window (a superset of RFC 793's first-or-last-octet test:
          // a retransmission that starts before rcv_nxt and runs past the right edge still
          // carries the bytes we wait for; both ends are trimmed below)
        ok = wnd != 0 && lt(s.seq, p->rcv_nxt + wnd) && lt(p->rcv_nxt, s.seq + segLen);
    // Simultaneous open: the peer's SYN-ACK repeats its SYN (RFC 793 figure 8).
    if (p->state == SYN_RCVD && (s.flags & SYN) && s.seq == p->irs) {
        if ((s.flags & ACK) && lt(p->snd_una, s.ack) && le(s.ack, p->snd_max)) {
            s.flags &= (uint8_t)~SYN;
            s.seq++;
            segLen--;
            ok = segLen == 0 ? s.seq == p->rcv_nxt : ok;
        } else {
            sendSyn(p);
            return;
        }
    }
    // A zero window still takes ACKs and RSTs at rcv_nxt (RFC 793 p. 69).
    if (!ok && wnd == 0 && s.seq == p->rcv_nxt) {
        ok = true;
        s.len = 0;
        s.flags &= (uint8_t)~FIN;
    }
    if (!ok) {
        if (s.flags & RST) return;
        if (p->state == SYN_RCVD && (s.flags & SYN) && s.seq == p->irs) {
            sendSyn(p);  // our SYN-ACK was lost: the peer repeats its SYN
            return;
        }
        if (p->state == TIME_WAIT && (s.flags & FIN)) p->waitAt = now() + ms(2 * NETCFG_TCP_MSL_MS);
        S.tcp_dropped++;
        // Unacceptable only because our window is zero or because it is old (a window
        // probe at rcv_nxt - 1, a duplicate): its data is dropped, but its ACK and window
        // are still processed (RFC 793 p. 69, RFC 1122 4.2.2.17), or a peer probing our
        // zero window could never tell us it got our data, and we would retransmit data
        // already acknowledged while both windows stay closed.
        if ((s.flags & ACK) && !(s.flags & SYN) && p->state >= ESTABLISHED &&
            p->state != TIME_WAIT && oldOrZeroWindow(p, s, wnd)) {
            uint32_t tx0 = S.tcp_tx;
            AckResult r = ackInput(p, s, false);
            if (r == ACK_GONE) return;
            if (r == ACK_OK) {
                output(p);
                checkTimers(p);
            }
            if (S.tcp_tx != tx0 && r == ACK_OK) return;  // a data segment carried the ACK
        }
        sendAck(p);
        return;
    }
    // Trim to the window: data before rcv_nxt, and beyond the right edge.  Data we already
    // had means the peer retransmitted: it is recovering a loss, and its ACK goes at once.
    bool resent = s.len && lt(s.seq, p->rcv_nxt);
    if (lt(s.seq, p->rcv_nxt)) {
        uint32_t cut = p->rcv_nxt - s.seq;
        if (s.flags & SYN) {
            s.flags &= (uint8_t)~SYN;
            cut--;
            s.seq++;
        }
        if (cut > s.len) cut = s.len;
        s.data += cut;
        s.len -= cut;
        s.seq += cut;
    }
    uint32_t room = wnd - (s.seq - p->rcv_nxt);
    if (s.len > room) {
        s.len = room;
        s.flags &= (uint8_t)~FIN;
    }
    // 2. RST (RFC 5961 3.2: exact match resets, in-window gets a challenge ACK).
    if (s.flags & RST) {
        if (s.seq != p->rcv_nxt) {
            sendAck(p);
            return;
        }
        if (p->state == SYN_RCVD && !p->sock) {
            freePcb(p);  // passive open: back to LISTEN
        } else if (p->state == CLOSING || p->state == LAST_ACK || p->state == TIME_WAIT) {
            dropPcb(p, NETTCPSOCKET_CONRST);
        } else {
            dropPcb(p, NETTCPSOCKET_CONRST);
        }
        return;
    }
    // 4. SYN in the window: challenge ACK (RFC 5961 4.2).
    if (s.flags & SYN) {
        sendAck(p);
        return;
    }
    // 5. ACK.
    if (!(s.flags & ACK)) return;
    if (p->state == SYN_RCVD) {
        if (!(lt(p->snd_una, s.ack) && le(s.ack, p->snd_max))) {
            sendRaw(p->netif, p->localIp, p->remoteIp, p->localPort, p->remotePort, s.ack, 0, RST,
                    0, NULL, 0);
            return;
        }
        p->snd_una = p->iss + 1;
        p->state = p->finQueued ? FIN_WAIT_1 : ESTABLISHED;
        p->rtxAt = 0;
        p->nrtx = 0;
        p->snd_wnd = s.wnd;
        p->maxSndWnd = umax(p->maxSndWnd, s.wnd);
        p->snd_wl1 = s.seq;
        p->snd_wl2 = s.ack;
        p->cwnd = umin(4u * p->mss, umax(2u * p->mss, 4380u));
        p->ssthresh = 0xFFFF;
        if (p->rttTiming) rttSample(p, (uint32_t)(now() - p->rttStart));  // Karn
        p->rttTiming = false;
        if (p->parent) {
            if (!passiveEstablished(p)) return;
        } else if (p->sock) {
            p->sock->queueEvent(NETTCPSOCKET_CONNECTED);  // simultaneous open
        }
    }
    switch (ackInput(p, s, true)) {
        case ACK_GONE:
            return;
        case ACK_TOO_NEW:  // ACKs something not yet sent
            sendAck(p);
            return;
        default:
            break;
    }
    if (p->state == TIME_WAIT) {  // CLOSING -> TIME_WAIT, or a repeated FIN
        if (s.flags & FIN) {
            sendAck(p);
            p->waitAt = now() + ms(2 * NETCFG_TCP_MSL_MS);
        }
        return;
    }
    // 7. Data and 8. FIN.
    bool fin = (s.flags & FIN) != 0;
    bool canRecv = p->state == ESTABLISHED || p->state == FIN_WAIT_1 || p->state == FIN_WAIT_2;
    if (!canRecv) {
        // CLOSE_WAIT, CLOSING, LAST_ACK: the peer already sent its FIN; ignore data.
        if (fin || s.len) sendAck(p);
        output(p);
        checkTimers(p);
        return;
    }
    bool ackNow = false;
    if (s.len || fin) {
        if (s.seq == p->rcv_nxt) {
            bool hadOoo = p->ooo != NULL;
            if (s.len >= p->mss) p->fullSegs++;
            bool finDone = deliver(p, s.seq, s.data, s.len, fin);
            if (hadOoo || finDone || resent) ackNow = true;
            // Every second full segment (RFC 1122 4.2.3.2) is acknowledged by the end of
            // this Net::poll(), so a reply the application sends meanwhile carries it.
            else if (p->fullSegs >= 2) p->ackPending = true;
            if (finDone) {
                switch (p->state) {
                    case ESTABLISHED:
                        p->state = CLOSE_WAIT;
                        if (p->sock) p->sock->queueEvent(NETTCPSOCKET_DISCONNECTED);
                        break;
                    case FIN_WAIT_1:
                        if (p->finAcked) {
                            sendAck(p);
                            enterTimeWait(p);
                            return;
                        }
                        p->state = CLOSING;
                        break;
                    case FIN_WAIT_2:
                        sendAck(p);
                        enterTimeWait(p);
                        return;
                    default:
                        break;
                }
            }
        } else {
            // Out of order: keep it (bounded) and send a duplicate ACK at once (RFC 5681 4.2),
            // its SACK block first (RFC 2018).
            oooInsert(p, s.seq, s.data, s.len, fin);
            sackNote(p, s.seq);
            ackNow = true;
        }
    }
    // Our own data first: a data segment carries the ACK.
    output(p);
    if (ackNow) {
        sendAck(p);
    } else if ((s.len || fin) && !p->delackAt && lt(p->rcv_adv - advWindow(p), p->rcv_nxt + 1)) {
        p->delackAt = now() + ms(NETCFG_TCP_DELACK_MS);
    } else if ((s.len || fin) && !p->delackAt) {
        p->delackAt = now() + ms(NETCFG_TCP_DELACK_MS);
    }
    checkTimers(p);
}

bool parseOptions(const uint8_t* t, int doff, Seg* s) {
    int i = 20;
    while (i < doff) {
        uint8_t kind = t[i];
        if (kind == 0) break;  // end of list
        if (kind == 1) {
            i++;
            continue;
        }
        if (i + 1 >= doff) return false;
        int l = t[i + 1];
        if (l < 2 || i + l > doff) return false;
        if (kind == 2) {
            if (l != 4) return false;
            s->mss = rd16(t + i + 2);
        } else if (kind == 4 && l == 2) {
            s->sackPerm = true;
        } else if (kind == 5 && l >= 10 && (l - 2) % 8 == 0) {
            // SACK blocks; a malformed length is skipped like an unknown option.
            for (int k = 0; k < (l - 2) / 8 && s->nsack < 4; k++, s->nsack++) {
                s->sackL[s->nsack] = rd32(t + i + 2 + 8 * k);
                s->sackR[s->nsack] = rd32(t + i + 6 + 8 * k);
            }
        }
        i += l;
    }
    return true;
}

}  // namespace

void TcpCore::input(NetIf* nif, const uint8_t* ip, int ihl, int total) {
    S.tcp_rx++;
    const uint8_t* t = ip + ihl;
    int n = total - ihl;
    if (n < 20) {
        S.tcp_bad_header++;
        return;
    }
    int doff = (t[12] >> 4) * 4;
    if (doff < 20 || doff > n) {
        S.tcp_bad_header++;
        return;
    }
    uint32_t src = rd32(ip + 12);
    uint32_t dst = rd32(ip + 16);
    if (inet_fold(inet_sum(inet_pseudo(src, dst, PROTO, (uint16_t)n), t, (size_t)n)) != 0) {
        S.tcp_bad_checksum++;
        return;
    }
    uint16_t sport = rd16(t);
    uint16_t dport = rd16(t + 2);
    Seg s;
    s.seq = rd32(t + 4);
    s.ack = rd32(t + 8);
    s.flags = t[13] & 0x3F;
    s.wnd = rd16(t + 14);
    s.data = t + doff;
    s.len = (uint32_t)(n - doff);
    s.mss = 0;
    s.sackPerm = false;
    s.nsack = 0;
    if (dst != nif->getIp().toU32() || sport == 0 || dport == 0) {  // TCP is unicast only
        S.tcp_dropped++;
        return;
    }
    if ((s.flags & SYN) && (s.flags & (FIN | RST))) {
        S.tcp_bad_flags++;
        return;
    }
    if (!parseOptions(t, doff, &s)) {
        S.tcp_bad_header++;
        return;
    }
    bool isListener = false;
    Pcb* p = findPcb(dst, dport, src, sport, &isListener);
    // A new SYN for a connection in TIME_WAIT (RFC 1122 4.2.2.13): start afresh.
    if (p && !isListener && p->state == TIME_WAIT && (s.flags & SYN) && !(s.flags & ACK) &&
        lt(p->rcv_nxt, s.seq)) {
        freePcb(p);
        p = findPcb(dst, dport, src, sport, &isListener);
    }
    if (!p) {
        S.tcp_no_port++;
        rstFor(nif, dst, src, dport, sport, s);
        return;
    }
    if (isListener) {
        listenInput(p, nif, dst, src, dport, sport, s);
        return;
    }
    if (p->state == SYN_SENT) {
        synSentInput(p, s);
        return;
    }
    syncInput(p, s);
}

// --- timers ---------------------------------------------------------------------------------------

namespace {

void rtxTimeout(Pcb* p, uint64_t t) {
    p->rtxAt = 0;
    if (p->state == SYN_SENT || p->state == SYN_RCVD) {
        // A passive half-open connection (a listener's child) has its own limit: it holds
        // a backlog slot, and a full backlog drops new SYNs, so it must not live forever.
        int maxRtx = (p->state == SYN_RCVD && p->parent) ? NETCFG_TCP_SYNACK_MAXRTX
                                                         : NETCFG_TCP_SYNMAXRTX;
        if (p->nrtx >= maxRtx) {
            dropPcb(p, NETTCPSOCKET_CONABRT);
            return;
        }
        p->nrtx++;
        S.tcp_retransmits++;
        sendSyn(p);
        p->rtxAt = t + (p->nrtx >= maxRtx ? ms(NETCFG_TCP_SYN_GIVEUP_MS)
                                          : ms(NETCFG_TCP_RTO_INIT_MS));
        return;
    }
    if (!outstanding(p)) return;
    if (p->nrtx >= NETCFG_TCP_MAXRTX) {
        dropPcb(p, NETTCPSOCKET_CONABRT);
        return;
    }
    p->nrtx++;
    S.tcp_retransmits++;
    uint32_t flight = p->snd_max - p->snd_una;
    p->ssthresh = umax(flight / 2, 2u * p->mss);
    p->cwnd = p->mss;
    p->dupacks = 0;
    p->inRecovery = false;
    p->rttTiming = false;  // Karn
    uint64_t rto = (uint64_t)p->rto * 2u;
    if (rto > ms(NETCFG_TCP_RTO_MAX_MS)) rto = ms(NETCFG_TCP_RTO_MAX_MS);
    p->snd_nxt = p->snd_una;  // go back: resend from the first unacknowledged byte
    output(p);
    p->rto = (uint32_t)rto;
    // The window closed meanwhile: output() started the persist timer, which probes the
    // window from now on (a retransmission timer would only count "failures" of a peer
    // that keeps answering with a zero window, and abort it).
    if (!p->persistAt) p->rtxAt = t + p->rto;
}

void persistTimeout(Pcb* p, uint64_t t) {
    p->persistAt = 0;
    uint32_t off = p->snd_nxt - p->snd_una;
    if (p->sndq.bytes == 0 || off > p->sndq.bytes) return;
    if (p->probes >= NETCFG_TCP_MAXRTX) {
        dropPcb(p, NETTCPSOCKET_CONABRT);
        return;
    }
    p->probes++;
    // One byte: the first unacknowledged one (sent once, then repeated).
    uint32_t contig = 0;
    const uint8_t* d = p->sndq.at(0, &contig);
    if (p->rttTiming && p->rttSeq == p->snd_una) p->rttTiming = false;  // Karn
    sendSeg(p, p->snd_una, ACK, d, 1, false);
    if (p->snd_nxt == p->snd_una) {
        p->snd_nxt++;
        if (lt(p->snd_max, p->snd_nxt)) p->snd_max = p->snd_nxt;
    }
    if (p->persistShift < 6) p->persistShift++;
    uint64_t iv = (uint64_t)p->rto << p->persistShift;
    if (iv > ms(NETCFG_TCP_RTO_MAX_MS)) iv = ms(NETCFG_TCP_RTO_MAX_MS);
    p->persistAt = t + iv;
}

}  // namespace

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
