// IPv4 fragmentation and reassembly.  See ipfrag.h.
#include "ipfrag.h"

#include <stdlib.h>
#include <string.h>

#include "netstack.h"

// --- send ----------------------------------------------------------------------------------

int ipfrag_build(uint8_t* out, const uint8_t* tmpl, int ihl, int mtu, int off, const uint8_t* p1,
                 int n1, const uint8_t* p2, int n2, int* used) {
    int maxData = (mtu - ihl) & ~7;
    int remain = n1 + n2 - off;
    int n = remain > maxData ? maxData : remain;
    bool more = remain > n;
    memcpy(out, tmpl, (size_t)ihl);
    wr16(out + 2, (uint16_t)(ihl + n));
    wr16(out + 6, (uint16_t)((rd16(tmpl + 6) & 0x4000) | (more ? 0x2000 : 0) | (off >> 3)));
    wr16(out + 10, 0);
    wr16(out + 10, inet_fold(inet_sum(0, out, (size_t)ihl)));
    uint8_t* d = out + ihl;
    int left = n;
    if (off < n1) {
        int a = n1 - off < left ? n1 - off : left;
        memcpy(d, p1 + off, (size_t)a);
        d += a;
        left -= a;
        off += a;
    }
    if (left > 0) memcpy(d, p2 + (off - n1), (size_t)left);
    *used = n;
    return ihl + n;
}

// --- receive -------------------------------------------------------------------------------

namespace {
const int kMaxPayload = 0xFFFF - IP_HDR;  // a reassembled datagram must fit a 16-bit length
const size_t kBlockOverhead = 8;          // heap bookkeeping counted per allocation
}  // namespace

// One received byte range [off, off + len) of a datagram; the bytes follow the header.
struct NetReasm::Piece {
    Piece* next;
    uint16_t off;
    uint16_t len;
    uint8_t* data() { return (uint8_t*)(this + 1); }
};

struct NetReasm::Datagram {
    Piece* pieces;      // ordered by offset, never overlapping
    uint64_t expires;
    size_t cost;        // bytes counted against NETCFG_IPFRAG_BYTES
    uint32_t src, dst;
    int32_t total;      // payload length, -1 until the last fragment arrived
    uint16_t id;
    uint8_t proto;
    uint8_t ttl, tos;   // from the first fragment (offset 0)
};

NetReasm::NetReasm() : m_bytes(0) {
    for (Datagram*& d : m_slots) d = NULL;
}

NetReasm::~NetReasm() { clear(); }

void NetReasm::drop(int slot) {
    Datagram* d = m_slots[slot];
    if (!d) return;
    while (d->pieces) {
        Piece* p = d->pieces;
        d->pieces = p->next;
        free(p);
    }
    m_bytes -= d->cost;
    free(d);
    m_slots[slot] = NULL;
}

void NetReasm::clear() {
    for (int i = 0; i < NETCFG_IPFRAG_SLOTS; i++) drop(i);
}

int NetReasm::active() const {
    int n = 0;
    for (const Datagram* d : m_slots) n += d != NULL;
    return n;
}

bool NetReasm::addPiece(Datagram* d, Piece** link, int off, const uint8_t* data, int len) {
    size_t cost = sizeof(Piece) + (size_t)len + kBlockOverhead;
    if (m_bytes + cost > NETCFG_IPFRAG_BYTES) return false;
    Piece* p = (Piece*)malloc(sizeof(Piece) + (size_t)len);
    if (!p) return false;
    p->off = (uint16_t)off;
    p->len = (uint16_t)len;
    memcpy(p->data(), data, (size_t)len);
    p->next = *link;
    *link = p;
    d->cost += cost;
    m_bytes += cost;
    return true;
}

uint8_t* NetReasm::input(const uint8_t* ip, int ihl, int total, uint64_t now, int* outLen) {
    NetStats& S = NetCore::stats;
    uint16_t field = rd16(ip + 6);
    int off = (field & 0x1FFF) * 8;
    bool mf = (field & 0x2000) != 0;
    int len = total - ihl;
    const uint8_t* data = ip + ihl;
    uint32_t src = rd32(ip + 12), dst = rd32(ip + 16);
    uint16_t id = rd16(ip + 4);
    uint8_t proto = ip[9];

    // Non-last fragments carry a non-empty multiple of 8 bytes; nothing may end beyond the
    // largest datagram (the "ping of death").
    if ((mf && (len == 0 || (len & 7))) || off + len > kMaxPayload) {
        S.ip_fragments_dropped++;
        return NULL;
    }

    int slot = -1, freeSlot = -1;
    for (int i = 0; i < NETCFG_IPFRAG_SLOTS; i++) {
        Datagram* d = m_slots[i];
        if (!d) {
            if (freeSlot < 0) freeSlot = i;
        } else if (d->src == src && d->dst == dst && d->id == id && d->proto == proto) {
            slot = i;
        }
    }
    if (slot < 0) {
        size_t cost = sizeof(Datagram) + kBlockOverhead;
        Datagram* d = NULL;
        if (freeSlot >= 0 && m_bytes + cost <= NETCFG_IPFRAG_BYTES)
            d = (Datagram*)malloc(sizeof(Datagram));
        if (!d) {  // every slot busy, or no memory: this fragment is lost
            S.ip_fragments_dropped++;
            return NULL;
        }
        memset(d, 0, sizeof *d);
        d->expires = now + (uint64_t)NETCFG_IPFRAG_TIMEOUT_MS * 1000u;
        d->cost = cost;
        d->src = src;
        d->dst = dst;
        d->id = id;
        d->proto = proto;
        d->total = -1;
        d->ttl = ip[8];
        d->tos = ip[1];
        m_bytes += cost;
        slot = freeSlot;
        m_slots[slot] = d;
    }
    Datagram* d = m_slots[slot];

    // The total length: fixed by the last fragment; everything must agree with it.
    int end = off + len;
    bool bad = false;
    if (!mf) {
        if (d->total >= 0 && d->total != end) bad = true;
        for (Piece* p = d->pieces; p && !bad; p = p->next)
            if (p->off + p->len > end) bad = true;
        d->total = end;
    } else if (d->total >= 0 && end > d->total) {
        bad = true;
    }
    if (off == 0) {
        d->ttl = ip[8];
        d->tos = ip[1];
    }

    // Store the bytes not yet present, piece by piece (RFC 815's holes, kept as the gaps
    // between the ordered pieces).
    Piece** link = &d->pieces;
    int cur = off;
    while (!bad && cur < end) {
        Piece* p = *link;
        if (p && p->off + p->len <= cur) {
            link = &p->next;
            continue;
        }
        int stop = (p && p->off < end) ? p->off : end;
        if (stop > cur) {
            if (!addPiece(d, link, cur, data + (cur - off), stop - cur)) bad = true;
            else link = &(*link)->next;
            cur = stop;
        } else {
            cur = p->off + p->len;  // already have [p->off, ...): skip those bytes
            link = &p->next;
        }
    }
    if (bad) {
        S.ip_fragments_dropped++;
        drop(slot);
        return NULL;
    }

    // Complete: the pieces cover [0, total) without a gap.
    if (d->total < 0) return NULL;
    int pos = 0;
    for (Piece* p = d->pieces; p && p->off == pos; p = p->next) pos += p->len;
    if (pos != d->total) return NULL;

    int whole = IP_HDR + d->total;
    uint8_t* out = (uint8_t*)malloc((size_t)whole);
    if (!out) {
        S.ip_fragments_dropped++;
        drop(slot);
        return NULL;
    }
    memset(out, 0, IP_HDR);
    out[0] = 0x45;
    out[1] = d->tos;
    wr16(out + 2, (uint16_t)whole);
    wr16(out + 4, d->id);
    out[8] = d->ttl;
    out[9] = d->proto;
    wr32(out + 12, d->src);
    wr32(out + 16, d->dst);
    wr16(out + 10, inet_fold(inet_sum(0, out, IP_HDR)));
    for (Piece* p = d->pieces; p; p = p->next) memcpy(out + IP_HDR + p->off, p->data(), p->len);
    drop(slot);
    S.ip_reassembled++;
    *outLen = whole;
    return out;
}

void NetReasm::poll(uint64_t now) {
    for (int i = 0; i < NETCFG_IPFRAG_SLOTS; i++) {
        if (m_slots[i] && m_slots[i]->expires <= now) {
            NetCore::stats.ip_reasm_timeout++;
            drop(i);
        }
    }
}

uint64_t NetReasm::nextTimerUs() const {
    uint64_t best = 0;
    for (const Datagram* d : m_slots)
        if (d && (!best || d->expires < best)) best = d->expires;
    return best;
}
