"""Ethernet link transports: one datagram = one frame, no FCS.

fd:N          an inherited socket/fd (AF_PACKET SOCK_RAW already bound, a SOCK_DGRAM
              socketpair end, ...)
packet:IFNAME open an AF_PACKET raw socket on an existing interface (e.g. a veth end)
tap:IFNAME    attach to an existing TAP device (IFF_TAP | IFF_NO_PI)

The EMAC model never sees these; the machine moves frames between them.  Frames that
cannot be sent at once (socket buffer full) are dropped and counted, as a busy wire would.

Receive side, flow control: while the guest has no free receive descriptor the link stops
reading (:meth:`NetLink.hold`), so frames wait in the kernel's socket buffer instead of
being lost.  The emulated CPU is slower than the silicon at moving frames, and without
this a burst the real board would absorb (it drains its ring at wire speed) would be cut
short on the emulated one.  QEMU's NICs behave the same way (``can_receive``).

Transmit side: frames are handed to a sender thread.  Writing a frame into a veth runs the
receiving kernel's whole protocol stack in the writer's system call; on its own thread
that work overlaps with the guest's next instructions (the GIL is released in the call).
Frames leave in order; :meth:`NetLink.drain` waits until every queued frame has left.
"""

import fcntl
import os
import queue
import socket
import struct
import threading
import time

from .serial import TransportError

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000


class NetLink:
    name = ""

    def __init__(self):
        self.on_frame = None
        self.tx_dropped = 0
        self._txq = queue.SimpleQueue()
        self._queued = 0          # written by the run loop only
        self._sent = 0            # written by the sender thread only
        self._tx_thread = None

    def send(self, frame):
        """Queue one frame for the wire (returns at once)."""
        if self._tx_thread is None:
            self._tx_thread = threading.Thread(target=self._tx_loop, name=f"tx {self.name}",
                                               daemon=True)
            self._tx_thread.start()
        self._queued += 1
        self._txq.put(frame)

    def _tx_loop(self):
        get = self._txq.get
        while True:
            frame = get()
            if frame is None:
                return
            self._send_now(frame)
            self._sent += 1

    def drain(self, timeout=1.0):
        """Wait until every queued frame has been written; False on timeout."""
        deadline = time.monotonic() + timeout
        while self._sent != self._queued:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.0002)
        return True

    def _stop_tx(self):
        if self._tx_thread is not None:
            self._txq.put(None)
            self._tx_thread.join(timeout=1.0)
            self._tx_thread = None

    def attach(self, reactor, on_frame, can_receive=lambda: True):
        self.on_frame = on_frame
        self.can_receive = can_receive
        self.reactor = reactor
        self.held = False
        reactor.add_reader(self.fileno(), self._readable)

    def hold(self):
        """Stop reading until :meth:`release` (the guest's receive ring is full)."""
        if not self.held:
            self.held = True
            self.reactor.remove_reader(self.fileno())

    def release(self):
        """Read again, at once: frames waited for a descriptor."""
        if self.held:
            self.held = False
            self.reactor.add_reader(self.fileno(), self._readable)
            self._readable(self.fileno())

    def fileno(self):
        raise NotImplementedError

    def _readable(self, fd):
        for _ in range(64):                    # drain a burst, bounded
            if not self.can_receive():
                self.hold()
                return
            frame = self._recv()
            if frame is None:
                return
            if frame:
                self.on_frame(frame)

    def close(self):
        pass


class SocketLink(NetLink):
    def __init__(self, sock, name):
        super().__init__()
        self.sock = sock
        self.name = name
        sock.setblocking(False)
        self._packet = sock.family == getattr(socket, "AF_PACKET", -1)

    def fileno(self):
        return self.sock.fileno()

    def _recv(self):
        try:
            if self._packet:
                data, addr = self.sock.recvfrom(65536)
                if addr[2] == PACKET_OUTGOING:
                    return b""                 # our own side's traffic, not from the wire
                return data
            return self.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:
            return None

    def _send_now(self, frame):
        try:
            self.sock.send(frame)
        except (BlockingIOError, InterruptedError, OSError):
            self.tx_dropped += 1

    def close(self):
        self._stop_tx()
        self.sock.close()


class TapLink(NetLink):
    def __init__(self, ifname):
        super().__init__()
        self.name = f"tap:{ifname}"
        if not os.path.exists(f"/sys/class/net/{ifname}"):
            raise TransportError(f"no network interface {ifname!r} (create the tap first)")
        try:
            self.fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
        except OSError as e:
            raise TransportError(f"cannot open /dev/net/tun: {e.strerror}") from None
        try:
            fcntl.ioctl(self.fd, TUNSETIFF,
                        struct.pack("16sH", ifname.encode()[:15], IFF_TAP | IFF_NO_PI))
        except OSError as e:
            os.close(self.fd)
            raise TransportError(f"cannot attach to tap {ifname!r}: {e.strerror}") from None

    def fileno(self):
        return self.fd

    def _recv(self):
        try:
            return os.read(self.fd, 65536)
        except (BlockingIOError, InterruptedError):
            return None

    def _send_now(self, frame):
        try:
            os.write(self.fd, frame)
        except OSError:
            self.tx_dropped += 1

    def close(self):
        self._stop_tx()
        os.close(self.fd)


def open_link(spec):
    """Link for a ``--net`` value, or None for ``none``."""
    if spec == "none":
        return None
    kind, sep, arg = spec.partition(":")
    if not sep or not arg:
        raise TransportError(f"bad --net {spec!r}: expected none, fd:N, packet:IFNAME or tap:IFNAME")
    if kind == "fd":
        if not arg.isdigit():
            raise TransportError(f"bad --net {spec!r}: N must be a file descriptor number")
        try:
            sock = socket.socket(fileno=int(arg))
        except OSError as e:
            raise TransportError(f"--net fd:{arg}: not a usable socket ({e.strerror})") from None
        return SocketLink(sock, spec)
    if kind == "packet":
        try:
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            sock.bind((arg, 0))
        except OSError as e:
            raise TransportError(f"cannot open packet socket on {arg!r}: {e.strerror}") from None
        return SocketLink(sock, spec)
    if kind == "tap":
        return TapLink(arg)
    raise TransportError(f"bad --net {spec!r}: expected none, fd:N, packet:IFNAME or tap:IFNAME")
