// NetIgmp: IGMPv2 host side (RFC 2236) of one interface (internal; netservices.md 5.1, 6.1).
//
// * 224.0.0.1 (all hosts) is always a member and never reported.
// * join(G): use count +1.  The first use sends a Membership Report (0x16) to G at once
//   (IP TTL 1, Router Alert option) and arms a repeat after a random delay of at most
//   NETCFG_IGMP_JOIN_DELAY_MS (the original armed it too but never ran the IGMP timer,
//   6.5: here it runs).  At most NETCFG_IGMP_GROUPS groups, 224.0.0.1 included: one more
//   join fails.
// * leave(G): use count -1; at 0 the group is dropped and, if this host sent the last
//   report for it, a Leave Group (0x17) goes to 224.0.0.2.
// * Queries (0x11): a General Query (group 0) arms a report for every group, a
//   Group-Specific Query for that group only, each after a random delay up to Max Resp Time
//   (IGMPv1 queries, Max Resp Time 0: 10 s).  A running timer is only shortened.  Another
//   host's report (0x12/0x16) for a group whose timer runs cancels our report
//   (suppression) and clears our "last reporter" flag.
// * start() (interface up): every group is reported again at once plus a delayed repeat;
//   stop(): timers stop, memberships stay.
// * Messages shorter than 8 bytes or with a bad checksum are dropped and counted
//   (igmp_bad).  Not done: IGMPv1-querier compatibility mode (RFC 2236 4), so a Leave is
//   sent even on an IGMPv1 network (routers ignore it).
// * Random delays: xorshift32 seeded from the MAC and the board time.
#pragma once
#include <stdint.h>

#include "netcfg.h"

class EthernetNetIf;

class NetIgmp {
public:
    explicit NetIgmp(EthernetNetIf* pIf);

    void start();
    void stop();
    bool running() const { return m_running; }
    // false: not a multicast address, or no room for another group.
    bool join(uint32_t group);
    void leave(uint32_t group);
    bool isMember(uint32_t group) const;
    // An IGMP message (IP header at ip, ihl header bytes, total bytes; IP checksum checked).
    void input(const uint8_t* ip, int ihl, int total);
    // Send the reports that are due.
    void poll(uint64_t now);
    // Earliest report timer (board time), 0 when none.
    uint64_t nextTimerUs() const;
    // Groups joined (224.0.0.1 not counted), and the use count of one (tests).
    int groupCount() const;
    int uses(uint32_t group) const;

    enum : uint32_t { ALL_HOSTS = 0xE0000001u, ALL_ROUTERS = 0xE0000002u };
    enum : uint8_t {
        TYPE_QUERY = 0x11,
        TYPE_V1_REPORT = 0x12,
        TYPE_V2_REPORT = 0x16,
        TYPE_LEAVE = 0x17
    };

private:
    struct Group {
        uint64_t due;          // board time of the pending report (when delaying)
        uint32_t addr;         // 0: free slot
        uint16_t uses;
        bool delaying;         // report timer running
        bool lastReporter;     // we sent the last report heard for this group
    };

    Group* find(uint32_t group);
    void send(uint8_t type, uint32_t group, uint32_t dst);
    void report(Group& g);
    void arm(Group& g, uint32_t maxUs, uint64_t now);
    uint32_t random();

    EthernetNetIf* m_pIf;
    Group m_groups[NETCFG_IGMP_GROUPS - 1];
    uint32_t m_rand;  // 0 until seeded
    bool m_running;
};
