// Shared pieces of the test agent: replies, events, conversions, handler registration.
//
// Each group of commands (core, interface, UDP, TCP, DNS, services) lives in its own file
// with one dispatch function: it returns true when it recognised the message type.
#pragma once
#include <stddef.h>
#include <stdint.h>

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

// Decode request type T; on failure answer BAD_PAYLOAD and return false.
template <class T>
bool parse(proto::Reader& r, uint16_t id, T& req) {
    if (proto::decode(r, req)) return true;
    send_error(id, proto::ERR_BAD_PAYLOAD);
    return false;
}

// A one-field "result:i32" reply of type T.
template <class T>
void reply_result(uint16_t id, int32_t result) {
    T a;
    a.result = result;
    send_msg(id, a);
}

inline IpAddr to_ip(const proto::IpV4& v) { return IpAddr(v.b[0], v.b[1], v.b[2], v.b[3]); }

inline proto::IpV4 from_ip(const IpAddr& ip) {
    proto::IpV4 v;
    for (int i = 0; i < 4; i++) v.b[i] = ip[i];
    return v;
}

// Dispatchers (one per file).  `r` is positioned after the header.
bool handle_core(uint8_t type, uint16_t id, proto::Reader& r);
bool handle_net(uint8_t type, uint16_t id, proto::Reader& r);
bool handle_udp(uint8_t type, uint16_t id, proto::Reader& r);
bool handle_svc(uint8_t type, uint16_t id, proto::Reader& r);
bool handle_tcp(uint8_t type, uint16_t id, proto::Reader& r);
bool handle_dns(uint8_t type, uint16_t id, proto::Reader& r);

// Free the TCP slots of echo connections that ended (outside any socket callback).
void tcp_reap();

// Counters of the link layer, for STATS.
uint32_t link_bad_frames();
uint32_t link_bad_crc();

// Net::poll() calls made by the main loop.
extern uint32_t g_net_polls;

}  // namespace agent
