"""LPC1768 board emulator on Unicorn.

Runs an unmodified mbed LPC1768 firmware image as its own process, like QEMU:
``python -m emulator IMAGE``.  See emulator/README.md for the process interface.

The package never imports the host controller (``hil``); it is a standalone machine.
"""

__all__ = ["__version__"]
__version__ = "0.1.0"
