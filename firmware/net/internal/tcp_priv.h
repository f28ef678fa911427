// TCP engine internals shared by tcp.cpp, tcp_in.cpp, tcp_ack.cpp, tcp_queue.cpp and
// tcp_out.cpp: written from RFC 793/1122/5681/6298 (+ RFC 5961 checks, RFC 2018/5827/3042/
// 6675 for loss recovery).  Not for the rest of the stack: it uses tcp.h.
//
// All work happens inside Net::poll() (input from the interface step, timers at the start
// of the TCP step) or inside a socket call made by the application (send/recv/close/
// connect output at once).  Events for the application are queued on its NetTcpSocket.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "netstack.h"
#include "nettcpsocket.h"
#include "tcp.h"

struct tcp::Blk {
    Blk* next;
    uint16_t off;  // first unread byte
    uint16_t len;  // bytes written
    uint16_t cap;
    uint8_t* data() { return (uint8_t*)(this + 1); }
};

struct tcp::Ooo {
    Ooo* next;
    uint32_t seq;
    uint16_t len;
    bool fin;
    uint8_t* data() { return (uint8_t*)(this + 1); }
};

namespace tcp {

extern NetStats& S;
extern Pcb* g_pcbs;
extern int g_active;     // PCBs that are not listeners (bounded by NETCFG_TCP_PCBS)
extern int g_listeners;  // bounded by NETCFG_TCP_LISTENERS

constexpr uint16_t kOurMss = NETCFG_TCP_MSS;

inline bool lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
inline bool le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
inline uint32_t umin(uint32_t a, uint32_t b) { return a < b ? a : b; }
inline uint32_t umax(uint32_t a, uint32_t b) { return a > b ? a : b; }
inline uint64_t now() { return board::micros(); }
inline uint64_t ms(uint32_t v) { return (uint64_t)v * 1000u; }

struct Seg {
    uint32_t seq, ack;
    const uint8_t* data;
    uint32_t len;  // data bytes
    uint16_t wnd;
    uint16_t mss;  // MSS option, 0 if none
    uint8_t flags;
    bool sackPerm;   // SACK-permitted option
    uint8_t nsack;   // SACK blocks (at most 4 kept)
    uint32_t sackL[4], sackR[4];
};

enum AckResult { ACK_OK, ACK_TOO_NEW, ACK_GONE };

// --- tcp.cpp: the PCB pool -----------------------------------------------------------
uint32_t makeIsn(uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport);
void freePcb(Pcb* p);
void dropPcb(Pcb* p, NetTcpSocketEvent e);
Pcb* allocPcb(NetIf* nif);
void enterTimeWait(Pcb* p);

// --- tcp_out.cpp: output, windows, retransmission ------------------------------------
size_t memReserve();
uint32_t rcvSpace(const Pcb* p);
uint16_t advWindow(const Pcb* p);
int sendRaw(NetIf* nif, uint32_t lip, uint32_t rip, uint16_t lport, uint16_t rport, uint32_t seq,
            uint32_t ack, uint8_t flags, uint16_t wnd, const uint8_t* data, uint32_t len,
            const uint8_t* opt = NULL, int optLen = 0);
uint32_t sendMss(const Pcb* p);
void sendSeg(Pcb* p, uint32_t seq, uint8_t flags, const uint8_t* data, uint32_t len, bool syn);
void sendSyn(Pcb* p);
void rstFor(NetIf* nif, uint32_t lip, uint32_t rip, uint16_t lport, uint16_t rport,
            const Seg& s);
void armRtx(Pcb* p);
bool outstanding(const Pcb* p);
void checkTimers(Pcb* p);
void fastRetransmit(Pcb* p);
void rtxTimeout(Pcb* p, uint64_t t);
void persistTimeout(Pcb* p, uint64_t t);

// --- tcp_ack.cpp: ACK processing -----------------------------------------------------
void rttSample(Pcb* p, uint32_t r);
AckResult ackInput(Pcb* p, const Seg& s, bool acceptable);

// --- tcp_queue.cpp: reassembly -------------------------------------------------------
void freeOoo(Pcb* p);
void oooInsert(Pcb* p, uint32_t seq, const uint8_t* data, uint32_t len, bool fin);
void sackNote(Pcb* p, uint32_t seq);
bool deliver(Pcb* p, uint32_t seq, const uint8_t* data, uint32_t len, bool fin);

}  // namespace tcp
