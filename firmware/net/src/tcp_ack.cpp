// TCP ACK processing (RFC 793 p. 72 step 5): new data acknowledged, RTT samples (RFC 6298,
// Karn's rule), duplicate ACKs counted with SACK (RFC 6675) and the early-retransmit
// threshold (RFC 5827), NewReno partial ACKs, the send window update.
#include "tcp_priv.h"

using namespace tcp;

namespace {

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

// SACK blocks (RFC 2018) covering data above the highest yet SACKed: the peer holds a
// segment that left after a missing one.  Blocks below the ACK (D-SACK) or beyond what we
// sent are ignored.  True when the blocks SACKed new data.
bool sackInput(Pcb* p, const Seg& s) {
    bool sackNews = false;
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
    return sackNews;
}

// Window update (RFC 793 p. 72: SND.WL1 < SEG.SEQ, or SND.WL1 = SEG.SEQ and
// SND.WL2 =< SEG.ACK).  Also when the ACK is newer than SND.WL2: the peer's ACKs only
// grow, so that segment was sent later than the one the window came from (a window
// probe or a duplicate below SND.WL1 still updates the window then).  Old segments,
// with older sequence numbers and ACKs, never move the window.  True when it opened.
bool sendWindowInput(Pcb* p, const Seg& s) {
    if (!(lt(p->snd_wl1, s.seq) || (p->snd_wl1 == s.seq && le(p->snd_wl2, s.ack)) ||
          lt(p->snd_wl2, s.ack)))
        return false;
    bool opened = s.wnd > p->snd_wnd;
    p->snd_wnd = s.wnd;
    if (lt(p->snd_wl1, s.seq)) p->snd_wl1 = s.seq;
    p->snd_wl2 = s.ack;
    if (s.wnd > p->maxSndWnd) p->maxSndWnd = s.wnd;
    if (s.wnd) p->probes = 0;
    return opened;
}

// A duplicate ACK: inflate the window in fast recovery, or decide on a fast retransmit.
void dupAckInput(Pcb* p) {
    if (p->dupacks < 255) p->dupacks++;
    if (p->inRecovery) {
        p->cwnd += p->mss;  // inflate: each dup ACK means a segment left the network
        return;
    }
    // 3 duplicate ACKs, or fewer: early retransmit (RFC 5827); or, with SACK, more
    // than (threshold - 1) x SMSS bytes SACKed above the first unacknowledged
    // segment (RFC 6675 IsLost): one ACK whose SACK block covers the rest of the
    // flight says as much as several duplicate ACKs.
    uint32_t th = dupThresh(p);
    if (p->dupacks >= th || (p->sackOk && p->sackBytes > (th - 1) * (uint32_t)p->mss))
        fastRetransmit(p);
}

// Our FIN acknowledged: the closing states move on.  False when p was freed (LAST_ACK).
bool finAckedInput(Pcb* p) {
    if (!p->finAcked) return true;
    switch (p->state) {
        case FIN_WAIT_1:
            p->state = FIN_WAIT_2;
            if (!p->sock) p->waitAt = now() + ms(NETCFG_TCP_FIN_WAIT_MS);
            return true;
        case CLOSING:
            enterTimeWait(p);
            return true;
        case LAST_ACK:
            dropPcb(p, NETTCPSOCKET_CONRST);
            return false;
        default:
            return true;
    }
}

}  // namespace

namespace tcp {

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

// Step 5 of RFC 793 (p. 72) for a connection past SYN_RCVD: new data acknowledged, the
// send window, duplicate ACKs (counted only for acceptable segments), our FIN acknowledged.
// ACK_TOO_NEW: it acknowledges something not yet sent (nothing done); ACK_GONE: p was
// freed (LAST_ACK done).  CLOSING -> TIME_WAIT leaves p in TIME_WAIT.
AckResult ackInput(Pcb* p, const Seg& s, bool acceptable) {
    if (lt(p->snd_max, s.ack)) return ACK_TOO_NEW;
    bool sackNews = p->sackOk && sackInput(p, s);
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
    bool opened = sendWindowInput(p, s);
    if (s.ack == p->snd_una) p->probes = 0;  // the peer is alive
    if (dup) dupAckInput(p);
    // (An old ACK, below snd_una, is ignored: reordering must not reset the count.)
    if (opened && p->snd_wnd && p->persistAt) {
        p->persistAt = 0;
        p->persistShift = 0;
    }
    return finAckedInput(p) ? ACK_OK : ACK_GONE;
}

}  // namespace tcp
