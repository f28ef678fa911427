// TCP engine internals (RFC 793, 1122, 5681, 6298): protocol control blocks, their byte
// queues, and the hooks the rest of the stack calls.  Not for applications: they use
// TCPSocket.h.  Written from the RFCs for this project.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "netcfg.h"

class NetIf;
class NetTcpSocket;

namespace tcp {

enum : uint8_t { PROTO = 6 };
enum : uint8_t { FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10, URG = 0x20 };

enum State : uint8_t {
    CLOSED = 0,
    LISTEN,
    SYN_SENT,
    SYN_RCVD,
    ESTABLISHED,
    FIN_WAIT_1,
    FIN_WAIT_2,
    CLOSE_WAIT,
    CLOSING,
    LAST_ACK,
    TIME_WAIT
};

// A byte stream held in heap blocks of NETCFG_TCP_MSS bytes (allocated as data comes,
// freed as it goes).
struct Blk;
struct Queue {
    Blk* head;
    Blk* tail;
    uint32_t bytes;
    // Copies up to n bytes in; returns how many fitted in memory.
    int append(const uint8_t* p, int n);
    // Copies out and consumes up to n bytes.
    int read(uint8_t* dst, int n);
    void drop(uint32_t n);
    // Pointer to the byte at offset off and how many bytes follow it contiguously.
    const uint8_t* at(uint32_t off, uint32_t* contig) const;
    void peek(uint32_t off, uint8_t* dst, uint32_t n) const;
    void clear();
};

struct Ooo;  // an out-of-order segment

struct Pcb {
    Pcb* next;           // all PCBs (listeners too)
    NetIf* netif;
    NetTcpSocket* sock;  // the application's socket, NULL once closed (or not yet accepted)
    Pcb* parent;         // listener of a passive connection until accept() takes it
    uint64_t created;
    uint64_t rtxAt;      // retransmission timer (0: off)
    uint64_t persistAt;  // zero-window probe timer
    uint64_t delackAt;   // delayed ACK
    uint64_t waitAt;     // TIME_WAIT end, FIN_WAIT_2 timeout
    uint64_t rttStart;
    uint32_t localIp, remoteIp;
    uint16_t localPort, remotePort;
    State state;
    bool finQueued;      // the application closed: FIN after the queued data
    bool finSent;
    bool finAcked;
    bool rttTiming;
    bool inRecovery;     // fast recovery (RFC 5681 3.2)
    uint8_t nrtx;        // consecutive retransmissions (timeouts)
    uint8_t dupacks;
    uint8_t persistShift;
    uint8_t probes;      // zero-window probes without any answer
    uint8_t fullSegs;    // full-sized segments received and not yet ACKed
    bool ackPending;     // an ACK (or window update) is owed by the end of this Net::poll()
    uint16_t mss;        // send MSS (min of ours and the peer's)
    uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2, maxSndWnd, finSeq;
    uint32_t cwnd, ssthresh, recover, rttSeq;
    uint32_t srtt, rttvar, rto;  // microseconds; srtt 0: no sample yet
    uint32_t irs, rcv_nxt, rcv_adv;
    Queue sndq;          // unacknowledged + unsent data; offset 0 = sequence snd_una
    Queue rcvq;          // in-order data not yet read by the application
    Ooo* ooo;            // out-of-order segments, sorted by sequence
    uint32_t oooBytes;
    uint8_t oooCount;
    // SACK (RFC 2018): both ends sent SACK-permitted; as a receiver, the first sequence
    // numbers of the latest out-of-order segments (newest first) order the blocks we send;
    // as a sender, the highest sequence number the peer's SACK blocks have covered.
    bool sackOk;
    uint8_t sackRecentN;
    uint32_t sackRecent[4];
    uint32_t sackHigh;
    uint32_t sackBytes;  // bytes the peer's SACK blocks reported above snd_una
    // Listener: connections accepted by TCP, waiting for accept() (sockets, FIFO).
    NetTcpSocket* acceptHead;
    NetTcpSocket* acceptTail;
    uint8_t pending;     // half-open + queued children
};

// --- used by NetTcpSocket --------------------------------------------------------------
Pcb* pcbNew(NetIf* nif);                          // NULL: pool exhausted / no memory
bool portInUse(uint16_t port, const Pcb* except);
uint16_t ephemeralPort();
bool listen(Pcb* p);                              // false: no listener slot
bool connect(Pcb* p, uint32_t ip, uint16_t port);  // false: no route / interface down
void output(Pcb* p);
void sendAck(Pcb* p);
void windowUpdate(Pcb* p);                        // after the application read data
// The application closes: listener/unconnected PCBs are freed, others send FIN and live
// on without a socket.
void close(Pcb* p);
// Free p sending a RST if it is synchronized (or in SYN_RCVD); p->sock must be detached.
void abortRst(Pcb* p);
uint32_t sndSpace(const Pcb* p);

}  // namespace tcp

// Hooks for the rest of the stack (EthernetNetIf, Net).
struct TcpCore {
    static NetTcpSocket* sockets;  // Net's registration list, creation order
    // A TCP segment: ip points at the IPv4 header (already checked), total = IP total length.
    static void input(NetIf* nif, const uint8_t* ip, int ihl, int total);
    // Net::poll() step 3: TCP timers, then socket events and deferred deletion.
    static void poll();
    static uint64_t nextTimerUs();
    // The interface is going away: its PCBs are freed and its sockets closed.
    static void detachIf(NetIf* nif);
    static void timers(uint64_t now);
    // End of Net::poll()'s TCP step: the ACKs and window updates still owed go out as pure
    // ACKs (data the application sent meanwhile has carried the rest).
    static void flushAcks();
    // Extension for tests: PCBs in use (connections, listeners) and heap blocks held.
    static int pcbsInUse();
    static int listenersInUse();
};
