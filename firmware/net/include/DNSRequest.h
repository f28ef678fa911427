// DNSRequest: the user-facing host name lookup (netservices.md 2.8, 3, 5.3).
//
// * resolve(name) copies the name; resolve(pHost) resolves pHost->getName() and, when the
//   request ends, writes the address into *pHost (0.0.0.0 on failure) before the callback
//   (pHost must stay alive until then, or until close()).  Both return DNS_OK at once and
//   send nothing: the query leaves on the next Net::poll().  A request object already exists
//   (even a finished one): DNS_INUSE until close().  No default interface: DNS_IF.  No heap:
//   DNS_MEM.
// * The reply callback fires exactly once, inside Net::poll(), on the poll after the result
//   is known: DNS_FOUND (dotted quad, cached or answered: the first A record, following a
//   CNAME chain), DNS_NOTFOUND (no answer after the retries on every server, RCODE != 0,
//   malformed or unusable answer), DNS_ERROR (the lookup could not start: NULL/empty/invalid
//   or too long name, resolver table full, interface not set up).  DNS_PRTCL is never used.
//   A member callback wins over a function callback; either may be set after resolve().
// * getResult(): the address found (0.0.0.0 until then and on failure); DNS_SETUP when no
//   request exists.  close(): abandons or finishes the request (no callback afterwards);
//   DNS_SETUP when none.  The wrapper can be used again after close().
// See dnsclient.h for the resolver (servers, retry schedule, cache, response matching).
#pragma once
#include <stddef.h>

#include "dnsclient.h"
#include "host.h"
#include "ipaddr.h"
#include "netcallback.h"

enum DNSRequestErr {
    __DNS_MIN = -0xFFFF,
    DNS_SETUP,       // -65534
    DNS_IF,          // -65533
    DNS_MEM,         // -65532
    DNS_INUSE,       // -65531
    DNS_PROCESSING,  // -65530
    DNS_OK = 0
};

enum DNSReply { DNS_PRTCL = 0, DNS_NOTFOUND = 1, DNS_ERROR = 2, DNS_FOUND = 3 };

class DNSRequest {
public:
    DNSRequest();
    ~DNSRequest();

    DNSRequestErr resolve(const char* hostname);
    DNSRequestErr resolve(Host* pHost);

    void setOnReply(void (*pMethod)(DNSReply));
    template <class T>
    void setOnReply(T* pItem, void (T::*pMethod)(DNSReply)) {
        m_member.set(pItem, pMethod);
    }

    DNSRequestErr getResult(IpAddr* pIp);
    DNSRequestErr close();

protected:
    void onNetDnsReply(NetDnsReply r);

private:
    DNSRequest(const DNSRequest&) = delete;
    DNSRequest& operator=(const DNSRequest&) = delete;
    DNSRequestErr start(NetDnsRequest* req);

    NetDnsRequest* m_pNetDnsRequest;
    void (*m_pCb)(DNSReply);
    NetDelegate<DNSReply> m_member;
};
