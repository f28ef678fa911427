"""Board-independent machine pieces: Cortex-M core, bus, clock, run loop, transports."""
