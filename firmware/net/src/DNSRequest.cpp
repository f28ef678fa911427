// DNSRequest wrapper.  See DNSRequest.h.
#include "DNSRequest.h"

#include "net.h"

DNSRequest::DNSRequest() : m_pNetDnsRequest(NULL), m_pCb(NULL), m_member() {}

DNSRequest::~DNSRequest() { close(); }

DNSRequestErr DNSRequest::start(NetDnsRequest* req) {
    if (!req) return DNS_MEM;
    m_pNetDnsRequest = req;
    req->setOnReply(this, &DNSRequest::onNetDnsReply);
    return DNS_OK;
}

DNSRequestErr DNSRequest::resolve(const char* hostname) {
    if (m_pNetDnsRequest) return DNS_INUSE;
    if (!Net::getDefaultIf()) return DNS_IF;
    return start(Net::dnsRequest(hostname));
}

DNSRequestErr DNSRequest::resolve(Host* pHost) {
    if (m_pNetDnsRequest) return DNS_INUSE;
    if (!Net::getDefaultIf()) return DNS_IF;
    return start(Net::dnsRequest(pHost));
}

void DNSRequest::setOnReply(void (*pMethod)(DNSReply)) { m_pCb = pMethod; }

DNSRequestErr DNSRequest::getResult(IpAddr* pIp) {
    if (!m_pNetDnsRequest) return DNS_SETUP;
    m_pNetDnsRequest->getResult(pIp);
    return DNS_OK;
}

DNSRequestErr DNSRequest::close() {
    if (!m_pNetDnsRequest) return DNS_SETUP;
    m_pNetDnsRequest->resetOnReply();
    m_pNetDnsRequest->close();  // deleted by the pool later
    m_pNetDnsRequest = NULL;
    return DNS_OK;
}

void DNSRequest::onNetDnsReply(NetDnsReply r) {
    if (m_member.isSet()) m_member.call((DNSReply)r);
    else if (m_pCb) m_pCb((DNSReply)r);
}
