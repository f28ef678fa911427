// Core commands: identity, link check, reset, LEDs, counters, board time, compute speed.
#include <string.h>

#include "agent.h"
#include "net.h"
#include "rt.h"

namespace agent {
namespace {

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
        case proto::STAT_AGENT_BAD_FRAMES: return link_bad_frames();
        case proto::STAT_AGENT_BAD_CRC: return link_bad_crc();
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

void reset_board(void*) { board::reset(); }

}  // namespace

uint8_t handle_hello(const proto::HelloReq&, proto::HelloReply& reply) {
    reply.version = proto::VERSION;
    reply.proto_hash = proto::HASH;
    reply.max_payload = proto::MAX_PAYLOAD;
    reply.board = proto::Bytes{(const uint8_t*)BOARD_NAME, (uint16_t)strlen(BOARD_NAME)};
    return REPLY;
}

uint8_t handle_echo(const proto::EchoReq& req, proto::EchoReply& reply) {
    reply.data = req.data;  // points into the receive buffer, which the reply does not touch
    return REPLY;
}

uint8_t handle_reset(const proto::ResetReq&, proto::ResetReply&) {
    after_reply(reset_board, nullptr);
    return REPLY;
}

uint8_t handle_led_set(const proto::LedSetReq& req, proto::LedSetReply& reply) {
    board::led_set(req.led, req.on != 0);
    reply.leds = 0;
    for (int i = 1; i <= 4; i++) reply.leds |= (uint8_t)(board::led_get(i) << (i - 1));
    return REPLY;
}

uint8_t handle_stats(const proto::StatsReq&, proto::StatsReply& reply) {
    static uint8_t values[proto::STAT_COUNT * 4];
    for (int i = 0; i < proto::STAT_COUNT; i++) {
        uint32_t v = stat_value(i);
        for (int k = 0; k < 4; k++) values[i * 4 + k] = (uint8_t)(v >> (8 * k));
    }
    reply.values = proto::Bytes{values, (uint16_t)sizeof values};
    return REPLY;
}

uint8_t handle_time(const proto::TimeReq&, proto::TimeReply& reply) {
    reply.now_us = board::micros();
    return REPLY;
}

uint8_t handle_spin(const proto::SpinReq& req, proto::SpinReply& reply) {
    uint64_t t0 = board::micros();
    if (req.iterations) spin(req.iterations);
    reply.elapsed_us = board::micros() - t0;
    return REPLY;
}

}  // namespace agent
