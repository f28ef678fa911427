// IpAddr: an IPv4 address as 4 bytes, index 0 = first dotted octet (netservices.md 2.1).
#pragma once
#include <stdint.h>

class IpAddr {
public:
    IpAddr() : m_ip{0, 0, 0, 0} {}
    IpAddr(uint8_t a, uint8_t b, uint8_t c, uint8_t d) : m_ip{a, b, c, d} {}

    // Octet i (0..3); 0 for i > 3.
    uint8_t operator[](unsigned int i) const { return i < 4 ? m_ip[i] : 0; }

    bool isEq(const IpAddr& b) const { return toU32() == b.toU32(); }
    bool operator==(const IpAddr& b) const { return isEq(b); }
    bool operator!=(const IpAddr& b) const { return !isEq(b); }

    bool isNull() const { return toU32() == 0; }
    // Only 255.255.255.255 (no subnet-broadcast logic, as the original).
    bool isBroadcast() const { return toU32() == 0xFFFFFFFFu; }
    // 224.0.0.0 .. 239.255.255.255.
    bool isMulticast() const { return (m_ip[0] & 0xF0) == 0xE0; }

    // Extension (replaces the lwIP-only getStruct()): the address as a host-order integer,
    // first octet in the top byte, and back.
    uint32_t toU32() const {
        return ((uint32_t)m_ip[0] << 24) | ((uint32_t)m_ip[1] << 16) | ((uint32_t)m_ip[2] << 8) |
               m_ip[3];
    }
    static IpAddr fromU32(uint32_t v) {
        return IpAddr((uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v);
    }

private:
    uint8_t m_ip[4];
};
