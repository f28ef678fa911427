"""User errors are one clear line, never a traceback."""

import os
import shutil
import subprocess
import sys

import pytest

from .conftest import ROOT
from hil.net import BenchNetwork, BenchNetworkError


def _cli(args, env=None, pre=()):
    e = dict(os.environ, PYTHONPATH=str(ROOT))
    e.update(env or {})
    return subprocess.run([*pre, sys.executable, "-m", "hil.net", *args], env=e,
                          capture_output=True, text=True, timeout=30)


def test_cli_check_works():
    r = _cli(["check"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("bench network up in ") and "lost" not in r.stdout


def test_missing_unshare_is_one_line():
    r = _cli(["check"], env={"PATH": "/nonexistent"})
    assert r.returncode == 2
    assert r.stderr.splitlines() == ["hil.net: error: the 'unshare' command was not found on PATH; "
                                     "install util-linux"]


def test_user_namespaces_disabled_is_one_line():
    """Inside a user namespace whose user.max_user_namespaces is 0 (the real kernel limit)."""
    unshare = shutil.which("unshare")
    script = ('echo 0 > /proc/sys/user/max_user_namespaces && exec "$@"')
    r = _cli(["check"], pre=(unshare, "--user", "--map-root-user", "sh", "-c", script, "sh"))
    assert r.returncode == 2, r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr
    assert "user namespaces are disabled (user.max_user_namespaces = 0)" in lines[0]
    assert "sysctl" in lines[0]


def test_unshare_failure_is_explained(tmp_path):
    """When unshare itself fails (the pre-check cannot see everything), its reason is kept."""
    unshare = shutil.which("unshare")
    code = ("import sys; sys.path.insert(0, %r)\n"
            "from hil.net import BenchNetwork, BenchNetworkError\n"
            "import hil.net as h; h.userns_problem = lambda: None\n"  # bypass the pre-check only
            "try:\n  BenchNetwork(%r).start()\n"
            "except BenchNetworkError as e: print(e); sys.exit(2)\n") % (str(ROOT), str(tmp_path / "b"))
    script = 'echo 0 > /proc/sys/user/max_user_namespaces && exec "$@"'
    r = subprocess.run([unshare, "--user", "--map-root-user", "sh", "-c", script, "sh",
                        sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, r.stderr
    assert r.stdout.count("\n") == 1
    assert r.stdout.startswith("cannot create the bench namespaces (unshare: unshare failed: "
                               "No space left on device): enable unprivileged user namespaces")


@pytest.mark.parametrize("kw, msg", [
    ({"subnet": "192.0.2.0/33"}, "bad subnet"),
    ({"subnet": "192.0.2.0/31"}, "too small"),
    ({"host_ip": "10.0.0.1"}, "not a host of"),
    ({"mtu": 20}, "MTU 20 out of range"),
])
def test_bad_parameters(tmp_path, kw, msg):
    with pytest.raises(BenchNetworkError, match=msg) as e:
        BenchNetwork(tmp_path, **kw)
    assert "\n" not in str(e.value)


def test_bad_requests_keep_the_daemon_alive(net):
    for call, msg in [(lambda: net.add_board_link("x" * 13), "1..12 characters"),
                      (lambda: net.add_board_link("br0"), "invalid interface name"),
                      (lambda: net.add_board_link("a b"), "invalid interface name"),
                      (lambda: net.socket(12345, 1), "add_link|socket"),
                      (lambda: net.raw_socket("nope"), "no interface 'nope'"),
                      (lambda: net.board_ip(300), "no address in")]:
        with pytest.raises(BenchNetworkError, match=msg) as e:
            call()
        assert "\n" not in str(e.value)
    assert net.ping(net.host_ip)[0] is not None  # still serving


def test_not_started(tmp_path):
    with pytest.raises(BenchNetworkError, match="not running"):
        BenchNetwork(tmp_path).ping("192.0.2.1")
