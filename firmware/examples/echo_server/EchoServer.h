// EchoServer (netservices.md 7.2): RFC 862 echo on TCP and UDP.  One listening TCPSocket
// and one UDPSocket; each accepted connection gets its own pool-owned TCPEchoHandler.
#pragma once
#include "TCPSocket.h"
#include "UDPSocket.h"

class EchoServer {
public:
    EchoServer();
    ~EchoServer();
    // TCP bind + listen on tcpPort, UDP bind on udpPort (return codes ignored, as the
    // original).
    void bind(int tcpPort = 7, int udpPort = 7);

private:
    EchoServer(const EchoServer&) = delete;
    EchoServer& operator=(const EchoServer&) = delete;
    void onNetTcpSocketEvent(TCPSocketEvent e);
    void onNetUdpSocketEvent(UDPSocketEvent e);

    TCPSocket* m_pTcpSocket;
    UDPSocket* m_pUdpSocket;
};
