// The test agent: exposes the NetServices API to the host over UART0.
//
// The host sends requests (hil/protocol/definition.py); each one maps onto one call of
// the public API (UDPSocket::bind, sendto, ...) and the reply carries that call's
// return value unchanged.  Socket callbacks run inside Net::poll() as they would in
// any application, and each one is reported to the host as an event stamped with the
// board time.  The main loop sleeps (WFI) whenever there is nothing to do.
#include <stdint.h>
#include <string.h>

#include "agent.h"
#include "framing.h"
#include "net.h"
#include "rt.h"

namespace agent {

uint32_t g_net_polls = 0;
uint8_t g_tx_body[kTxBodyCap];

namespace {

constexpr size_t kRxCap = proto::MAX_PAYLOAD + 64;
uint8_t g_rx_buf[kRxCap + kRxCap / 254 + 8];
uint8_t g_frame[kRxCap + kRxCap / 254 + 8];
FrameReceiver g_rx(g_rx_buf, sizeof g_rx_buf);

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
        case proto::STAT_TCP_RX: return n.tcp_rx;
        case proto::STAT_TCP_BAD_HEADER: return n.tcp_bad_header;
        case proto::STAT_TCP_BAD_CHECKSUM: return n.tcp_bad_checksum;
        case proto::STAT_TCP_BAD_FLAGS: return n.tcp_bad_flags;
        case proto::STAT_TCP_DROPPED: return n.tcp_dropped;
        case proto::STAT_TCP_NO_PORT: return n.tcp_no_port;
        case proto::STAT_TCP_SYN_DROPPED: return n.tcp_syn_dropped;
        case proto::STAT_TCP_OOSEQ: return n.tcp_ooseq;
        case proto::STAT_TCP_RETRANSMITS: return n.tcp_retransmits;
        case proto::STAT_TCP_RST_TX: return n.tcp_rst_tx;
        case proto::STAT_TCP_TX: return n.tcp_tx;
        case proto::STAT_IP_FRAG_TX: return n.ip_frag_tx;
        case proto::STAT_IP_REASSEMBLED: return n.ip_reassembled;
        case proto::STAT_IP_REASM_TIMEOUT: return n.ip_reasm_timeout;
        case proto::STAT_IGMP_RX: return n.igmp_rx;
        case proto::STAT_IGMP_BAD: return n.igmp_bad;
        case proto::STAT_IGMP_TX: return n.igmp_tx;
        case proto::STAT_ICMP_UNREACH_TX: return n.icmp_unreach_tx;
        case proto::STAT_ICMP_UNREACH_RATELIMITED: return n.icmp_unreach_ratelimited;
        default: return 0;
    }
}

void dispatch(const uint8_t* body, size_t len) {
    if (len < 3) { send_error(0, proto::ERR_BAD_PAYLOAD); return; }
    uint8_t type = body[0];
    uint16_t id = (uint16_t)(body[1] | (body[2] << 8));
    proto::Reader r(body + 3, len - 3);
    if (handle_core(type, id, r) || handle_net(type, id, r) || handle_udp(type, id, r) ||
        handle_tcp(type, id, r) || handle_dns(type, id, r) || handle_svc(type, id, r))
        return;
    send_error(id, proto::ERR_UNKNOWN_TYPE);
}

// Handle every complete request waiting on the link; true if there was any input.
bool poll_link() {
    uint8_t chunk[64];
    size_t n;
    bool any = false;
    while ((n = board::uart_read(chunk, sizeof chunk)) > 0) {
        any = true;
        for (size_t i = 0; i < n; i++) {
            switch (g_rx.push(chunk[i])) {
            case FrameReceiver::FRAME:
                dispatch(g_rx.body(), g_rx.body_len());
                break;
            case FrameReceiver::BAD:
                send_error(0, g_rx.last_error() == FrameReceiver::ERR_CRC ? proto::ERR_BAD_CRC
                              : g_rx.last_error() == FrameReceiver::ERR_TOO_LONG
                                  ? proto::ERR_TOO_LARGE
                                  : proto::ERR_BAD_FRAME);
                break;
            default:
                break;
            }
        }
    }
    return any;
}

}  // namespace

void send_body(const uint8_t* body, size_t len) {
    size_t n = frame_encode(body, len, g_frame, sizeof g_frame);
    board::uart_write(g_frame, n);
}

void send_error(uint16_t id, uint8_t code) {
    proto::ErrorReply e;
    e.code = code;
    send_msg(id, e);
}

uint32_t link_bad_frames() { return g_rx.bad_frames; }
uint32_t link_bad_crc() { return g_rx.bad_crc; }

bool handle_core(uint8_t type, uint16_t id, proto::Reader& r) {
    switch (type) {
    case proto::MSG_HELLO: {
        proto::HelloReq q;
        if (!parse(r, id, q)) return true;
        proto::HelloReply a;
        a.version = proto::VERSION;
        a.proto_hash = proto::HASH;
        a.max_payload = proto::MAX_PAYLOAD;
        a.board = proto::Bytes{(const uint8_t*)BOARD_NAME, (uint16_t)strlen(BOARD_NAME)};
        send_msg(id, a);
        return true;
    }
    case proto::MSG_ECHO: {
        proto::EchoReq q;
        if (!parse(r, id, q)) return true;
        proto::EchoReply a;
        a.data = q.data;  // points into the receive buffer, which send_msg does not touch
        send_msg(id, a);
        return true;
    }
    case proto::MSG_RESET: {
        proto::ResetReq q;
        if (!parse(r, id, q)) return true;
        send_msg(id, proto::ResetReply{});
        board::reset();
    }
    case proto::MSG_LED_SET: {
        proto::LedSetReq q;
        if (!parse(r, id, q)) return true;
        board::led_set(q.led, q.on != 0);
        proto::LedSetReply a;
        a.leds = 0;
        for (int i = 1; i <= 4; i++) a.leds |= (uint8_t)(board::led_get(i) << (i - 1));
        send_msg(id, a);
        return true;
    }
    case proto::MSG_STATS: {
        proto::StatsReq q;
        if (!parse(r, id, q)) return true;
        static uint8_t values[proto::STAT_COUNT * 4];
        for (int i = 0; i < proto::STAT_COUNT; i++) {
            uint32_t v = stat_value(i);
            for (int k = 0; k < 4; k++) values[i * 4 + k] = (uint8_t)(v >> (8 * k));
        }
        proto::StatsReply a;
        a.values = proto::Bytes{values, (uint16_t)sizeof values};
        send_msg(id, a);
        return true;
    }
    case proto::MSG_TIME: {
        proto::TimeReq q;
        if (!parse(r, id, q)) return true;
        proto::TimeReply a;
        a.now_us = board::micros();
        send_msg(id, a);
        return true;
    }
    case proto::MSG_SPIN: {
        proto::SpinReq q;
        if (!parse(r, id, q)) return true;
        uint64_t t0 = board::micros();
        if (q.iterations) spin(q.iterations);
        proto::SpinReply a;
        a.elapsed_us = board::micros() - t0;
        send_msg(id, a);
        return true;
    }
    default:
        return false;
    }
}

}  // namespace agent

int main() {
    rt_printf("\r\nagent: NetServices test agent, protocol %u, board %s\r\n",
              (unsigned)proto::VERSION, BOARD_NAME);
    proto::EvBoot boot;
    boot.ts_us = board::micros();
    boot.version = proto::VERSION;
    boot.reset_cause = 0;
    agent::send_msg(0, boot);

    for (;;) {
        Net::poll();
        agent::g_net_polls++;
        agent::tcp_reap();
        if (agent::poll_link()) continue;  // let the stack act on the request at once
        // Sleep until the stack's next timer (a frame or a byte wakes us earlier), polling
        // at least every 100 ms as an application's main loop would (deferred deletions
        // and the like happen on "the next Net::poll()").
        uint64_t now = board::micros();
        uint64_t deadline = now + 100000;
        uint64_t next = Net::nextTimerUs();
        if (next != 0 && next < deadline) deadline = next;
        if (deadline > now) board::wait_for_event(deadline);
    }
}
