// Build-time limits of the network stack.
//
// The default profile matches the original NetServices/lwIP configuration where a limit
// applies (netservices.md 6.4): 4 UDP sockets, 4 ARP entries, MTU 746 (the 0x300-byte
// EMAC buffers of the mbed driver), 8 x 592 bytes of receive buffering.  Define
// NETCFG_PROFILE_LARGE (e.g. -DNETCFG_PROFILE_LARGE=1) for a larger profile meant for stress
// and throughput work.  Any single value can also be overridden with -DNETCFG_xxx=...
#pragma once

#if defined(NETCFG_PROFILE_LARGE) && NETCFG_PROFILE_LARGE
#define NETCFG_PROFILE_NAME "large"
#ifndef NETCFG_MTU
#define NETCFG_MTU 1500
#endif
#ifndef NETCFG_UDP_SOCKETS
#define NETCFG_UDP_SOCKETS 16
#endif
#ifndef NETCFG_ARP_TABLE
#define NETCFG_ARP_TABLE 16
#endif
#ifndef NETCFG_UDP_RX_QUEUE
#define NETCFG_UDP_RX_QUEUE 32
#endif
#ifndef NETCFG_UDP_RX_POOL_BYTES
#define NETCFG_UDP_RX_POOL_BYTES 32768
#endif
#ifndef NETCFG_RX_BUDGET
#define NETCFG_RX_BUDGET 32
#endif
#else
#define NETCFG_PROFILE_NAME "default"
// IP MTU of the interface (netif MTU 0x2EA in the original).
#ifndef NETCFG_MTU
#define NETCFG_MTU 746
#endif
// Open UDP sockets at once (MEMP_NUM_UDP_PCB).  Opening one more gives UDPSOCKET_MEM.
#ifndef NETCFG_UDP_SOCKETS
#define NETCFG_UDP_SOCKETS 4
#endif
// ARP cache entries (ARP_TABLE_SIZE).
#ifndef NETCFG_ARP_TABLE
#define NETCFG_ARP_TABLE 4
#endif
// Unread datagrams kept per UDP socket; one more is dropped and counted (udp_queue_full).
#ifndef NETCFG_UDP_RX_QUEUE
#define NETCFG_UDP_RX_QUEUE 4
#endif
// Payload bytes of unread datagrams kept by all UDP sockets together (the original's
// receive memory was its pbuf pool: PBUF_POOL_SIZE 8 x 592 bytes).
#ifndef NETCFG_UDP_RX_POOL_BYTES
#define NETCFG_UDP_RX_POOL_BYTES (8 * 592)
#endif
// Frames taken from the driver per EthernetNetIf::poll() (the rest waits for the next poll,
// so a flood cannot starve the main loop).
#ifndef NETCFG_RX_BUDGET
#define NETCFG_RX_BUDGET 8
#endif
#endif

// Largest Ethernet frame handled (no FCS, no VLAN tag): MTU + 14-byte header.
#define NETCFG_FRAME_MAX (NETCFG_MTU + 14)

// ARP: a resolved entry lives 20 minutes (240 x 5 s ticks in lwIP); an unanswered request is
// forgotten after 10 s (2 ticks); a request is repeated at most once per second while
// packets keep arriving for a pending entry.
#ifndef NETCFG_ARP_STABLE_MS
#define NETCFG_ARP_STABLE_MS (20ul * 60ul * 1000ul)
#endif
#ifndef NETCFG_ARP_PENDING_MS
#define NETCFG_ARP_PENDING_MS 10000ul
#endif
#ifndef NETCFG_ARP_RETRY_MS
#define NETCFG_ARP_RETRY_MS 1000ul
#endif

// Ephemeral UDP ports: the lowest free port in this range (lwIP: >= 4096).
#define NETCFG_UDP_EPHEMERAL_FIRST 4096
#define NETCFG_UDP_EPHEMERAL_LAST 0x7FFF

// TTL of every IP packet sent (UDP_TTL, ICMP_TTL: 255).
#define NETCFG_TTL 255

// IGMPv2 (igmp.h): multicast groups an interface can be a member of, 224.0.0.1 included
// (MEMP_NUM_IGMP_GROUP 8); one more join fails (UDPSOCKET_IF).  The repeat of the join
// report comes after a random delay of at most NETCFG_IGMP_JOIN_DELAY_MS.
#ifndef NETCFG_IGMP_GROUPS
#define NETCFG_IGMP_GROUPS 8
#endif
#ifndef NETCFG_IGMP_JOIN_DELAY_MS
#define NETCFG_IGMP_JOIN_DELAY_MS 500
#endif

// IP reassembly (ipfrag.h): datagrams reassembled at once, bytes held by all of them
// (fragment data plus bookkeeping), and how long an incomplete datagram is kept.
#if defined(NETCFG_PROFILE_LARGE) && NETCFG_PROFILE_LARGE
#ifndef NETCFG_IPFRAG_SLOTS
#define NETCFG_IPFRAG_SLOTS 4
#endif
#ifndef NETCFG_IPFRAG_BYTES
#define NETCFG_IPFRAG_BYTES 32768
#endif
#else
#ifndef NETCFG_IPFRAG_SLOTS
#define NETCFG_IPFRAG_SLOTS 2
#endif
#ifndef NETCFG_IPFRAG_BYTES
#define NETCFG_IPFRAG_BYTES (8 * 592)
#endif
#endif
#ifndef NETCFG_IPFRAG_TIMEOUT_MS
#define NETCFG_IPFRAG_TIMEOUT_MS 5000ul
#endif

#if NETCFG_MTU < 576 || NETCFG_MTU > 1500
#error "NETCFG_MTU must be within 576..1500"
#endif
