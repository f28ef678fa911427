// TCPEchoHandler (netservices.md 7.2): echoes one TCP connection; a pool-owned NetService
// that closes the connection on a reset/abort, after the client's FIN once everything the
// client sent has been echoed, or after ECHO_TIMEOUT ms idle, and is then deleted by the
// NetService pool on the next Net::poll().
//
// Differences from the original (which closed at once on the client's FIN, losing the echo
// still waiting, and whose idle timer only restarted on received data):
// * A half-closed connection (client FIN, e.g. socat/ncat or shutdown(SHUT_WR)) keeps
//   sending: the chunk waiting here, data still unread in the socket and the socket's send
//   buffer all go out (RFC 862), then the handler closes (FIN after the queued data).
// * Idle means nothing moved either way: the timer (armed after the first data) restarts on
//   data received, data accepted by send() and data acknowledged by the client, and it does
//   not close a connection while the board still owes data (TCPSocket::sendQueued() > 0 or
//   a chunk waiting here) -- retransmission back-off is not idleness.
//
// Difference from the original: the original ignored send()'s return value, so data beyond
// the free send buffer was silently lost under load.  Here at most one 128-byte chunk that
// did not fit waits in the handler and is sent on the next WRITEABLE; meanwhile nothing
// more is read, so TCP flow control (the receive window) slows the client instead.
//
// Extension for tests: every change of the number of live handlers prints "Handlers: %d".
#pragma once
#include <stdint.h>

#include "TCPSocket.h"
#include "netservice.h"

#define ECHO_TIMEOUT 5000

class TCPEchoHandler : public NetService {
public:
    explicit TCPEchoHandler(TCPSocket* pTCPSocket);
    virtual ~TCPEchoHandler();
    virtual void poll();

    static int count() { return s_count; }
    // Earliest idle deadline of all handlers (board time, 0 if none), for the main loop's sleep.
    static uint64_t nextDeadlineUs();

private:
    void onTCPSocketEvent(TCPSocketEvent e);
    bool pump();
    void touch();
    void close();

    TCPSocket* m_pTCPSocket;
    uint64_t m_deadline;  // 0: timer not armed
    TCPEchoHandler* m_pNext;
    int m_pendLen;
    int m_pendOff;
    char m_pend[128];
    bool m_closed;
    bool m_peerClosed;  // the client's FIN arrived: close once the echo is all out

    static int s_count;
    static TCPEchoHandler* s_list;
};
