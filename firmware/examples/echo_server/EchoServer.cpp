// EchoServer: see EchoServer.h.
#include "EchoServer.h"

#include <new>

#include "TCPEchoHandler.h"
#include "rt.h"

EchoServer::EchoServer() {
    m_pTcpSocket = new TCPSocket;
    m_pUdpSocket = new UDPSocket;
    m_pTcpSocket->setOnEvent(this, &EchoServer::onNetTcpSocketEvent);
    m_pUdpSocket->setOnEvent(this, &EchoServer::onNetUdpSocketEvent);
}

EchoServer::~EchoServer() {
    delete m_pTcpSocket;
    delete m_pUdpSocket;
}

void EchoServer::bind(int tcpPort, int udpPort) {
    m_pTcpSocket->bind(Host(IpAddr(), tcpPort, NULL));
    m_pTcpSocket->listen();
    m_pUdpSocket->bind(Host(IpAddr(), udpPort, NULL));
}

void EchoServer::onNetTcpSocketEvent(TCPSocketEvent e) {
    if (e != TCPSOCKET_ACCEPT) return;
    Host client;
    TCPSocket* pConn = NULL;
    if (m_pTcpSocket->accept(&client, &pConn) != TCPSOCKET_OK) {
        rt_printf("onNetTcpSocketEvent : Could not accept connection.\r\n");
        return;
    }
    const IpAddr& ip = client.getIp();
    rt_printf("Incoming TCP connection from %d.%d.%d.%d\r\n", ip[0], ip[1], ip[2], ip[3]);
    // Pool-owned: it deletes itself (through the NetService pool) when the connection ends.
    if (!new (std::nothrow) TCPEchoHandler(pConn)) {
        pConn->close();
        delete pConn;
    }
}

void EchoServer::onNetUdpSocketEvent(UDPSocketEvent e) {
    if (e != UDPSOCKET_READABLE) return;
    // The original read UDP into a 128-byte buffer; with datagram boundaries kept, a larger
    // datagram would come back cut into 128-byte pieces.  RFC 862 wants it whole, so the
    // buffer holds the largest datagram one unfragmented frame carries (MTU 746 - 28).
    static char buf[718];
    Host from;
    int n;
    // One datagram per recvfrom (boundaries are kept): each is answered with its data.
    while ((n = m_pUdpSocket->recvfrom(buf, sizeof buf, &from)) > 0) m_pUdpSocket->sendto(buf, n, &from);
}
