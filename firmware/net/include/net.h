// Net: static facade over the stack (netservices.md 2.3, 4.1).
//
// Net::poll() is the heartbeat; everything happens inside it, in this order:
//   1. NetService::servicesPoll()  (deferred deletion of closed owned services, then poll())
//   2. every registered interface's poll(): its timers (ARP expiry), then draining received
//      frames (up to NETCFG_RX_BUDGET per call) through Ethernet/ARP/IPv4/ICMP/UDP
//   3. TCP sockets (none in this version)
//   4. every UDP socket implementation, in creation order: its queued events are delivered
//      to its callback (FIFO; events with no callback attached are dropped); then, if it is
//      closed and nobody references it any more, it is deleted.
// So user callbacks run only inside Net::poll(), never from the receive path directly.
#pragma once
#include <stdint.h>

class NetIf;
class NetUdpSocket;
class NetTcpSocket;
class NetDnsRequest;
class Host;

// Extension: counters of the stack (never reset by the stack; Net::resetStats() clears them).
struct NetStats {
    // Ethernet
    uint32_t frames_rx;            // frames taken from the driver
    uint32_t frames_runt;          // shorter than an Ethernet header
    uint32_t frames_unknown_type;  // EtherType other than IPv4/ARP (or 802.3 length field)
    uint32_t frames_tx;            // frames handed to the driver
    uint32_t frames_tx_failed;     // board::eth::send() refused the frame
    // ARP
    uint32_t arp_rx;               // ARP packets received (well-formed Ethernet/IPv4 ARP)
    uint32_t arp_bad;              // malformed ARP packets
    uint32_t arp_tx;               // requests, replies and gratuitous ARPs sent
    uint32_t arp_queue_dropped;    // queued packets dropped (replaced, expired, table reuse)
    // IPv4
    uint32_t ip_rx;                // IPv4 packets received (before any check)
    uint32_t ip_bad_header;        // bad version/IHL/lengths (incl. total length > frame)
    uint32_t ip_bad_checksum;      // header checksum wrong
    uint32_t ip_not_for_us;        // destination is not this host
    uint32_t ip_fragments_dropped; // fragments dropped (see the reassembly counters below)
    uint32_t ip_unknown_proto;     // protocol other than ICMP/UDP
    uint32_t ip_tx;                // packets sent or queued for ARP
    uint32_t ip_no_route;          // send: no route (no gateway for an off-link address)
    // ICMP
    uint32_t icmp_rx;
    uint32_t icmp_bad;             // too short or checksum wrong
    uint32_t icmp_echo_replied;
    uint32_t icmp_unreach_tx;          // port unreachables sent (datagrams to closed UDP ports)
    uint32_t icmp_unreach_ratelimited; // port unreachables not sent: over the rate limit
    // UDP
    uint32_t udp_rx;               // datagrams received (before checks)
    uint32_t udp_bad_header;       // too short, or UDP length larger than the IP payload
    uint32_t udp_bad_checksum;
    uint32_t udp_no_port;          // no socket bound to the destination port (answered with
                                   // ICMP port unreachable when allowed, see icmp_unreach_*)
    uint32_t udp_queue_full;       // socket queue (or receive memory) full: dropped
    uint32_t udp_tx;
    // TCP
    uint32_t tcp_rx;               // segments received (before checks)
    uint32_t tcp_bad_header;       // too short, bad data offset, malformed options: dropped
    uint32_t tcp_bad_checksum;     // dropped
    uint32_t tcp_bad_flags;        // SYN+FIN, SYN+RST: dropped
    uint32_t tcp_dropped;          // not to our unicast address, port 0, outside the window
    uint32_t tcp_no_port;          // no connection or listener: answered with RST
    uint32_t tcp_syn_dropped;      // SYNs dropped (accept queue full of connections, no PCB)
    uint32_t tcp_ooseq;            // out-of-order segments held for reassembly
    uint32_t tcp_retransmits;      // timeouts, fast retransmits, SYN retransmissions
    uint32_t tcp_rst_tx;           // resets sent
    uint32_t tcp_tx;               // segments sent
    // IP fragmentation and reassembly (ip_fragments_dropped above: fragments dropped as
    // malformed or beyond the reassembly limits, or whose datagram was given up)
    uint32_t ip_frag_tx;           // fragments sent (datagrams larger than the MTU)
    uint32_t ip_reassembled;       // datagrams completed from fragments
    uint32_t ip_reasm_timeout;     // incomplete datagrams freed after NETCFG_IPFRAG_TIMEOUT_MS
    // IGMP
    uint32_t igmp_rx;              // IGMP messages received
    uint32_t igmp_bad;             // too short or checksum wrong: dropped
    uint32_t igmp_tx;              // reports and leaves sent
};

class Net {
public:
    static void poll();

    // Implementation-socket factory (used by the UDPSocket wrapper).  Both increment the new
    // object's reference count.  udpSocket() uses the default interface and returns NULL
    // when there is none (or when the heap is exhausted).
    static NetUdpSocket* udpSocket(NetIf& netif);
    static NetUdpSocket* udpSocket();
    // Decrements the reference count; at 0 a socket that is still open is closed.  The object
    // itself is deleted by a later Net::poll().
    static void releaseUdpSocket(NetUdpSocket* pNetUdpSocket);
    // Same for TCP (TCPSocket wrapper, and connections accepted by a listener).
    static NetTcpSocket* tcpSocket(NetIf& netif);
    static NetTcpSocket* tcpSocket();
    static void releaseTcpSocket(NetTcpSocket* pNetTcpSocket);

    // DNS request objects (pool-owned NetServices, see dnsclient.h); the forms without an
    // interface use the default one and return NULL when there is none.
    static NetDnsRequest* dnsRequest(const char* hostname, NetIf& netif);
    static NetDnsRequest* dnsRequest(const char* hostname);
    static NetDnsRequest* dnsRequest(Host* pHost, NetIf& netif);
    static NetDnsRequest* dnsRequest(Host* pHost);

    // The original marks the reference form deprecated; both work.
    static void setDefaultIf(NetIf& netif);
    static void setDefaultIf(NetIf* netif);
    static NetIf* getDefaultIf();

    // Extension: the stack's counters.
    static const NetStats& stats();
    static void resetStats();

    // Extension: board time (board::micros()) of the stack's next timer deadline, or 0 when
    // no timer is pending.  A main loop may sleep with board::wait_for_event(deadline) until
    // then: frames arriving earlier wake it anyway.  Events are only produced by Net::poll()
    // itself, so none can be waiting when poll() has returned.
    static uint64_t nextTimerUs();
};
