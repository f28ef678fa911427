// NetIf: a network interface (netservices.md 2.5).
//
// Every NetIf registers itself with Net on construction AND becomes the default interface
// (the stack assumes a single interface); its destructor unregisters it (clearing the
// default if it was the default) and closes the sockets that were created on it, so their
// wrappers get UDPSOCKET_MEM from then on.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "host.h"
#include "ipaddr.h"

class NetTcpSocket;
class NetUdpSocket;
class NetDnsRequest;

class NetIf {
public:
    NetIf();
    virtual ~NetIf();

    // tcpSocket(): NULL until TCP comes.  dnsRequest(): a new NetDnsRequest (dns.cpp).
    virtual NetTcpSocket* tcpSocket();
    virtual NetUdpSocket* udpSocket() = 0;
    virtual void poll() = 0;
    virtual NetDnsRequest* dnsRequest(const char* hostname);
    virtual NetDnsRequest* dnsRequest(Host* pHost);

    // 0.0.0.0 until an address is set.
    IpAddr getIp() const { return m_ip; }

    // Extension: board time (board::micros()) of this interface's next timer deadline,
    // or 0 when it has none.  See Net::nextTimerUs().
    virtual uint64_t nextTimerUs() const;

    // Internal, used by the transport layers (UDP now, TCP later).  Sends one IPv4 packet
    // to dst whose payload is hdr[0..hlen) followed by data[0..dlen).  Returns 0 or a
    // negative NetOutErr (netstack.h).
    virtual int ipOutput(const IpAddr& dst, uint8_t proto, const uint8_t* hdr, int hlen,
                         const void* data, int dlen) = 0;
    // Internal: true once setup() succeeded (packets are processed only then).
    virtual bool isUp() const = 0;
    // Internal: multicast group membership, with a use count (UDP bind/close).  false: the
    // group cannot be joined (no IGMP on this interface, or its group table is full).
    virtual bool igmpJoin(const IpAddr& group);
    virtual void igmpLeave(const IpAddr& group);

protected:
    IpAddr m_ip;

private:
    NetIf(const NetIf&) = delete;
    NetIf& operator=(const NetIf&) = delete;
    friend class Net;
    friend struct NetCore;
    NetIf* m_pNextIf;
};
