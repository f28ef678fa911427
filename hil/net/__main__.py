"""python -m hil.net check|shell|run -- CMD...: try the bench network from a terminal."""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile

from . import BenchNetwork, BenchNetworkError


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m hil.net", description=__doc__)
    p.add_argument("--subnet", default="192.0.2.0/24")
    p.add_argument("--mtu", type=int, default=1500)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("check", help="create the bench network, ping the host address, report timings")
    sub.add_parser("shell", help="an interactive shell inside the bench network")
    r = sub.add_parser("run", help="run a command inside the bench network")
    r.add_argument("argv", nargs=argparse.REMAINDER)
    a = p.parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="hil-net-") as wd, \
                BenchNetwork(wd, subnet=a.subnet, mtu=a.mtu) as net:
            if a.cmd == "check":
                rtt = net.ping(net.host_ip, count=3, timeout=1.0)
                ok = all(x is not None for x in rtt)
                print(f"bench network up in {net.start_time_s * 1e3:.1f} ms; "
                      f"ping {net.host_ip}: " + ", ".join("lost" if x is None else f"{x * 1e6:.0f} us" for x in rtt))
                return 0 if ok else 1
            if a.cmd == "shell":
                print(f"bench network: host {net.host_ip}/{net.prefixlen} on br0; exit the shell to tear it down",
                      file=sys.stderr)
                return net.run(["/bin/sh", "-i"]).returncode
            cmd = a.argv[1:] if a.argv[:1] == ["--"] else a.argv
            if not cmd:
                p.error("run: no command given")
            return net.run(cmd).returncode
    except BenchNetworkError as e:
        print(f"hil.net: error: {e}", file=sys.stderr)
        return 2
    except FileNotFoundError as e:
        print(f"hil.net: error: {e.strerror}: {e.filename}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
