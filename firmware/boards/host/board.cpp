// board.h for the build machine: see host_board.h.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <deque>

#include "board.h"
#include "host_board.h"
#include "rt.h"

namespace {
struct State {
    uint64_t now = 0;
    std::deque<host_board::Frame> rx;
    std::deque<host_board::Frame> tx;
    board::eth::Stats stats{};
    bool link = true;
    bool init_ok = true;
    bool initialised = false;
    bool tx_fail = false;
    int init_calls = 0;
    int max_frame = 1514;
    int waits = 0;
    uint8_t mac[6] = {0x00, 0x02, 0xF7, 0xF0, 0x00, 0x00};
    uint8_t init_mac[6] = {0, 0, 0, 0, 0, 0};
    bool leds[4] = {false, false, false, false};
    std::string uart_out;
    std::string uart_in;
    size_t heap_size = (size_t)1 << 30;  // what rt_heap_size()/rt_heap_used() report
    size_t heap_used = 0;
};
State g;
}  // namespace

namespace host_board {
void reset() { g = State(); }
void set_time_us(uint64_t t) { g.now = t; }
void set_heap(size_t size, size_t used) {
    g.heap_size = size;
    g.heap_used = used;
}
void advance_us(uint64_t dt) { g.now += dt; }
void advance_ms(uint64_t dt) { g.now += dt * 1000u; }
void inject(const Frame& f) { g.rx.push_back(f); }
void inject(const uint8_t* f, size_t len) { g.rx.push_back(Frame(f, f + len)); }
size_t rx_pending() { return g.rx.size(); }
size_t tx_count() { return g.tx.size(); }
Frame tx_pop() {
    if (g.tx.empty()) return Frame();
    Frame f = g.tx.front();
    g.tx.pop_front();
    return f;
}
std::vector<Frame> tx_take_all() {
    std::vector<Frame> v(g.tx.begin(), g.tx.end());
    g.tx.clear();
    return v;
}
void tx_clear() { g.tx.clear(); }
void set_link(bool up) { g.link = up; }
void set_init_result(bool ok) { g.init_ok = ok; }
void set_tx_fail(bool fail) { g.tx_fail = fail; }
void set_max_frame(int n) { g.max_frame = n; }
bool eth_initialised() { return g.initialised; }
int eth_init_calls() { return g.init_calls; }
const uint8_t* eth_init_mac() { return g.init_mac; }
void set_mac(const uint8_t mac[6]) { memcpy(g.mac, mac, 6); }
std::string uart_output() { return g.uart_out; }
void uart_input(const std::string& s) { g.uart_in += s; }
int wait_calls() { return g.waits; }
}  // namespace host_board

namespace board {

void init() {}
uint64_t micros() { return g.now; }

void uart_write(const void* data, size_t len) { g.uart_out.append((const char*)data, len); }
size_t uart_read(void* data, size_t cap) {
    size_t n = g.uart_in.size() < cap ? g.uart_in.size() : cap;
    memcpy(data, g.uart_in.data(), n);
    g.uart_in.erase(0, n);
    return n;
}

void led_set(int n, bool on) {
    if (n >= 1 && n <= 4) g.leds[n - 1] = on;
}
bool led_get(int n) { return n >= 1 && n <= 4 && g.leds[n - 1]; }

// Nothing runs concurrently on the host: if nothing is waiting, "sleeping" until the
// deadline means moving the fake clock there.
void wait_for_event(uint64_t deadline_us) {
    g.waits++;
    if (!g.uart_in.empty() || (g.initialised && !g.rx.empty())) return;
    if (deadline_us > g.now) g.now = deadline_us;
}

void mac_address(uint8_t mac[6]) { memcpy(mac, g.mac, 6); }

[[noreturn]] void reset() {
    fprintf(stderr, "host board: reset requested\n");
    exit(3);
}

namespace eth {
bool init(const uint8_t mac[6]) {
    g.init_calls++;
    memcpy(g.init_mac, mac, 6);
    g.initialised = g.init_ok;
    return g.init_ok;
}
bool link_up() { return g.initialised && g.link; }
int receive(uint8_t* buf, int cap) {
    while (g.initialised && !g.rx.empty()) {
        host_board::Frame f = g.rx.front();
        g.rx.pop_front();
        if ((int)f.size() > cap || (int)f.size() > g.max_frame) {
            g.stats.rx_oversize++;
            continue;
        }
        if (!f.empty()) memcpy(buf, f.data(), f.size());
        g.stats.rx_frames++;
        return (int)f.size();
    }
    return 0;
}
bool send(const uint8_t* frame, int len) {
    if (!g.initialised || g.tx_fail || len <= 0 || len > g.max_frame) {
        g.stats.tx_error++;
        return false;
    }
    g.tx.push_back(host_board::Frame(frame, frame + len));
    g.stats.tx_frames++;
    return true;
}
const Stats& stats() { return g.stats; }
int max_frame() { return g.max_frame; }
}  // namespace eth

}  // namespace board

// The runtime's heap statistics (firmware/rt on the target; here what the test set).
extern "C" size_t rt_heap_size(void) { return g.heap_size; }
extern "C" size_t rt_heap_used(void) { return g.heap_used; }
extern "C" size_t rt_heap_peak(void) { return g.heap_used; }
