// board::eth for the mbed LPC1768: the on-chip EMAC in RMII mode with the DP83848 PHY at
// MII address 1.  Polled; the EMAC's RxDone/TxDone interrupt status only serves as a WFI
// wake-up source (board.cpp).
//
// Initialisation follows UM10360 and mbed's ethernet_init step by step (reference 7.9); the
// differences are marked "differs from mbed":
//   - 4 RX + 4 TX descriptors with 1536-byte buffers, MAXF = 1536, so every legal frame
//     (1514 bytes + 4 FCS) fits one descriptor.  mbed uses 0x300 (768) byte buffers and
//     MAXF = 0x300, splitting full-size frames over two descriptors.
//   - The PHY ID is checked with a bounded wait and init() returns false instead of halting.
//   - Speed/duplex come from PHYSTS after auto-negotiation completes (bounded wait), and
//     link_up() re-applies them whenever the PHY reports a new link state.
//
// Memory: descriptors, statuses and buffers are in AHB SRAM bank 1 (section .ethram): the
// Ethernet DMA master cannot reach the local SRAM at 0x1000_0000 (reference 1).
#include <string.h>

#include "board.h"

#include "lpc17xx_regs.h"

namespace board {
namespace eth {
namespace {

constexpr int kRxDescs = 4;
constexpr int kTxDescs = 4;
constexpr int kBufSize = 1536;     // per descriptor; also MAXF
constexpr int kMaxFrame = 1514;    // without FCS
constexpr int kMinFrame = 60;      // without FCS
constexpr uint32_t kPhyAddr = 1;   // DP83848 on the mbed board (reference 8)

// DP83848 registers (reference 8.1).
constexpr uint32_t PHY_BMCR = 0x00;
constexpr uint32_t PHY_IDR1 = 0x02;
constexpr uint32_t PHY_IDR2 = 0x03;
constexpr uint32_t PHY_STS = 0x10;
constexpr uint32_t BMCR_RESET = 1u << 15;
constexpr uint32_t BMCR_SPEED100 = 1u << 13;
constexpr uint32_t BMCR_AN_ENABLE = 1u << 12;
constexpr uint32_t STS_LINK = 1u << 0;
constexpr uint32_t STS_SPEED10 = 1u << 1;
constexpr uint32_t STS_FULL_DUPLEX = 1u << 2;
constexpr uint32_t STS_AN_DONE = 1u << 4;
constexpr uint32_t kDp83848Id = 0x20005C90;  // (IDR1 << 16) | (IDR2 & 0xFFF0)

struct RxDesc {
    uint32_t packet;
    uint32_t control;
};
struct RxStatus {
    uint32_t info;
    uint32_t hash_crc;
};
struct TxDesc {
    uint32_t packet;
    uint32_t control;
};

// The EMAC DMA area.  Alignment per 7.3: descriptors 4, RX statuses 8, TX statuses 4.
// Buffers first, then the small descriptor and status arrays: those are read for every
// frame and so stay off the bank's first 1 KiB, which shares an emulator TLB slot with the
// EMAC registers (emulator/README.md, "Speed"); on silicon the order does not matter.
struct DmaArea {
    uint8_t rx_buf[kRxDescs][kBufSize];
    uint8_t tx_buf[kTxDescs][kBufSize];
    RxDesc rx_desc[kRxDescs];
    RxStatus rx_status[kRxDescs];
    TxDesc tx_desc[kTxDescs];
    uint32_t tx_status[kTxDescs];
};
__attribute__((section(".ethram"), aligned(8))) DmaArea g_dma;

Stats g_stats;
// The driver's own ring indices: RxConsumeIndex and TxProduceIndex are written only here,
// so they are never read back from the EMAC (one register access less per frame each).
uint32_t g_rx_consume = 0;
uint32_t g_tx_produce = 0;
// Last values read of the EMAC's own indices.  They only move forward, so a stale copy
// is a safe under-estimate: the register is read again only when the copy says the RX
// ring is empty or the TX ring full (one read per burst instead of one per frame).
uint32_t g_rx_produce_seen = 0;
uint32_t g_tx_consume_seen = 0;
inline void set_rx_consume(uint32_t i) {
    g_rx_consume = i;
    EMAC_RXCONSUME = i;
}
inline void set_rx_consume_all(uint32_t i) {
    set_rx_consume(i);
    g_rx_produce_seen = i;
}
bool g_ready = false;
bool g_rx_skipping = false;     // discarding the tail of an oversize (multi-descriptor) frame
uint32_t g_phy_sts_applied = 0; // PHYSTS bits (link|speed|duplex) the MAC is configured for

// ---- small helpers ----------------------------------------------------------------------------

void delay_us(uint32_t us) {
    uint64_t end = micros() + us;
    while (micros() < end) {
    }
}

// MII management (7.10).  Bounded: 5 ms per access (one takes ~30 us at MDC = 2.18 MHz).
bool mii_wait() {
    uint64_t end = micros() + 5000;
    while (EMAC_MIND & (MIND_BUSY | MIND_NOT_VALID)) {
        if (micros() > end) return false;
    }
    return true;
}

bool phy_read(uint32_t reg, uint32_t* value) {
    EMAC_MCMD = 0;
    EMAC_MADR = (kPhyAddr << 8) | reg;
    EMAC_MCMD = MCMD_READ;
    bool ok = mii_wait();
    EMAC_MCMD = 0;
    *value = EMAC_MRDD & 0xFFFF;
    return ok;
}

bool phy_write(uint32_t reg, uint32_t value) {
    EMAC_MCMD = 0;
    EMAC_MADR = (kPhyAddr << 8) | reg;
    EMAC_MWTD = value;  // starts the write cycle
    return mii_wait();
}

// Program MAC2/Command/IPGT/SUPP for the PHY's speed and duplex (mbed's rules, 7.9 step 10).
void apply_link(uint32_t sts) {
    if (sts & STS_FULL_DUPLEX) {
        EMAC_MAC2 |= MAC2_FULL_DUPLEX;
        EMAC_COMMAND |= CMD_FULL_DUPLEX;
        EMAC_IPGT = 0x15;
    } else {
        EMAC_MAC2 &= ~MAC2_FULL_DUPLEX;
        EMAC_COMMAND &= ~CMD_FULL_DUPLEX;
        EMAC_IPGT = 0x12;
    }
    if (sts & STS_SPEED10)
        EMAC_SUPP = 0;
    else
        EMAC_SUPP = SUPP_SPEED_100;
    g_phy_sts_applied = sts & (STS_LINK | STS_SPEED10 | STS_FULL_DUPLEX);
}

void rx_ring_init() {
    for (int i = 0; i < kRxDescs; ++i) {
        g_dma.rx_desc[i].packet = (uint32_t)(uintptr_t)g_dma.rx_buf[i];
        g_dma.rx_desc[i].control = RXCTRL_INT | (kBufSize - 1);
        g_dma.rx_status[i].info = 0;
        g_dma.rx_status[i].hash_crc = 0;
    }
    EMAC_RXDESC = (uint32_t)(uintptr_t)g_dma.rx_desc;
    EMAC_RXSTATUS = (uint32_t)(uintptr_t)g_dma.rx_status;
    EMAC_RXDESCNUM = kRxDescs - 1;
    set_rx_consume_all(0);
    g_rx_skipping = false;
}

void tx_ring_init() {
    for (int i = 0; i < kTxDescs; ++i) {
        g_dma.tx_desc[i].packet = (uint32_t)(uintptr_t)g_dma.tx_buf[i];
        g_dma.tx_desc[i].control = 0;
        g_dma.tx_status[i] = 0;
    }
    EMAC_TXDESC = (uint32_t)(uintptr_t)g_dma.tx_desc;
    EMAC_TXSTATUS = (uint32_t)(uintptr_t)g_dma.tx_status;
    EMAC_TXDESCNUM = kTxDescs - 1;
    EMAC_TXPRODUCE = 0;
    g_tx_produce = 0;
    g_tx_consume_seen = 0;
}

// A fatal receive overrun (IntStatus.RxOverrun) stops the RX path until it is soft-reset
// (UM10360; the NXP lwIP port does the same).  Frames in the ring are lost.
void rx_recover() {
    EMAC_COMMAND &= ~CMD_RX_ENABLE;
    EMAC_MAC1 &= ~MAC1_RX_ENABLE;
    EMAC_COMMAND |= CMD_RX_RESET;
    rx_ring_init();
    // Whether RxReset returns RxProduceIndex to 0 is not documented (reference 7.3): start
    // consuming wherever the hardware will produce next.
    set_rx_consume_all(EMAC_RXPRODUCE);
    EMAC_INTCLEAR = EINT_RX_OVERRUN;
    EMAC_COMMAND |= CMD_RX_ENABLE;
    EMAC_MAC1 |= MAC1_RX_ENABLE;
    ++g_stats.rx_overrun;
}

inline uint32_t rx_next(uint32_t i) { return (i + 1 == kRxDescs) ? 0 : i + 1; }
inline uint32_t tx_next(uint32_t i) { return (i + 1 == kTxDescs) ? 0 : i + 1; }

}  // namespace

bool init(const uint8_t mac[6]) {
    g_ready = false;
    g_stats = Stats{};

    // 1. Power, 2. RMII pins: P1.0/1/4/8/9/10/14/15 and P1.16/17 (MDC/MDIO) function 01.
    SC_PCONP |= PCONP_PCENET;
    PINCON_PINSEL2 = 0x50150105;
    PINCON_PINSEL3 = (PINCON_PINSEL3 & ~0xFu) | 0x5u;

    // 3. Reset every MAC block and the host-side datapaths.
    EMAC_POWERDOWN = 0;
    EMAC_MAC1 = MAC1_RESET_TX | MAC1_RESET_MCSTX | MAC1_RESET_RX | MAC1_RESET_MCSRX |
                MAC1_SIM_RESET | MAC1_SOFT_RESET;
    EMAC_COMMAND = CMD_REG_RESET | CMD_TX_RESET | CMD_RX_RESET | CMD_PASS_RUNT;
    delay_us(10);

    // 4. MAC configuration.  MAXF = 1536 (differs from mbed's 0x300, see the top).
    EMAC_MAC1 = MAC1_PASS_ALL;
    EMAC_MAC2 = MAC2_CRC_EN | MAC2_PAD_EN;  // append CRC, pad short frames to 60 (+FCS)
    EMAC_MAXF = kBufSize;
    EMAC_CLRT = 0x370F;
    EMAC_IPGR = 0x0012;

    // 5. RMII; runt frames are passed to memory (receive() counts them).
    EMAC_COMMAND = CMD_RMII | CMD_PASS_RUNT;

    // 6. MII management clock: MDC = 96 MHz / 44; reset the management block.
    EMAC_MCFG = MCFG_CLKSEL_DIV44 | MCFG_RESET_MII;
    delay_us(10);
    EMAC_MCFG = MCFG_CLKSEL_DIV44;
    EMAC_MCMD = 0;

    // 7. RMII support register (speed is set from PHYSTS below).
    EMAC_SUPP = 0;
    delay_us(10);

    // 8. PHY soft reset, bounded (the DP83848 needs well under 1 ms).
    if (!phy_write(PHY_BMCR, BMCR_RESET)) return false;
    {
        uint64_t end = micros() + 100000;
        uint32_t bmcr = BMCR_RESET;
        while (true) {
            if (!phy_read(PHY_BMCR, &bmcr)) return false;
            if (!(bmcr & BMCR_RESET)) break;
            if (micros() > end) return false;
        }
    }

    // 9. PHY identity: DP83848 (revision nibble masked off).
    uint32_t id1 = 0, id2 = 0;
    if (!phy_read(PHY_IDR1, &id1) || !phy_read(PHY_IDR2, &id2)) return false;
    if (((id1 << 16) | (id2 & 0xFFF0)) != kDp83848Id) return false;

    // 10. Auto-negotiation (100 Mb/s + AN enable, as mbed).  Wait up to 3 s for it to finish
    //     (differs from mbed, which reads PHYSTS once at once); without a cable we carry on
    //     and link_up() configures the MAC when a link appears.
    phy_write(PHY_BMCR, BMCR_SPEED100 | BMCR_AN_ENABLE);
    delay_us(10);
    uint32_t sts = 0;
    {
        uint64_t end = micros() + 3000000;
        while (phy_read(PHY_STS, &sts) && !(sts & (STS_AN_DONE | STS_LINK)) && micros() < end) {
            delay_us(1000);
        }
    }
    apply_link(sts);

    // 11. Station address, in the byte order every working driver uses (7.2):
    //     SA0 = mac[5]:mac[4], SA1 = mac[3]:mac[2], SA2 = mac[1]:mac[0].
    EMAC_SA0 = ((uint32_t)mac[5] << 8) | mac[4];
    EMAC_SA1 = ((uint32_t)mac[3] << 8) | mac[2];
    EMAC_SA2 = ((uint32_t)mac[1] << 8) | mac[0];

    // 12./13. Rings.
    tx_ring_init();
    rx_ring_init();

    // 14. Accept unicast, broadcast, multicast and our own address.
    EMAC_RXFILTERCTRL = RXF_UNICAST | RXF_BROADCAST | RXF_MULTICAST | RXF_PERFECT;

    // 15. Interrupt status used as a WFI wake-up (ENET is enabled in the NVIC by board::init).
    EMAC_INTCLEAR = 0xFFFF;
    EMAC_INTENABLE = EINT_RX_DONE | EINT_TX_DONE;

    // 16. Go.
    EMAC_COMMAND |= CMD_RX_ENABLE | CMD_TX_ENABLE;
    EMAC_MAC1 |= MAC1_RX_ENABLE;
    g_ready = true;
    return true;
}

bool link_up() {
    if (!g_ready) return false;
    uint32_t sts = 0;
    if (!phy_read(PHY_STS, &sts)) return false;
    if ((sts & STS_LINK) && (sts & (STS_LINK | STS_SPEED10 | STS_FULL_DUPLEX)) != g_phy_sts_applied)
        apply_link(sts);
    if (!(sts & STS_LINK)) g_phy_sts_applied &= ~STS_LINK;
    return (sts & STS_LINK) != 0;
}

int receive(uint8_t* buf, int cap) {
    if (!g_ready) return 0;
    uint32_t idx = g_rx_consume;
    if (idx == g_rx_produce_seen) {
        g_rx_produce_seen = EMAC_RXPRODUCE;
        if (idx == g_rx_produce_seen) {
            // Ring empty.  An overrun (the ring ran full) stops reception until the RX path
            // is reset; the frames received before it were valid and have been taken.
            if (EMAC_INTSTATUS & EINT_RX_OVERRUN) rx_recover();
            return 0;
        }
    }
    while (idx != g_rx_produce_seen) {
        uint32_t info = g_dma.rx_status[idx].info;
        uint32_t next = rx_next(idx);

        // Oversize frame spread over several descriptors: drop every fragment up to and
        // including the one with LastFlag (possibly over several calls).
        if (g_rx_skipping || !(info & RXST_LAST)) {
            if (!g_rx_skipping) ++g_stats.rx_oversize;
            g_rx_skipping = !(info & RXST_LAST);
            set_rx_consume(idx = next);
            continue;
        }

        // Errors.  RangeError (and the Error summary it feeds) is set by the silicon for every
        // EtherType frame and is ignored (reference 7.6).
        if (info & (RXST_OVERRUN | RXST_NO_DESC)) {
            ++g_stats.rx_overrun;
            set_rx_consume(idx = next);
            continue;
        }
        if (info & (RXST_CRC_ERR | RXST_SYMBOL_ERR | RXST_LENGTH_ERR | RXST_ALIGN_ERR)) {
            ++g_stats.rx_error;
            set_rx_consume(idx = next);
            continue;
        }

        // RxSize is the byte count minus one and includes the 4-byte FCS.
        int len = (int)(info & RXST_SIZE_MASK) + 1 - 4;
        if (len < kMinFrame) {
            ++g_stats.rx_runt;
            set_rx_consume(idx = next);
            continue;
        }
        if (len > cap || len > kMaxFrame) {
            ++g_stats.rx_oversize;
            set_rx_consume(idx = next);
            continue;
        }
        memcpy(buf, g_dma.rx_buf[idx], (size_t)len);
        set_rx_consume(next);
        ++g_stats.rx_frames;
        return len;
    }
    return 0;
}

bool send(const uint8_t* frame, int len) {
    if (!g_ready || len < 14 || len > kMaxFrame) {
        ++g_stats.tx_error;
        return false;
    }
    uint32_t idx = g_tx_produce;
    uint32_t next = tx_next(idx);
    // Full ring: produce + 1 == consume.  Wait up to 20 ms (3 queued 1514-byte frames take
    // 3.6 ms at 10 Mb/s), then give up.
    if (next == g_tx_consume_seen && next == (g_tx_consume_seen = EMAC_TXCONSUME)) {
        uint64_t end = micros() + 20000;
        while (next == (g_tx_consume_seen = EMAC_TXCONSUME)) {
            if (micros() > end) {
                ++g_stats.tx_error;
                return false;
            }
        }
    }
    memcpy(g_dma.tx_buf[idx], frame, (size_t)len);
    // Padding and CRC come from MAC2 (PAD/CRC enable); no per-descriptor override.
    g_dma.tx_desc[idx].control = (uint32_t)(len - 1) | TXCTRL_LAST | TXCTRL_INT;
    __asm volatile("dsb" ::: "memory");  // descriptor and data written before the hand-over
    EMAC_TXPRODUCE = g_tx_produce = next;
    ++g_stats.tx_frames;
    return true;
}

const Stats& stats() { return g_stats; }

int max_frame() { return kMaxFrame; }

}  // namespace eth
}  // namespace board
