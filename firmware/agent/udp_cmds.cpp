// UDPSocket commands: one wrapper object per handle, both callback forms, device-side echo.
#include "UDPSocket.h"
#include "agent.h"

namespace agent {
namespace {

constexpr int kMaxUdp = 8;

struct UdpSlot {
    UDPSocket* sock = nullptr;
    uint8_t handle = 0;
    bool echo = false;

    void report(UDPSocketEvent e, CallbackMode mode) {
        if (echo && e == UDPSOCKET_READABLE) {
            // Echo sockets are for benchmarks: answer from the callback, no event traffic.
            static char buf[proto::MAX_PAYLOAD];
            Host from;
            int n;
            while ((n = sock->recvfrom(buf, sizeof buf, &from)) > 0) sock->sendto(buf, n, &from);
            return;
        }
        proto::EvUdpEvent ev;
        ev.ts_us = board::micros();
        ev.handle = handle;
        ev.event = (uint8_t)e;
        ev.mode = mode;
        send_msg(0, ev);
    }
    // The member-function form of setOnEvent.
    void onEvent(UDPSocketEvent e) { report(e, CB_MEMBER); }
};

UdpSlot g_udp[kMaxUdp];

// The plain-function form has no context pointer: one function per slot.
template <int N>
void udp_function_cb(UDPSocketEvent e) { g_udp[N].report(e, CB_FUNCTION); }
void (*const g_udp_fns[kMaxUdp])(UDPSocketEvent) = {
    udp_function_cb<0>, udp_function_cb<1>, udp_function_cb<2>, udp_function_cb<3>,
    udp_function_cb<4>, udp_function_cb<5>, udp_function_cb<6>, udp_function_cb<7>};

UdpSlot* slot(uint8_t h) { return (h < kMaxUdp && g_udp[h].sock) ? &g_udp[h] : nullptr; }

}  // namespace

uint8_t handle_udp_new(const proto::UdpNewReq&, proto::UdpNewReply& reply) {
    reply.result = UDPSOCKET_MEM;
    for (int i = 0; i < kMaxUdp; i++) {
        if (!g_udp[i].sock) {
            g_udp[i].sock = new UDPSocket();
            g_udp[i].handle = (uint8_t)i;
            g_udp[i].echo = false;
            reply.result = i;
            break;
        }
    }
    return REPLY;
}

uint8_t handle_udp_delete(const proto::UdpDeleteReq& req, proto::UdpDeleteReply& reply) {
    UdpSlot* s = slot(req.handle);
    if (!s) return proto::ERR_BAD_HANDLE;
    delete s->sock;
    s->sock = nullptr;
    reply.result = UDPSOCKET_OK;
    return REPLY;
}

uint8_t handle_udp_bind(const proto::UdpBindReq& req, proto::UdpBindReply& reply) {
    UdpSlot* s = slot(req.handle);
    if (!s) return proto::ERR_BAD_HANDLE;
    reply.result = s->sock->bind(Host(to_ip(req.ip), req.port, nullptr));
    return REPLY;
}

uint8_t handle_udp_sendto(const proto::UdpSendtoReq& req, proto::UdpSendtoReply& reply) {
    UdpSlot* s = slot(req.handle);
    if (!s) return proto::ERR_BAD_HANDLE;
    Host to(to_ip(req.ip), req.port, nullptr);
    reply.result = s->sock->sendto((const char*)req.data.data, req.data.len, &to);
    return REPLY;
}

uint8_t handle_udp_recvfrom(const proto::UdpRecvfromReq& req, proto::UdpRecvfromReply& reply) {
    UdpSlot* s = slot(req.handle);
    if (!s) return proto::ERR_BAD_HANDLE;
    static char buf[proto::MAX_PAYLOAD];
    int cap = req.maxlen < sizeof buf ? req.maxlen : (int)sizeof buf;
    Host from;
    reply.result = s->sock->recvfrom(buf, cap, &from);
    reply.ip = from_ip(from.getIp());
    reply.port = (uint16_t)from.getPort();
    reply.data = proto::Bytes{(const uint8_t*)buf, (uint16_t)(reply.result > 0 ? reply.result : 0)};
    return REPLY;
}

uint8_t handle_udp_close(const proto::UdpCloseReq& req, proto::UdpCloseReply& reply) {
    UdpSlot* s = slot(req.handle);
    if (!s) return proto::ERR_BAD_HANDLE;
    reply.result = s->sock->close();
    return REPLY;
}

uint8_t handle_udp_on_event(const proto::UdpOnEventReq& req, proto::UdpOnEventReply& reply) {
    UdpSlot* s = slot(req.handle);
    if (!s) return proto::ERR_BAD_HANDLE;
    reply.result = UDPSOCKET_OK;
    if (req.mode == CB_NONE) s->sock->resetOnEvent();
    else if (req.mode == CB_FUNCTION) s->sock->setOnEvent(g_udp_fns[s->handle]);
    else if (req.mode == CB_MEMBER) s->sock->setOnEvent(s, &UdpSlot::onEvent);
    else reply.result = UDPSOCKET_SETUP;
    return REPLY;
}

uint8_t handle_udp_echo(const proto::UdpEchoReq& req, proto::UdpEchoReply& reply) {
    UdpSlot* s = slot(req.handle);
    if (!s) return proto::ERR_BAD_HANDLE;
    s->echo = req.on != 0;
    if (s->echo) s->sock->setOnEvent(s, &UdpSlot::onEvent);
    reply.result = UDPSOCKET_OK;
    return REPLY;
}

}  // namespace agent
