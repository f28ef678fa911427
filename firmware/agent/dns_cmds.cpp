// DNSRequest commands: one request object per handle, both setOnReply forms, both resolve forms.
#include <string.h>

#include "DNSRequest.h"
#include "agent.h"
#include "host.h"

namespace agent {
namespace {

constexpr int kMaxDns = 4;

struct DnsSlot {
    DNSRequest* req = nullptr;
    Host host;
    uint8_t handle = 0;

    void report(DNSReply reply, CallbackMode mode) {
        proto::EvDnsReply ev;
        ev.ts_us = board::micros();
        ev.handle = handle;
        ev.reply = (uint8_t)reply;
        IpAddr ip;
        req->getResult(&ip);
        ev.ip = from_ip(ip);
        ev.host_ip = from_ip(host.getIp());
        ev.mode = mode;
        send_msg(0, ev);
    }
    void onReply(DNSReply reply) { report(reply, CB_MEMBER); }
};

DnsSlot g_dns[kMaxDns];

template <int N>
void dns_function_cb(DNSReply r) { g_dns[N].report(r, CB_FUNCTION); }
void (*const g_dns_fns[kMaxDns])(DNSReply) = {dns_function_cb<0>, dns_function_cb<1>,
                                              dns_function_cb<2>, dns_function_cb<3>};

DnsSlot* slot(uint8_t h) { return (h < kMaxDns && g_dns[h].req) ? &g_dns[h] : nullptr; }

}  // namespace

uint8_t handle_dns_new(const proto::DnsNewReq&, proto::DnsNewReply& reply) {
    reply.result = DNS_MEM;
    for (int i = 0; i < kMaxDns; i++) {
        if (!g_dns[i].req) {
            g_dns[i].req = new DNSRequest();
            g_dns[i].handle = (uint8_t)i;
            g_dns[i].host = Host();
            reply.result = i;
            break;
        }
    }
    return REPLY;
}

uint8_t handle_dns_delete(const proto::DnsDeleteReq& req, proto::DnsDeleteReply& reply) {
    DnsSlot* s = slot(req.handle);
    if (!s) return proto::ERR_BAD_HANDLE;
    delete s->req;
    s->req = nullptr;
    reply.result = DNS_OK;
    return REPLY;
}

uint8_t handle_dns_resolve(const proto::DnsResolveReq& req, proto::DnsResolveReply& reply) {
    DnsSlot* s = slot(req.handle);
    if (!s) return proto::ERR_BAD_HANDLE;
    static char name[300];
    size_t n = req.name.len < sizeof name - 1 ? req.name.len : sizeof name - 1;
    memcpy(name, req.name.data, n);
    name[n] = 0;
    if (req.host_form) {
        s->host = Host(IpAddr(), 0, name);
        reply.result = s->req->resolve(&s->host);
    } else {
        reply.result = s->req->resolve(name);
    }
    return REPLY;
}

uint8_t handle_dns_get_result(const proto::DnsGetResultReq& req, proto::DnsGetResultReply& reply) {
    DnsSlot* s = slot(req.handle);
    if (!s) return proto::ERR_BAD_HANDLE;
    IpAddr ip;
    reply.result = s->req->getResult(&ip);
    reply.ip = from_ip(ip);
    return REPLY;
}

uint8_t handle_dns_close(const proto::DnsCloseReq& req, proto::DnsCloseReply& reply) {
    DnsSlot* s = slot(req.handle);
    if (!s) return proto::ERR_BAD_HANDLE;
    reply.result = s->req->close();
    return REPLY;
}

uint8_t handle_dns_on_reply(const proto::DnsOnReplyReq& req, proto::DnsOnReplyReply& reply) {
    DnsSlot* s = slot(req.handle);
    if (!s) return proto::ERR_BAD_HANDLE;
    reply.result = DNS_OK;
    if (req.mode == CB_FUNCTION) s->req->setOnReply(g_dns_fns[s->handle]);
    else if (req.mode == CB_MEMBER) s->req->setOnReply(s, &DnsSlot::onReply);
    else reply.result = DNS_SETUP;
    return REPLY;
}

}  // namespace agent
