// TCPSocket: enumerations only for now (netservices.md 3); the socket class comes with the
// TCP implementation.  Values are the contract: do not reorder.
#pragma once

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
