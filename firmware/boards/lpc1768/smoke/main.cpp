// Board bring-up smoke image for the mbed LPC1768.
//
// Prints "smoke: boot", initialises Ethernet (PHY result, link state, MAC), sends one
// broadcast frame (EtherType 0x88B5, "local experimental"), then loops on wait_for_event():
//   - UART bytes are echoed back,
//   - LED1 toggles every 500 ms,
//   - "smoke: t=<micros>" every second,
//   - "smoke: rx <len> bytes ..." for each received frame, link changes, drop counters.
// Ctrl-F on the console triggers a deliberate fault (UDF -> HardFault report), Ctrl-R resets.
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "rt.h"

namespace {

uint8_t g_frame[1514];

void send_hello(const uint8_t mac[6]) {
    uint8_t f[64];
    memset(f, 0, sizeof f);
    memset(f, 0xFF, 6);           // destination: broadcast
    memcpy(f + 6, mac, 6);        // source: us
    f[12] = 0x88;                 // EtherType 0x88B5 (IEEE local experimental)
    f[13] = 0xB5;
    static const char kText[] = "lpc1768 smoke hello";
    memcpy(f + 14, kText, sizeof kText);
    bool ok = board::eth::send(f, 60);
    rt_printf("smoke: tx broadcast 60 bytes: %s\r\n", ok ? "ok" : "FAILED");
}

}  // namespace

int main() {
    rt_printf("smoke: boot\r\n");

    uint8_t mac[6];
    board::mac_address(mac);
    rt_printf("smoke: mac %02x:%02x:%02x:%02x:%02x:%02x\r\n", mac[0], mac[1], mac[2], mac[3],
              mac[4], mac[5]);

    uint64_t t0 = board::micros();
    bool phy = board::eth::init(mac);
    uint64_t t1 = board::micros();
    bool link = phy && board::eth::link_up();
    rt_printf("smoke: eth init %s (%u us), link %s\r\n", phy ? "ok" : "FAILED (no PHY)",
              (unsigned)(t1 - t0), link ? "up" : "down");
    if (phy) send_hello(mac);

    uint64_t next_blink = board::micros() + 500000;
    uint64_t next_tick = board::micros() + 1000000;
    uint64_t next_link = next_tick;
    uint32_t reported_drops = 0;
    for (;;) {
        uint64_t deadline = next_blink < next_tick ? next_blink : next_tick;
        board::wait_for_event(deadline);
        uint64_t now = board::micros();

        uint8_t in[32];
        size_t n;
        while ((n = board::uart_read(in, sizeof in)) > 0) {
            board::uart_write(in, n);
            for (size_t i = 0; i < n; ++i) {
                if (in[i] == 0x06) {  // Ctrl-F: deliberate fault (tests the fault report)
                    rt_printf("\r\nsmoke: faulting on purpose\r\n");
                    __asm volatile("udf #0");
                }
                if (in[i] == 0x12) {  // Ctrl-R: reset through SCB AIRCR
                    rt_printf("\r\nsmoke: reset\r\n");
                    board::reset();
                }
            }
        }

        if (phy) {
            int len;
            while ((len = board::eth::receive(g_frame, sizeof g_frame)) > 0) {
                rt_printf("smoke: rx %d bytes from %02x:%02x:%02x:%02x:%02x:%02x type %02x%02x\r\n",
                          len, g_frame[6], g_frame[7], g_frame[8], g_frame[9], g_frame[10],
                          g_frame[11], g_frame[12], g_frame[13]);
            }
        }
        if (now >= next_blink) {
            board::led_set(1, !board::led_get(1));
            next_blink += 500000;
        }
        if (now >= next_tick) {
            rt_printf("smoke: t=%llu us\r\n", (unsigned long long)now);
            next_tick += 1000000;
        }
        if (phy && now >= next_link) {
            bool up = board::eth::link_up();
            if (up != link) rt_printf("smoke: link %s\r\n", up ? "up" : "down");
            link = up;
            const board::eth::Stats& s = board::eth::stats();
            uint32_t drops = s.rx_runt + s.rx_oversize + s.rx_error + s.rx_overrun + s.tx_error;
            if (drops != reported_drops)
                rt_printf("smoke: drops runt %u oversize %u error %u overrun %u tx_error %u\r\n",
                          (unsigned)s.rx_runt, (unsigned)s.rx_oversize, (unsigned)s.rx_error,
                          (unsigned)s.rx_overrun, (unsigned)s.tx_error);
            reported_drops = drops;
            next_link += 5000000;
        }
    }
}
