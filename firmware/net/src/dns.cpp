// DNS client: the resolver (NetDns) and NetDnsRequest (the wire format: dns_msg.cpp).  See dnsclient.h
// (behaviour) and DNSRequest.h (the API).  Written from RFC 1035 / 2181 / 4343 and the
// contract (netservices.md 5.3).
#include "dnsclient.h"

#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "net.h"
#include "netif.h"
#include "netstack.h"
#include "netudpsocket.h"

namespace {
enum : uint8_t { E_FREE = 0, E_ASKING = 1, E_DONE = 2 };
enum { DNS_PORT = 53, DNS_TRIES = 4 };
// Seconds to wait after the 1st, 2nd, 3rd and 4th try (sends at 0, 1, 2, 4 s; give up at 7 s).
const uint8_t kWait[DNS_TRIES] = {1, 1, 2, 3};
const uint32_t kDefaultServer = 0xD043DEDEu;  // 208.67.222.222 (lwIP's default)

struct Entry {
    char* name;           // heap copy, as given
    NetDnsRequest* req;   // request waiting for this query (ASKING), or NULL
    uint64_t when;        // ASKING: next try or give-up; DONE: expiry
    uint32_t ip;
    uint32_t servers[2];  // servers of this query (taken when it starts)
    uint32_t seq;         // age, for reuse of DONE entries
    uint16_t id;
    uint16_t port;        // our UDP port for this query
    uint8_t state;
    uint8_t srv;          // server being asked (0/1)
    uint8_t tries;        // tries sent to it
};

Entry* g_table = NULL;  // NETCFG_DNS_TABLE entries, allocated on first use
uint32_t g_seq = 0;
uint32_t g_servers[2] = {0, 0};
uint32_t g_rand = 0;
NetDnsRequest* g_reqs = NULL;


Entry* table() {
    if (!g_table) g_table = (Entry*)calloc(NETCFG_DNS_TABLE, sizeof(Entry));
    return g_table;
}

void freeEntry(Entry& e) {
    free(e.name);
    memset(&e, 0, sizeof e);
}

uint32_t currentServer(const Entry& e) { return e.servers[e.srv]; }

void sendQuery(Entry& e) {
    NetIf* pIf = Net::getDefaultIf();
    uint8_t q[NetDns::DNS_HDR + 256 + 4];
    int qlen = NetDns::buildQuery(q, (int)sizeof q, e.id, e.name);
    if (!pIf || !pIf->isUp() || qlen <= 0) return;  // counts as a lost try
    uint32_t dst = currentServer(e);
    uint8_t h[UDP_HDR];
    uint16_t ulen = (uint16_t)(UDP_HDR + qlen);
    wr16(h, e.port);
    wr16(h + 2, DNS_PORT);
    wr16(h + 4, ulen);
    wr16(h + 6, 0);
    uint32_t sum = inet_pseudo(pIf->getIp().toU32(), dst, NET_PROTO_UDP, ulen);
    sum = inet_sum(sum, h, UDP_HDR);
    uint16_t c = inet_fold(inet_sum(sum, q, (size_t)qlen));
    wr16(h + 6, c ? c : 0xFFFF);
    if (pIf->ipOutput(IpAddr::fromU32(dst), NET_PROTO_UDP, h, UDP_HDR, q, qlen) == NETOUT_OK)
        NetCore::stats.udp_tx++;
}

// The try after the last one: send now (tries++) and arm the next deadline.
void tryNow(Entry& e, uint64_t now) {
    sendQuery(e);
    e.tries++;
    e.when = now + (uint64_t)kWait[e.tries - 1] * 1000000u;
}

void finish(Entry& e, bool found, uint32_t ip, uint32_t ttl) {
    NetDnsRequest* req = e.req;
    e.req = NULL;
    if (found && ttl > 0) {
        if (ttl > NETCFG_DNS_MAX_TTL) ttl = NETCFG_DNS_MAX_TTL;
        e.state = E_DONE;
        e.ip = ip;
        e.when = board::micros() + (uint64_t)ttl * 1000000u;
    } else {
        freeEntry(e);
    }
    if (req) req->resolved(found, ip);
}

bool portInUse(uint16_t port) {
    if (NetUdpSocket::findByPort(port)) return true;
    for (int i = 0; i < NETCFG_DNS_TABLE; i++)
        if (g_table[i].state == E_ASKING && g_table[i].port == port) return true;
    return false;
}
}  // namespace

// --- random numbers --------------------------------------------------------------------------

void net_random_seed(uint32_t s) { g_rand ^= s * 2654435761u; }

uint32_t net_random() {
    uint32_t x = g_rand ^ ((uint32_t)board::micros() * 2246822519u) ^ 0x9E3779B9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    g_rand = x;
    return x;
}

// --- resolver --------------------------------------------------------------------------------

void NetDns::setServers(const IpAddr& a, const IpAddr& b) {
    g_servers[0] = a.toU32();
    g_servers[1] = b.toU32();
}

IpAddr NetDns::server(int i) {
    if (i == 0) return IpAddr::fromU32(g_servers[0] ? g_servers[0] : kDefaultServer);
    if (i == 1) return IpAddr::fromU32(g_servers[1]);
    return IpAddr();
}

void NetDns::flush() {
    if (!g_table) return;
    for (int i = 0; i < NETCFG_DNS_TABLE; i++) {
        Entry& e = g_table[i];
        NetDnsRequest* req = e.req;
        freeEntry(e);
        if (req) req->resolved(false, 0);
    }
}

NetDns::LookupResult NetDns::lookup(const char* name, NetDnsRequest* req, uint32_t* ip) {
    NetIf* pIf = Net::getDefaultIf();
    if (!name || !name[0] || strnlen(name, 256) >= 256 || !pIf || !pIf->isUp())
        return LOOKUP_ERROR;
    if (parseDottedQuad(name, ip)) return LOOKUP_FOUND;
    if (!validName(name) || !table()) return LOOKUP_ERROR;
    uint64_t now = board::micros();
    Entry* pick = NULL;
    for (int i = 0; i < NETCFG_DNS_TABLE; i++) {
        Entry& e = g_table[i];
        if (e.state == E_DONE && e.when <= now) freeEntry(e);  // expired
        if (e.state == E_DONE && sameName(e.name, name)) {
            *ip = e.ip;
            return LOOKUP_FOUND;
        }
    }
    // A free entry, else the oldest cached answer; all asking: table full.
    for (int i = 0; i < NETCFG_DNS_TABLE; i++) {
        Entry& e = g_table[i];
        if (e.state == E_FREE) {
            pick = &e;
            break;
        }
        if (e.state == E_DONE && (!pick || e.seq < pick->seq)) pick = &e;
    }
    if (!pick) return LOOKUP_ERROR;
    size_t n = strlen(name);
    char* copy = (char*)malloc(n + 1);
    if (!copy) return LOOKUP_ERROR;
    memcpy(copy, name, n + 1);
    Entry& e = *pick;
    freeEntry(e);
    e.name = copy;
    e.req = req;
    e.seq = ++g_seq;
    e.id = (uint16_t)net_random();
    do {
        e.port = (uint16_t)(0xC000u | (net_random() & 0x3FFFu));  // 49152..65535
    } while (portInUse(e.port));
    e.servers[0] = server(0).toU32();
    e.servers[1] = g_servers[1];
    e.state = E_ASKING;
    tryNow(e, now);
    return LOOKUP_PENDING;
}

void NetDns::cancel(NetDnsRequest* req) {
    if (!g_table) return;
    for (int i = 0; i < NETCFG_DNS_TABLE; i++)
        if (g_table[i].req == req) g_table[i].req = NULL;
}

void NetDns::tick() {
    if (!g_table) return;
    uint64_t now = board::micros();
    for (int i = 0; i < NETCFG_DNS_TABLE; i++) {
        Entry& e = g_table[i];
        if (e.state != E_ASKING || e.when > now) continue;
        if (e.tries < DNS_TRIES) {
            tryNow(e, now);
        } else if (e.srv == 0 && e.servers[1]) {
            e.srv = 1;
            e.tries = 0;
            tryNow(e, now);
        } else {
            finish(e, false, 0, 0);
        }
    }
}

uint64_t NetDns::nextTimerUs() {
    uint64_t best = 0;
    if (g_table) {
        for (int i = 0; i < NETCFG_DNS_TABLE; i++) {
            const Entry& e = g_table[i];
            if (e.state == E_ASKING && (!best || e.when < best)) best = e.when;
        }
    }
    for (NetDnsRequest* r = g_reqs; r; r = r->m_pNextReq) {
        uint64_t t = r->wantsPollAt();
        if (t && (!best || t < best)) best = t;
    }
    return best;
}

bool NetDns::input(const IpAddr& src, uint16_t sport, uint16_t dport, const uint8_t* data,
                   int len) {
    if (!g_table) return false;
    for (int i = 0; i < NETCFG_DNS_TABLE; i++) {
        Entry& e = g_table[i];
        if (e.state != E_ASKING || e.port != dport) continue;
        if (sport != DNS_PORT || src.toU32() != currentServer(e)) return true;  // not from it
        uint32_t ip = 0, ttl = 0;
        ParseResult r = parseResponse(data, len, e.id, e.name, &ip, &ttl);
        if (r != PARSE_IGNORE) finish(e, r == PARSE_FOUND, ip, ttl);
        return true;
    }
    return false;
}

// --- NetDnsRequest ---------------------------------------------------------------------------

NetDnsRequest::NetDnsRequest(const char* hostname)
    : NetService(true),
      m_pNextReq(NULL),
      m_name(NULL),
      m_pHost(NULL),
      m_cb(),
      m_ip(0),
      m_state(ST_START),
      m_closing(false),
      m_notified(false) {
    if (hostname) {
        size_t n = strlen(hostname);
        m_name = (char*)malloc(n + 1);
        if (m_name) memcpy(m_name, hostname, n + 1);
    }
    link();
}

NetDnsRequest::NetDnsRequest(Host* pHost) : NetDnsRequest(pHost ? pHost->getName() : NULL) {
    m_pHost = pHost;
}

void NetDnsRequest::link() {
    m_pNextReq = g_reqs;
    g_reqs = this;
}

NetDnsRequest::~NetDnsRequest() {
    NetDns::cancel(this);
    for (NetDnsRequest** pp = &g_reqs; *pp; pp = &(*pp)->m_pNextReq) {
        if (*pp == this) {
            *pp = m_pNextReq;
            break;
        }
    }
    free(m_name);
}

void NetDnsRequest::getResult(IpAddr* pIp) const {
    if (pIp) *pIp = IpAddr::fromU32(m_state == ST_OK ? m_ip : 0);
}

void NetDnsRequest::close() {
    m_cb.reset();
    m_pHost = NULL;  // the Host may go away with its owner
    m_notified = true;
    if (m_state == ST_PROCESSING) m_closing = true;  // closes itself when the query ends
    else NetService::close();
}

void NetDnsRequest::resolved(bool found, uint32_t ip) {
    if (m_state != ST_PROCESSING) return;
    m_ip = found ? ip : 0;
    m_state = found ? ST_OK : ST_NOTFOUND;
    if (m_closing) NetService::close();
}

uint64_t NetDnsRequest::wantsPollAt() const {
    if (m_closing || m_notified || m_state == ST_PROCESSING) return 0;
    uint64_t now = board::micros();
    return now ? now : 1;
}

void NetDnsRequest::poll() {
    switch (m_state) {
        case ST_START: {
            uint32_t ip = 0;
            switch (NetDns::lookup(m_name, this, &ip)) {
                case NetDns::LOOKUP_FOUND:
                    m_ip = ip;
                    m_state = ST_OK;
                    break;
                case NetDns::LOOKUP_PENDING: m_state = ST_PROCESSING; break;
                default: m_state = ST_ERROR; break;
            }
            return;  // the result, if known already, is delivered by the next poll
        }
        case ST_PROCESSING:
            NetDns::tick();
            return;
        default:
            break;
    }
    if (m_notified) return;
    m_notified = true;
    NetDnsReply r = m_state == ST_OK ? NETDNS_FOUND : m_state == ST_ERROR ? NETDNS_ERROR
                                                                          : NETDNS_NOTFOUND;
    if (m_pHost) m_pHost->setIp(IpAddr::fromU32(m_state == ST_OK ? m_ip : 0));
    m_cb.call(r);
}

// --- factories (net.h / netif.h) ---------------------------------------------------------------

NetDnsRequest* NetIf::dnsRequest(const char* hostname) {
    return new (std::nothrow) NetDnsRequest(hostname);
}
NetDnsRequest* NetIf::dnsRequest(Host* pHost) { return new (std::nothrow) NetDnsRequest(pHost); }

NetDnsRequest* Net::dnsRequest(const char* hostname, NetIf& netif) {
    return netif.dnsRequest(hostname);
}
NetDnsRequest* Net::dnsRequest(const char* hostname) {
    NetIf* pIf = getDefaultIf();
    return pIf ? pIf->dnsRequest(hostname) : NULL;
}
NetDnsRequest* Net::dnsRequest(Host* pHost, NetIf& netif) { return netif.dnsRequest(pHost); }
NetDnsRequest* Net::dnsRequest(Host* pHost) {
    NetIf* pIf = getDefaultIf();
    return pIf ? pIf->dnsRequest(pHost) : NULL;
}
