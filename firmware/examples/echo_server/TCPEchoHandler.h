// TCPEchoHandler (netservices.md 7.2): echoes one TCP connection; a pool-owned NetService
// that closes the connection on a reset/abort/FIN or after ECHO_TIMEOUT ms without data
// (the timer is armed after the first data, re-armed after each), and is then deleted by
// the NetService pool on the next Net::poll().
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
    void pump();
    void close();

    TCPSocket* m_pTCPSocket;
    uint64_t m_deadline;  // 0: timer not armed
    TCPEchoHandler* m_pNext;
    int m_pendLen;
    int m_pendOff;
    char m_pend[128];
    bool m_closed;

    static int s_count;
    static TCPEchoHandler* s_list;
};
