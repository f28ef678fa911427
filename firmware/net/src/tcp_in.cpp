// TCP segment input (lwIP's tcp_in.c): header checks and demultiplexing, then RFC 793 3.9
// "SEGMENT ARRIVES" per state -- LISTEN, SYN_SENT, and the synchronized states (with the
// RFC 1122 corrections and RFC 5961 checks).  ACK processing is tcp_ack.cpp; in-order
// delivery and reassembly tcp_queue.cpp.
#include "tcp_priv.h"

#include "netif.h"

using namespace tcp;

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

// A segment outside the window that may still carry a useful ACK: its sequence number lies
// between one window below rcv_nxt (old: a probe at rcv_nxt - 1, a duplicate) and the
// right edge of what we advertised (beyond rcv_nxt only while our window is zero), not a
// blind guess from far away.
bool oldOrZeroWindow(const Pcb* p, const Seg& s, uint32_t wnd) {
    uint32_t edge = p->rcv_nxt + wnd;
    if (lt(edge, p->rcv_adv)) edge = p->rcv_adv;
    return le(p->rcv_nxt - 0xFFFFu, s.seq) && le(s.seq, edge);
}

// The window a segment is checked against: what we would advertise now, or the right edge
// already advertised when it lies further (an advertised edge never moves back).
uint32_t checkWindow(const Pcb* p) {
    uint32_t wnd = advWindow(p);
    if (lt(p->rcv_nxt, p->rcv_adv) && p->rcv_adv - p->rcv_nxt > wnd) wnd = p->rcv_adv - p->rcv_nxt;
    return wnd;
}

// RFC 793's sequence number test (p. 69) for a segment occupying segLen sequence numbers.
bool seqInWindow(const Pcb* p, const Seg& s, uint32_t segLen, uint32_t wnd) {
    if (segLen == 0)
        return wnd == 0 ? s.seq == p->rcv_nxt
                        : (le(p->rcv_nxt, s.seq) && lt(s.seq, p->rcv_nxt + wnd));
    // Any overlap with the window (a superset of RFC 793's first-or-last-octet test: a
    // retransmission that starts before rcv_nxt and runs past the right edge still carries
    // the bytes we wait for; both ends are trimmed by trimToWindow()).
    return wnd != 0 && lt(s.seq, p->rcv_nxt + wnd) && lt(p->rcv_nxt, s.seq + segLen);
}

// An unacceptable segment: dropped and answered with an ACK (a RST: dropped silently).
void rejectSegment(Pcb* p, const Seg& s, uint32_t wnd) {
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
}

// Step 1 (RFC 793 p. 69): true when the segment is acceptable; otherwise it has been
// dealt with here.  The peer's SYN-ACK repeating its SYN (simultaneous open, RFC 793
// figure 8) loses its SYN; at a zero window, ACKs and RSTs at rcv_nxt are still taken.
bool acceptSegment(Pcb* p, Seg& s, uint32_t wnd) {
    uint32_t segLen = s.len + ((s.flags & SYN) ? 1 : 0) + ((s.flags & FIN) ? 1 : 0);
    bool ok = seqInWindow(p, s, segLen, wnd);
    if (p->state == SYN_RCVD && (s.flags & SYN) && s.seq == p->irs) {
        if ((s.flags & ACK) && lt(p->snd_una, s.ack) && le(s.ack, p->snd_max)) {
            s.flags &= (uint8_t)~SYN;
            s.seq++;
            segLen--;
            ok = segLen == 0 ? s.seq == p->rcv_nxt : ok;
        } else {
            sendSyn(p);
            return false;
        }
    }
    if (!ok && wnd == 0 && s.seq == p->rcv_nxt) {
        ok = true;
        s.len = 0;
        s.flags &= (uint8_t)~FIN;
    }
    if (!ok) rejectSegment(p, s, wnd);
    return ok;
}

// Trim an acceptable segment to the window: data before rcv_nxt, and beyond the right
// edge.  True when it repeated data we already had: the peer retransmitted, it is
// recovering a loss, and its ACK goes at once.
bool trimToWindow(const Pcb* p, Seg& s, uint32_t wnd) {
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
    return resent;
}

// Steps 2 (RST, RFC 5961 3.2: an exact match resets, in-window gets a challenge ACK) and
// 4 (SYN in the window: challenge ACK, RFC 5961 4.2).  True when the segment ends here.
bool rstOrSynInput(Pcb* p, const Seg& s) {
    if (s.flags & RST) {
        if (s.seq != p->rcv_nxt) sendAck(p);
        else if (p->state == SYN_RCVD && !p->sock) freePcb(p);  // passive open: back to LISTEN
        else dropPcb(p, NETTCPSOCKET_CONRST);
        return true;
    }
    if (s.flags & SYN) {
        sendAck(p);
        return true;
    }
    return false;
}

// Step 5 in SYN_RCVD: the ACK of our SYN completes the handshake (a wrong one is answered
// with a RST).  False when the segment ends here.
bool synRcvdAckInput(Pcb* p, const Seg& s) {
    if (!(lt(p->snd_una, s.ack) && le(s.ack, p->snd_max))) {
        sendRaw(p->netif, p->localIp, p->remoteIp, p->localPort, p->remotePort, s.ack, 0, RST,
                0, NULL, 0);
        return false;
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
    if (p->parent) return passiveEstablished(p);
    if (p->sock) p->sock->queueEvent(NETTCPSOCKET_CONNECTED);  // simultaneous open
    return true;
}

// Step 5 in the other states (ackInput), and TIME_WAIT's answer to a repeated FIN.  False
// when the segment ends here.
bool ackStep(Pcb* p, const Seg& s) {
    switch (ackInput(p, s, true)) {
        case ACK_GONE:
            return false;
        case ACK_TOO_NEW:  // ACKs something not yet sent
            sendAck(p);
            return false;
        default:
            break;
    }
    if (p->state == TIME_WAIT) {  // CLOSING -> TIME_WAIT, or a repeated FIN
        if (s.flags & FIN) {
            sendAck(p);
            p->waitAt = now() + ms(2 * NETCFG_TCP_MSL_MS);
        }
        return false;
    }
    return true;
}

// Step 8: the peer's FIN was consumed.  False when the connection went to TIME_WAIT (the
// segment ends here).
bool finInput(Pcb* p) {
    switch (p->state) {
        case ESTABLISHED:
            p->state = CLOSE_WAIT;
            if (p->sock) p->sock->queueEvent(NETTCPSOCKET_DISCONNECTED);
            return true;
        case FIN_WAIT_1:
            if (p->finAcked) {
                sendAck(p);
                enterTimeWait(p);
                return false;
            }
            p->state = CLOSING;
            return true;
        case FIN_WAIT_2:
            sendAck(p);
            enterTimeWait(p);
            return false;
        default:
            return true;
    }
}

// Steps 7 and 8: data and FIN, in order or held out of order; then our own output, which
// carries the ACK, or an ACK now, or a delayed ACK.
void textInput(Pcb* p, const Seg& s, bool resent) {
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
            if (finDone && !finInput(p)) return;
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
    if (ackNow) sendAck(p);
    else if ((s.len || fin) && !p->delackAt) p->delackAt = now() + ms(NETCFG_TCP_DELACK_MS);
    checkTimers(p);
}

// States SYN_RCVD .. TIME_WAIT (RFC 793 p. 69 onwards), step by step.
void syncInput(Pcb* p, Seg s) {
    uint32_t wnd = checkWindow(p);
    if (!acceptSegment(p, s, wnd)) return;                   // 1. sequence number
    bool resent = trimToWindow(p, s, wnd);
    if (rstOrSynInput(p, s)) return;                         // 2. RST, 4. SYN
    if (!(s.flags & ACK)) return;                            // 5. ACK
    if (p->state == SYN_RCVD && !synRcvdAckInput(p, s)) return;
    if (!ackStep(p, s)) return;
    textInput(p, s, resent);                                 // 7. data, 8. FIN
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
