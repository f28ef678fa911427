"""LPC1768 memory map: THE single table of where everything sits (UM10360 ch. 2).

Each row: name, base, size, kind, IRQ line(s), extra.  ``kind`` is either a memory kind
("flash", "ram", "rom") or a peripheral class key resolved through ``PERIPHERALS`` in this
board's package.  ``extra`` carries wiring facts the peripheral needs without knowing any
address: its PCLKSEL field (register, lowest bit), its PCONP bit, the PHY address.
Addresses not listed are unmapped: a guest access there is reported as a fault.
"""

from collections import namedtuple

Region = namedtuple("Region", "name base size kind irqs extra")


def _r(name, base, size, kind, irqs=(), **extra):
    return Region(name, base, size, kind, tuple(irqs), extra)


KiB = 1024

MEMORY_MAP = (
    # -- memories ---------------------------------------------------------------------
    _r("FLASH", 0x0000_0000, 512 * KiB, "flash"),
    _r("SRAM", 0x1000_0000, 32 * KiB, "ram"),
    _r("BOOTROM", 0x1FFF_0000, 8 * KiB, "rom"),
    _r("AHBSRAM0", 0x2007_C000, 16 * KiB, "ram"),
    _r("AHBSRAM1", 0x2008_0000, 16 * KiB, "ram"),
    _r("GPIO", 0x2009_C000, 16 * KiB, "gpio"),
    _r("BITBAND_SRAM", 0x2200_0000, 32 * 1024 * KiB, "bitband"),
    # -- APB0 -----------------------------------------------------------------------------
    _r("WDT", 0x4000_0000, 16 * KiB, "unmodelled", (0,)),
    _r("TIMER0", 0x4000_4000, 16 * KiB, "timer", (1,), pclk=("PCLKSEL0", 2), pconp=1),
    _r("TIMER1", 0x4000_8000, 16 * KiB, "timer", (2,), pclk=("PCLKSEL0", 4), pconp=2),
    _r("UART0", 0x4000_C000, 16 * KiB, "uart", (5,), pclk=("PCLKSEL0", 6), pconp=3),
    _r("UART1", 0x4001_0000, 16 * KiB, "unmodelled", (6,)),
    _r("PWM1", 0x4001_8000, 16 * KiB, "unmodelled", (9,)),
    _r("I2C0", 0x4001_C000, 16 * KiB, "unmodelled", (10,)),
    _r("SPI", 0x4002_0000, 16 * KiB, "unmodelled", (13,)),
    _r("RTC", 0x4002_4000, 16 * KiB, "unmodelled", (17,)),
    _r("GPIOINT", 0x4002_8000, 16 * KiB, "unmodelled", (21,)),
    _r("PINCON", 0x4002_C000, 16 * KiB, "pincon"),
    _r("SSP1", 0x4003_0000, 16 * KiB, "unmodelled", (15,)),
    _r("ADC", 0x4003_4000, 16 * KiB, "unmodelled", (22,)),
    _r("CANAFRAM", 0x4003_8000, 16 * KiB, "unmodelled"),
    _r("CANAF", 0x4003_C000, 16 * KiB, "unmodelled"),
    _r("CANCOMMON", 0x4004_0000, 16 * KiB, "unmodelled", (25,)),
    _r("CAN1", 0x4004_4000, 16 * KiB, "unmodelled"),
    _r("CAN2", 0x4004_8000, 16 * KiB, "unmodelled"),
    _r("I2C1", 0x4005_C000, 16 * KiB, "unmodelled", (11,)),
    # -- APB1 -----------------------------------------------------------------------------
    _r("SSP0", 0x4008_8000, 16 * KiB, "unmodelled", (14,)),
    _r("DAC", 0x4008_C000, 16 * KiB, "unmodelled"),
    _r("TIMER2", 0x4009_0000, 16 * KiB, "timer", (3,), pclk=("PCLKSEL1", 12), pconp=22),
    _r("TIMER3", 0x4009_4000, 16 * KiB, "timer", (4,), pclk=("PCLKSEL1", 14), pconp=23),
    _r("UART2", 0x4009_8000, 16 * KiB, "unmodelled", (7,)),
    _r("UART3", 0x4009_C000, 16 * KiB, "unmodelled", (8,)),
    _r("I2C2", 0x400A_0000, 16 * KiB, "unmodelled", (12,)),
    _r("I2S", 0x400A_8000, 16 * KiB, "unmodelled", (27,)),
    _r("RIT", 0x400B_0000, 16 * KiB, "unmodelled", (29,)),
    _r("MCPWM", 0x400B_8000, 16 * KiB, "unmodelled", (30,)),
    _r("QEI", 0x400B_C000, 16 * KiB, "unmodelled", (31,)),
    _r("SC", 0x400F_C000, 16 * KiB, "sysctl"),
    _r("BITBAND_PERIPH", 0x4200_0000, 32 * 1024 * KiB, "bitband"),
    # -- AHB peripherals ------------------------------------------------------------------
    _r("EMAC", 0x5000_0000, 16 * KiB, "emac", (28,), pconp=30, phy_addr=1),
    _r("GPDMA", 0x5000_4000, 16 * KiB, "unmodelled", (26,)),
    _r("USB", 0x5000_C000, 16 * KiB, "unmodelled", (24,)),
    # -- Cortex-M3 private peripheral bus ---------------------------------------------------
    _r("PPB_ITM_DWT_FPB", 0xE000_0000, 0xE000, "unmodelled"),
    _r("SCS", 0xE000_E000, 0x1000, "scs", irq_lines=35, prio_bits=5),
    _r("PPB_TPIU_ETM_ROMTABLE", 0xE000_F000, 0xF1000, "unmodelled"),
)

# Reset values of clock inputs the system-control model needs (Hz).
CLOCK_SOURCES = {"irc": 4_000_000, "main_osc": 12_000_000, "rtc_osc": 32_768}
