// EthernetNetIf: the Ethernet interface and the IPv4 stack on it (netservices.md 2.5, 6.2).
//
// Protocols: Ethernet II; ARP (cache of NETCFG_ARP_TABLE entries, resolved entries expire
// after 20 min, unanswered ones after 10 s; requests for our address answered; one packet
// held per unresolved entry, a newer one replacing it; a gratuitous ARP when setup() brings
// the interface up); IPv4 (header checksum checked, options skipped, fragments reassembled
// and datagrams above the MTU fragmented (ipfrag.h), broadcast 255.255.255.255 and the subnet
// broadcast accepted, multicast accepted for the groups joined (IGMPv2, igmp.h)); ICMP echo
// reply to our unicast address;
// UDP (see UDPSocket.h).  All work happens inside poll(), called by Net::poll().
//
// Static mode: EthernetNetIf(ip, netmask, gateway, dns) sets getIp() at once; setup() starts
// the Ethernet driver, brings the interface up and returns ETH_OK at once, whatever the link
// state.  The dns address is stored (getDns()) and will be honoured by the DNS client (the
// original ignored it, 6.5).
//
// DHCP mode: EthernetNetIf(hostname) (the pointer is stored, not copied, as in the original;
// sent as option 12).  setup() runs the DHCP client (dhcpclient.h) until an address is bound
// (ETH_OK; getIp(), getNetmask(), getGateway(), getDns() from the lease; gratuitous ARP) or
// timeout_ms has passed (ETH_TIMEOUT, -65534, the client stops).  After setup() the client
// keeps running from poll(): renewal at T1, rebinding at T2, the address goes down at lease
// expiry (the original never renewed, 6.5).  It takes one UDP socket of the pool (port 68).
//
// setup() may be called again: the ARP cache is cleared and the interface re-announced.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "igmp.h"
#include "ipaddr.h"
#include "ipfrag.h"
#include "netcfg.h"
#include "netif.h"

enum EthernetErr {
    __ETH_MIN = -0xFFFF,
    ETH_TIMEOUT,  // -65534
    ETH_OK = 0
};

class DhcpClient;

class EthernetNetIf : public NetIf {
public:
    EthernetNetIf(const char* hostname = NULL);
    EthernetNetIf(IpAddr ip, IpAddr netmask, IpAddr gateway, IpAddr dns);
    virtual ~EthernetNetIf();

    EthernetErr setup(int timeout_ms = 15000);
    // Extension: what setup() does, without waiting: in DHCP mode the client then runs from
    // poll() (isUp() once bound, no timeout); static mode: the same as setup().
    void setupNoWait();

    virtual void poll();
    virtual NetUdpSocket* udpSocket();
    virtual NetTcpSocket* tcpSocket();

    // Pointer to the 6 MAC bytes (board::mac_address() unless setHwAddr() was used).
    const char* getHwAddr() const;
    const char* getHostname() const { return m_hostname; }

    // Extensions.
    void setHwAddr(const uint8_t mac[6]);  // use this MAC instead of the board's (before setup())
    const DhcpClient* dhcpClient() const { return m_dhcpc; }  // DHCP mode, after setup()
    IpAddr getNetmask() const { return m_netmask; }
    IpAddr getGateway() const { return m_gateway; }
    IpAddr getDns() const { return m_dns; }
    virtual uint64_t nextTimerUs() const;

    // Internal (NetIf).
    virtual int ipOutput(const IpAddr& dst, uint8_t proto, const uint8_t* hdr, int hlen,
                         const void* data, int dlen);
    virtual bool isUp() const { return m_up; }
    // Internal: ipOutput with a TTL and IP options (IGMP); datagrams larger than the MTU are
    // fragmented (ipfrag.h).
    int ipOutputOpt(const IpAddr& dst, uint8_t proto, uint8_t ttl, const uint8_t* opts, int optLen,
                    const uint8_t* hdr, int hlen, const void* data, int dlen);
    // Internal: multicast membership (NetIf), IGMP state and reassembly (tests).
    virtual bool igmpJoin(const IpAddr& group);
    virtual void igmpLeave(const IpAddr& group);
    const NetIgmp& igmp() const { return m_igmp; }
    const NetReasm& reasm() const { return m_reasm; }

private:
    friend class DhcpClient;
    EthernetErr dhcpSetup(int timeout_ms);  // dhcp.cpp
    void init();
    void input(int len);
    void arpInput(int len);
    void ipInput(int len);
    void icmpInput(const uint8_t* ip, int ihl, int total);
    void udpInput(const uint8_t* ip, int ihl, int total);
    void portUnreachable(const uint8_t* ip, int ihl, int total);
    void arpSend(uint16_t op, const uint8_t* dstMac, const uint8_t* targetMac, uint32_t targetIp);
    int arpFind(uint32_t ip) const;
    int arpAlloc(uint32_t ip);
    void arpUpdate(uint32_t ip, const uint8_t* mac, bool create);
    void arpClear();
    int sendFrame(const uint8_t* dstMac, uint16_t type, int payloadLen);
    int resolveAndSend(uint32_t nextHop, int ipLen);
    int arpHold(uint32_t nextHop, uint8_t* packet, int ipLen);
    int sendFragments(const uint8_t* mac, const uint8_t* tmpl, int ihl, const uint8_t* p1, int n1,
                      const uint8_t* p2, int n2);

    struct ArpEntry {
        uint64_t expires;    // board time the entry is forgotten
        uint64_t lastReq;    // board time of the last request (pending entries)
        uint8_t* queued;     // one held IP packet (heap), or NULL
        uint16_t queuedLen;
        uint8_t state;       // ARP_FREE / ARP_PENDING / ARP_STABLE
        uint8_t mac[6];
        uint32_t ip;
    };

    ArpEntry m_arp[NETCFG_ARP_TABLE];
    alignas(4) uint8_t m_rx[NETCFG_FRAME_MAX];
    alignas(4) uint8_t m_tx[NETCFG_FRAME_MAX];
    uint16_t m_ipId;
    bool m_started;  // driver initialised by setup()
    IpAddr m_netmask;
    IpAddr m_gateway;
    IpAddr m_dns;
    const char* m_hostname;
    uint8_t m_mac[6];
    bool m_dhcp;
    bool m_up;
    bool m_customMac;
    DhcpClient* m_dhcpc = nullptr;  // DHCP mode, from the first setup()
    NetIgmp m_igmp;
    NetReasm m_reasm;
    // ICMP port unreachable token bucket: credit in microseconds of board time (one message
    // costs 1 s / NETCFG_ICMP_UNREACH_PER_S), refilled up to NETCFG_ICMP_UNREACH_BURST.
    uint64_t m_unreachCredit = ~(uint64_t)0;  // full on first use
    uint64_t m_unreachAt = 0;
};
