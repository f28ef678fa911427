"""hil's side of the emulator's control channel checks requests against the one
definition (benchwire.control) before sending them."""

import socket
import threading

import pytest

from hil.drivers import BoardError
from hil.drivers.emulated import ControlClient


@pytest.fixture
def server(tmp_path):
    path = tmp_path / "ctl.sock"
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(path))
    srv.listen(1)
    received = []

    def serve():
        conn, _ = srv.accept()
        with conn, conn.makefile("rb") as f:
            for line in f:
                received.append(line)
                conn.sendall(b'{"ok": true, "mode": "skip"}\n')

    threading.Thread(target=serve, daemon=True).start()
    yield path, received
    srv.close()


@pytest.mark.parametrize("cmd, args, word", [
    ("fly", {}, "unknown cmd"),
    ("idle", {"mode": "fast"}, "'mode'"),
    ("flap", {"down_ms": 10, "up_ms": 10, "count": None}, "'count'"),
    ("inject", {"frame": "zz"}, "hexadecimal"),
])
def test_bad_requests_are_refused_before_sending(server, cmd, args, word):
    path, received = server
    client = ControlClient(path)
    with pytest.raises(BoardError, match=word):
        client.call(cmd, **args)
    assert client.call("idle", mode="skip") == {"ok": True, "mode": "skip"}
    assert len(received) == 1               # only the good request went out
    client.close()
