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

template <class T>
DnsSlot* parse_slot(proto::Reader& r, uint16_t id, T& q) {
    if (!parse(r, id, q)) return nullptr;
    DnsSlot* s = (q.handle < kMaxDns && g_dns[q.handle].req) ? &g_dns[q.handle] : nullptr;
    if (!s) send_error(id, proto::ERR_BAD_HANDLE);
    return s;
}

}  // namespace

bool handle_dns(uint8_t type, uint16_t id, proto::Reader& r) {
    switch (type) {
    case proto::MSG_DNS_NEW: {
        proto::DnsNewReq q;
        if (!parse(r, id, q)) return true;
        int32_t result = DNS_MEM;
        for (int i = 0; i < kMaxDns; i++) {
            if (!g_dns[i].req) {
                g_dns[i].req = new DNSRequest();
                g_dns[i].handle = (uint8_t)i;
                g_dns[i].host = Host();
                result = i;
                break;
            }
        }
        reply_result<proto::DnsNewReply>(id, result);
        return true;
    }
    case proto::MSG_DNS_DELETE: {
        proto::DnsDeleteReq q;
        DnsSlot* s = parse_slot(r, id, q);
        if (!s) return true;
        delete s->req;
        s->req = nullptr;
        reply_result<proto::DnsDeleteReply>(id, DNS_OK);
        return true;
    }
    case proto::MSG_DNS_RESOLVE: {
        proto::DnsResolveReq q;
        DnsSlot* s = parse_slot(r, id, q);
        if (!s) return true;
        static char name[300];
        size_t n = q.name.len < sizeof name - 1 ? q.name.len : sizeof name - 1;
        memcpy(name, q.name.data, n);
        name[n] = 0;
        if (q.host_form) {
            s->host = Host(IpAddr(), 0, name);
            reply_result<proto::DnsResolveReply>(id, s->req->resolve(&s->host));
        } else {
            reply_result<proto::DnsResolveReply>(id, s->req->resolve(name));
        }
        return true;
    }
    case proto::MSG_DNS_GET_RESULT: {
        proto::DnsGetResultReq q;
        DnsSlot* s = parse_slot(r, id, q);
        if (!s) return true;
        IpAddr ip;
        proto::DnsGetResultReply a;
        a.result = s->req->getResult(&ip);
        a.ip = from_ip(ip);
        send_msg(id, a);
        return true;
    }
    case proto::MSG_DNS_CLOSE: {
        proto::DnsCloseReq q;
        DnsSlot* s = parse_slot(r, id, q);
        if (!s) return true;
        reply_result<proto::DnsCloseReply>(id, s->req->close());
        return true;
    }
    case proto::MSG_DNS_ON_REPLY: {
        proto::DnsOnReplyReq q;
        DnsSlot* s = parse_slot(r, id, q);
        if (!s) return true;
        int32_t result = DNS_OK;
        if (q.mode == CB_FUNCTION) s->req->setOnReply(g_dns_fns[s->handle]);
        else if (q.mode == CB_MEMBER) s->req->setOnReply(s, &DnsSlot::onReply);
        else result = DNS_SETUP;
        reply_result<proto::DnsOnReplyReply>(id, result);
        return true;
    }
    default:
        return false;
    }
}

}  // namespace agent
