// The test agent: exposes the NetServices API to the host over UART0.
//
// The host sends requests (hil/protocol/definition.py); each one maps onto one call of
// the public API (UDPSocket::bind, sendto, ...) and the reply carries that call's
// return value unchanged.  Socket callbacks run inside Net::poll() as they would in
// any application, and each one is reported to the host as an event stamped with the
// board time.  The main loop sleeps (WFI) whenever there is nothing to do.
#include <stdint.h>
#include <string.h>

#include "EthernetNetIf.h"
#include "UDPSocket.h"
#include "agent_proto.h"
#include "board.h"
#include "framing.h"
#include "net.h"
#include "rt.h"

namespace {

constexpr int kMaxUdp = 8;
constexpr size_t kRxCap = proto::MAX_PAYLOAD + 64;
constexpr size_t kTxCap = proto::MAX_PAYLOAD + 64;

uint8_t g_rx_buf[kRxCap + kRxCap / 254 + 8];
uint8_t g_body[kTxCap];
uint8_t g_frame[kTxCap + kTxCap / 254 + 8];
agent::FrameReceiver g_rx(g_rx_buf, sizeof g_rx_buf);
EthernetNetIf* g_netif = nullptr;

// -- sending --------------------------------------------------------------------------

template <class T>
void send_msg(uint16_t id, const T& msg) {
    proto::Writer w(g_body, sizeof g_body);
    w.u8(T::CODE);
    w.u16(id);
    if (!proto::encode(w, msg)) {
        // Cannot happen for well-formed replies (sizes are bounded); report it anyway.
        proto::Writer e(g_body, sizeof g_body);
        e.u8(proto::MSG_ERROR);
        e.u16(id);
        e.u8(proto::ERR_TOO_LARGE);
        w = e;
    }
    size_t n = agent::frame_encode(g_body, w.size(), g_frame, sizeof g_frame);
    board::uart_write(g_frame, n);
}

void send_error(uint16_t id, uint8_t code) {
    proto::ErrorReply e;
    e.code = code;
    send_msg(id, e);
}

IpAddr to_ip(const proto::IpV4& v) { return IpAddr(v.b[0], v.b[1], v.b[2], v.b[3]); }

proto::IpV4 from_ip(const IpAddr& ip) {
    proto::IpV4 v;
    for (int i = 0; i < 4; i++) v.b[i] = ip[i];
    return v;
}

// -- UDP sockets ------------------------------------------------------------------------

enum CallbackMode : uint8_t { CB_NONE = 0, CB_FUNCTION = 1, CB_MEMBER = 2 };

struct UdpSlot {
    UDPSocket* sock = nullptr;
    uint8_t handle = 0;
    bool echo = false;

    void report(UDPSocketEvent e, CallbackMode mode) {
        proto::EvUdpEvent ev;
        ev.ts_us = board::micros();
        ev.handle = handle;
        ev.event = (uint8_t)e;
        ev.mode = mode;
        if (echo && e == UDPSOCKET_READABLE) {
            static char buf[proto::MAX_PAYLOAD];
            Host from;
            int n;
            while ((n = sock->recvfrom(buf, sizeof buf, &from)) > 0) sock->sendto(buf, n, &from);
            return;  // echo sockets are for benchmarks: no event traffic on the link
        }
        send_msg(0, ev);
    }
    // The member-function form of setOnEvent.
    void onEvent(UDPSocketEvent e) { report(e, CB_MEMBER); }
};

UdpSlot g_udp[kMaxUdp];

// The plain-function form of setOnEvent has no context pointer: one function per slot.
template <int N>
void udp_function_cb(UDPSocketEvent e) { g_udp[N].report(e, CB_FUNCTION); }

template <int... N>
struct FnTable { static constexpr void (*fns[])(UDPSocketEvent) = {udp_function_cb<N>...}; };
using UdpFns = FnTable<0, 1, 2, 3, 4, 5, 6, 7>;
static_assert(sizeof(UdpFns::fns) / sizeof(UdpFns::fns[0]) == kMaxUdp, "one callback per slot");

UdpSlot* slot(uint8_t h) { return (h < kMaxUdp && g_udp[h].sock) ? &g_udp[h] : nullptr; }

// -- request handlers -------------------------------------------------------------------

void spin(uint32_t iterations) {
    // Exactly four instructions per iteration (the host computes MIPS from this).
    uint32_t acc = 0;
    __asm__ volatile(
        "1:\n"
        "  adds %[acc], %[acc], %[n]\n"
        "  eor.w %[acc], %[acc], %[n], lsl #3\n"
        "  subs %[n], %[n], #1\n"
        "  bne 1b\n"
        : [acc] "+r"(acc), [n] "+r"(iterations)
        :
        : "cc");
}

uint32_t stat_value(int i) {
    const board::eth::Stats& e = board::eth::stats();
    const NetStats& n = Net::stats();
    switch (i) {
        case proto::STAT_ETH_RX_FRAMES: return e.rx_frames;
        case proto::STAT_ETH_TX_FRAMES: return e.tx_frames;
        case proto::STAT_ETH_RX_RUNT: return e.rx_runt;
        case proto::STAT_ETH_RX_OVERSIZE: return e.rx_oversize;
        case proto::STAT_ETH_RX_ERROR: return e.rx_error;
        case proto::STAT_ETH_RX_OVERRUN: return e.rx_overrun;
        case proto::STAT_ETH_TX_ERROR: return e.tx_error;
        case proto::STAT_IP_RX: return n.ip_rx;
        case proto::STAT_IP_BAD_CHECKSUM: return n.ip_bad_checksum;
        case proto::STAT_IP_BAD_HEADER: return n.ip_bad_header;
        case proto::STAT_IP_FRAGMENTS_DROPPED: return n.ip_fragments_dropped;
        case proto::STAT_UDP_RX: return n.udp_rx;
        case proto::STAT_UDP_BAD_CHECKSUM: return n.udp_bad_checksum;
        case proto::STAT_UDP_NO_PORT: return n.udp_no_port;
        case proto::STAT_UDP_QUEUE_FULL: return n.udp_queue_full;
        case proto::STAT_ICMP_ECHO_REPLIED: return n.icmp_echo_replied;
        case proto::STAT_ARP_RX: return n.arp_rx;
        case proto::STAT_ARP_TX: return n.arp_tx;
        case proto::STAT_FRAMES_UNKNOWN_TYPE: return n.frames_unknown_type;
        case proto::STAT_AGENT_BAD_FRAMES: return g_rx.bad_frames;
        case proto::STAT_AGENT_BAD_CRC: return g_rx.bad_crc;
        case proto::STAT_HEAP_USED: return (uint32_t)rt_heap_used();
        case proto::STAT_HEAP_PEAK: return (uint32_t)rt_heap_peak();
        default: return 0;
    }
}

// Decode request type T from the reader; on failure answer BAD_PAYLOAD.
template <class T>
bool parse(proto::Reader& r, uint16_t id, T& req) {
    if (proto::decode(r, req)) return true;
    send_error(id, proto::ERR_BAD_PAYLOAD);
    return false;
}

void handle(const uint8_t* body, size_t len) {
    if (len < 3) { send_error(0, proto::ERR_BAD_PAYLOAD); return; }
    uint8_t type = body[0];
    uint16_t id = (uint16_t)(body[1] | (body[2] << 8));
    proto::Reader r(body + 3, len - 3);

    switch (type) {
    case proto::MSG_HELLO: {
        proto::HelloReq q;
        if (!parse(r, id, q)) return;
        proto::HelloReply a;
        a.version = proto::VERSION;
        a.proto_hash = proto::HASH;
        a.max_payload = proto::MAX_PAYLOAD;
        a.board = proto::Bytes{(const uint8_t*)BOARD_NAME, (uint16_t)strlen(BOARD_NAME)};
        send_msg(id, a);
        return;
    }
    case proto::MSG_ECHO: {
        proto::EchoReq q;
        if (!parse(r, id, q)) return;
        // The reply is built from the request buffer, which send_msg does not touch.
        proto::EchoReply a;
        a.data = q.data;
        send_msg(id, a);
        return;
    }
    case proto::MSG_RESET: {
        proto::ResetReq q;
        if (!parse(r, id, q)) return;
        send_msg(id, proto::ResetReply{});
        board::reset();
    }
    case proto::MSG_LED_SET: {
        proto::LedSetReq q;
        if (!parse(r, id, q)) return;
        board::led_set(q.led, q.on != 0);
        proto::LedSetReply a;
        a.leds = 0;
        for (int i = 1; i <= 4; i++) a.leds |= (uint8_t)(board::led_get(i) << (i - 1));
        send_msg(id, a);
        return;
    }
    case proto::MSG_STATS: {
        proto::StatsReq q;
        if (!parse(r, id, q)) return;
        static uint8_t values[proto::STAT_COUNT * 4];
        for (int i = 0; i < proto::STAT_COUNT; i++) {
            uint32_t v = stat_value(i);
            for (int k = 0; k < 4; k++) values[i * 4 + k] = (uint8_t)(v >> (8 * k));
        }
        proto::StatsReply a;
        a.values = proto::Bytes{values, (uint16_t)sizeof values};
        send_msg(id, a);
        return;
    }
    case proto::MSG_SPIN: {
        proto::SpinReq q;
        if (!parse(r, id, q)) return;
        uint64_t t0 = board::micros();
        if (q.iterations) spin(q.iterations);
        proto::SpinReply a;
        a.elapsed_us = board::micros() - t0;
        send_msg(id, a);
        return;
    }
    case proto::MSG_NET_STATIC: {
        proto::NetStaticReq q;
        if (!parse(r, id, q)) return;
        delete g_netif;
        g_netif = new EthernetNetIf(to_ip(q.ip), to_ip(q.netmask), to_ip(q.gateway), to_ip(q.dns));
        bool custom = false;
        for (int i = 0; i < 6; i++) custom |= q.mac.b[i] != 0;
        if (custom) g_netif->setHwAddr(q.mac.b);
        proto::NetStaticReply a;
        a.result = g_netif->setup();
        a.ip = from_ip(g_netif->getIp());
        memcpy(a.mac.b, g_netif->getHwAddr(), 6);
        send_msg(id, a);
        return;
    }
    case proto::MSG_NET_STATUS: {
        proto::NetStatusReq q;
        if (!parse(r, id, q)) return;
        proto::NetStatusReply a;
        a.up = g_netif != nullptr;
        a.link = board::eth::link_up();
        if (g_netif) {
            a.ip = from_ip(g_netif->getIp());
            memcpy(a.mac.b, g_netif->getHwAddr(), 6);
        }
        send_msg(id, a);
        return;
    }
    case proto::MSG_UDP_NEW: {
        proto::UdpNewReq q;
        if (!parse(r, id, q)) return;
        proto::UdpNewReply a;
        a.result = UDPSOCKET_MEM;
        for (int i = 0; i < kMaxUdp; i++) {
            if (!g_udp[i].sock) {
                g_udp[i].sock = new UDPSocket();
                g_udp[i].handle = (uint8_t)i;
                g_udp[i].echo = false;
                a.result = i;
                break;
            }
        }
        send_msg(id, a);
        return;
    }
    default:
        break;
    }

    // Requests on an existing UDP socket: the first field is always the handle.
    if (type >= proto::MSG_UDP_DELETE && type <= proto::MSG_UDP_ECHO) {
        if (len < 4) { send_error(id, proto::ERR_BAD_PAYLOAD); return; }
        UdpSlot* s = slot(body[3]);
        if (!s) { send_error(id, proto::ERR_BAD_HANDLE); return; }
        switch (type) {
        case proto::MSG_UDP_DELETE: {
            proto::UdpDeleteReq q;
            if (!parse(r, id, q)) return;
            delete s->sock;
            s->sock = nullptr;
            proto::UdpDeleteReply a;
            a.result = UDPSOCKET_OK;
            send_msg(id, a);
            return;
        }
        case proto::MSG_UDP_BIND: {
            proto::UdpBindReq q;
            if (!parse(r, id, q)) return;
            proto::UdpBindReply a;
            a.result = s->sock->bind(Host(to_ip(q.ip), q.port, nullptr));
            send_msg(id, a);
            return;
        }
        case proto::MSG_UDP_SENDTO: {
            proto::UdpSendtoReq q;
            if (!parse(r, id, q)) return;
            Host to(to_ip(q.ip), q.port, nullptr);
            proto::UdpSendtoReply a;
            a.result = s->sock->sendto((const char*)q.data.data, q.data.len, &to);
            send_msg(id, a);
            return;
        }
        case proto::MSG_UDP_RECVFROM: {
            proto::UdpRecvfromReq q;
            if (!parse(r, id, q)) return;
            static char buf[proto::MAX_PAYLOAD];
            int cap = q.maxlen < sizeof buf ? q.maxlen : (int)sizeof buf;
            Host from;
            proto::UdpRecvfromReply a;
            a.result = s->sock->recvfrom(buf, cap, &from);
            a.ip = from_ip(from.getIp());
            a.port = (uint16_t)from.getPort();
            a.data = proto::Bytes{(const uint8_t*)buf, (uint16_t)(a.result > 0 ? a.result : 0)};
            send_msg(id, a);
            return;
        }
        case proto::MSG_UDP_CLOSE: {
            proto::UdpCloseReq q;
            if (!parse(r, id, q)) return;
            proto::UdpCloseReply a;
            a.result = s->sock->close();
            send_msg(id, a);
            return;
        }
        case proto::MSG_UDP_ON_EVENT: {
            proto::UdpOnEventReq q;
            if (!parse(r, id, q)) return;
            proto::UdpOnEventReply a;
            a.result = 0;
            if (q.mode == CB_NONE) s->sock->resetOnEvent();
            else if (q.mode == CB_FUNCTION) s->sock->setOnEvent(UdpFns::fns[s->handle]);
            else if (q.mode == CB_MEMBER) s->sock->setOnEvent(s, &UdpSlot::onEvent);
            else a.result = UDPSOCKET_SETUP;
            send_msg(id, a);
            return;
        }
        case proto::MSG_UDP_ECHO: {
            proto::UdpEchoReq q;
            if (!parse(r, id, q)) return;
            s->echo = q.on != 0;
            if (s->echo) s->sock->setOnEvent(s, &UdpSlot::onEvent);
            send_msg(id, proto::UdpEchoReply{});
            return;
        }
        default:
            break;
        }
    }
    send_error(id, proto::ERR_UNKNOWN_TYPE);
}

void poll_link() {
    uint8_t chunk[64];
    size_t n;
    while ((n = board::uart_read(chunk, sizeof chunk)) > 0) {
        for (size_t i = 0; i < n; i++) {
            switch (g_rx.push(chunk[i])) {
            case agent::FrameReceiver::FRAME:
                handle(g_rx.body(), g_rx.body_len());
                break;
            case agent::FrameReceiver::BAD:
                send_error(0, g_rx.last_error() == agent::FrameReceiver::ERR_CRC
                                  ? proto::ERR_BAD_CRC
                                  : (g_rx.last_error() == agent::FrameReceiver::ERR_TOO_LONG
                                         ? proto::ERR_TOO_LARGE
                                         : proto::ERR_BAD_FRAME));
                break;
            default:
                break;
            }
        }
    }
}

}  // namespace

int main() {
    rt_printf("\r\nagent: NetServices test agent, protocol %u, board %s\r\n",
              (unsigned)proto::VERSION, BOARD_NAME);
    proto::EvBoot boot;
    boot.ts_us = board::micros();
    boot.version = proto::VERSION;
    boot.reset_cause = 0;
    send_msg(0, boot);

    for (;;) {
        Net::poll();
        poll_link();
        uint64_t now = board::micros();
        uint64_t deadline = now + 10000;  // at least every 10 ms
        uint64_t next = Net::nextTimerUs();
        if (next > now && next < deadline) deadline = next;
        if (next > now || next == 0) board::wait_for_event(deadline);
    }
}
