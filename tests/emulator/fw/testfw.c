/* Test firmware for the emulator tests: a byte-command monitor on UART0.
 * Bytes are echoed back, except '!' followed by a command letter (see run_command).
 * Runs with PRIMASK=1 and waits with WFI, like the project firmware.
 *
 * Built twice: plain (vector 3 = 0: no HardFault handler, the emulator reports a fault
 * at once) and with -DTESTFW_HARDFAULT: a HardFault handler that prints
 * "H=CFSR,HFSR,MMFAR,BFAR,stacked PC,stacked xPSR" and returns past the faulting
 * instruction, or faults itself after '!h' (lock-up).  -DTESTFW_BOOT_FAULT: a load from
 * unmapped memory right after the clock setup, before READY (a board that faults at boot). */
#include <stdint.h>
#include <stddef.h>

#define REG(a) (*(volatile uint32_t *)(a))
/* system control */
#define SC 0x400FC000u
#define FLASHCFG REG(SC + 0x000)
#define PLL0CON REG(SC + 0x080)
#define PLL0CFG REG(SC + 0x084)
#define PLL0STAT REG(SC + 0x088)
#define PLL0FEED REG(SC + 0x08C)
#define PCONP REG(SC + 0x0C4)
#define CCLKCFG REG(SC + 0x104)
#define CLKSRCSEL REG(SC + 0x10C)
#define SCS REG(SC + 0x1A0)
#define PCLKSEL0 REG(SC + 0x1A8)
#define PCLKSEL1 REG(SC + 0x1AC)
/* pins, GPIO */
#define PINSEL0 REG(0x4002C000u)
#define PINSEL2 REG(0x4002C008u)
#define PINSEL3 REG(0x4002C00Cu)
#define FIO1DIR REG(0x2009C020u)
#define FIO1SET REG(0x2009C038u)
#define FIO1CLR REG(0x2009C03Cu)
/* UART0 */
#define U0 0x4000C000u
#define U0RBR REG(U0 + 0x00)
#define U0THR REG(U0 + 0x00)
#define U0DLL REG(U0 + 0x00)
#define U0DLM REG(U0 + 0x04)
#define U0IER REG(U0 + 0x04)
#define U0FCR REG(U0 + 0x08)
#define U0LCR REG(U0 + 0x0C)
#define U0LSR REG(U0 + 0x14)
#define U0FDR REG(U0 + 0x28)
/* TIMER3 */
#define T3 0x40094000u
#define T3IR REG(T3 + 0x00)
#define T3TCR REG(T3 + 0x04)
#define T3TC REG(T3 + 0x08)
#define T3PR REG(T3 + 0x0C)
#define T3MCR REG(T3 + 0x14)
#define T3MR0 REG(T3 + 0x18)
#define T3CTCR REG(T3 + 0x70)
/* EMAC */
#define EM 0x50000000u
#define MAC1 REG(EM + 0x000)
#define MAC2 REG(EM + 0x004)
#define IPGT REG(EM + 0x008)
#define IPGR REG(EM + 0x00C)
#define CLRT REG(EM + 0x010)
#define MAXF REG(EM + 0x014)
#define SUPP REG(EM + 0x018)
#define MCFG REG(EM + 0x020)
#define MCMD REG(EM + 0x024)
#define MADR REG(EM + 0x028)
#define MWTD REG(EM + 0x02C)
#define MRDD REG(EM + 0x030)
#define MIND REG(EM + 0x034)
#define SA0 REG(EM + 0x040)
#define SA1 REG(EM + 0x044)
#define SA2 REG(EM + 0x048)
#define COMMAND REG(EM + 0x100)
#define RXDESC REG(EM + 0x108)
#define RXSTAT REG(EM + 0x10C)
#define RXDESCN REG(EM + 0x110)
#define RXPI REG(EM + 0x114)
#define RXCI REG(EM + 0x118)
#define TXDESC REG(EM + 0x11C)
#define TXSTAT REG(EM + 0x120)
#define TXDESCN REG(EM + 0x124)
#define TXPI REG(EM + 0x128)
#define TXCI REG(EM + 0x12C)
#define RXFILTER REG(EM + 0x200)
#define INTSTATUS REG(EM + 0xFE0)
#define INTENABLE REG(EM + 0xFE4)
#define INTCLEAR REG(EM + 0xFE8)
/* core */
#define NVIC_ISER0 REG(0xE000E100u)
#define NVIC_ICER0 REG(0xE000E180u)
#define NVIC_ICPR0 REG(0xE000E280u)
#define STCTRL REG(0xE000E010u)
#define STRELOAD REG(0xE000E014u)
#define STCURR REG(0xE000E018u)
#define AIRCR REG(0xE000ED0Cu)
#define CFSR REG(0xE000ED28u)
#define HFSR REG(0xE000ED2Cu)
#define MMFAR REG(0xE000ED34u)
#define BFAR REG(0xE000ED38u)

#define IRQ_TIMER3 4
#define IRQ_UART0 5
#define IRQ_ENET 28

void Reset_Handler(void);
void SysTick_Handler(void);
extern uint32_t _estack, _sidata, _sdata, _edata, _sbss, _ebss;
#ifdef TESTFW_HARDFAULT
void HardFault_Handler(void);
#define HARDFAULT HardFault_Handler
#else
#define HARDFAULT 0
#endif

__attribute__((section(".vectors"), used)) void (*const vectors[16 + 35])(void) = {
    (void (*)(void))&_estack, Reset_Handler, 0, HARDFAULT, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    SysTick_Handler,
};

void *memcpy(void *d, const void *s, size_t n) {
  uint8_t *dd = d; const uint8_t *ss = s;
  while (n--) *dd++ = *ss++;
  return d;
}
void *memset(void *d, int c, size_t n) {
  uint8_t *dd = d;
  while (n--) *dd++ = (uint8_t)c;
  return d;
}

static void putc_(char c) { while (!(U0LSR & 0x20)) {} U0THR = (uint8_t)c; }
static void puts_(const char *s) { while (*s) putc_(*s++); }
static void putu(uint32_t v) {
  char b[11]; int i = 10; b[i] = 0;
  do { b[--i] = (char)('0' + v % 10); v /= 10; } while (v);
  puts_(b + i);
}
static void putx(uint32_t v, int digits) {
  for (int i = digits - 1; i >= 0; i--) putc_("0123456789abcdef"[(v >> (4 * i)) & 15]);
}

static void system_init(void) {             /* 12 MHz crystal -> 96 MHz, reference 2.5 */
  SCS = 0x20;
  while (!(SCS & 0x40)) {}
  CCLKCFG = 2;
  PCLKSEL0 = 0; PCLKSEL1 = 0;
  CLKSRCSEL = 1;
  PLL0CFG = 11; PLL0FEED = 0xAA; PLL0FEED = 0x55;
  PLL0CON = 1; PLL0FEED = 0xAA; PLL0FEED = 0x55;
  while (!(PLL0STAT & (1u << 26))) {}
  PLL0CON = 3; PLL0FEED = 0xAA; PLL0FEED = 0x55;
  while (!(PLL0STAT & ((1u << 25) | (1u << 24)))) {}
  PCONP = 0x042887DE;
  FLASHCFG = (FLASHCFG & ~0xF000u) | 0x303A;
}

static void uart_init(void) {                /* 115200 8N1 at PCLK = 96 MHz */
  PCONP |= 1u << 3;
  U0FCR = 0x07;
  U0IER = 0;
  PCLKSEL0 = (PCLKSEL0 & ~(3u << 6)) | (1u << 6);
  U0LCR = 0x80; U0DLM = 0; U0DLL = 52; U0FDR = 0x10; U0LCR = 0x03;
  PINSEL0 = (PINSEL0 & ~0xF0u) | 0x50u;
}

static void timer_init(void) {               /* TIMER3 at 1 MHz from PCLK 24 MHz */
  PCONP |= 1u << 23;
  T3CTCR = 0; T3TCR = 2; T3PR = 23; T3TCR = 1;
}

static void leds(uint32_t bits) {
  const uint32_t pins[4] = {1u << 18, 1u << 20, 1u << 21, 1u << 23};
  FIO1DIR |= pins[0] | pins[1] | pins[2] | pins[3];
  for (int i = 0; i < 4; i++) {
    if (bits & (1u << i)) FIO1SET = pins[i]; else FIO1CLR = pins[i];
  }
}

static uint8_t getc_wait(void) {            /* WFI until a byte is there (PRIMASK = 1) */
  while (!(U0LSR & 1)) __asm volatile("wfi");
  uint8_t c = (uint8_t)U0RBR;
  NVIC_ICPR0 = 1u << IRQ_UART0;               /* after the flag source is gone */
  return c;
}

/* ---- Ethernet ---- */
#define NTX 3
#define NRX 4
#define BUFSZ 1536
struct desc { uint32_t packet, control; };
struct rxstat { uint32_t info, hash; };
__attribute__((section(".ethram"), aligned(8))) static struct desc txd[NTX];
__attribute__((section(".ethram"), aligned(8))) static uint32_t txs[NTX];
__attribute__((section(".ethram"), aligned(8))) static struct desc rxd[NRX];
__attribute__((section(".ethram"), aligned(8))) static struct rxstat rxs[NRX];
__attribute__((section(".ethram"), aligned(8))) static uint8_t txbuf[NTX][BUFSZ];
__attribute__((section(".ethram"), aligned(8))) static uint8_t rxbuf[NRX][BUFSZ];
static const uint8_t mac[6] = {0x02, 0x00, 0x5E, 0x10, 0x20, 0x30};

static int mii_read(int reg, uint32_t *out) {
  MADR = (1u << 8) | (uint32_t)reg;
  MCMD = 1;
  for (int i = 0; i < 100000; i++) {
    if (!(MIND & 5)) { MCMD = 0; *out = MRDD & 0xFFFF; return 1; }
  }
  return 0;
}
static int mii_write(int reg, uint32_t v) {
  MADR = (1u << 8) | (uint32_t)reg;
  MCMD = 0;
  MWTD = v;
  for (int i = 0; i < 100000; i++) if (!(MIND & 1)) return 1;
  return 0;
}

static uint32_t eth_init(void) {              /* returns PHY id, 0 on failure */
  uint32_t v, id1, id2, sts;
  PCONP |= 1u << 30;
  PINSEL2 = 0x50150105;
  PINSEL3 = (PINSEL3 & ~0xFu) | 0x5u;
  MAC1 = 0xCF00; COMMAND = 0x78;
  MAC1 = 0x0002; MAC2 = 0x0030; MAXF = BUFSZ; CLRT = 0x370F; IPGR = 0x0012;
  COMMAND = 0x0240;
  MCFG = 0x28 | 0x8000; MCFG = 0x28; MCMD = 0;
  SUPP = 0;
  if (!mii_write(0, 0x8000)) return 0;
  for (int i = 0; i < 1000; i++) { if (!mii_read(0, &v)) return 0; if (!(v & 0x8000)) break; }
  if (!mii_read(2, &id1) || !mii_read(3, &id2)) return 0;
  mii_write(0, 0x3000);
  mii_read(0x10, &sts);
  if (sts & 4) { MAC2 |= 1; COMMAND |= 0x400; IPGT = 0x15; } else IPGT = 0x12;
  if (sts & 2) SUPP = 0; else SUPP = 0x100;
  SA0 = (uint32_t)mac[5] << 8 | mac[4];
  SA1 = (uint32_t)mac[3] << 8 | mac[2];
  SA2 = (uint32_t)mac[1] << 8 | mac[0];
  for (int i = 0; i < NTX; i++) { txd[i].packet = (uint32_t)txbuf[i]; txd[i].control = 0; txs[i] = 0; }
  TXDESC = (uint32_t)txd; TXSTAT = (uint32_t)txs; TXDESCN = NTX - 1; TXPI = 0;
  for (int i = 0; i < NRX; i++) {
    rxd[i].packet = (uint32_t)rxbuf[i]; rxd[i].control = 0x80000000u | (BUFSZ - 1);
    rxs[i].info = 0; rxs[i].hash = 0;
  }
  RXDESC = (uint32_t)rxd; RXSTAT = (uint32_t)rxs; RXDESCN = NRX - 1; RXCI = 0;
  RXFILTER = 0x22;                            /* broadcast + perfect */
  INTENABLE = 0x08;                           /* RxDone */
  INTCLEAR = 0xFFFF;
  COMMAND |= 3;
  MAC1 |= 1;
  return id1 << 16 | id2;
}

static void eth_send_test(void) {
  uint32_t i = TXPI;
  uint8_t *p = txbuf[i];
  for (int k = 0; k < 6; k++) p[k] = 0xFF;
  for (int k = 0; k < 6; k++) p[6 + k] = mac[k];
  p[12] = 0x88; p[13] = 0xB5;
  const char *msg = "LPC-EMAC-TEST";
  int n = 14;
  while (*msg) p[n++] = (uint8_t)*msg++;
  txd[i].control = (uint32_t)(n - 1) | (1u << 30) | (1u << 31);
  TXPI = (i + 1) % NTX;
}

static void eth_wait_rx(void) {
  while (RXPI == RXCI) __asm volatile("wfi");
  INTCLEAR = 0xFFFF;
  NVIC_ICPR0 = 1u << IRQ_ENET;
  uint32_t i = RXCI;
  uint32_t info = rxs[i].info;
  uint32_t size = (info & 0x7FF) + 1;
  puts_("R="); putx(info, 8); putc_(','); putu(size); putc_(',');
  for (uint32_t k = 0; k < size && k < 20; k++) putx(rxbuf[i][k], 2);
  putc_('\n');
  RXCI = (i + 1) % NRX;
}

volatile uint32_t ticks;
void SysTick_Handler(void) { ticks++; }

#ifdef TESTFW_HARDFAULT
volatile uint32_t fault_in_handler;            /* '!h': the handler itself faults */

void hardfault_report(uint32_t *frame) {
  puts_("H="); putx(CFSR, 8); putc_(','); putx(HFSR, 8); putc_(',');
  putx(MMFAR, 8); putc_(','); putx(BFAR, 8); putc_(',');
  putx(frame[6], 8); putc_(','); putx(frame[7], 8); putc_('\n');
  if (fault_in_handler) { volatile uint32_t v = REG(0x60000004u); (void)v; }
  CFSR = CFSR; HFSR = HFSR;                   /* write one to clear */
  uint16_t hw = *(volatile uint16_t *)frame[6];
  frame[6] += ((hw >> 11) >= 0x1D) ? 4 : 2;    /* return past the faulting instruction */
}

__attribute__((naked)) void HardFault_Handler(void) {
  __asm volatile("tst lr, #4\n ite eq\n mrseq r0, msp\n mrsne r0, psp\n"
                 "push {r4, lr}\n bl hardfault_report\n pop {r4, pc}\n");
}
#endif

static void run_command(uint8_t c) {
  switch (c) {
  case 't': puts_("T="); putu(T3TC); putc_('\n'); break;
  case 'w': {                                 /* sleep 20 ms on TIMER3 MR0 */
    uint32_t start = T3TC;
    T3MR0 = start + 20000; T3IR = 0x3F; T3MCR = 1;
    NVIC_ICPR0 = 1u << IRQ_TIMER3;
    while (!(T3IR & 1)) __asm volatile("wfi");
    T3IR = 1; T3MCR = 0; NVIC_ICPR0 = 1u << IRQ_TIMER3;
    uint32_t end = T3TC;
    puts_("W="); putu(end - start); putc_('\n');
    break;
  }
  case 'l': { uint8_t d = getc_wait(); leds((uint32_t)(d - '0')); puts_("L\n"); break; }
  case 'n': { uint32_t id = eth_init(); puts_("N="); putx(id, 8); putc_('\n'); break; }
  case 'x': eth_send_test(); while (TXCI != TXPI) {} puts_("X="); putx(txs[(TXCI + NTX - 1) % NTX], 8); putc_('\n'); break;
  case 'r': eth_wait_rx(); break;
  case 'c': {                                 /* compute loop: 20 M iterations */
    uint32_t s = 1;
    uint32_t t0 = T3TC;
    for (uint32_t i = 0; i < 20000000u; i++) { s = s * 1664525u + i; __asm volatile("" : "+r"(s)); }
    uint32_t t1 = T3TC;
    puts_("C="); putx(s, 8); putc_(','); putu(t1 - t0); putc_('\n');
    break;
  }
  case 'f': {                                 /* load from unmapped 0x60000000 */
    uint32_t v;
    __asm volatile(".global fault_load\nfault_load: ldr %0, [%1]" : "=r"(v) : "r"(0x60000000u) : "memory");
    puts_("F\n");
    break;
  }
  case 'u': __asm volatile(".global fault_udf\nfault_udf: .short 0xde42"); puts_("U\n"); break;
#ifdef TESTFW_HARDFAULT
  case 'a': {                                 /* where the faulting instructions are */
    extern const uint8_t fault_load[], fault_udf[];
    puts_("A="); putx((uint32_t)fault_load, 8); putc_(','); putx((uint32_t)fault_udf, 8);
    putc_('\n');
    break;
  }
  case 'h': fault_in_handler = 1; (void)REG(0x60000000u); break;
#endif
  case 's': {                                 /* SysTick exceptions at 1 kHz, 10 ticks */
    ticks = 0;
    STRELOAD = 96000 - 1; STCURR = 0; STCTRL = 7;
    /* The wake-up IRQs have no handlers: off while exceptions are taken (a byte that
       arrived with the command may have left UART0 pending). */
    NVIC_ICER0 = (1u << IRQ_TIMER3) | (1u << IRQ_UART0) | (1u << IRQ_ENET);
    __asm volatile("cpsie i");
    while (ticks < 10) __asm volatile("wfi");
    __asm volatile("cpsid i");
    NVIC_ISER0 = (1u << IRQ_TIMER3) | (1u << IRQ_UART0) | (1u << IRQ_ENET);
    STCTRL = 0;
    puts_("S="); putu(ticks); putc_('\n');
    break;
  }
  case 'b': AIRCR = 0x05FA0004u; for (;;) {} break;
  default: putc_('?'); break;
  }
}

int main(void) {
  system_init();
#ifdef TESTFW_BOOT_FAULT
  (void)REG(0x60000000u);
#endif
  uart_init();
  timer_init();
  leds(0x5);                                  /* LED1 and LED3 on */
  NVIC_ISER0 = (1u << IRQ_TIMER3) | (1u << IRQ_UART0) | (1u << IRQ_ENET);
  U0IER = 1;                                  /* RBR interrupt = wake source */
  puts_("READY\n");
  for (;;) {
    uint8_t c = getc_wait();
    if (c == '!') run_command(getc_wait());
    else putc_((char)c);
  }
}

void Reset_Handler(void) {
  __asm volatile("cpsid i");
  uint32_t *src = &_sidata, *dst = &_sdata;
  while (dst < &_edata) *dst++ = *src++;
  for (dst = &_sbss; dst < &_ebss;) *dst++ = 0;
  main();
  for (;;) {}
}
