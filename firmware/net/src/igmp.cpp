// NetIgmp: IGMPv2 host side.  See igmp.h.
#include "igmp.h"

#include <string.h>

#include "EthernetNetIf.h"
#include "board.h"
#include "netstack.h"

namespace {
const uint8_t kRouterAlert[4] = {0x94, 0x04, 0x00, 0x00};  // RFC 2113, copied on fragmentation
const uint32_t kV1MaxRespUs = 10u * 1000u * 1000u;        // IGMPv1 query: 10 s (RFC 2236 4)
const uint8_t kProtoIgmp = 2;
inline bool isMulticast(uint32_t a) { return (a >> 28) == 0xE; }
}  // namespace

NetIgmp::NetIgmp(EthernetNetIf* pIf) : m_pIf(pIf), m_rand(0), m_running(false) {
    memset(m_groups, 0, sizeof m_groups);
}

uint32_t NetIgmp::random() {
    if (!m_rand) {
        // Seed: the MAC (different boards) and the board time (different boots).
        const uint8_t* mac = (const uint8_t*)m_pIf->getHwAddr();
        uint32_t h = 2166136261u;
        for (int i = 0; i < 6; i++) h = (h ^ mac[i]) * 16777619u;
        uint64_t t = board::micros();
        h ^= (uint32_t)t ^ (uint32_t)(t >> 32);
        m_rand = h ? h : 0x9E3779B9u;
    }
    uint32_t x = m_rand;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    m_rand = x;
    return x;
}

NetIgmp::Group* NetIgmp::find(uint32_t group) {
    for (Group& g : m_groups)
        if (g.addr == group) return &g;
    return NULL;
}

bool NetIgmp::isMember(uint32_t group) const {
    if (group == ALL_HOSTS) return true;
    for (const Group& g : m_groups)
        if (g.addr == group) return true;
    return false;
}

int NetIgmp::groupCount() const {
    int n = 0;
    for (const Group& g : m_groups) n += g.addr != 0;
    return n;
}

int NetIgmp::uses(uint32_t group) const {
    for (const Group& g : m_groups)
        if (g.addr == group) return g.uses;
    return 0;
}

void NetIgmp::send(uint8_t type, uint32_t group, uint32_t dst) {
    uint8_t m[8];
    m[0] = type;
    m[1] = 0;  // max resp time: 0 in reports and leaves
    wr16(m + 2, 0);
    wr32(m + 4, group);
    wr16(m + 2, inet_fold(inet_sum(0, m, sizeof m)));
    int err = m_pIf->ipOutputOpt(IpAddr::fromU32(dst), kProtoIgmp, 1, kRouterAlert,
                                 (int)sizeof kRouterAlert, m, (int)sizeof m, NULL, 0);
    if (err == NETOUT_OK || err == NETOUT_LINK) NetCore::stats.igmp_tx++;
}

void NetIgmp::report(Group& g) {
    send(TYPE_V2_REPORT, g.addr, g.addr);
    g.lastReporter = true;
}

// Report timer: a random delay in (0, maxUs]; a running timer is only ever shortened.
void NetIgmp::arm(Group& g, uint32_t maxUs, uint64_t now) {
    if (maxUs == 0) maxUs = 1;
    if (g.delaying && g.due <= now + maxUs) return;
    g.due = now + 1 + random() % maxUs;
    g.delaying = true;
}

bool NetIgmp::join(uint32_t group) {
    if (!isMulticast(group)) return false;
    if (group == ALL_HOSTS) return true;  // always a member, never reported
    Group* g = find(group);
    if (g) {
        if (g->uses < 0xFFFF) g->uses++;
        return true;
    }
    g = find(0);
    if (!g) return false;
    memset(g, 0, sizeof *g);
    g->addr = group;
    g->uses = 1;
    if (m_running) {
        report(*g);
        arm(*g, NETCFG_IGMP_JOIN_DELAY_MS * 1000u, board::micros());
    }
    return true;
}

void NetIgmp::leave(uint32_t group) {
    Group* g = group == ALL_HOSTS ? NULL : find(group);
    if (!g) return;
    if (g->uses > 1) {
        g->uses--;
        return;
    }
    if (m_running && g->lastReporter) send(TYPE_LEAVE, group, ALL_ROUTERS);
    memset(g, 0, sizeof *g);
}

void NetIgmp::start() {
    m_running = true;
    uint64_t now = board::micros();
    for (Group& g : m_groups) {
        if (!g.addr) continue;
        g.delaying = false;
        report(g);
        arm(g, NETCFG_IGMP_JOIN_DELAY_MS * 1000u, now);
    }
}

void NetIgmp::stop() {
    m_running = false;
    for (Group& g : m_groups) g.delaying = false;
}

void NetIgmp::input(const uint8_t* ip, int ihl, int total) {
    NetCore::stats.igmp_rx++;
    const uint8_t* m = ip + ihl;
    int n = total - ihl;
    if (n < 8 || inet_fold(inet_sum(0, m, (size_t)n)) != 0) {
        NetCore::stats.igmp_bad++;
        return;
    }
    if (!m_running) return;
    uint32_t dst = rd32(ip + 16);
    uint32_t group = rd32(m + 4);
    uint64_t now = board::micros();
    switch (m[0]) {
        case TYPE_QUERY: {
            // Max Resp Time in 1/10 s; 0 = an IGMPv1 query.  (IGMPv3 queries, longer than 8
            // bytes, are answered the same way, RFC 3376 7.)
            uint32_t maxUs = m[1] ? (uint32_t)m[1] * 100000u : kV1MaxRespUs;
            if (group == 0) {
                if (dst != ALL_HOSTS) return;  // a general query must go to 224.0.0.1
                for (Group& g : m_groups)
                    if (g.addr) arm(g, maxUs, now);
            } else {
                Group* g = find(group);
                if (g && (dst == group || dst == ALL_HOSTS)) arm(*g, maxUs, now);
            }
            break;
        }
        case TYPE_V1_REPORT:
        case TYPE_V2_REPORT: {
            Group* g = find(group);
            if (g && g->delaying) {  // someone else answered: ours is not needed
                g->delaying = false;
                g->lastReporter = false;
            }
            break;
        }
        default:
            break;  // leaves (for routers) and unknown types
    }
}

void NetIgmp::poll(uint64_t now) {
    if (!m_running) return;
    for (Group& g : m_groups) {
        if (g.addr && g.delaying && g.due <= now) {
            g.delaying = false;
            report(g);
        }
    }
}

uint64_t NetIgmp::nextTimerUs() const {
    if (!m_running) return 0;
    uint64_t best = 0;
    for (const Group& g : m_groups)
        if (g.addr && g.delaying && (!best || g.due < best)) best = g.due;
    return best;
}
