// NetTcpSocket: the TCP socket implementation behind the TCPSocket wrapper (internal;
// users use TCPSocket.h).  Created by NetIf::tcpSocket() through Net::tcpSocket() (or by
// the stack for an accepted connection), reference counted, deleted by Net::poll() once
// closed and released.  Behaviour: see TCPSocket.h.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "host.h"
#include "netcallback.h"

class NetIf;
namespace tcp {
struct Pcb;
}

enum NetTcpSocketErr {
    __NETTCPSOCKET_MIN = -0xFFFF,
    NETTCPSOCKET_SETUP,    // -65534
    NETTCPSOCKET_TIMEOUT,  // -65533
    NETTCPSOCKET_IF,       // -65532
    NETTCPSOCKET_MEM,      // -65531
    NETTCPSOCKET_INUSE,    // -65530
    NETTCPSOCKET_EMPTY,    // -65529
    NETTCPSOCKET_RST,      // -65528
    NETTCPSOCKET_OK = 0
};

enum NetTcpSocketEvent {
    NETTCPSOCKET_CONNECTED = 0,
    NETTCPSOCKET_ACCEPT = 1,
    NETTCPSOCKET_READABLE = 2,
    NETTCPSOCKET_WRITEABLE = 3,
    NETTCPSOCKET_CONTIMEOUT = 4,
    NETTCPSOCKET_CONRST = 5,
    NETTCPSOCKET_CONABRT = 6,
    NETTCPSOCKET_ERROR = 7,
    NETTCPSOCKET_DISCONNECTED = 8
};

class NetTcpSocket {
public:
    NetTcpSocketErr bind(const Host& me);
    NetTcpSocketErr listen();
    NetTcpSocketErr connect(const Host& host);
    NetTcpSocketErr accept(Host* pClient, NetTcpSocket** ppNewNetTcpSocket);
    int send(const char* buf, int len);
    int recv(char* buf, int len);
    NetTcpSocketErr close();
    // Extension: bytes given to send() that the peer has not acknowledged yet (unsent or in
    // flight); 0 when everything is acknowledged, or without a connection.
    int sendQueued() const;

    template <class T>
    void setOnEvent(T* pItem, void (T::*pMethod)(NetTcpSocketEvent)) {
        m_cb.set(pItem, pMethod);
    }
    void resetOnEvent() { m_cb.reset(); }

    // --- internal (stack and tests) --------------------------------------------------------
    explicit NetTcpSocket(NetIf* pIf);           // takes a PCB; none left: every call gives MEM
    NetTcpSocket(NetIf* pIf, tcp::Pcb* pcb);     // a connection completed on a listener
    ~NetTcpSocket();
    bool isClosed() const { return m_closed; }
    NetIf* netIf() const { return m_pIf; }
    tcp::Pcb* pcb() const { return m_pcb; }
    int refs() const { return m_refs; }
    void ref() { m_refs++; }
    void unref() { m_refs--; }
    int queuedEvents() const { return m_evCount; }
    // Deliver queued events (FIFO) to the callback.
    void poll();
    void detachIf();
    // Stack side.
    void queueEvent(NetTcpSocketEvent e);
    // The PCB is gone (reset, abort): forget it, drop queued events and unread data (they
    // lived in the PCB), mark closed, queue exactly one event e.
    void pcbLost(NetTcpSocketEvent e);

    NetTcpSocket* m_pNextSocket;  // Net's registration list
    NetTcpSocket* m_pNextAccept;  // a listener's queue of connections not yet accepted

private:
    NetTcpSocket(const NetTcpSocket&) = delete;
    NetTcpSocket& operator=(const NetTcpSocket&) = delete;
    void init(NetIf* pIf);

    enum { EVQ = 16 };
    NetIf* m_pIf;
    tcp::Pcb* m_pcb;
    NetDelegate<NetTcpSocketEvent> m_cb;
    uint8_t m_ev[EVQ];
    uint8_t m_evHead;
    uint8_t m_evCount;
    int16_t m_refs;
    bool m_hadPcb;  // a PCB was obtained at creation
    bool m_closed;
};
