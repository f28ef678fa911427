import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from hil.net import BenchNetwork, userns_problem  # noqa: E402


@pytest.fixture
def net(tmp_path):
    problem = userns_problem()
    if problem:
        pytest.skip(problem)
    with BenchNetwork(tmp_path / "bench") as n:
        yield n


@pytest.fixture
def board_link(net):
    """A board veth on br0 (gives the bridge a carrier); yields the AF_PACKET socket of the board end."""
    import socket
    s = socket.socket(fileno=net.add_board_link("board0"))
    yield s
    s.close()
