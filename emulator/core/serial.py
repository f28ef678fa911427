"""Serial transports for the console UART: pty, tcp (one client at a time), stdio.

A transport owns its file descriptors; the UART model only sees ``feed()`` (host -> guest)
and a byte sink (guest -> host).  Output is buffered and written when the fd is writable,
so a slow or absent reader never blocks the CPU loop; beyond ``MAX_BACKLOG`` bytes the
oldest output is discarded.  Each transport reports the URL pyserial opens
(``serial.serial_for_url``).
"""

import errno
import os
import struct
import socket

MAX_BACKLOG = 1 << 20


class TransportError(Exception):
    """Cannot set up the requested transport (one line for the user)."""


class SerialTransport:
    url = ""

    def __init__(self):
        self.reactor = None
        self.on_input = None        # callable(bytes) installed by the machine
        self._out = bytearray()
        self._out_fd = None

    def attach(self, reactor, on_input):
        self.reactor = reactor
        self.on_input = on_input

    # -- guest -> host -------------------------------------------------------------------
    def send(self, data):
        if self._out_fd is None:
            return                      # nobody listening: bytes fall on the floor
        self._out += data
        if len(self._out) > MAX_BACKLOG:
            del self._out[: len(self._out) - MAX_BACKLOG]

    def flush(self):
        if not self._out or self._out_fd is None:
            return
        try:
            n = os.write(self._out_fd, self._out)
            del self._out[:n]
        except BlockingIOError:
            pass
        except OSError as e:
            self._write_failed(e)
            return
        self.reactor.set_writer(self._out_fd, self._writable if self._out else None)

    def _writable(self, fd):
        self.flush()

    def _write_failed(self, err):
        self._out.clear()

    def close(self):
        pass


class PtySerial(SerialTransport):
    """A pseudo-terminal in raw mode; the URL is the slave path (/dev/pts/N)."""

    def __init__(self):
        super().__init__()
        import tty

        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        os.set_blocking(self.master, False)
        self.url = os.ttyname(self.slave)
        self._out_fd = self.master

    def attach(self, reactor, on_input):
        super().attach(reactor, on_input)
        reactor.add_reader(self.master, self._readable)

    def _readable(self, fd):
        try:
            data = os.read(fd, 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            if e.errno == errno.EIO:
                return
            raise
        if data:
            self.on_input(data)

    def close(self, drain_s=0.5):
        """Close the pty, first giving a reader up to ``drain_s`` to take what the guest
        printed last (its fault report, say): once the master is closed the slave reads
        EOF and bytes still queued there are lost."""
        import fcntl
        import termios
        import time

        try:
            self.flush()
            deadline = time.monotonic() + drain_s
            while time.monotonic() < deadline:
                queued = struct.unpack("i", fcntl.ioctl(self.slave, termios.FIONREAD,
                                                        b"\0\0\0\0"))[0]
                if not queued and not self._out:
                    break
                time.sleep(0.005)
                self.flush()
        except (OSError, AttributeError):
            pass
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


class TcpSerial(SerialTransport):
    """Listens on HOST:PORT (0 = pick a free port); one client at a time."""

    def __init__(self, host, port):
        super().__init__()
        try:
            self.listener = socket.create_server((host, port), reuse_port=False)
        except OSError as e:
            raise TransportError(f"cannot listen on tcp:{host}:{port}: {e.strerror}") from None
        self.listener.setblocking(False)
        h, p = self.listener.getsockname()[:2]
        self.url = f"socket://{h}:{p}"
        self.client = None

    def attach(self, reactor, on_input):
        super().attach(reactor, on_input)
        reactor.add_reader(self.listener.fileno(), self._accept)

    def _accept(self, fd):
        try:
            conn, _ = self.listener.accept()
        except BlockingIOError:
            return
        if self.client is not None:
            conn.close()                       # one client at a time
            return
        conn.setblocking(False)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.client = conn
        self._out_fd = conn.fileno()
        self._out.clear()
        self.reactor.add_reader(conn.fileno(), self._readable)

    def _readable(self, fd):
        try:
            data = self.client.recv(4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop_client()
            return
        self.on_input(data)

    def _write_failed(self, err):
        self._drop_client()

    def _drop_client(self):
        if self.client is None:
            return
        fd = self.client.fileno()
        self.reactor.remove_reader(fd)
        self.reactor.set_writer(fd, None)
        self.client.close()
        self.client = None
        self._out_fd = None
        self._out.clear()

    def close(self):
        self._drop_client()
        self.listener.close()


class StdioSerial(SerialTransport):
    """Guest console on this process's stdin/stdout."""

    url = "stdio"

    def __init__(self):
        super().__init__()
        self._in = 0
        self._out_fd = 1
        os.set_blocking(1, False)

    def attach(self, reactor, on_input):
        super().attach(reactor, on_input)
        reactor.add_reader(self._in, self._readable)

    def _readable(self, fd):
        try:
            data = os.read(fd, 4096)
        except (BlockingIOError, InterruptedError):
            return
        if not data:
            self.reactor.remove_reader(fd)    # EOF on stdin: stop watching
            return
        self.on_input(data)


def open_serial(spec):
    """Transport for a ``--serial`` value: pty | tcp:HOST:PORT | stdio."""
    if spec == "pty":
        return PtySerial()
    if spec == "stdio":
        return StdioSerial()
    if spec.startswith("tcp:"):
        host, sep, port = spec[4:].rpartition(":")
        if not sep or not port.isdigit() or not host:
            raise TransportError(f"bad --serial {spec!r}: expected tcp:HOST:PORT")
        return TcpSerial(host.strip("[]"), int(port))
    raise TransportError(f"bad --serial {spec!r}: expected pty, tcp:HOST:PORT or stdio")
