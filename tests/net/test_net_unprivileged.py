"""The bench network works for an ordinary user: no root, no /dev/net/tun."""

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import textwrap

import pytest

from .conftest import HERE, ROOT

USER = "tester"

SCRIPT = textwrap.dedent("""
    import json, os, socket, sys
    sys.path[:0] = [%(root)r, %(here)r]
    from hil.net import BenchNetwork
    from hil.peers import UdpEchoPeer
    from netframes import arp, parse_arp, recv_until, mac
    out = {"euid": os.geteuid()}
    with BenchNetwork(%(workdir)r) as net:
        out["start_s"] = net.start_time_s
        out["ping"] = net.ping(net.host_ip, count=2)
        out["tap"] = net.tap_available()
        board = socket.socket(fileno=net.add_board_link("board0"))
        board.send(arp(1, mac("02:00:00:00:00:10"), net.board_ip(0), bytes(6), net.host_ip))
        a, _ = recv_until(board, lambda f: (a := parse_arp(f)) and a["op"] == 2 and a)
        out["arp_reply_from"] = a and a["sip"]
        with UdpEchoPeer(net) as peer, net.socket(socket.AF_INET, socket.SOCK_DGRAM) as c:
            c.settimeout(2)
            c.sendto(b"hi", (net.host_ip, 7))
            out["echo"] = c.recv(10).decode()
        out["links"] = net.run(["ip", "-br", "link"], capture_output=True, text=True).stdout.split()
    print(json.dumps(out))
""")


def _python_for(uid, gid):
    """An interpreter the user may execute (the venv may live under /root)."""
    for exe in (sys.executable, shutil.which("python3"), "/usr/bin/python3"):
        if not exe:
            continue
        # tried the way the bench starts its daemon: from inside a user namespace
        r = subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups",
                            "unshare", "--user", "--map-root-user", exe,
                            "-c", "import sys; print(sys.version_info >= (3, 10))"],
                           capture_output=True, text=True)
        if r.stdout.strip() == "True":
            return exe
    return None


def test_bench_network_as_unprivileged_user():
    if os.geteuid() != 0:
        pytest.skip("runs the check as user 'tester' via setpriv, which needs root; "
                    "running this suite unprivileged already covers it")
    try:
        pw = pwd.getpwnam(USER)
    except KeyError:
        pytest.skip(f"no user {USER!r} on this machine")
    if not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) not installed")
    exe = _python_for(pw.pw_uid, pw.pw_gid)
    if exe is None:
        pytest.skip(f"no Python >= 3.10 that user {USER!r} may execute")
    workdir = tempfile.mkdtemp(prefix="hil-net-unpriv-")
    try:
        os.chown(workdir, pw.pw_uid, pw.pw_gid)
        code = SCRIPT % {"root": str(ROOT), "here": HERE, "workdir": workdir + "/bench"}
        r = subprocess.run(["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}",
                            "--clear-groups", "--reset-env", exe, "-B", "-c", code],
                           capture_output=True, text=True, timeout=60, cwd=workdir)
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    assert out["euid"] == pw.pw_uid
    assert all(x is not None for x in out["ping"])
    assert out["tap"] is False  # /dev/net/tun is 0600 here: veth is the way
    assert out["arp_reply_from"] == "192.0.2.1"
    assert out["echo"] == "hi"
    assert "board0@board0-p" in out["links"]
