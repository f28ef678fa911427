// UDPSocket wrapper: lazy implementation, callbacks, reuse after close.  See UDPSocket.h.
#include "UDPSocket.h"

#include "net.h"

UDPSocket::UDPSocket() : m_pNetUdpSocket(NULL), m_pCb(NULL), m_member() {}

UDPSocket::~UDPSocket() { close(); }

UDPSocketErr UDPSocket::checkInst() {
    if (m_pNetUdpSocket) return UDPSOCKET_OK;
    if (!Net::getDefaultIf()) return UDPSOCKET_IF;
    m_pNetUdpSocket = Net::udpSocket();
    if (!m_pNetUdpSocket) return UDPSOCKET_MEM;
    m_pNetUdpSocket->setOnEvent(this, &UDPSocket::onNetUdpSocketEvent);
    return UDPSOCKET_OK;
}

UDPSocketErr UDPSocket::bind(const Host& me) {
    UDPSocketErr err = checkInst();
    if (err != UDPSOCKET_OK) return err;
    return (UDPSocketErr)m_pNetUdpSocket->bind(me);
}

int UDPSocket::sendto(const char* buf, int len, Host* pHost) {
    UDPSocketErr err = checkInst();
    if (err != UDPSOCKET_OK) return err;
    return m_pNetUdpSocket->sendto(buf, len, pHost);
}

int UDPSocket::recvfrom(char* buf, int len, Host* pHost) {
    UDPSocketErr err = checkInst();
    if (err != UDPSOCKET_OK) return err;
    return m_pNetUdpSocket->recvfrom(buf, len, pHost);
}

UDPSocketErr UDPSocket::close() {
    if (!m_pNetUdpSocket) return UDPSOCKET_SETUP;
    m_pNetUdpSocket->resetOnEvent();  // no event reaches this wrapper any more
    UDPSocketErr err = (UDPSocketErr)m_pNetUdpSocket->close();
    Net::releaseUdpSocket(m_pNetUdpSocket);
    m_pNetUdpSocket = NULL;
    return err;
}

// The two kinds of callback are stored independently; when both are set the member
// callback wins (netservices.md 4.2).
void UDPSocket::setOnEvent(void (*pMethod)(UDPSocketEvent)) { m_pCb = pMethod; }

void UDPSocket::resetOnEvent() {
    m_member.reset();
    m_pCb = NULL;
}

void UDPSocket::onNetUdpSocketEvent(NetUdpSocketEvent e) {
    if (m_member.isSet()) m_member.call((UDPSocketEvent)e);
    else if (m_pCb) m_pCb((UDPSocketEvent)e);
}
