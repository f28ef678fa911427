// Board abstraction used by the network stack, the agent and the examples.
// One implementation per board lives in firmware/boards/<board>/; nothing outside
// that folder touches registers.  Everything here is single-threaded and polled:
// no function is called from an interrupt handler.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace board {

// Clocks (96 MHz on the LPC1768), console UART, the microsecond time base, LEDs,
// and the wake-up sources used by wait_for_event().  Called once from start-up code
// before main().
void init();

// Board time in microseconds since reset (1 MHz time base, extended to 64 bits).
uint64_t micros();
inline uint32_t millis() { return (uint32_t)(micros() / 1000u); }

// Console/host link (UART0 on the LPC1768, 115200 8N1).  uart_write blocks until
// every byte is in the transmit FIFO; uart_read never blocks and returns how many
// bytes it copied (0 when none are waiting).
void uart_write(const void* data, size_t len);
size_t uart_read(void* data, size_t cap);

// LEDs 1..4 (active high).  Out-of-range indexes are ignored / read as off.
void led_set(int n, bool on);
bool led_get(int n);

// Sleep until a byte arrives on the UART, a frame arrives on Ethernet, or board
// time reaches deadline_us, whichever comes first (returns at once if one of them
// already happened).  Spurious early returns are allowed; callers re-check.
void wait_for_event(uint64_t deadline_us);

// Factory MAC address of this board (00:02:F7:F0:00:00 when none can be read).
void mac_address(uint8_t mac[6]);

// Reset the whole chip (never returns).
[[noreturn]] void reset();

namespace eth {

struct Stats {
    uint32_t rx_frames;     // frames handed to the stack
    uint32_t tx_frames;     // frames handed to the MAC
    uint32_t rx_runt;       // dropped: shorter than a minimum Ethernet frame (60 bytes w/o FCS)
    uint32_t rx_oversize;   // dropped: longer than the receive buffer / MAXF
    uint32_t rx_error;      // dropped: MAC reported CRC/symbol/length/alignment error
    uint32_t rx_overrun;    // dropped: no descriptor was free
    uint32_t tx_error;      // send() failed (no free descriptor / too long)
};

// Power up the EMAC and the PHY (DP83848 at MII address 1) as UM10360 describes,
// program the station address and the descriptor rings. false if the PHY does not answer.
bool init(const uint8_t mac[6]);
bool link_up();
// Copy the next good frame (destination MAC first, no FCS) into buf.  Returns its
// length, or 0 when no frame is waiting.  Bad frames are dropped and counted.
int receive(uint8_t* buf, int cap);
// Queue one whole frame (no FCS, padded by the MAC).  false when no descriptor is free
// or len is out of range.
bool send(const uint8_t* frame, int len);
const Stats& stats();
// Maximum frame length (without FCS) that receive()/send() handle.
int max_frame();

}  // namespace eth
}  // namespace board
