"""Control channel: a unix stream socket speaking JSON lines (one request, one response).

Handled by the run loop's reactor between slices, so it costs nothing while no request
is waiting.  Malformed input gets ``{"ok": false, "error": ...}``; it never stops the
machine.  The socket file is removed on close.
"""

import json
import os
import socket

from .serial import TransportError

MAX_LINE = 64 * 1024


class ControlServer:
    def __init__(self, path, handler):
        """*handler(request_dict) -> response_dict* (may raise ValueError for bad input)."""
        self.path = path
        self.handler = handler
        self.reactor = None
        self.clients = {}
        if os.path.exists(path):
            try:
                probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                probe.connect(path)
                probe.close()
                raise TransportError(f"control socket {path} is in use by another process")
            except (ConnectionRefusedError, FileNotFoundError):
                os.unlink(path)               # stale socket from a dead run
            except OSError as e:
                if isinstance(e, TransportError):
                    raise
                raise TransportError(f"cannot use control path {path}: {e.strerror}") from None
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.bind(path)
        except OSError as e:
            raise TransportError(f"cannot create control socket {path}: {e.strerror}") from None
        self.sock.listen(8)
        self.sock.setblocking(False)

    def attach(self, reactor):
        self.reactor = reactor
        reactor.add_reader(self.sock.fileno(), self._accept)

    def _accept(self, fd):
        try:
            conn, _ = self.sock.accept()
        except BlockingIOError:
            return
        conn.setblocking(False)
        self.clients[conn.fileno()] = (conn, bytearray())
        self.reactor.add_reader(conn.fileno(), self._readable)

    def _readable(self, fd):
        conn, buf = self.clients[fd]
        try:
            data = conn.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(fd)
            return
        buf += data
        while True:
            nl = buf.find(b"\n")
            if nl < 0:
                if len(buf) > MAX_LINE:
                    buf.clear()
                    self._reply(fd, {"ok": False, "error": "request line too long"})
                return
            line = bytes(buf[:nl]).strip()
            del buf[: nl + 1]
            if line:
                self._reply(fd, self._dispatch(line))
            if fd not in self.clients:
                return

    def _dispatch(self, line):
        try:
            req = json.loads(line)
        except (ValueError, UnicodeDecodeError) as e:
            return {"ok": False, "error": f"malformed JSON: {e}"}
        if not isinstance(req, dict) or not isinstance(req.get("cmd"), str):
            return {"ok": False, "error": 'request must be an object with a string "cmd"'}
        try:
            return self.handler(req)
        except (ValueError, TypeError, KeyError) as e:
            return {"ok": False, "error": str(e)}

    def _reply(self, fd, obj):
        entry = self.clients.get(fd)
        if entry is None:
            return
        conn = entry[0]
        data = (json.dumps(obj, separators=(",", ":")) + "\n").encode()
        try:
            conn.setblocking(True)
            conn.settimeout(1.0)
            conn.sendall(data)
            conn.setblocking(False)
        except OSError:
            self._drop(fd)

    def _drop(self, fd):
        conn, _ = self.clients.pop(fd, (None, None))
        if conn is not None:
            self.reactor.remove_reader(fd)
            conn.close()

    def close(self):
        for fd in list(self.clients):
            self._drop(fd)
        self.sock.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass
