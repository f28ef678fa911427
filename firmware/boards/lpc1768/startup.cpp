// Start-up code for the LPC1768: vector table, Reset_Handler, SystemInit, fault reporting.
//
// Boot sequence (Reset_Handler):
//   1. cpsid i: the firmware runs with PRIMASK = 1 for its whole life.  It has no interrupt
//      handlers; board::wait_for_event() uses enabled-but-masked IRQs only to wake WFI.
//   2. SystemInit(): clocks exactly as mbed's system_LPC17xx.c (reference 2.5): 12 MHz main
//      oscillator -> PLL0 (M = 12, N = 1, Fcco = 288 MHz) -> CCLK = 288 / 3 = 96 MHz,
//      every PCLK = CCLK/4 = 24 MHz, flash accelerator FLASHTIM = 3.
//   3. Copy .data from flash, zero .bss.
//   4. Static constructors (.preinit_array, .init_array).
//   5. board::init(), then main().  If main returns: sleep forever (WFI loop).
//
// The vector table has 16 core + 35 LPC17xx IRQ entries (reference 5.3).  All of them except
// Reset point at one handler that prints the exception (name, stacked PC/LR, fault status
// registers) on UART0 -- if board::init() has configured it -- and then halts in a tight
// loop at the label `fault_halt`, easy to spot in a debugger or emulator trace.
// Word 7 is the LPC17xx "valid user code" checksum; the build writes it into the .bin.
#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "lpc17xx_regs.h"

extern "C" {
// Linker-script symbols (lpc1768.ld).  Declared as functions so that their addresses are
// plain constants usable in the vector table initialiser.
void __stack_top();
extern uint32_t __data_start[], __data_end[], __data_load[];
extern uint32_t __bss_start[], __bss_end[];
typedef void (*InitFn)();
extern InitFn __preinit_array_start[], __preinit_array_end[];
extern InitFn __init_array_start[], __init_array_end[];

void Reset_Handler();
void Default_Handler();
void SystemInit();
}

// With -ffreestanding `main` is an ordinary C++ function (mangled), so declare it that way.
int main();

namespace {

constexpr int kCoreVectors = 16;
constexpr int kIrqVectors = 35;  // IRQ 0 (WDT) .. IRQ 34 (CAN activity)

using Vector = void (*)();

}  // namespace

// The table lives in its own section, placed at address 0 and KEEP()ed by the linker script.
__attribute__((section(".isr_vector"), used))
extern "C" const Vector g_vector_table[kCoreVectors + kIrqVectors] = {
    __stack_top,      // 0  initial MSP
    Reset_Handler,    // 1  Reset
    Default_Handler,  // 2  NMI
    Default_Handler,  // 3  HardFault
    Default_Handler,  // 4  MemManage
    Default_Handler,  // 5  BusFault
    Default_Handler,  // 6  UsageFault
    nullptr,          // 7  LPC17xx checksum of words 0..6, patched by the build
    nullptr,          // 8  reserved
    nullptr,          // 9  reserved
    nullptr,          // 10 reserved
    Default_Handler,  // 11 SVCall
    Default_Handler,  // 12 DebugMonitor
    nullptr,          // 13 reserved
    Default_Handler,  // 14 PendSV
    Default_Handler,  // 15 SysTick
    // IRQ 0..34: WDT, TIMER0-3, UART0-3, PWM1, I2C0-2, SPI, SSP0-1, PLL0, RTC, EINT0-3, ADC,
    // BOD, USB, CAN, GPDMA, I2S, ENET, RIT, MCPWM, QEI, PLL1, USBActivity, CANActivity.
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
};

// ---- clocks ----------------------------------------------------------------------------------

namespace {

inline void pll0_feed() {
    SC_PLL0FEED = 0xAA;
    SC_PLL0FEED = 0x55;
}

}  // namespace

// Same register writes, values and polls as mbed's SystemInit for the mbed LPC1768
// (reference 2.5, steps 1-18).
extern "C" void SystemInit() {
    SC_SCS = SCS_OSCEN;                           // 1: main oscillator on, range 1-20 MHz
    if (SC_SCS & SCS_OSCEN) {
        while (!(SC_SCS & SCS_OSCSTAT)) {         // 2: wait until it is stable
        }
    }
    SC_CCLKCFG = 2;                               // 3: CCLK = PLL0 / 3
    SC_PCLKSEL0 = 0;                              // 4: every PCLK = CCLK / 4
    SC_PCLKSEL1 = 0;                              // 5
    SC_CLKSRCSEL = 1;                             // 6: PLL0 input = main oscillator (12 MHz)
    SC_PLL0CFG = 0x0000000B;                      // 7: MSEL0 = 11 (M = 12), NSEL0 = 0 (N = 1)
    pll0_feed();                                  // 8
    SC_PLL0CON = PLL0CON_PLLE;                    // 9: enable
    pll0_feed();                                  // 10
    while (!(SC_PLL0STAT & PLL0STAT_PLOCK)) {     // 11: wait for lock
    }
    SC_PLL0CON = PLL0CON_PLLE | PLL0CON_PLLC;     // 12: enable + connect
    pll0_feed();                                  // 13
    while (!(SC_PLL0STAT & (PLL0STAT_PLLE | PLL0STAT_PLLC))) {  // 14: mbed tests "either"
    }
    SC_USBCLKCFG = 5;                             // 15: 288 / 6 = 48 MHz (USB unused)
    SC_PCONP = PCONP_RESET;                       // 16: power gates = reset value
    SC_CLKOUTCFG = 0;                             // 17
    SC_FLASHCFG = (SC_FLASHCFG & ~0xF000u) | 0x303Au;  // 18: FLASHTIM = 3 (4 CPU clocks)
}

// ---- reset -------------------------------------------------------------------------------------

extern "C" __attribute__((noreturn, used)) void Reset_Handler() {
    __asm volatile("cpsid i" ::: "memory");

    SystemInit();

    // .data: flash image -> RAM.  .bss: zero.  Plain word loops (both are word aligned).
    for (uint32_t *src = __data_load, *dst = __data_start; dst < __data_end;) *dst++ = *src++;
    for (uint32_t* p = __bss_start; p < __bss_end;) *p++ = 0;

    for (InitFn* f = __preinit_array_start; f < __preinit_array_end; ++f) (*f)();
    for (InitFn* f = __init_array_start; f < __init_array_end; ++f) (*f)();

    board::init();
    main();

    for (;;) __asm volatile("wfi");
}

// ---- fault / unexpected exception reporting ---------------------------------------------------

namespace {

// UART0 is usable once board::init() has programmed it: PCONP.PCUART0 is set at reset, so we
// look at LCR instead, which is 0 after reset and 0x03 (8N1, DLAB = 0) after board::init().
bool fault_uart_ready() { return (SC_PCONP & PCONP_PCUART0) && (U0_LCR & 0xFF) == UART_LCR_8N1; }

void fault_putc(char c) {
    for (uint32_t n = 0; n < 1000000 && !(U0_LSR & UART_LSR_THRE); ++n) {
    }
    U0_THR = (uint8_t)c;
}

void fault_puts(const char* s) {
    while (*s) fault_putc(*s++);
}

void fault_hex(uint32_t v) {
    static const char kHex[] = "0123456789abcdef";
    for (int i = 28; i >= 0; i -= 4) fault_putc(kHex[(v >> i) & 0xF]);
}

void fault_dec(uint32_t v) {
    char buf[10];
    int n = 0;
    do {
        buf[n++] = char('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) fault_putc(buf[--n]);
}

const char* exception_name(uint32_t n) {
    switch (n) {
        case 2: return "NMI";
        case 3: return "HardFault";
        case 4: return "MemManage";
        case 5: return "BusFault";
        case 6: return "UsageFault";
        case 11: return "SVCall";
        case 12: return "DebugMon";
        case 14: return "PendSV";
        case 15: return "SysTick";
        default: return nullptr;
    }
}

}  // namespace

// Called from Default_Handler with the exception frame (r0-r3, r12, lr, pc, xPSR) and the
// exception number (IPSR).  Never returns.
extern "C" __attribute__((noreturn, used)) void fault_report(const uint32_t* frame, uint32_t ipsr) {
    if (fault_uart_ready()) {
        fault_puts("\r\n*** ");
        if (const char* name = exception_name(ipsr)) {
            fault_puts(name);
        } else if (ipsr >= 16) {
            fault_puts("unexpected IRQ ");
            fault_dec(ipsr - 16);
        } else {
            fault_puts("exception ");
            fault_dec(ipsr);
        }
        fault_puts(" pc=");
        fault_hex(frame[6]);
        fault_puts(" lr=");
        fault_hex(frame[5]);
        fault_puts(" psr=");
        fault_hex(frame[7]);
        fault_puts(" cfsr=");
        fault_hex(SCB_CFSR);
        fault_puts(" hfsr=");
        fault_hex(SCB_HFSR);
        fault_puts(" bfar=");
        fault_hex(SCB_BFAR);
        fault_puts("\r\n");
        while (!(U0_LSR & UART_LSR_TEMT)) {
        }
    }
    // Recognisable halt: a branch-to-self at the global label fault_halt.
    __asm volatile(
        ".global fault_halt\n"
        "fault_halt: b fault_halt\n");
    __builtin_unreachable();
}

// Find the stacked frame (MSP or PSP, from EXC_RETURN bit 2) and the exception number.
extern "C" __attribute__((naked, used)) void Default_Handler() {
    __asm volatile(
        "tst   lr, #4\n"
        "ite   eq\n"
        "mrseq r0, msp\n"
        "mrsne r0, psp\n"
        "mrs   r1, ipsr\n"
        "b     fault_report\n");
}
