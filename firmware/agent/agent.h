// Shared pieces of the test agent: replies, events, conversions.
//
// Requests are dispatched by generated code (agent_dispatch.inc, from
// hil/protocol/definition.py): it decodes each request into its struct and calls its
// handler, handle_<command>(const Req&, Reply&), declared in the generated
// agent_handlers.h.  Each group of commands (core, interface, UDP, TCP, DNS, services)
// defines its handlers in its own *_cmds.cpp.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "agent_handlers.h"
#include "agent_proto.h"
#include "board.h"
#include "ipaddr.h"

namespace agent {

enum CallbackMode : uint8_t { CB_NONE = 0, CB_FUNCTION = 1, CB_MEMBER = 2 };

// Encode and send one message (reply or event) as a frame on UART0.
void send_body(const uint8_t* body, size_t len);

// The one buffer messages are built in (single-threaded: one message at a time).
constexpr size_t kTxBodyCap = proto::MAX_PAYLOAD + 64;
extern uint8_t g_tx_body[kTxBodyCap];

template <class T>
void send_msg(uint16_t id, const T& msg) {
    uint8_t* body = g_tx_body;
    proto::Writer w(body, kTxBodyCap);
    w.u8(T::CODE);
    w.u16(id);
    if (!proto::encode(w, msg)) {
        proto::Writer e(body, kTxBodyCap);
        e.u8(proto::MSG_ERROR);
        e.u16(id);
        e.u8(proto::ERR_TOO_LARGE);
        send_body(body, e.size());
        return;
    }
    send_body(body, w.size());
}

void send_error(uint16_t id, uint8_t code);

// Serve one request frame's body (type, id, payload): the generated dispatch, then the
// action a handler left for after its reply.
void handle_frame(const uint8_t* body, size_t len);

// Run fn(arg) once the reply to the request being handled has been sent (RESET resets the
// chip after its reply; TCP_STREAM starts moving data after its reply).  One per request.
void after_reply(void (*fn)(void*), void* arg);

inline IpAddr to_ip(const proto::IpV4& v) { return IpAddr(v.b[0], v.b[1], v.b[2], v.b[3]); }

inline proto::IpV4 from_ip(const IpAddr& ip) {
    proto::IpV4 v;
    for (int i = 0; i < 4; i++) v.b[i] = ip[i];
    return v;
}

// Free the TCP slots of echo connections that ended (outside any socket callback).
void tcp_reap();

// Counters of the link layer, for STATS.
uint32_t link_bad_frames();
uint32_t link_bad_crc();

// Net::poll() calls made by the main loop.
extern uint32_t g_net_polls;

}  // namespace agent
