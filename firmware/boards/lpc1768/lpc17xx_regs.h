// LPC1768 register addresses and bit names used by the board layer.
//
// Addresses and bit positions are taken from UM10360 as summarised in
// /work/shared/reference/lpc1768.md (section numbers in the comments refer to that file).
// Only what this board layer touches is listed.  Every register is 32 bits wide.
#pragma once
#include <stdint.h>

#define LPC_REG(addr) (*reinterpret_cast<volatile uint32_t*>(uintptr_t(addr)))

// ---- System control block, 0x400F_C000 (2.1) ---------------------------------------------
#define SC_FLASHCFG   LPC_REG(0x400FC000)  // 15:12 FLASHTIM, 11:0 keep 0x03A
#define SC_PLL0CON    LPC_REG(0x400FC080)  // 0 PLLE0, 1 PLLC0 (active after a feed)
#define SC_PLL0CFG    LPC_REG(0x400FC084)  // 14:0 MSEL0 = M-1, 23:16 NSEL0 = N-1
#define SC_PLL0STAT   LPC_REG(0x400FC088)  // 24 PLLE0_STAT, 25 PLLC0_STAT, 26 PLOCK0
#define SC_PLL0FEED   LPC_REG(0x400FC08C)  // 0xAA then 0x55
#define SC_PCONP      LPC_REG(0x400FC0C4)  // peripheral power/clock gates (2.4)
#define SC_CCLKCFG    LPC_REG(0x400FC104)  // CCLK = PLL0 out / (CCLKSEL+1)
#define SC_USBCLKCFG  LPC_REG(0x400FC108)
#define SC_CLKSRCSEL  LPC_REG(0x400FC10C)  // 1 = main oscillator
#define SC_SCS        LPC_REG(0x400FC1A0)  // 4 OSCRANGE, 5 OSCEN, 6 OSCSTAT
#define SC_PCLKSEL0   LPC_REG(0x400FC1A8)  // 2-bit fields: 00 CCLK/4, 01 CCLK, 10 /2, 11 /8
#define SC_PCLKSEL1   LPC_REG(0x400FC1AC)
#define SC_CLKOUTCFG  LPC_REG(0x400FC1C8)

#define SCS_OSCEN         (1u << 5)
#define SCS_OSCSTAT       (1u << 6)
#define PLL0CON_PLLE      (1u << 0)
#define PLL0CON_PLLC      (1u << 1)
#define PLL0STAT_PLLE     (1u << 24)
#define PLL0STAT_PLLC     (1u << 25)
#define PLL0STAT_PLOCK    (1u << 26)
#define PCONP_RESET       0x042887DEu
#define PCONP_PCUART0     (1u << 3)
#define PCONP_PCGPIO      (1u << 15)
#define PCONP_PCTIM3      (1u << 23)
#define PCONP_PCENET      (1u << 30)
#define PCLKSEL0_UART0_SHIFT 6   // bits 7:6
#define PCLKSEL1_TIMER3_SHIFT 14 // bits 15:14

// ---- Pin connect block, 0x4002_C000 (3.1) ------------------------------------------------
#define PINCON_PINSEL0   LPC_REG(0x4002C000)  // P0.0-P0.15
#define PINCON_PINSEL2   LPC_REG(0x4002C008)  // P1.0-P1.15
#define PINCON_PINSEL3   LPC_REG(0x4002C00C)  // P1.16-P1.31
#define PINCON_PINMODE0  LPC_REG(0x4002C040)
#define PINCON_PINMODE3  LPC_REG(0x4002C04C)

// ---- UART0, 0x4000_C000 (4.1; 4-byte stride, byte-wide fields) -----------------------------
#define U0_RBR  LPC_REG(0x4000C000)  // DLAB=0, read
#define U0_THR  LPC_REG(0x4000C000)  // DLAB=0, write
#define U0_DLL  LPC_REG(0x4000C000)  // DLAB=1
#define U0_DLM  LPC_REG(0x4000C004)  // DLAB=1
#define U0_IER  LPC_REG(0x4000C004)  // DLAB=0
#define U0_IIR  LPC_REG(0x4000C008)  // read
#define U0_FCR  LPC_REG(0x4000C008)  // write
#define U0_LCR  LPC_REG(0x4000C00C)
#define U0_LSR  LPC_REG(0x4000C014)
#define U0_FDR  LPC_REG(0x4000C028)  // 3:0 DIVADDVAL, 7:4 MULVAL
#define U0_TER  LPC_REG(0x4000C030)

#define UART_IER_RBR   (1u << 0)
#define UART_FCR_EN    (1u << 0)
#define UART_FCR_RXRST (1u << 1)
#define UART_FCR_TXRST (1u << 2)
#define UART_LCR_8N1   0x03u
#define UART_LCR_DLAB  (1u << 7)
#define UART_LSR_RDR   (1u << 0)
#define UART_LSR_THRE  (1u << 5)
#define UART_LSR_TEMT  (1u << 6)

// ---- TIMER3, 0x4009_4000 (5.1) -------------------------------------------------------------
#define T3_IR   LPC_REG(0x40094000)  // write 1 to clear; bit 0 = MR0
#define T3_TCR  LPC_REG(0x40094004)  // 0 CEN, 1 CRST
#define T3_TC   LPC_REG(0x40094008)
#define T3_PR   LPC_REG(0x4009400C)
#define T3_PC   LPC_REG(0x40094010)
#define T3_MCR  LPC_REG(0x40094014)  // bit 0 MR0I, 1 MR0R, 2 MR0S
#define T3_MR0  LPC_REG(0x40094018)
#define T3_CTCR LPC_REG(0x40094070)

#define TIM_IR_MR0   (1u << 0)
#define TIM_IR_ALL   0x3Fu
#define TIM_TCR_CEN  (1u << 0)
#define TIM_TCR_CRST (1u << 1)
#define TIM_MCR_MR0I (1u << 0)

// ---- Fast GPIO, 0x2009_C000 (6) --------------------------------------------------------------
#define FIO1DIR  LPC_REG(0x2009C020)
#define FIO1MASK LPC_REG(0x2009C030)
#define FIO1PIN  LPC_REG(0x2009C034)
#define FIO1SET  LPC_REG(0x2009C038)
#define FIO1CLR  LPC_REG(0x2009C03C)

// ---- Ethernet MAC, 0x5000_0000 (7.1) ---------------------------------------------------------
#define EMAC_MAC1        LPC_REG(0x50000000)
#define EMAC_MAC2        LPC_REG(0x50000004)
#define EMAC_IPGT        LPC_REG(0x50000008)
#define EMAC_IPGR        LPC_REG(0x5000000C)
#define EMAC_CLRT        LPC_REG(0x50000010)
#define EMAC_MAXF        LPC_REG(0x50000014)
#define EMAC_SUPP        LPC_REG(0x50000018)
#define EMAC_TEST        LPC_REG(0x5000001C)
#define EMAC_MCFG        LPC_REG(0x50000020)
#define EMAC_MCMD        LPC_REG(0x50000024)
#define EMAC_MADR        LPC_REG(0x50000028)
#define EMAC_MWTD        LPC_REG(0x5000002C)
#define EMAC_MRDD        LPC_REG(0x50000030)
#define EMAC_MIND        LPC_REG(0x50000034)
#define EMAC_SA0         LPC_REG(0x50000040)
#define EMAC_SA1         LPC_REG(0x50000044)
#define EMAC_SA2         LPC_REG(0x50000048)
#define EMAC_COMMAND     LPC_REG(0x50000100)
#define EMAC_STATUS      LPC_REG(0x50000104)
#define EMAC_RXDESC      LPC_REG(0x50000108)
#define EMAC_RXSTATUS    LPC_REG(0x5000010C)
#define EMAC_RXDESCNUM   LPC_REG(0x50000110)
#define EMAC_RXPRODUCE   LPC_REG(0x50000114)
#define EMAC_RXCONSUME   LPC_REG(0x50000118)
#define EMAC_TXDESC      LPC_REG(0x5000011C)
#define EMAC_TXSTATUS    LPC_REG(0x50000120)
#define EMAC_TXDESCNUM   LPC_REG(0x50000124)
#define EMAC_TXPRODUCE   LPC_REG(0x50000128)
#define EMAC_TXCONSUME   LPC_REG(0x5000012C)
#define EMAC_RXFILTERCTRL LPC_REG(0x50000200)
#define EMAC_INTSTATUS   LPC_REG(0x50000FE0)
#define EMAC_INTENABLE   LPC_REG(0x50000FE4)
#define EMAC_INTCLEAR    LPC_REG(0x50000FE8)
#define EMAC_POWERDOWN   LPC_REG(0x50000FF4)

// MAC1 (7.2)
#define MAC1_RX_ENABLE   (1u << 0)
#define MAC1_PASS_ALL    (1u << 1)
#define MAC1_RESET_TX    (1u << 8)
#define MAC1_RESET_MCSTX (1u << 9)
#define MAC1_RESET_RX    (1u << 10)
#define MAC1_RESET_MCSRX (1u << 11)
#define MAC1_SIM_RESET   (1u << 14)
#define MAC1_SOFT_RESET  (1u << 15)
// MAC2
#define MAC2_FULL_DUPLEX (1u << 0)
#define MAC2_CRC_EN      (1u << 4)
#define MAC2_PAD_EN      (1u << 5)
// SUPP
#define SUPP_SPEED_100   (1u << 8)
// MCFG / MCMD / MIND
#define MCFG_CLKSEL_DIV44 (10u << 2)   // MDC = 96 MHz / 44 = 2.18 MHz (DP83848: <= 25 MHz)
#define MCFG_RESET_MII   (1u << 15)
#define MCMD_READ        (1u << 0)
#define MIND_BUSY        (1u << 0)
#define MIND_NOT_VALID   (1u << 2)
// Command (7.3)
#define CMD_RX_ENABLE    (1u << 0)
#define CMD_TX_ENABLE    (1u << 1)
#define CMD_REG_RESET    (1u << 3)
#define CMD_TX_RESET     (1u << 4)
#define CMD_RX_RESET     (1u << 5)
#define CMD_PASS_RUNT    (1u << 6)
#define CMD_RMII         (1u << 9)
#define CMD_FULL_DUPLEX  (1u << 10)
// RxFilterCtrl (7.4)
#define RXF_UNICAST      (1u << 0)
#define RXF_BROADCAST    (1u << 1)
#define RXF_MULTICAST    (1u << 2)
#define RXF_PERFECT      (1u << 5)
// IntStatus/IntEnable/IntClear (7.5)
#define EINT_RX_OVERRUN  (1u << 0)
#define EINT_RX_DONE     (1u << 3)
#define EINT_TX_DONE     (1u << 7)
// Descriptor control / status words (7.6)
#define RXCTRL_INT       (1u << 31)
#define RXST_SIZE_MASK   0x7FFu
#define RXST_CRC_ERR     (1u << 23)
#define RXST_SYMBOL_ERR  (1u << 24)
#define RXST_LENGTH_ERR  (1u << 25)
#define RXST_RANGE_ERR   (1u << 26)   // set for ordinary EtherType frames: NOT an error
#define RXST_ALIGN_ERR   (1u << 27)
#define RXST_OVERRUN     (1u << 28)
#define RXST_NO_DESC     (1u << 29)
#define RXST_LAST        (1u << 30)
#define RXST_ERROR       (1u << 31)   // summary; includes RangeError, so not used alone
#define TXCTRL_LAST      (1u << 30)
#define TXCTRL_INT       (1u << 31)

// ---- Cortex-M3 system control space (9.2, 9.3) ---------------------------------------------
#define NVIC_ISER0  LPC_REG(0xE000E100)
#define NVIC_ICER0  LPC_REG(0xE000E180)
#define NVIC_ISPR0  LPC_REG(0xE000E200)
#define NVIC_ICPR0  LPC_REG(0xE000E280)
#define SCB_AIRCR   LPC_REG(0xE000ED0C)
#define SCB_CFSR    LPC_REG(0xE000ED28)
#define SCB_HFSR    LPC_REG(0xE000ED2C)
#define SCB_MMFAR   LPC_REG(0xE000ED34)
#define SCB_BFAR    LPC_REG(0xE000ED38)

#define AIRCR_VECTKEY      (0x05FAu << 16)
#define AIRCR_SYSRESETREQ  (1u << 2)

// NVIC interrupt numbers (5.3)
#define IRQ_TIMER3 4
#define IRQ_UART0  5
#define IRQ_ENET   28

// Clocks set up by SystemInit (2.5)
#define LPC_CCLK_HZ 96000000u
