// DNS client: the resolver (NetDns), its wire format, and NetDnsRequest.  See dnsclient.h
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
enum { DNS_PORT = 53, DNS_HDR = 12, DNS_MSG_MAX = 512, DNS_TRIES = 4, NAME_MAX_TEXT = 253 };
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

inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

// Two host names are the same: case-insensitive, one trailing dot ignored on either.
bool sameName(const char* a, const char* b) {
    while (*a && *b && lower(*a) == lower(*b)) {
        a++;
        b++;
    }
    if (*a == '.' && !a[1]) a++;
    if (*b == '.' && !b[1]) b++;
    return !*a && !*b;
}

// Walks the (possibly compressed) name at off.  Returns the offset just past it in place, or
// -1 when it is malformed: past the end, reserved label types, a pointer that does not point
// strictly before every place already visited (so no loop can exist), longer than 255
// bytes.  out (256 bytes, may be NULL) receives the name, dotted, lower case.  cmp (may be
// NULL): *eq tells whether the name equals cmp (case-insensitive; cmp may end with a dot).
int walkName(const uint8_t* m, int len, int off, char* out, const char* cmp, bool* eq) {
    int pos = off, end = -1, limit = off, wire = 1, n = 0, ci = 0;
    bool same = true;
    for (;;) {
        if (pos < 0 || pos >= len) return -1;
        uint8_t c = m[pos];
        if (c == 0) {
            if (end < 0) end = pos + 1;
            break;
        }
        if ((c & 0xC0) == 0xC0) {
            if (pos + 1 >= len) return -1;
            int ptr = ((c & 0x3F) << 8) | m[pos + 1];
            if (end < 0) end = pos + 2;
            if (ptr >= limit) return -1;
            limit = ptr;
            pos = ptr;
            continue;
        }
        if (c & 0xC0) return -1;
        if (pos + 1 + c > len) return -1;
        wire += 1 + c;
        if (wire > 255) return -1;
        if (n) {
            if (out) out[n] = '.';
            n++;
            if (cmp) {
                if (cmp[ci] == '.') ci++;
                else same = false;
            }
        }
        for (int i = 0; i < c; i++) {
            char ch = lower((char)m[pos + 1 + i]);
            if (out) out[n] = ch;
            n++;
            if (cmp && same) {
                if (cmp[ci] && lower(cmp[ci]) == ch) ci++;
                else same = false;
            }
        }
        pos += 1 + c;
    }
    if (out) out[n] = 0;
    if (cmp && eq) *eq = same && (!cmp[ci] || (cmp[ci] == '.' && !cmp[ci + 1]));
    return end;
}

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
    uint8_t q[DNS_HDR + 256 + 4];
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

// --- wire format -----------------------------------------------------------------------------

bool NetDns::parseDottedQuad(const char* s, uint32_t* ip) {
    if (!s) return false;
    uint32_t v = 0;
    for (int part = 0; part < 4; part++) {
        int digits = 0, n = 0;
        while (s[0] >= '0' && s[0] <= '9') {
            n = n * 10 + (s[0] - '0');
            if (++digits > 3) return false;
            s++;
        }
        if (!digits || n > 255) return false;
        v = (v << 8) | (uint32_t)n;
        if (part < 3) {
            if (*s != '.') return false;
            s++;
        }
    }
    if (*s) return false;
    *ip = v;
    return true;
}

bool NetDns::validName(const char* name) {
    if (!name) return false;
    size_t len = strnlen(name, NAME_MAX_TEXT + 2);
    if (len && name[len - 1] == '.') len--;  // one trailing dot (absolute name)
    if (len == 0 || len > NAME_MAX_TEXT) return false;
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == '.') {
            if (label == 0) return false;
            label = 0;
        } else if (c <= 0x20 || c >= 0x7F) {
            return false;
        } else if (++label > 63) {
            return false;
        }
    }
    return label > 0;
}

int NetDns::buildQuery(uint8_t* out, int cap, uint16_t id, const char* name) {
    if (!validName(name)) return 0;
    size_t len = strlen(name);
    if (name[len - 1] == '.') len--;
    int need = DNS_HDR + (int)len + 2 + 4;
    if (need > cap) return 0;
    memset(out, 0, DNS_HDR);
    wr16(out, id);
    wr16(out + 2, 0x0100);  // standard query, recursion desired
    wr16(out + 4, 1);       // one question
    uint8_t* p = out + DNS_HDR;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || name[i] == '.') {
            *p++ = (uint8_t)(i - start);
            memcpy(p, name + start, i - start);
            p += i - start;
            start = i + 1;
        }
    }
    *p++ = 0;
    wr16(p, 1);      // type A
    wr16(p + 2, 1);  // class IN
    return need;
}

NetDns::ParseResult NetDns::parseResponse(const uint8_t* m, int len, uint16_t id, const char* name,
                                          uint32_t* ip, uint32_t* ttl) {
    if (!m || !name || len < DNS_HDR || len > DNS_MSG_MAX || rd16(m) != id) return PARSE_IGNORE;
    uint16_t flags = rd16(m + 2);
    int qd = rd16(m + 4), an = rd16(m + 6);
    if (qd != 1) return PARSE_NOTFOUND;
    bool eq = false;
    int off = walkName(m, len, DNS_HDR, NULL, name, &eq);
    if (off < 0 || off + 4 > len) return PARSE_NOTFOUND;
    if (!eq) return PARSE_IGNORE;  // an answer to another question
    if (!(flags & 0x8000) || (flags & 0x7800) || (flags & 0x000F)) return PARSE_NOTFOUND;
    if (rd16(m + off) != 1 || rd16(m + off + 2) != 1) return PARSE_NOTFOUND;
    off += 4;
    // Check the answer section as a whole: a count that lies or a broken record ends it.
    const int first = off;
    for (int i = 0; i < an; i++) {
        off = walkName(m, len, off, NULL, NULL, NULL);
        if (off < 0 || off + 10 > len) return PARSE_NOTFOUND;
        int rdlen = rd16(m + off + 8);
        off += 10 + rdlen;
        if (off > len) return PARSE_NOTFOUND;
    }
    // Follow the chain: the A record of the current target, else its CNAME.
    char target[256];
    const char* want = name;
    uint32_t minTtl = 0xFFFFFFFFu;
    for (int hop = 0; hop < 8; hop++) {
        int cname = -1;
        uint32_t cnameTtl = 0;
        off = first;
        for (int i = 0; i < an; i++) {
            bool own = false;
            off = walkName(m, len, off, NULL, want, &own);
            uint16_t type = rd16(m + off), cls = rd16(m + off + 2);
            uint32_t t = rd32(m + off + 4);
            if (t & 0x80000000u) t = 0;  // RFC 2181 8: treat as zero
            int rdlen = rd16(m + off + 8);
            int rd = off + 10;
            off = rd + rdlen;
            if (!own || cls != 1) continue;
            if (type == 1 && rdlen == 4) {
                *ip = rd32(m + rd);
                *ttl = t < minTtl ? t : minTtl;
                return PARSE_FOUND;
            }
            if (type == 5 && cname < 0) {
                cname = rd;
                cnameTtl = t;
            }
        }
        if (cname < 0) return PARSE_NOTFOUND;
        if (walkName(m, len, cname, target, NULL, NULL) < 0) return PARSE_NOTFOUND;
        if (!target[0]) return PARSE_NOTFOUND;
        if (cnameTtl < minTtl) minTtl = cnameTtl;
        want = target;
    }
    return PARSE_NOTFOUND;  // chain too long
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
