// ARP constants shared by EthernetNetIf.cpp (setup, the cache's timer) and arp.cpp.
#pragma once
#include <stdint.h>

enum : uint8_t { ARP_FREE = 0, ARP_PENDING = 1, ARP_STABLE = 2 };
enum : uint16_t { ARP_REQUEST = 1, ARP_REPLY = 2 };
inline constexpr uint8_t kBroadcastMac[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
inline constexpr uint8_t kZeroMac[6] = {0, 0, 0, 0, 0, 0};
