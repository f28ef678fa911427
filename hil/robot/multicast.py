from __future__ import annotations

from robot.api.deco import keyword

from .timeouts import Timeout, secs


class MulticastKeywords:
    """Multicast senders and listeners on the bench host."""

    def __init__(self, lib):
        self.lib = lib

    @keyword("Start Multicast Listener")
    def start_multicast_listener(self, group: str, port: int):
        """Join ``group`` on the bench host and record datagrams to ``port``."""
        from ..peers.multicast import MulticastListener

        return self.lib.own_peer(MulticastListener(self.lib.bench.net, group, int(port)).start(),
                         "multicast listener")

    @keyword("Multicast Listener Should Receive")
    def multicast_listener_should_receive(self, listener, data=None, count: int = 1,
                                          timeout: Timeout = 5.0, source: str | None = None):
        """Wait for ``count`` datagrams (equal to ``data`` if given, from ``source`` if
        given); returns the last one's data."""
        want = None if data is None else (data if isinstance(data, bytes) else str(data).encode())

        def ok(e):  # an Exchange of the listener's log
            return (e.direction == "rx" and (want is None or e.data == want)
                    and (source is None or e.peer[0] == source))

        listener.wait_for(lambda log: sum(ok(e) for e in log) >= int(count), secs(timeout))
        got = [d for d in listener.datagrams()
               if (want is None or d.data == want) and (source is None or d.source[0] == source)]
        if len(got) < int(count):
            seen = [(d.source, d.data[:32]) for d in listener.datagrams()]
            raise AssertionError(f"{len(got)} matching datagrams within {secs(timeout):g} s, expected "
                                 f"{count} (seen: {seen})")
        return got[-1].data

    @keyword("Send Multicast From Host")
    def send_multicast_from_host(self, group: str, port: int, data, source_port: int = 0):
        """Send one datagram from the bench host to ``group:port``."""
        from ..peers.multicast import MulticastSender

        payload = data if isinstance(data, bytes) else str(data).encode()
        sender = MulticastSender(self.lib.bench.net, group, int(port), payload,
                                 source_port=int(source_port)).start()
        return self.lib.own_peer(sender, "multicast sender")
