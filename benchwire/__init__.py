"""What the bench's separate programs say to each other, defined once and imported by
each side: :mod:`benchwire.control` is the emulator's control channel (``emulator/``
serves it, ``hil/`` calls it).  Imports nothing of ``emulator`` or ``hil``."""
