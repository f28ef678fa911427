// TCP segment output (lwIP's tcp_out.c): the windows we advertise (shared out of the heap),
// segments with their options (MSS, SACK-permitted, SACK blocks), RSTs, the send path with
// congestion control (RFC 5681), fast retransmit, and the retransmission and zero-window
// probe timeouts (RFC 6298: Karn's rule, exponential back-off).
#include "tcp_priv.h"

#include <string.h>

#include "netif.h"
#include "rt.h"

using namespace tcp;

namespace {

// Heap the receive side may still take, above the reserve.
uint32_t rcvHeap() {
    size_t size = rt_heap_size(), used = rt_heap_used(), keep = memReserve();
    return size > used + keep ? (uint32_t)(size - used - keep) : 0;
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

}  // namespace

namespace tcp {

// Heap kept from receive queues: NETCFG_TCP_MEM_RESERVE while connections share the heap.
// A lone connection needs none: its own send queue frees itself as the peer acknowledges.
size_t memReserve() { return g_active > 1 ? NETCFG_TCP_MEM_RESERVE : 0; }

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

int sendRaw(NetIf* nif, uint32_t lip, uint32_t rip, uint16_t lport, uint16_t rport, uint32_t seq,
            uint32_t ack, uint8_t flags, uint16_t wnd, const uint8_t* data, uint32_t len,
            const uint8_t* opt, int optLen) {
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

}  // namespace tcp

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
