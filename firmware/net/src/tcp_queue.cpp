// TCP byte queues (heap blocks that come and go with the data) and the receive side's
// reassembly: in-order delivery, out-of-order segments held within the window, and the
// order in which SACK blocks report them.
#include "tcp_priv.h"

#include <stdlib.h>
#include <string.h>

#include "rt.h"

using namespace tcp;

namespace tcp {

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

}  // namespace tcp

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
