"""The board interface every driver shares: a driver supplies a serial URL, a reset and a
power-off; the agent link, console capture and the board's address are the base's."""

import pytest

from hil import board_spec
from hil.drivers import Board, BoardError, BoardState


class LoopDriver(Board):
    """A driver whose 'board' is pyserial's loopback: what the host writes comes back."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.calls = []

    def _power_on(self):
        self.calls.append("power_on")
        return "loop://"

    def _release(self):
        self.calls.append("release")

    def _reset(self):
        self.calls.append("reset")

    def _power_off(self):
        self.calls.append("power_off")

    def leds(self):
        return [False] * 4


@pytest.fixture
def board(tmp_path):
    image = tmp_path / "app.bin"
    image.write_bytes(b"\0" * 32)
    b = LoopDriver("loop", board_spec.load(board_spec.DEFAULT_BOARD), image, tmp_path / "w",
                   agent=False)
    yield b
    b.stop()


def test_the_base_brings_up_the_link_from_the_drivers_serial_url(board):
    board.start()
    assert board.state is BoardState.READY
    assert board.serial_url == "loop://" and board.calls == ["power_on", "release"]
    board.agent.send_raw(b"console text through the shared link\n")
    assert board.console.wait_for_line("shared link", timeout=2)
    board.stop()
    assert board.state is BoardState.OFF and board.calls[-1] == "power_off"


def test_a_missing_image_is_a_board_error(tmp_path):
    b = LoopDriver("x", board_spec.load("lpc1768"), tmp_path / "none.bin", tmp_path, agent=False)
    with pytest.raises(BoardError, match="does not exist"):
        b.start()
    assert b.calls == []


def test_only_the_board_sets_its_address(board):
    board.start()
    assert board.ip is None and board.mac is None
    with pytest.raises(AttributeError):
        board.ip = "192.0.2.99"
    with pytest.raises(AttributeError):
        board.mac = "02:00:00:00:00:01"
    board.set_address("192.0.2.20")      # an application image's own static address
    assert board.ip == "192.0.2.20"


def test_configure_network_needs_a_ready_agent(board):
    with pytest.raises(BoardError, match="is off"):
        board.configure_network("192.0.2.10", "255.255.255.0", "192.0.2.1", "192.0.2.1")
