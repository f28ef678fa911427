// NetUdpSocket: the UDP socket implementation behind the UDPSocket wrapper (internal;
// users use UDPSocket.h).  Created by NetIf::udpSocket() through Net::udpSocket(), reference
// counted, deleted by Net::poll() once closed and released.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "host.h"
#include "netcallback.h"

class NetIf;

enum NetUdpSocketErr {
    __NETUDPSOCKET_MIN = -0xFFFF,
    NETUDPSOCKET_SETUP,  // -65534
    NETUDPSOCKET_IF,     // -65533
    NETUDPSOCKET_MEM,    // -65532
    NETUDPSOCKET_INUSE,  // -65531
    NETUDPSOCKET_OK = 0
};

enum NetUdpSocketEvent { NETUDPSOCKET_READABLE = 0 };

class NetUdpSocket {
public:
    // bind: port from me (0 = lowest free port >= 4096); always all local addresses.  A
    // multicast address in me joins that group (NetIf::igmpJoin; failure: NETUDPSOCKET_IF),
    // left again on close.  Port bound by another socket: NETUDPSOCKET_INUSE.
    NetUdpSocketErr bind(const Host& me);
    int sendto(const char* buf, int len, Host* pHost);
    int recvfrom(char* buf, int len, Host* pHost);
    NetUdpSocketErr close();

    template <class T>
    void setOnEvent(T* pItem, void (T::*pMethod)(NetUdpSocketEvent)) {
        m_cb.set(pItem, pMethod);
    }
    void resetOnEvent() { m_cb.reset(); }

    // --- internal (stack and tests) --------------------------------------------------------
    explicit NetUdpSocket(NetIf* pIf);
    ~NetUdpSocket();
    bool isClosed() const { return m_closed; }
    NetIf* netIf() const { return m_pIf; }
    uint16_t localPort() const { return m_port; }
    const IpAddr& group() const { return m_group; }
    int queuedDatagrams() const { return m_count; }
    int refs() const { return m_refs; }
    void ref() { m_refs++; }
    void unref() { m_refs--; }
    // Deliver queued events (FIFO) to the callback.
    void poll();
    // Interface going away: close, forget it.
    void detachIf();
    // A datagram for this socket's port: queue it and queue one READABLE event (false when
    // the queue is full: dropped).
    bool input(const IpAddr& src, uint16_t srcPort, const uint8_t* data, int len);
    // The socket bound to port (not closed), or NULL.
    static NetUdpSocket* findByPort(uint16_t port);
    // Some open socket is bound to this multicast group.
    static bool groupJoined(const IpAddr& group);
    // Payload bytes held by all sockets' receive queues.
    static size_t rxBytesHeld();

    NetUdpSocket* m_pNextSocket;  // Net's registration list

private:
    NetUdpSocket(const NetUdpSocket&) = delete;
    NetUdpSocket& operator=(const NetUdpSocket&) = delete;

    struct Dgram;
    NetUdpSocketErr bindPort(uint16_t port);
    void freeQueue();

    NetIf* m_pIf;
    NetDelegate<NetUdpSocketEvent> m_cb;
    Dgram* m_head;
    Dgram* m_tail;
    IpAddr m_group;
    uint16_t m_port;
    uint16_t m_count;    // datagrams queued
    uint16_t m_events;   // READABLE events queued
    int16_t m_refs;
    bool m_hasPcb;       // false: created beyond NETCFG_UDP_SOCKETS, every call gives MEM
    bool m_closed;
};
