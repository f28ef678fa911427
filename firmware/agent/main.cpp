// The test agent: exposes the NetServices API to the host over UART0.
//
// The host sends requests (hil/protocol/definition.py); each one maps onto one call of
// the public API (UDPSocket::bind, sendto, ...) and the reply carries that call's
// return value unchanged.  Socket callbacks run inside Net::poll() as they would in
// any application, and each one is reported to the host as an event stamped with the
// board time.  The main loop sleeps (WFI) whenever there is nothing to do.
#include <stdint.h>

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
                handle_frame(g_rx.body(), g_rx.body_len());
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

uint32_t link_bad_frames() { return g_rx.bad_frames; }
uint32_t link_bad_crc() { return g_rx.bad_crc; }

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
