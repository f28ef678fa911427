// Test API of the "host" board: board.h implemented in memory for unit tests on the build
// machine (g++, host libc).  Time is a fake clock that only moves when the test (or
// board::wait_for_event) moves it; Ethernet frames are injected into a receive queue and
// captured from a transmit queue.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

namespace host_board {

using Frame = std::vector<uint8_t>;

// Back to power-on state: time 0, empty queues, zero statistics, default MAC
// 00:02:F7:F0:00:00, link up, driver not initialised, no forced failures.
void reset();

// Heap statistics the stack sees (rt_heap_size / rt_heap_used): 1 GiB free by default.
void set_heap(size_t size, size_t used);

// Fake clock.
void set_time_us(uint64_t t);
void advance_us(uint64_t dt);
void advance_ms(uint64_t dt);

// Ethernet.  Frames are delivered in order by board::eth::receive() (only after
// board::eth::init()); a frame longer than the caller's buffer is dropped and counted as
// rx_oversize, as the LPC1768 driver does.  Runts are passed through untouched so the
// stack's own checks are exercised.
void inject(const Frame& frame);
void inject(const uint8_t* frame, size_t len);
size_t rx_pending();
// Transmitted frames, oldest first.
size_t tx_count();
Frame tx_pop();              // empty Frame when none
std::vector<Frame> tx_take_all();
void tx_clear();
void set_link(bool up);
void set_init_result(bool ok);
void set_tx_fail(bool fail); // board::eth::send() returns false while set
void set_max_frame(int n);
bool eth_initialised();
int eth_init_calls();
const uint8_t* eth_init_mac();  // MAC passed to the last board::eth::init()

// Board identity and console.
void set_mac(const uint8_t mac[6]);
std::string uart_output();      // everything written so far
void uart_input(const std::string& s);
int wait_calls();               // board::wait_for_event() calls so far

}  // namespace host_board
