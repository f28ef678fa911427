// TCPSocket wrapper: lazy implementation, callbacks, accept, reuse after close.  See
// TCPSocket.h.
#include "TCPSocket.h"

#include <new>

#include "net.h"

TCPSocket::TCPSocket() : m_pNetTcpSocket(NULL), m_pCb(NULL), m_member() {}

TCPSocket::TCPSocket(NetTcpSocket* pNetTcpSocket)
    : m_pNetTcpSocket(pNetTcpSocket), m_pCb(NULL), m_member() {
    if (m_pNetTcpSocket) m_pNetTcpSocket->setOnEvent(this, &TCPSocket::onNetTcpSocketEvent);
}

TCPSocket::~TCPSocket() { close(); }

TCPSocketErr TCPSocket::checkInst() {
    if (m_pNetTcpSocket) return TCPSOCKET_OK;
    if (!Net::getDefaultIf()) return TCPSOCKET_IF;
    m_pNetTcpSocket = Net::tcpSocket();
    if (!m_pNetTcpSocket) return TCPSOCKET_MEM;
    m_pNetTcpSocket->setOnEvent(this, &TCPSocket::onNetTcpSocketEvent);
    return TCPSOCKET_OK;
}

TCPSocketErr TCPSocket::bind(const Host& me) {
    TCPSocketErr err = checkInst();
    if (err != TCPSOCKET_OK) return err;
    return (TCPSocketErr)m_pNetTcpSocket->bind(me);
}

TCPSocketErr TCPSocket::listen() {
    TCPSocketErr err = checkInst();
    if (err != TCPSOCKET_OK) return err;
    return (TCPSocketErr)m_pNetTcpSocket->listen();
}

TCPSocketErr TCPSocket::connect(const Host& host) {
    TCPSocketErr err = checkInst();
    if (err != TCPSOCKET_OK) return err;
    return (TCPSocketErr)m_pNetTcpSocket->connect(host);
}

TCPSocketErr TCPSocket::accept(Host* pClient, TCPSocket** ppNewTcpSocket) {
    TCPSocketErr err = checkInst();
    if (err != TCPSOCKET_OK) return err;
    Host client;
    NetTcpSocket* pNew = NULL;
    err = (TCPSocketErr)m_pNetTcpSocket->accept(&client, &pNew);
    if (err != TCPSOCKET_OK) return err;  // outputs untouched (the original's defect, 6.5)
    TCPSocket* s = new (std::nothrow) TCPSocket(pNew);
    if (!s) {
        pNew->close();
        Net::releaseTcpSocket(pNew);
        return TCPSOCKET_MEM;
    }
    if (pClient) {
        pClient->setIp(client.getIp());
        pClient->setPort(client.getPort());
    }
    if (ppNewTcpSocket) *ppNewTcpSocket = s;
    else delete s;  // nobody to own it: closes the connection
    return TCPSOCKET_OK;
}

int TCPSocket::send(const char* buf, int len) {
    TCPSocketErr err = checkInst();
    if (err != TCPSOCKET_OK) return err;
    return m_pNetTcpSocket->send(buf, len);
}

int TCPSocket::recv(char* buf, int len) {
    TCPSocketErr err = checkInst();
    if (err != TCPSOCKET_OK) return err;
    return m_pNetTcpSocket->recv(buf, len);
}

int TCPSocket::sendQueued() const { return m_pNetTcpSocket ? m_pNetTcpSocket->sendQueued() : 0; }

TCPSocketErr TCPSocket::close() {
    if (!m_pNetTcpSocket) return TCPSOCKET_SETUP;
    m_pNetTcpSocket->resetOnEvent();  // no event reaches this wrapper any more
    TCPSocketErr err = (TCPSocketErr)m_pNetTcpSocket->close();
    Net::releaseTcpSocket(m_pNetTcpSocket);
    m_pNetTcpSocket = NULL;
    return err;
}

// Member callback wins over the function callback (netservices.md 4.2).
void TCPSocket::setOnEvent(void (*pMethod)(TCPSocketEvent)) { m_pCb = pMethod; }

void TCPSocket::resetOnEvent() {
    m_member.reset();
    m_pCb = NULL;
}

void TCPSocket::onNetTcpSocketEvent(NetTcpSocketEvent e) {
    if (m_member.isSet()) m_member.call((TCPSocketEvent)e);
    else if (m_pCb) m_pCb((TCPSocketEvent)e);
}
