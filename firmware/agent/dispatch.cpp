// Request dispatch: the generated part (agent_dispatch.inc, written by `hil build` from
// hil/protocol/definition.py) decodes each request and calls its handle_<command>(); this
// file reads a request's header, answers errors and runs what a handler left for after
// its reply.
#include "agent.h"

#include "agent_dispatch.inc"

namespace agent {
namespace {

void (*g_after_fn)(void*) = nullptr;
void* g_after_arg = nullptr;

}  // namespace

void send_error(uint16_t id, uint8_t code) {
    proto::ErrorReply e;
    e.code = code;
    send_msg(id, e);
}

void after_reply(void (*fn)(void*), void* arg) {
    g_after_fn = fn;
    g_after_arg = arg;
}

void handle_frame(const uint8_t* body, size_t len) {
    if (len < 3) { send_error(0, proto::ERR_BAD_PAYLOAD); return; }
    uint8_t type = body[0];
    uint16_t id = (uint16_t)(body[1] | (body[2] << 8));
    proto::Reader r(body + 3, len - 3);
    dispatch_request(type, id, r);
    if (g_after_fn) {
        void (*fn)(void*) = g_after_fn;
        g_after_fn = nullptr;
        fn(g_after_arg);
    }
}

}  // namespace agent
