// board.h for the mbed LPC1768: UART0 console, TIMER3 microsecond time base, LEDs,
// wait_for_event(), MAC address, reset.  Ethernet is in eth.cpp.
//
// Clocks are set by SystemInit (startup.cpp): CCLK = 96 MHz, every PCLK = 24 MHz, except
// UART0 which board::init() switches to PCLK = CCLK = 96 MHz (as mbed's serial_baud does).
#include "board.h"

#include "lpc17xx_regs.h"

namespace board {
namespace {

// LEDs 1..4 on P1.18, P1.20, P1.21, P1.23 (reference 6), active high.
constexpr uint32_t kLedMask[4] = {1u << 18, 1u << 20, 1u << 21, 1u << 23};
constexpr uint32_t kAllLeds = (1u << 18) | (1u << 20) | (1u << 21) | (1u << 23);

// 64-bit extension of TIMER3's 32-bit TC (1 MHz).  Each micros() call compares TC with
// the previous reading; a smaller value means TC wrapped once.  This needs a read at least
// every 2^32 us (71.6 minutes); wait_for_event() never sleeps longer than 2^31 us and every
// poll loop reads the time, so that holds for the firmware in this project.
uint32_t g_tc_last = 0;
uint32_t g_tc_high = 0;

void uart_init() {
    SC_PCONP |= PCONP_PCUART0;
    U0_FCR = UART_FCR_EN | UART_FCR_RXRST | UART_FCR_TXRST;  // FIFOs on, RX trigger 1 byte
    U0_IER = 0;
    // PCLK_UART0 = CCLK = 96 MHz (PCLKSEL0 bits 7:6 = 01).
    SC_PCLKSEL0 = (SC_PCLKSEL0 & ~(3u << PCLKSEL0_UART0_SHIFT)) | (1u << PCLKSEL0_UART0_SHIFT);
    // 115200 baud from 96 MHz: baud = PCLK / (16 * DL * (1 + DIVADDVAL / MULVAL)) (4.3).
    // DL = 27, DIVADDVAL = 13, MULVAL = 14: 96e6 / (16 * 27 * 27/14) = 115226.3 baud
    // (+0.023 %).  The plain divider would give DL = 52 -> 115384.6 (+0.16 %).
    // DL = 27 satisfies the "DL >= 3 with a fractional divider" rule.
    U0_LCR = UART_LCR_DLAB;
    U0_DLM = 0;
    U0_DLL = 27;
    U0_FDR = (14u << 4) | 13u;  // MULVAL 14, DIVADDVAL 13 -> 0xED
    U0_LCR = UART_LCR_8N1;      // 8N1, DLAB = 0
    // P0.2 = TXD0, P0.3 = RXD0: function 01 (PINSEL0 bits 5:4 and 7:6); pull-ups (reset).
    PINCON_PINSEL0 = (PINCON_PINSEL0 & ~0xF0u) | 0x50u;
    PINCON_PINMODE0 &= ~0xF0u;
    U0_TER = 0x80;              // transmitter enabled (reset value)
    U0_IER = UART_IER_RBR;      // RX-data interrupt: NVIC wake source only (no handler)
}

// TIMER3 as mbed's us_ticker (5.2): PCLK = CCLK/4 = 24 MHz, PR = 23 -> TC counts at 1 MHz
// and runs free (MR0 never resets or stops it).  MR0 interrupts are the timed wake-up.
void timer_init() {
    SC_PCONP |= PCONP_PCTIM3;
    SC_PCLKSEL1 &= ~(3u << PCLKSEL1_TIMER3_SHIFT);  // 00 = CCLK/4 (already, from SystemInit)
    T3_CTCR = 0;                  // timer mode
    T3_TCR = TIM_TCR_CRST;        // hold in reset
    T3_PR = 24 - 1;
    T3_MR0 = 0xFFFFFFFFu;
    T3_MCR = TIM_MCR_MR0I;        // MR0 match sets IR bit 0 (no reset, no stop)
    T3_IR = TIM_IR_ALL;
    T3_TCR = TIM_TCR_CEN;
    g_tc_last = 0;
    g_tc_high = 0;
}

void led_init() {
    // P1.18/20/21/23 as GPIO (PINSEL3 fields for pin n at bits 2*(n-16)), outputs, off.
    PINCON_PINSEL3 &= ~((3u << 4) | (3u << 8) | (3u << 10) | (3u << 14));
    FIO1MASK &= ~kAllLeds;
    FIO1CLR = kAllLeds;
    FIO1DIR |= kAllLeds;
}

constexpr uint32_t kWakeIrqs = (1u << IRQ_TIMER3) | (1u << IRQ_UART0) | (1u << IRQ_ENET);

}  // namespace

void init() {
    uart_init();
    timer_init();
    led_init();
    // Wake-up sources for WFI.  PRIMASK stays 1, so no handler ever runs: a pending enabled
    // IRQ only ends WFI.  ENET's IntEnable is programmed by eth::init().
    NVIC_ICPR0 = kWakeIrqs;
    NVIC_ISER0 = kWakeIrqs;
}

uint64_t micros() {
    uint32_t tc = T3_TC;
    if (tc < g_tc_last) ++g_tc_high;
    g_tc_last = tc;
    return ((uint64_t)g_tc_high << 32) | tc;
}

void uart_write(const void* data, size_t len) {
    const uint8_t* p = static_cast<const uint8_t*>(data);
    while (len) {
        while (!(U0_LSR & UART_LSR_THRE)) {
        }
        // THRE = the 16-byte TX FIFO is empty, so up to 16 bytes can go in at once.
        for (int room = 16; room > 0 && len; --room, --len) U0_THR = *p++;
    }
}

size_t uart_read(void* data, size_t cap) {
    uint8_t* p = static_cast<uint8_t*>(data);
    size_t n = 0;
    while (n < cap && (U0_LSR & UART_LSR_RDR)) p[n++] = (uint8_t)U0_RBR;
    return n;
}

void led_set(int n, bool on) {
    if (n < 1 || n > 4) return;
    if (on)
        FIO1SET = kLedMask[n - 1];
    else
        FIO1CLR = kLedMask[n - 1];
}

bool led_get(int n) {
    if (n < 1 || n > 4) return false;
    return (FIO1PIN & kLedMask[n - 1]) != 0;
}

namespace {

// Ethernet receive pending?  Only if eth::init() powered the EMAC (PCONP.PCENET).  The
// enabled interrupt causes (RxDone, TxDone) are cleared here so that the level-sensitive
// ENET request drops; TxDone would otherwise keep it pending for ever.  RxOverrun is left
// alone: eth::receive() looks at it to recover the receive path.
bool eth_rx_pending_and_clear_irq() {
    if (!(SC_PCONP & PCONP_PCENET)) return false;
    EMAC_INTCLEAR = EINT_RX_DONE | EINT_TX_DONE;
    return EMAC_RXPRODUCE != EMAC_RXCONSUME;
}

}  // namespace

void wait_for_event(uint64_t deadline_us) {
    uint64_t now = micros();
    if (now >= deadline_us) return;
    // Arm MR0 for the deadline.  Matching is on the low 32 bits, so never aim further than
    // 2^31 us ahead (an early return is allowed; the caller re-checks).
    uint64_t target = deadline_us;
    if (target - now > 0x7FFFFFFFull) target = now + 0x7FFFFFFFull;
    T3_IR = TIM_IR_MR0;
    T3_MR0 = (uint32_t)target;

    bool rx_eth = eth_rx_pending_and_clear_irq();
    NVIC_ICPR0 = kWakeIrqs;
    // Re-check after clearing: anything that happens from here on leaves its IRQ pending,
    // and a pending enabled IRQ ends (or prevents) the WFI even with PRIMASK = 1.
    if (rx_eth || (U0_LSR & UART_LSR_RDR) || micros() >= target) {
        T3_IR = TIM_IR_MR0;
        return;
    }
    __asm volatile("dsb\n wfi\n isb" ::: "memory");
    T3_IR = TIM_IR_MR0;
    eth_rx_pending_and_clear_irq();
    NVIC_ICPR0 = kWakeIrqs;
}

void mac_address(uint8_t mac[6]) {
    // mbed's fallback address.  The real board could supply its UID through semihosting
    // (BKPT 0xAB, reference 10), but without a debugger attached that BKPT hard-faults.
    static const uint8_t kMac[6] = {0x00, 0x02, 0xF7, 0xF0, 0x00, 0x00};
    for (int i = 0; i < 6; ++i) mac[i] = kMac[i];
}

void reset() {
    // Let the UART drain so the last line is not cut off.
    for (uint32_t n = 0; n < 200000 && !(U0_LSR & UART_LSR_TEMT); ++n) {
    }
    __asm volatile("dsb" ::: "memory");
    SCB_AIRCR = AIRCR_VECTKEY | AIRCR_SYSRESETREQ;
    __asm volatile("dsb" ::: "memory");
    for (;;) {
    }
}

}  // namespace board
