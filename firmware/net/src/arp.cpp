// EthernetNetIf's ARP (RFC 826): the cache of NETCFG_ARP_TABLE entries, requests and
// replies, and the one packet held per unresolved entry.  The cache's timer runs from
// EthernetNetIf::poll() (EthernetNetIf.cpp).
#include <stdlib.h>
#include <string.h>

#include "EthernetNetIf.h"
#include "arp.h"
#include "board.h"
#include "dhcpclient.h"
#include "netstack.h"

namespace {
NetStats& S = NetCore::stats;
}  // namespace

void EthernetNetIf::arpClear() {
    for (ArpEntry& e : m_arp) {
        free(e.queued);
        memset(&e, 0, sizeof e);
    }
}

int EthernetNetIf::arpFind(uint32_t ip) const {
    for (int i = 0; i < NETCFG_ARP_TABLE; i++)
        if (m_arp[i].state != ARP_FREE && m_arp[i].ip == ip) return i;
    return -1;
}

// A free entry; else the resolved entry closest to expiry; else the oldest pending one.
int EthernetNetIf::arpAlloc(uint32_t ip) {
    int pick = -1;
    for (int i = 0; i < NETCFG_ARP_TABLE && pick < 0; i++)
        if (m_arp[i].state == ARP_FREE) pick = i;
    for (int pass = 0; pass < 2 && pick < 0; pass++) {
        uint8_t want = pass == 0 ? ARP_STABLE : ARP_PENDING;
        for (int i = 0; i < NETCFG_ARP_TABLE; i++)
            if (m_arp[i].state == want && (pick < 0 || m_arp[i].expires < m_arp[pick].expires))
                pick = i;
    }
    ArpEntry& e = m_arp[pick];
    if (e.queued) {
        free(e.queued);
        S.arp_queue_dropped++;
    }
    memset(&e, 0, sizeof e);
    e.ip = ip;
    return pick;
}

// Learn ip -> mac.  create: make an entry if there is none (someone asked us, so we will
// talk to them); otherwise only refresh an existing one.  Releases a held packet.
void EthernetNetIf::arpUpdate(uint32_t ip, const uint8_t* mac, bool create) {
    int i = arpFind(ip);
    if (i < 0) {
        if (!create) return;
        i = arpAlloc(ip);
    }
    ArpEntry& e = m_arp[i];
    memcpy(e.mac, mac, 6);
    e.state = ARP_STABLE;
    e.expires = board::micros() + (uint64_t)NETCFG_ARP_STABLE_MS * 1000u;
    if (e.queued) {
        uint8_t* q = e.queued;
        int qlen = e.queuedLen;
        e.queued = NULL;
        e.queuedLen = 0;
        if (qlen <= NETCFG_MTU) {
            memcpy(m_tx + ETH_HDR, q, (size_t)qlen);
            sendFrame(e.mac, ETHTYPE_IPV4, qlen);
        } else {  // a datagram larger than the MTU waited whole: fragment it now
            int ihl = (q[0] & 0x0F) * 4;
            sendFragments(e.mac, q, ihl, q + ihl, qlen - ihl, NULL, 0);
        }
        free(q);
    }
}

void EthernetNetIf::arpSend(uint16_t op, const uint8_t* dstMac, const uint8_t* targetMac,
                            uint32_t targetIp) {
    uint8_t* a = m_tx + ETH_HDR;
    wr16(a, 1);                // hardware: Ethernet
    wr16(a + 2, ETHTYPE_IPV4); // protocol: IPv4
    a[4] = 6;
    a[5] = 4;
    wr16(a + 6, op);
    memcpy(a + 8, m_mac, 6);
    wr32(a + 14, m_ip.toU32());
    memcpy(a + 18, targetMac, 6);
    wr32(a + 24, targetIp);
    S.arp_tx++;
    sendFrame(dstMac, ETHTYPE_ARP, ARP_LEN);
}

void EthernetNetIf::arpInput(int len) {
    const uint8_t* a = m_rx + ETH_HDR;
    if (len - ETH_HDR < ARP_LEN || rd16(a) != 1 || rd16(a + 2) != ETHTYPE_IPV4 || a[4] != 6 ||
        a[5] != 4) {
        S.arp_bad++;
        return;
    }
    S.arp_rx++;
    if (m_dhcpc) m_dhcpc->arpInput(rd16(a + 6), a + 8, rd32(a + 14), rd32(a + 24));
    uint16_t op = rd16(a + 6);
    const uint8_t* sha = a + 8;
    uint32_t spa = rd32(a + 14);
    uint32_t tpa = rd32(a + 24);
    uint32_t me = m_ip.toU32();
    bool forMe = me != 0 && tpa == me;
    // Learn the sender (not from probes with sender 0.0.0.0, nor group/broadcast MACs).
    if (spa != 0 && spa != me && !(sha[0] & 1)) arpUpdate(spa, sha, forMe);
    if (op == ARP_REQUEST && forMe) {
        uint8_t mac[6];
        memcpy(mac, sha, 6);
        arpSend(ARP_REPLY, mac, mac, spa);
    }
}

// The IP packet in m_tx + ETH_HDR (ipLen bytes) goes to nextHop: now if its MAC is known,
// otherwise it is held (replacing an older one) and a request is sent.
int EthernetNetIf::resolveAndSend(uint32_t nextHop, int ipLen) {
    int i = arpFind(nextHop);
    if (i >= 0 && m_arp[i].state == ARP_STABLE) return sendFrame(m_arp[i].mac, ETHTYPE_IPV4, ipLen);
    uint8_t* q = (uint8_t*)malloc((size_t)ipLen);
    if (!q) return NETOUT_MEM;
    memcpy(q, m_tx + ETH_HDR, (size_t)ipLen);
    return arpHold(nextHop, q, ipLen);
}

// Hold the IP packet q (heap, ipLen bytes, taken over) until nextHop's MAC is known.
int EthernetNetIf::arpHold(uint32_t nextHop, uint8_t* q, int ipLen) {
    int i = arpFind(nextHop);
    uint64_t now = board::micros();
    bool fresh = i < 0;
    if (fresh) {
        i = arpAlloc(nextHop);
        m_arp[i].state = ARP_PENDING;
        m_arp[i].expires = now + (uint64_t)NETCFG_ARP_PENDING_MS * 1000u;
    }
    ArpEntry& e = m_arp[i];
    if (e.queued) {
        free(e.queued);
        S.arp_queue_dropped++;
    }
    e.queued = q;
    e.queuedLen = (uint16_t)ipLen;
    if (fresh || now - e.lastReq >= (uint64_t)NETCFG_ARP_RETRY_MS * 1000u) {
        e.lastReq = now;
        arpSend(ARP_REQUEST, kBroadcastMac, kZeroMac, nextHop);
    }
    return NETOUT_OK;
}
