import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from hil.net import BenchNetwork, userns_problem  # noqa: E402


@pytest.fixture
def net(tmp_path):
    problem = userns_problem()
    if problem:
        pytest.skip(problem)
    with BenchNetwork(tmp_path / "bench") as n:
        yield n
