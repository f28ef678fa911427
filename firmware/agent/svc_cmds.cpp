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

}  // namespace

bool handle_svc(uint8_t type, uint16_t id, proto::Reader& r) {
    switch (type) {
    case proto::MSG_SVC_NEW: {
        proto::SvcNewReq q;
        if (!parse(r, id, q)) return true;
        int32_t result = -1;
        for (int i = 0; i < kMaxSvc; i++) {
            if (!g_svc[i]) {
                g_svc[i] = new ProbeService(q.owned != 0, (uint8_t)i);
                result = i;
                break;
            }
        }
        reply_result<proto::SvcNewReply>(id, result);
        return true;
    }
    case proto::MSG_SVC_CLOSE:
    case proto::MSG_SVC_DELETE:
    case proto::MSG_SVC_STATUS:
        break;
    default:
        return false;
    }
    // Requests on one service: decode by type, then check the handle.
    uint8_t handle;
    proto::SvcCloseReq close_q;
    proto::SvcDeleteReq delete_q;
    proto::SvcStatusReq status_q;
    if (type == proto::MSG_SVC_CLOSE) {
        if (!parse(r, id, close_q)) return true;
        handle = close_q.handle;
    } else if (type == proto::MSG_SVC_DELETE) {
        if (!parse(r, id, delete_q)) return true;
        handle = delete_q.handle;
    } else {
        if (!parse(r, id, status_q)) return true;
        handle = status_q.handle;
    }
    ProbeService* s = handle < kMaxSvc ? g_svc[handle] : nullptr;
    if (type == proto::MSG_SVC_STATUS) {
        proto::SvcStatusReply a;
        a.alive = s != nullptr;
        a.polls = s ? s->polls() : 0;
        a.net_polls = g_net_polls;
        send_msg(id, a);
        return true;
    }
    if (!s) { send_error(id, proto::ERR_BAD_HANDLE); return true; }
    if (type == proto::MSG_SVC_CLOSE) {
        if (close_q.from_poll) s->closeFromPoll();
        else s->closeNow();
        reply_result<proto::SvcCloseReply>(id, 0);
    } else {
        delete s;
        reply_result<proto::SvcDeleteReply>(id, 0);
    }
    return true;
}

}  // namespace agent
