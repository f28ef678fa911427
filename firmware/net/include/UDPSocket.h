// UDPSocket: the user-facing UDP socket (netservices.md 2.6, 4.2, 4.3, 5.1).
//
// * The implementation object is created lazily on the first bind/sendto/recvfrom, on the
//   default interface (none: UDPSOCKET_IF; heap exhausted: UDPSOCKET_MEM; more than
//   NETCFG_UDP_SOCKETS open: the object exists but every call on it gives UDPSOCKET_MEM,
//   as in the original when lwIP's PCB pool was exhausted).
// * bind(me): port from me, always all local addresses.  Port already bound by another
//   socket: UDPSOCKET_INUSE.  Port 0 (or sendto on an unbound socket): the lowest free port
//   >= 4096.  A multicast IP in me joins that group first (IGMPv2, igmp.h; no room for
//   another group: UDPSOCKET_IF) and the port then receives datagrams sent to any group
//   the interface has joined; close() (or rebinding) leaves it (per-group use count).
// * sendto: returns len, or UDPSOCKET_SETUP (interface not set up, no route, bad
//   arguments), UDPSOCKET_MEM (closed implementation; more than 65507 bytes).  Datagrams
//   above MTU - 28 bytes are IP-fragmented.  If the next hop's MAC is unknown the datagram is held
//   (one per ARP entry, a newer one replaces it) until the ARP reply arrives.
// * recvfrom: bytes copied, 0 when nothing is queued (pHost untouched), UDPSOCKET_MEM when
//   the implementation is closed.  pHost (may be NULL) gets the sender's IP and port.
//   DATAGRAM BOUNDARIES ARE KEPT (a documented change from the original, which concatenated
//   unread datagrams from the same source into one entry): each received datagram is its
//   own queue entry with its own UDPSOCKET_READABLE event; recvfrom copies from the front
//   datagram only; if len is smaller than that datagram the rest stays for the next call,
//   so one call never mixes two datagrams.  An empty datagram is queued too (its recvfrom
//   returns 0 and consumes it).  At most NETCFG_UDP_RX_QUEUE datagrams wait per socket
//   (and NETCFG_UDP_RX_POOL_BYTES in all sockets); more are dropped and counted
//   (Net::stats().udp_queue_full).
// * close(): detaches the callbacks from the implementation first (no event is delivered
//   afterwards), closes it, releases it; the object is deleted by the next Net::poll().
//   A second close() gives UDPSOCKET_SETUP.  The wrapper can be used again afterwards (a new
//   implementation is created) and keeps its callbacks.
// * Events are queued by the stack and delivered only inside Net::poll(): one
//   UDPSOCKET_READABLE per received datagram.  A member callback wins over a function
//   callback; events queued while no callback is set are dropped at delivery.
#pragma once
#include <stddef.h>

#include "host.h"
#include "netcallback.h"
#include "netudpsocket.h"

enum UDPSocketErr {
    __UDPSOCKET_MIN = -0xFFFF,
    UDPSOCKET_SETUP,  // -65534
    UDPSOCKET_IF,     // -65533
    UDPSOCKET_MEM,    // -65532
    UDPSOCKET_INUSE,  // -65531
    UDPSOCKET_OK = 0
};

enum UDPSocketEvent { UDPSOCKET_READABLE = 0 };

class UDPSocket {
public:
    UDPSocket();
    ~UDPSocket();

    UDPSocketErr bind(const Host& me);
    int sendto(const char* buf, int len, Host* pHost);
    int recvfrom(char* buf, int len, Host* pHost);
    UDPSocketErr close();

    void setOnEvent(void (*pMethod)(UDPSocketEvent));
    template <class T>
    void setOnEvent(T* pItem, void (T::*pMethod)(UDPSocketEvent)) {
        m_member.set(pItem, pMethod);
    }
    void resetOnEvent();

protected:
    void onNetUdpSocketEvent(NetUdpSocketEvent e);
    UDPSocketErr checkInst();

private:
    UDPSocket(const UDPSocket&) = delete;
    UDPSocket& operator=(const UDPSocket&) = delete;

    NetUdpSocket* m_pNetUdpSocket;
    void (*m_pCb)(UDPSocketEvent);
    NetDelegate<UDPSocketEvent> m_member;
};
