// DHCP client of EthernetNetIf in DHCP mode (RFC 2131/2132; netservices.md 6.2).  Internal:
// applications use EthernetNetIf(hostname) and setup().
//
// * DISCOVER (broadcast, flag set, option 12 host name when one was given, 55 parameter
//   list 1 3 6 51 58 59, 57 max size) from port 68 to 67, retransmitted after 2, 4, 8, 16,
//   32 s, then every 60 s (board time); the first valid OFFER wins -> REQUEST (50, 54),
//   retransmitted on the same back-off, 5 tries, then back to DISCOVER; ACK -> the offered
//   address is ARP-probed twice, 500 ms apart (sender 0.0.0.0); a reply (or another host's
//   probe for it) -> DECLINE and DISCOVER again after 10 s; otherwise bound: address, mask
//   (option 1, else the class default), router (3), up to 2 DNS servers (6) for the DNS
//   client, gratuitous ARP.  NAK -> back to DISCOVER at once (address dropped if bound).
// * Bound: at T1 (option 58, else lease/2) unicast REQUEST to the server (RENEWING), at T2
//   (59, else 7/8 lease) broadcast REQUEST (REBINDING), retransmitted after half the time
//   left (at least 60 s); at lease expiry the address goes down and DISCOVER starts again.
//   These timers run from EthernetNetIf::poll() after setup() too (the original never
//   renewed: a defect, 6.5).  An infinite lease (0xFFFFFFFF) has no timers.
// * Replies are ignored unless: BOOTREPLY from port 67, htype 1/hlen 6, our xid and MAC,
//   magic cookie, option 53 present, every option's length right and inside the message,
//   an END option (in file/sname too when option 52 overloads them), OFFER/ACK with a usable yiaddr, a lease
//   time and a server id, a contiguous mask.  Ignored means the retransmission goes on.
// * Takes one UDP socket of the pool (port 68) while it runs, as lwIP's DHCP PCB did.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "ipaddr.h"

class EthernetNetIf;
class NetUdpSocket;

#ifndef NETCFG_DHCP_PROBES
#define NETCFG_DHCP_PROBES 2          // ARP probes of the offered address
#endif
#ifndef NETCFG_DHCP_PROBE_MS
#define NETCFG_DHCP_PROBE_MS 500ul    // between probes, and after the last one
#endif
#ifndef NETCFG_DHCP_DECLINE_WAIT_MS
#define NETCFG_DHCP_DECLINE_WAIT_MS 10000ul  // RFC 2131 3.1.5: at least 10 s after DECLINE
#endif
#ifndef NETCFG_DHCP_REQUEST_TRIES
#define NETCFG_DHCP_REQUEST_TRIES 5
#endif
#ifndef NETCFG_DHCP_HOSTNAME_MAX
#define NETCFG_DHCP_HOSTNAME_MAX 63   // longer host names are cut in option 12
#endif

// A parsed server message.
struct DhcpInfo {
    uint8_t type;       // option 53
    uint8_t ndns;
    bool hasMask, hasRouter, hasLease, hasServer, hasT1, hasT2;
    uint32_t yiaddr, server, mask, router, lease, t1, t2;
    uint32_t dns[2];
};

enum DhcpMsgType : uint8_t {
    DHCP_DISCOVER = 1, DHCP_OFFER = 2, DHCP_REQUEST = 3, DHCP_DECLINE = 4,
    DHCP_ACK = 5, DHCP_NAK = 6, DHCP_RELEASE = 7, DHCP_INFORM = 8
};

class DhcpClient {
public:
    enum State : uint8_t { OFF, SELECTING, REQUESTING, CHECKING, BOUND, RENEWING, REBINDING, BACKOFF };

    explicit DhcpClient(EthernetNetIf* netif);
    ~DhcpClient();

    void start();  // (re)start: DISCOVER now
    void stop();   // no more messages, socket released (setup() timed out)
    void poll();   // timers (retransmissions, probes, T1/T2/expiry)
    // A datagram to port 68: true when consumed (the client runs).
    bool input(const IpAddr& src, uint16_t sport, const uint8_t* data, int len);
    // Every ARP packet received (conflict detection while probing).
    void arpInput(uint16_t op, const uint8_t* sha, uint32_t spa, uint32_t tpa);
    uint64_t nextTimerUs() const;  // 0: none

    State state() const { return m_state; }
    bool running() const { return m_state != OFF; }
    // Lease timers, board time (0: none), and the server; for tests and diagnostics.
    uint64_t t1At() const { return m_t1; }
    uint64_t t2At() const { return m_t2; }
    uint64_t leaseEndAt() const { return m_end; }
    IpAddr serverIp() const { return IpAddr::fromU32(m_server); }
    IpAddr dns(int i) const { return IpAddr::fromU32(i == 0 ? m_dns[0] : i == 1 ? m_dns[1] : 0); }

    // The wire format (exposed for tests and the fuzz target).  parse: false unless msg is a
    // well-formed BOOTREPLY for (xid, mac) as described above (OFFER/ACK requirements
    // included).
    static bool parse(const uint8_t* msg, int len, uint32_t xid, const uint8_t mac[6],
                      DhcpInfo* out);

private:
    DhcpClient(const DhcpClient&) = delete;
    DhcpClient& operator=(const DhcpClient&) = delete;

    void openSocket();
    void closeSocket();
    void newXid();
    void sendDiscover();
    void sendRequest();
    void sendDecline();
    void probe();
    void bind(uint64_t now);
    void down();
    void offer(const DhcpInfo& in);
    void ack(const DhcpInfo& in);
    void send(uint8_t type, uint32_t ciaddr, bool bcastFlag, uint32_t reqIp, uint32_t serverId,
              uint32_t dst);
    uint64_t retryAt(uint64_t now, uint64_t limit) const;

    EthernetNetIf* m_if;
    NetUdpSocket* m_sock;
    uint64_t m_deadline;  // next retransmission / probe / state timeout
    uint64_t m_started;   // board time this acquisition began (secs field)
    uint64_t m_reqSent;   // board time the last REQUEST left (the lease starts then)
    uint64_t m_t1, m_t2, m_end;
    uint32_t m_xid;
    uint32_t m_offered, m_server;
    uint32_t m_mask, m_router;
    uint32_t m_dns[2];
    uint32_t m_lease;
    State m_state;
    uint8_t m_tries;
};
