// TCPEchoHandler: see TCPEchoHandler.h.
#include "TCPEchoHandler.h"

#include "board.h"
#include "rt.h"

int TCPEchoHandler::s_count = 0;
TCPEchoHandler* TCPEchoHandler::s_list = NULL;

TCPEchoHandler::TCPEchoHandler(TCPSocket* pTCPSocket)
    : NetService(true),
      m_pTCPSocket(pTCPSocket),
      m_deadline(0),
      m_pNext(s_list),
      m_pendLen(0),
      m_pendOff(0),
      m_closed(false),
      m_peerClosed(false) {
    s_list = this;
    m_pTCPSocket->setOnEvent(this, &TCPEchoHandler::onTCPSocketEvent);
    s_count++;
    rt_printf("Handlers: %d\r\n", s_count);
}

TCPEchoHandler::~TCPEchoHandler() {
    close();
    for (TCPEchoHandler** pp = &s_list; *pp; pp = &(*pp)->m_pNext) {
        if (*pp == this) {
            *pp = m_pNext;
            break;
        }
    }
    s_count--;
    rt_printf("Handlers: %d\r\n", s_count);
}

uint64_t TCPEchoHandler::nextDeadlineUs() {
    uint64_t best = 0;
    for (TCPEchoHandler* h = s_list; h; h = h->m_pNext)
        if (h->m_deadline && (!best || h->m_deadline < best)) best = h->m_deadline;
    return best;
}

// Idle timer: restarted whenever data moves either way (received, accepted by send(),
// acknowledged by the client).
void TCPEchoHandler::touch() { m_deadline = board::micros() + (uint64_t)ECHO_TIMEOUT * 1000u; }

// Send what waits, then read and echo until nothing is left or the send buffer is full.
// Returns true when everything received so far has been handed to the socket (nothing
// waits in the handler, nothing unread in the socket).
bool TCPEchoHandler::pump() {
    for (;;) {
        if (m_pendLen > m_pendOff) {
            int n = m_pTCPSocket->send(m_pend + m_pendOff, m_pendLen - m_pendOff);
            if (n < 0) return false;
            if (n > 0) touch();
            m_pendOff += n;
            if (m_pendOff < m_pendLen) return false;  // full: wait for WRITEABLE
        }
        m_pendLen = m_pendOff = 0;
        int n = m_pTCPSocket->recv(m_pend, sizeof m_pend);
        if (n <= 0) return true;
        m_pendLen = n;
    }
}

void TCPEchoHandler::onTCPSocketEvent(TCPSocketEvent e) {
    switch (e) {
        case TCPSOCKET_READABLE:
        case TCPSOCKET_WRITEABLE:
            touch();  // data arrived, or the client acknowledged some of the echo
            if (pump() && m_peerClosed) close();
            break;
        case TCPSOCKET_DISCONNECTED:
            // The client half-closed: everything it sent is still echoed (RFC 862) -- what
            // waits here, unread data in the socket, the socket's send buffer -- and the
            // connection is closed once all of it has been handed to the socket (close()
            // sends the FIN after the queued data).
            m_peerClosed = true;
            if (pump()) close();
            else touch();
            break;
        case TCPSOCKET_CONTIMEOUT:
        case TCPSOCKET_CONRST:
        case TCPSOCKET_CONABRT:
        case TCPSOCKET_ERROR:
            close();
            break;
        default:
            break;
    }
}

void TCPEchoHandler::poll() {
    if (!m_deadline || board::micros() < m_deadline) return;
    // Idle means nothing moved either way for ECHO_TIMEOUT ms.  Not idle while the board
    // still owes the client data (waiting here, or unacknowledged in the socket: the stack
    // may be backing off its retransmissions); the stack itself gives up (CONABRT) on a
    // client that is gone.
    bool drained = pump();
    if (!drained || m_pTCPSocket->sendQueued() > 0) {
        touch();
        return;
    }
    close();
}

void TCPEchoHandler::close() {
    if (m_closed) return;
    m_closed = true;
    m_deadline = 0;
    if (m_pTCPSocket) {
        m_pTCPSocket->resetOnEvent();
        m_pTCPSocket->close();  // graceful: queued echo data goes out before the FIN
        delete m_pTCPSocket;
        m_pTCPSocket = NULL;
    }
    NetService::close();  // the pool deletes this handler on the next Net::poll()
}
