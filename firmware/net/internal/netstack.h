// Internal helpers shared by the stack's source files (not for applications).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "net.h"

class NetIf;
class NetUdpSocket;

// Errors of NetIf::ipOutput().
enum NetOutErr {
    NETOUT_OK = 0,
    NETOUT_DOWN = -1,     // interface not set up
    NETOUT_NOROUTE = -2,  // off-link destination and no gateway, or 0.0.0.0
    NETOUT_TOOBIG = -3,   // larger than the MTU (fragmentation comes later)
    NETOUT_MEM = -4,      // no memory to hold the packet
    NETOUT_LINK = -5,     // the driver refused the frame
};

enum : uint16_t { ETHTYPE_IPV4 = 0x0800, ETHTYPE_ARP = 0x0806 };
enum : uint8_t { NET_PROTO_ICMP = 1, NET_PROTO_UDP = 17 };
enum { ETH_HDR = 14, IP_HDR = 20, UDP_HDR = 8, ICMP_HDR = 8, ARP_LEN = 28 };

// The stack's shared state: registration lists and counters (zero-initialised, no
// constructors, so there is no static-initialisation order to worry about).
struct NetCore {
    static NetStats stats;
    static NetIf* ifs;
    static NetIf* defaultIf;
    static NetUdpSocket* udpSockets;

    static void registerIf(NetIf* pIf);
    static void unregisterIf(NetIf* pIf);
    static void registerUdp(NetUdpSocket* s);
    static void unregisterUdp(NetUdpSocket* s);
};

// Big-endian accessors.
inline uint16_t rd16(const uint8_t* p) { return (uint16_t)((p[0] << 8) | p[1]); }
inline uint32_t rd32(const uint8_t* p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
inline void wr16(uint8_t* p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
inline void wr32(uint8_t* p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

// Internet checksum: accumulate 16-bit big-endian words (an odd length is padded with a zero
// byte, so only the last piece of a sum may be odd), then fold and complement.
uint32_t inet_sum(uint32_t sum, const void* data, size_t len);
uint16_t inet_fold(uint32_t sum);  // ~folded sum
// Sum of the UDP/TCP pseudo-header.
uint32_t inet_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);
