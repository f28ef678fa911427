"""mbed LPC1768 board: NXP LPC1768 (Cortex-M3, 96 MHz after PLL setup), DP83848 PHY.

Everything about *where* things sit is in :mod:`.memory_map`; the classes below only
know offsets.
"""

from ...core.scs import Scs
from ...core.regs import Unmodelled
from .clocking import LpcClocks
from .emac import Emac
from .gpio import Gpio
from .memory_map import MEMORY_MAP
from .pincon import PinCon
from .sysctl import SysCtl
from .timer import Timer
from .uart import Uart

NAME = "lpc1768"

PERIPHERALS = {
    "sysctl": SysCtl,
    "pincon": PinCon,
    "gpio": Gpio,
    "uart": Uart,
    "timer": Timer,
    "emac": Emac,
    "scs": Scs,
    "unmodelled": Unmodelled,
    "bitband": Unmodelled,
}

# The clock answers peripheral models get from ``ctx.clocks`` (built on the "sysctl" model).
CLOCKS = LpcClocks

BOARD = {
    "cpu": "cortex-m3",
    "flash": "FLASH",
    "sysctl": "SC",
    "scs": "SCS",
    "console": "UART0",
    "ethernet": "EMAC",
    # LED1..LED4 = P1.18, P1.20, P1.21, P1.23, active high
    "leds": ("GPIO", ((1, 18), (1, 20), (1, 21), (1, 23))),
    # reference 9.4: word 7 = two's complement of the sum of words 0..6
    "vector_checksum": "lpc17xx",
}

__all__ = ["NAME", "MEMORY_MAP", "PERIPHERALS", "CLOCKS", "BOARD"]
