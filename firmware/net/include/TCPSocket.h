// TCPSocket: the user-facing TCP socket (netservices.md 2.7, 3, 4, 5.2), over a TCP written
// from the RFCs (793, 1122, 5681, 6298; RFC 5961 checks on RST/SYN).
//
// * The implementation object is created lazily on the first bind/listen/connect/accept/
//   send/recv, on the default interface (none: TCPSOCKET_IF; PCB pool exhausted -- more than
//   NETCFG_TCP_PCBS connections incl. half-open/closing ones, after the oldest TIME_WAIT PCB
//   has been reused -- or no heap: the object exists and every call gives TCPSOCKET_MEM).
// * bind(me): port only, all local addresses.  Port used by another listener/connection (not
//   TIME_WAIT), or this socket not in its initial state: TCPSOCKET_INUSE.  Port 0: ephemeral.
// * listen(): TCPSOCKET_OK, or TCPSOCKET_MEM when NETCFG_TCP_LISTENERS listen already.  Up to
//   NETCFG_TCP_BACKLOG connections (half-open + completed, not yet accepted) per listener; a
//   SYN on a full queue (or a full PCB pool with no TIME_WAIT PCB to reuse) is dropped
//   silently and its client retries: a half-open connection that was sent a SYN-ACK is never
//   evicted, so no client is reset after completing its handshake.  Half-open connections
//   give up after NETCFG_TCP_SYNACK_MAXRTX SYN-ACK retransmissions (18.5 s), so a SYN flood
//   holds the queue only that long.  When the handshake completes the listener gets
//   one TCPSOCKET_ACCEPT event; the new socket gets no CONNECTED (nor WRITEABLE).
// * accept(pClient, ppNew): TCPSOCKET_OK with a heap TCPSocket the caller owns (close() and
//   delete it) and the client's IP/port; TCPSOCKET_EMPTY on an empty queue -- outputs left
//   untouched (the original read an uninitialised pointer, 6.5); TCPSOCKET_RST when the head
//   connection was reset before being accepted (it is discarded; call again for the next).
//   TCPSOCKET_MEM if the wrapper itself cannot be allocated.
// * connect(host): non-blocking, the SYN leaves at once (MSS option NETCFG_TCP_MSS).
//   TCPSOCKET_MEM on an immediate failure (not a fresh socket, interface down, no route,
//   bad address/port).  Then TCPSOCKET_CONNECTED on the SYN-ACK, TCPSOCKET_CONRST if refused
//   (RST), TCPSOCKET_CONABRT after NETCFG_TCP_SYNMAXRTX (6) retransmissions every 3 s
//   (18.5 s).  Simultaneous open works (CONNECTED too).
// * send(buf, len): bytes queued (min(len, free space of the NETCFG_TCP_SND_BUF buffer)),
//   0 when full; TCPSOCKET_SETUP never connected (or listening); TCPSOCKET_MEM after
//   close/reset/abort or out of heap.  Allowed while connecting and after the peer's FIN.
//   DIFFERENCE (6.5): the data is transmitted inside send() as far as the windows allow (the
//   original waited up to 250-500 ms for lwIP's timer).  No Nagle delay (like TCP_NODELAY).
// * recv(buf, len): bytes copied, 0 when nothing is buffered (also after the peer's FIN once
//   drained), TCPSOCKET_MEM after reset/abort/close.
// * sendQueued() (extension): bytes sent but not yet acknowledged by the peer.
// * close(): graceful (FIN after the queued data; FIN_WAIT/TIME_WAIT handled by the stack
//   without the socket); unread data is dropped, later incoming data ACKed and discarded;
//   no event is delivered afterwards.  A second close() gives TCPSOCKET_SETUP.  Closing a
//   listener RESETS the connections still waiting in its queue and its half-open ones
//   (the original leaked them, 6.5).
// Events, queued by the stack and delivered inside Net::poll() (TCP step, socket creation
// order, FIFO per socket):
//   CONNECTED (client only) - ACCEPT (listener, one per completed handshake) - READABLE when
//   data lands in an empty receive buffer - WRITEABLE each time the peer ACKs new data -
//   DISCONNECTED on the peer's FIN (the socket stays open, half-closed: send still works) -
//   CONRST on a reset (refused connects included): queued events and unread data are
//   dropped, exactly one CONRST is queued - CONABRT when retransmissions give up
//   (NETCFG_TCP_MAXRTX = 12 for data/FIN, see connect for SYNs).  CONTIMEOUT and ERROR are
//   never produced (as with the original's lwIP backend).
// Other differences: the receive window is real flow control (NETCFG_TCP_WND minus unread
// data; a window update is sent when the application reads), where the original ACKed
// everything and let unread data pile up in RAM.
#pragma once
#include <stddef.h>

#include "host.h"
#include "netcallback.h"
#include "nettcpsocket.h"

enum TCPSocketErr {
    __TCPSOCKET_MIN = -0xFFFF,
    TCPSOCKET_SETUP,    // -65534
    TCPSOCKET_TIMEOUT,  // -65533
    TCPSOCKET_IF,       // -65532
    TCPSOCKET_MEM,      // -65531
    TCPSOCKET_INUSE,    // -65530
    TCPSOCKET_EMPTY,    // -65529
    TCPSOCKET_RST,      // -65528
    TCPSOCKET_OK = 0
};

enum TCPSocketEvent {
    TCPSOCKET_CONNECTED = 0,
    TCPSOCKET_ACCEPT = 1,
    TCPSOCKET_READABLE = 2,
    TCPSOCKET_WRITEABLE = 3,
    TCPSOCKET_CONTIMEOUT = 4,
    TCPSOCKET_CONRST = 5,
    TCPSOCKET_CONABRT = 6,
    TCPSOCKET_ERROR = 7,
    TCPSOCKET_DISCONNECTED = 8
};

class TCPSocket {
public:
    TCPSocket();
    ~TCPSocket();

    TCPSocketErr bind(const Host& me);
    TCPSocketErr listen();
    TCPSocketErr connect(const Host& host);
    TCPSocketErr accept(Host* pClient, TCPSocket** ppNewTcpSocket);
    int send(const char* buf, int len);
    int recv(char* buf, int len);
    TCPSocketErr close();
    // Extension (not in the original): bytes given to send() that the peer has not
    // acknowledged yet (unsent or in flight); 0 when all is acknowledged, before the socket
    // exists and after close/reset.  Lets an application tell an idle connection from one
    // that still owes data (e.g. an idle timer that must not fire while retransmitting).
    int sendQueued() const;

    void setOnEvent(void (*pMethod)(TCPSocketEvent));
    template <class T>
    void setOnEvent(T* pItem, void (T::*pMethod)(TCPSocketEvent)) {
        m_member.set(pItem, pMethod);
    }
    void resetOnEvent();

protected:
    explicit TCPSocket(NetTcpSocket* pNetTcpSocket);
    void onNetTcpSocketEvent(NetTcpSocketEvent e);
    TCPSocketErr checkInst();

private:
    TCPSocket(const TCPSocket&) = delete;
    TCPSocket& operator=(const TCPSocket&) = delete;

    NetTcpSocket* m_pNetTcpSocket;
    void (*m_pCb)(TCPSocketEvent);
    NetDelegate<TCPSocketEvent> m_member;
};
