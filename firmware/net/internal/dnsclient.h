// DNS client internals: the request object behind DNSRequest (NetDnsRequest, a pool-owned
// NetService) and the resolver it uses (NetDns).  Applications use DNSRequest.h.
//
// Resolver (netservices.md 5.3): query type A, class IN, RD set, to UDP port 53 of the
// current server.  Sends at 0, +1, +1, +2 s (4 tries), gives up 3 s after the 4th try and
// then asks the second server (if any) on the same schedule, all in board time.  Servers:
// from DHCP (option 6, up to 2), else the static constructor's dns argument, else
// 208.67.222.222.  Answers are cached for their TTL (capped at NETCFG_DNS_MAX_TTL), in a
// table of NETCFG_DNS_TABLE entries shared by the cache and the outstanding queries.
//
// Differences from the original (lwIP 1.4.0), on purpose:
//  * the transaction id and the UDP source port are random per query, and a response must
//    come from the server asked, port 53, to that port, with that id and the same question
//    name (case-insensitive) — otherwise it is ignored (lwIP matched id and name only, and
//    its id was the table index);
//  * names are compared case-insensitively (RFC 4343), for the cache too;
//  * a CNAME chain inside the answer section is followed (lwIP took the first A record);
//  * a static DNS server is honoured (lwIP ignored it, 6.5).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "host.h"
#include "ipaddr.h"
#include "netcallback.h"
#include "netservice.h"

// Entries of the resolver table (DNS_TABLE_SIZE 4 in the original).
#ifndef NETCFG_DNS_TABLE
#if defined(NETCFG_PROFILE_LARGE) && NETCFG_PROFILE_LARGE
#define NETCFG_DNS_TABLE 16
#else
#define NETCFG_DNS_TABLE 4
#endif
#endif
// Longest cache lifetime in seconds (DNS_MAX_TTL).
#ifndef NETCFG_DNS_MAX_TTL
#define NETCFG_DNS_MAX_TTL 604800ul
#endif

// Internal mirror of DNSReply (same values).
enum NetDnsReply { NETDNS_PRTCL = 0, NETDNS_NOTFOUND = 1, NETDNS_ERROR = 2, NETDNS_FOUND = 3 };

class NetDnsRequest : public NetService {
public:
    // The name is copied (NULL stays NULL and gives NETDNS_ERROR).  With a Host, its name is
    // resolved and the result written into it (0.0.0.0 on failure) before the callback.
    explicit NetDnsRequest(const char* hostname);
    explicit NetDnsRequest(Host* pHost);
    virtual ~NetDnsRequest();

    template <class T>
    void setOnReply(T* pItem, void (T::*pMethod)(NetDnsReply)) {
        m_cb.set(pItem, pMethod);
    }
    void resetOnReply() { m_cb.reset(); }
    // The address found, 0.0.0.0 until (or unless) found.
    void getResult(IpAddr* pIp) const;
    // Abandon the request.  While its query is outstanding the object stays until the
    // answer or the timeout, then closes itself without calling anybody; otherwise it closes
    // at once.  Either way the pool deletes it on a later Net::poll().
    void close();

    // --- internal ----------------------------------------------------------------------------
    // First poll: look the name up (literal, cache, or query); later polls: drive the
    // resolver's timers, then deliver the result once, on the poll after it is known.
    virtual void poll();
    // The resolver's answer for this request.
    void resolved(bool found, uint32_t ip);
    // Board time at which this request wants a poll (now if it has work), 0 if none.
    uint64_t wantsPollAt() const;

    NetDnsRequest* m_pNextReq;  // list of live requests (for Net::nextTimerUs)

private:
    void link();
    enum : uint8_t { ST_START, ST_PROCESSING, ST_NOTFOUND, ST_ERROR, ST_OK };
    char* m_name;
    Host* m_pHost;
    NetDelegate<NetDnsReply> m_cb;
    uint32_t m_ip;
    uint8_t m_state;
    bool m_closing;   // closed by the user while the query is outstanding
    bool m_notified;  // the callback ran (or will never run)
};

// The resolver.  All functions work on board time (board::micros()).
namespace NetDns {
enum LookupResult { LOOKUP_FOUND, LOOKUP_PENDING, LOOKUP_ERROR };
// Start resolving name for req: FOUND (dotted quad or cached; *ip set), PENDING (query sent
// or about to be; req->resolved() will be called), ERROR (bad name, table full, no
// interface set up, no memory).
LookupResult lookup(const char* name, NetDnsRequest* req, uint32_t* ip);
// The request is going away: forget it (its query, if any, goes on for the cache).
void cancel(NetDnsRequest* req);
// Retransmissions and give-ups that are due.
void tick();
// Earliest board time the resolver or a request needs Net::poll(), 0 if none.
uint64_t nextTimerUs();
// A UDP datagram to local port dport: true when it belongs to an outstanding query (then it
// is consumed, used or ignored), false to hand it to the sockets.
bool input(const IpAddr& src, uint16_t sport, uint16_t dport, const uint8_t* data, int len);
// Servers: a (0.0.0.0 = the default 208.67.222.222) and an optional second one.
void setServers(const IpAddr& a, const IpAddr& b);
IpAddr server(int i);
// Forget every cached answer and outstanding query (tests).
void flush();

// --- the wire format (exposed for the tests and the fuzz target) -------------------------------
// Header bytes, and the largest message taken (RFC 1035 4.2.1: 512 bytes over UDP).
enum { DNS_HDR = 12, DNS_MSG_MAX = 512 };
enum ParseResult { PARSE_IGNORE = 0, PARSE_NOTFOUND = 1, PARSE_FOUND = 2 };
// Query for name (type A, class IN, RD) with this id into out; its length, or 0 when the name
// is invalid or does not fit.
int buildQuery(uint8_t* out, int cap, uint16_t id, const char* name);
// A response message for (id, name): IGNORE when it is not the answer to that question (too
// short or > 512 bytes, other id, other question name); NOTFOUND (not a response, RCODE != 0,
// question count != 1, malformed, no usable A record); FOUND with *ip and *ttl (seconds,
// the smallest TTL along the CNAME chain).
ParseResult parseResponse(const uint8_t* msg, int len, uint16_t id, const char* name,
                          uint32_t* ip, uint32_t* ttl);
// name is a syntactically valid host name (1..253 characters, labels 1..63, no spaces).
bool validName(const char* name);
// name is a dotted quad "a.b.c.d" (each 0..255, 1 to 3 digits): true and *ip set.
bool parseDottedQuad(const char* name, uint32_t* ip);
// Two host names are the same: case-insensitive, one trailing dot ignored on either.
bool sameName(const char* a, const char* b);
}  // namespace NetDns

// Pseudo-random numbers for protocol ids and ports (xorshift mixed with board time).
uint32_t net_random();
void net_random_seed(uint32_t s);
