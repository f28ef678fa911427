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

// Heap bytes the receive side of TCP leaves alone: windows are offered only from the heap
// above this, shared between the connections, so send queues, application buffers and the
// rest of the stack can always get memory (without it, connections whose receive queues
// fill the heap can never echo, read or acknowledge their way out).  The large profile's
// 16 KiB windows and send buffers need the larger reserve.
#ifndef NETCFG_TCP_MEM_RESERVE
#ifdef NETCFG_PROFILE_LARGE
#define NETCFG_TCP_MEM_RESERVE 8192
#else
#define NETCFG_TCP_MEM_RESERVE 4096
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

// ICMP port unreachable (RFC 1122 3.2.2.1) answers datagrams to closed UDP ports, at most
// NETCFG_ICMP_UNREACH_PER_S per second on average with bursts of NETCFG_ICMP_UNREACH_BURST
// (a token bucket in board time), so a port scan or a flood cannot make the board flood
// the wire; the others are counted (icmp_unreach_ratelimited) and dropped.
#ifndef NETCFG_ICMP_UNREACH_PER_S
#define NETCFG_ICMP_UNREACH_PER_S 10
#endif
#ifndef NETCFG_ICMP_UNREACH_BURST
#define NETCFG_ICMP_UNREACH_BURST 10
#endif
#if NETCFG_ICMP_UNREACH_PER_S < 1 || NETCFG_ICMP_UNREACH_BURST < 1
#error "NETCFG_ICMP_UNREACH_PER_S and NETCFG_ICMP_UNREACH_BURST must be at least 1"
#endif

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

// --- TCP (see TCPSocket.h).  Default profile = lwipopts.h of the original (6.4): 3 PCBs +
// 2 listeners, MSS 536, send buffer 3 x 536, window 4 x 536.  Buffers are heap blocks taken
// as data arrives / is queued, so these are upper bounds, not reservations.
#if defined(NETCFG_PROFILE_LARGE) && NETCFG_PROFILE_LARGE
#ifndef NETCFG_TCP_PCBS
#define NETCFG_TCP_PCBS 12
#endif
#ifndef NETCFG_TCP_LISTENERS
#define NETCFG_TCP_LISTENERS 4
#endif
#ifndef NETCFG_TCP_MSS
#define NETCFG_TCP_MSS 1460
#endif
#ifndef NETCFG_TCP_SND_BUF
#define NETCFG_TCP_SND_BUF 16384
#endif
#ifndef NETCFG_TCP_WND
#define NETCFG_TCP_WND 16384
#endif
#ifndef NETCFG_TCP_OOSEQ_SEGS
#define NETCFG_TCP_OOSEQ_SEGS 16
#endif
#ifndef NETCFG_TCP_BACKLOG
#define NETCFG_TCP_BACKLOG 8
#endif
#ifndef NETCFG_TCP_RTO_MIN_MS
#define NETCFG_TCP_RTO_MIN_MS 200ul
#endif
#else
// Connections (active, half-open, closing, TIME_WAIT) at once (MEMP_NUM_TCP_PCB).
#ifndef NETCFG_TCP_PCBS
#define NETCFG_TCP_PCBS 3
#endif
// Listening sockets at once (MEMP_NUM_TCP_PCB_LISTEN).
#ifndef NETCFG_TCP_LISTENERS
#define NETCFG_TCP_LISTENERS 2
#endif
// MSS announced (and the largest segment sent).
#ifndef NETCFG_TCP_MSS
#define NETCFG_TCP_MSS 536
#endif
#ifndef NETCFG_TCP_SND_BUF
#define NETCFG_TCP_SND_BUF (3 * 536)
#endif
// Receive window = unread + out-of-order bytes held per connection.
#ifndef NETCFG_TCP_WND
#define NETCFG_TCP_WND (4 * 536)
#endif
// Out-of-order segments held per connection.
#ifndef NETCFG_TCP_OOSEQ_SEGS
#define NETCFG_TCP_OOSEQ_SEGS 4
#endif
// Half-open + not yet accepted connections per listener.
#ifndef NETCFG_TCP_BACKLOG
#define NETCFG_TCP_BACKLOG 4
#endif
// RFC 6298 (2.4): the RTO is at least 1 s.
#ifndef NETCFG_TCP_RTO_MIN_MS
#define NETCFG_TCP_RTO_MIN_MS 1000ul
#endif
#endif
// SACK (RFC 2018).  1: the SACK-permitted option is offered in our SYNs and SYN-ACKs and
// accepted in the peer's; while out-of-order data is held, every ACK carries SACK blocks (the
// one holding the latest out-of-order segment first), and the peer's SACK blocks tell our
// duplicate ACKs (RFC 6675).  0: the original's behaviour (no SACK at all).
#ifndef NETCFG_TCP_SACK
#define NETCFG_TCP_SACK 1
#endif
// Initial RTO (RFC 1122 / lwIP: 3 s); SYNs are retransmitted every NETCFG_TCP_RTO_INIT_MS
// without back-off, NETCFG_TCP_SYNMAXRTX times, and the attempt is given up
// NETCFG_TCP_SYN_GIVEUP_MS after the last one (lwIP: 6 x 3 s + one 500 ms tick = 18.5 s).
#ifndef NETCFG_TCP_RTO_INIT_MS
#define NETCFG_TCP_RTO_INIT_MS 3000ul
#endif
#ifndef NETCFG_TCP_RTO_MAX_MS
#define NETCFG_TCP_RTO_MAX_MS 60000ul
#endif
#ifndef NETCFG_TCP_SYNMAXRTX
#define NETCFG_TCP_SYNMAXRTX 6
#endif
#ifndef NETCFG_TCP_SYN_GIVEUP_MS
#define NETCFG_TCP_SYN_GIVEUP_MS 500ul
#endif
// A passive half-open connection (SYN-ACK sent, final ACK awaited) retransmits its SYN-ACK
// the same way, NETCFG_TCP_SYNACK_MAXRTX times, then gives up (18.5 s by default): it holds
// a backlog slot and a PCB, and a full backlog or pool drops new SYNs (their clients retry)
// rather than evict a connection whose client already has our SYN-ACK, so a SYN flood
// holds the listener only as long as this.
#ifndef NETCFG_TCP_SYNACK_MAXRTX
#define NETCFG_TCP_SYNACK_MAXRTX NETCFG_TCP_SYNMAXRTX
#endif
// Retransmissions of data/FIN before the connection is aborted (TCP_MAXRTX).
#ifndef NETCFG_TCP_MAXRTX
#define NETCFG_TCP_MAXRTX 12
#endif
// Delayed ACK (RFC 1122: < 500 ms; every second full-sized segment is ACKed at once).
#ifndef NETCFG_TCP_DELACK_MS
#define NETCFG_TCP_DELACK_MS 100ul
#endif
// TIME_WAIT lasts 2 x MSL.  When the PCB pool is full the oldest TIME_WAIT PCB is reused.
#ifndef NETCFG_TCP_MSL_MS
#define NETCFG_TCP_MSL_MS 30000ul
#endif
// FIN_WAIT_2 of a connection closed by the application ends after this (lwIP: 20 s).
#ifndef NETCFG_TCP_FIN_WAIT_MS
#define NETCFG_TCP_FIN_WAIT_MS 20000ul
#endif
// Ephemeral ports: a rolling counter, first 4097 (6.4).
#define NETCFG_TCP_EPHEMERAL_FIRST 4097
#define NETCFG_TCP_EPHEMERAL_LAST 0x7FFF
#if NETCFG_TCP_MSS > NETCFG_MTU - 40
#error "NETCFG_TCP_MSS must fit the MTU"
#endif

#if NETCFG_MTU < 576 || NETCFG_MTU > 1500
#error "NETCFG_MTU must be within 576..1500"
#endif
