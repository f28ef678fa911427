// NetService commands: services that count their polls and report their destruction, so the
// host can watch the pool's deferred deletion (netservices.md 2.4).
#include "agent.h"
#include "netservice.h"

namespace agent {
namespace {

constexpr int kMaxSvc = 8;

class ProbeService;
ProbeService* g_svc[kMaxSvc];

class ProbeService : public NetService {
public:
    ProbeService(bool owned, uint8_t handle) : NetService(owned), m_handle(handle) {}
    ~ProbeService() override {
        proto::EvSvcDeleted ev;
        ev.ts_us = board::micros();
        ev.handle = m_handle;
        ev.polls = m_polls;
        send_msg(0, ev);
        g_svc[m_handle] = nullptr;
    }
    void poll() override {
        m_polls++;
        if (m_close_in_poll) {
            m_close_in_poll = false;
            close();  // from inside the service's own poll: deletion must still be deferred
        }
    }
    void closeNow() { close(); }
    void closeFromPoll() { m_close_in_poll = true; }
    uint32_t polls() const { return m_polls; }

private:
    uint8_t m_handle;
    uint32_t m_polls = 0;
    bool m_close_in_poll = false;
};

ProbeService* slot(uint8_t h) { return h < kMaxSvc ? g_svc[h] : nullptr; }

}  // namespace

uint8_t handle_svc_new(const proto::SvcNewReq& req, proto::SvcNewReply& reply) {
    reply.result = -1;
    for (int i = 0; i < kMaxSvc; i++) {
        if (!g_svc[i]) {
            g_svc[i] = new ProbeService(req.owned != 0, (uint8_t)i);
            reply.result = i;
            break;
        }
    }
    return REPLY;
}

uint8_t handle_svc_close(const proto::SvcCloseReq& req, proto::SvcCloseReply& reply) {
    ProbeService* s = slot(req.handle);
    if (!s) return proto::ERR_BAD_HANDLE;
    if (req.from_poll) s->closeFromPoll();
    else s->closeNow();
    reply.result = 0;
    return REPLY;
}

// Answered for any handle: a deleted service is reported as not alive.
uint8_t handle_svc_status(const proto::SvcStatusReq& req, proto::SvcStatusReply& reply) {
    ProbeService* s = slot(req.handle);
    reply.alive = s != nullptr;
    reply.polls = s ? s->polls() : 0;
    reply.net_polls = g_net_polls;
    return REPLY;
}

uint8_t handle_svc_delete(const proto::SvcDeleteReq& req, proto::SvcDeleteReply& reply) {
    ProbeService* s = slot(req.handle);
    if (!s) return proto::ERR_BAD_HANDLE;
    delete s;
    reply.result = 0;
    return REPLY;
}

}  // namespace agent
