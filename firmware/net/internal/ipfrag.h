// IPv4 fragmentation (send) and reassembly (receive), RFC 791 / RFC 815 (internal).
//
// Send: ipfrag_build() writes one fragment of a datagram whose payload is p1[0..n1) followed
// by p2[0..n2): the header template's options are copied into every fragment (the stack
// only sends options in IGMP messages, which are never fragmented), each fragment carries
// at most (mtu - ihl) & ~7 payload bytes, MF is set on all but the last.
//
// Receive: NetReasm keeps up to NETCFG_IPFRAG_SLOTS datagrams being reassembled, keyed by
// (source, destination, protocol, identification).  Each keeps the received byte ranges in
// an ordered list of pieces; a fragment's bytes that are already present (duplicates,
// overlaps) are ignored, so the first copy of any byte wins and nothing is ever written
// twice.  Dropped and counted (ip_fragments_dropped): a fragment of a new datagram while
// every slot is busy; a non-last fragment whose length is not a multiple of 8; data beyond
// 65535 bytes; a last fragment disagreeing with an earlier one about the total length, or
// data beyond it (the whole datagram is given up); a fragment that would take the held
// bytes (data plus bookkeeping, all datagrams) beyond NETCFG_IPFRAG_BYTES (its datagram is
// given up too, so the memory is freed at once).  An incomplete datagram is freed
// NETCFG_IPFRAG_TIMEOUT_MS after its first fragment arrived (ip_reasm_timeout); a completed
// one counts ip_reassembled.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "netcfg.h"

// Builds the fragment starting at payload offset off into out (room for mtu bytes), from the
// ihl-byte header template tmpl (identification, TTL, protocol, addresses, options; its
// length/flags/checksum fields are rewritten).  Returns the fragment's length; *used = the
// payload bytes it carries.
int ipfrag_build(uint8_t* out, const uint8_t* tmpl, int ihl, int mtu, int off, const uint8_t* p1,
                 int n1, const uint8_t* p2, int n2, int* used);

class NetReasm {
public:
    NetReasm();
    ~NetReasm();

    // A fragment (IP header at ip, ihl header bytes, total bytes; header checksum checked).
    // When it completes its datagram, returns that datagram in a heap block (a 20-byte header
    // without options, then the payload; *outLen = its total length) that the caller
    // free()s; otherwise NULL.
    uint8_t* input(const uint8_t* ip, int ihl, int total, uint64_t now, int* outLen);
    // Frees datagrams whose time is up.
    void poll(uint64_t now);
    // Earliest expiry (board time), 0 when nothing is held.
    uint64_t nextTimerUs() const;
    void clear();
    int active() const;
    size_t bytesHeld() const { return m_bytes; }

private:
    NetReasm(const NetReasm&) = delete;
    NetReasm& operator=(const NetReasm&) = delete;

    struct Piece;
    struct Datagram;
    void drop(int slot);
    bool addPiece(Datagram* d, Piece** link, int off, const uint8_t* data, int len);

    Datagram* m_slots[NETCFG_IPFRAG_SLOTS];
    size_t m_bytes;
};
