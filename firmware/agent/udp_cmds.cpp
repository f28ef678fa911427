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

// Decode a request whose first field is the handle; answer BAD_HANDLE for a free slot.
template <class T>
UdpSlot* parse_slot(proto::Reader& r, uint16_t id, T& q) {
    if (!parse(r, id, q)) return nullptr;
    UdpSlot* s = slot(q.handle);
    if (!s) send_error(id, proto::ERR_BAD_HANDLE);
    return s;
}

}  // namespace

bool handle_udp(uint8_t type, uint16_t id, proto::Reader& r) {
    switch (type) {
    case proto::MSG_UDP_NEW: {
        proto::UdpNewReq q;
        if (!parse(r, id, q)) return true;
        int32_t result = UDPSOCKET_MEM;
        for (int i = 0; i < kMaxUdp; i++) {
            if (!g_udp[i].sock) {
                g_udp[i].sock = new UDPSocket();
                g_udp[i].handle = (uint8_t)i;
                g_udp[i].echo = false;
                result = i;
                break;
            }
        }
        reply_result<proto::UdpNewReply>(id, result);
        return true;
    }
    case proto::MSG_UDP_DELETE: {
        proto::UdpDeleteReq q;
        UdpSlot* s = parse_slot(r, id, q);
        if (!s) return true;
        delete s->sock;
        s->sock = nullptr;
        reply_result<proto::UdpDeleteReply>(id, UDPSOCKET_OK);
        return true;
    }
    case proto::MSG_UDP_BIND: {
        proto::UdpBindReq q;
        UdpSlot* s = parse_slot(r, id, q);
        if (!s) return true;
        reply_result<proto::UdpBindReply>(id, s->sock->bind(Host(to_ip(q.ip), q.port, nullptr)));
        return true;
    }
    case proto::MSG_UDP_SENDTO: {
        proto::UdpSendtoReq q;
        UdpSlot* s = parse_slot(r, id, q);
        if (!s) return true;
        Host to(to_ip(q.ip), q.port, nullptr);
        reply_result<proto::UdpSendtoReply>(
            id, s->sock->sendto((const char*)q.data.data, q.data.len, &to));
        return true;
    }
    case proto::MSG_UDP_RECVFROM: {
        proto::UdpRecvfromReq q;
        UdpSlot* s = parse_slot(r, id, q);
        if (!s) return true;
        static char buf[proto::MAX_PAYLOAD];
        int cap = q.maxlen < sizeof buf ? q.maxlen : (int)sizeof buf;
        Host from;
        proto::UdpRecvfromReply a;
        a.result = s->sock->recvfrom(buf, cap, &from);
        a.ip = from_ip(from.getIp());
        a.port = (uint16_t)from.getPort();
        a.data = proto::Bytes{(const uint8_t*)buf, (uint16_t)(a.result > 0 ? a.result : 0)};
        send_msg(id, a);
        return true;
    }
    case proto::MSG_UDP_CLOSE: {
        proto::UdpCloseReq q;
        UdpSlot* s = parse_slot(r, id, q);
        if (!s) return true;
        reply_result<proto::UdpCloseReply>(id, s->sock->close());
        return true;
    }
    case proto::MSG_UDP_ON_EVENT: {
        proto::UdpOnEventReq q;
        UdpSlot* s = parse_slot(r, id, q);
        if (!s) return true;
        int32_t result = UDPSOCKET_OK;
        if (q.mode == CB_NONE) s->sock->resetOnEvent();
        else if (q.mode == CB_FUNCTION) s->sock->setOnEvent(g_udp_fns[s->handle]);
        else if (q.mode == CB_MEMBER) s->sock->setOnEvent(s, &UdpSlot::onEvent);
        else result = UDPSOCKET_SETUP;
        reply_result<proto::UdpOnEventReply>(id, result);
        return true;
    }
    case proto::MSG_UDP_ECHO: {
        proto::UdpEchoReq q;
        UdpSlot* s = parse_slot(r, id, q);
        if (!s) return true;
        s->echo = q.on != 0;
        if (s->echo) s->sock->setOnEvent(s, &UdpSlot::onEvent);
        reply_result<proto::UdpEchoReply>(id, UDPSOCKET_OK);
        return true;
    }
    default:
        return false;
    }
}

}  // namespace agent
