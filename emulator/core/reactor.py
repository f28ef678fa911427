"""A tiny select() reactor for the host side: serial, network link, control socket.

The run loop calls :meth:`Reactor.poll` between slices with timeout 0 and, when the guest
idles in WFI, with the time to the next board deadline (or None: block until input).
"""

import select


class Reactor:
    def __init__(self):
        self._readers = {}
        self._writers = {}
        self._owners = {}

    def add_reader(self, fd, callback):
        self._readers[fd] = callback
        self._owners[fd] = getattr(callback, "__self__", None)

    def remove_reader(self, fd):
        self._readers.pop(fd, None)
        self._owners.pop(fd, None)

    def poll_owner(self, owner):
        """Non-blocking check of only the fds whose callbacks belong to *owner*."""
        fds = [fd for fd, o in self._owners.items() if o is owner]
        if not fds:
            return 0
        try:
            r, _, _ = select.select(fds, [], [], 0)
        except InterruptedError:
            return 0
        for fd in r:
            cb = self._readers.get(fd)
            if cb is not None:
                cb(fd)
        return len(r)

    def set_writer(self, fd, callback):
        """Call *callback* when *fd* is writable (None removes it)."""
        if callback is None:
            self._writers.pop(fd, None)
        else:
            self._writers[fd] = callback

    def poll(self, timeout):
        """Wait up to *timeout* seconds (None = forever); returns number of events."""
        try:
            r, w, _ = select.select(list(self._readers), list(self._writers), [], timeout)
        except InterruptedError:
            return 0
        for fd in r:
            cb = self._readers.get(fd)
            if cb is not None:
                cb(fd)
        for fd in w:
            cb = self._writers.get(fd)
            if cb is not None:
                cb(fd)
        return len(r) + len(w)
