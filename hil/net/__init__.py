"""The bench network: a private LAN in a user + network namespace, no root needed.

    with BenchNetwork(workdir) as net:
        fd = net.add_board_link("board0")          # AF_PACKET socket on the board's veth end
        subprocess.Popen([... "--net", f"fd:{fd}"], pass_fds=[fd])
        s = net.socket(socket.AF_INET, socket.SOCK_DGRAM)   # lives on the bench LAN
        net.ping(net.board_ip(0))

Nothing here touches the machine's real network: every interface, address and
socket handed out lives in a namespace created for this run by
``unshare --user --map-root-user --net``.  A small daemon (:mod:`hil.net.namespace_daemon`)
runs inside it and passes descriptors back over a unix socket (SCM_RIGHTS).
"""

from __future__ import annotations

import ipaddress
import json
import os
import random
import select
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Sequence

from ..children import die_with_parent

__all__ = ["BenchNetwork", "BenchNetworkError", "userns_problem"]

_NSD = Path(__file__).with_name("namespace_daemon.py")
_SBIN = ("/usr/local/sbin", "/usr/sbin", "/sbin")
_START_TIMEOUT = 10.0

_ENABLE_HINT = ("enable unprivileged user namespaces (sysctl user.max_user_namespaces=15000; "
                "on Debian kernel.unprivileged_userns_clone=1; on Ubuntu "
                "kernel.apparmor_restrict_unprivileged_userns=0; in a container allow the "
                "unshare/clone syscalls, e.g. --security-opt seccomp=unconfined)")


class BenchNetworkError(RuntimeError):
    """The bench network cannot be used; the message is one line and says why."""


def _which(cmd: str) -> str | None:
    path = os.environ.get("PATH", os.defpath)
    return shutil.which(cmd, path=os.pathsep.join([path, *_SBIN]))


def userns_problem() -> str | None:
    """Why a user namespace cannot be created here, or None when nothing is known against it."""
    if _which("unshare") is None:
        return "the 'unshare' command was not found on PATH; install util-linux"
    try:
        limit = int(Path("/proc/sys/user/max_user_namespaces").read_text())
    except (OSError, ValueError):
        limit = None
    if limit == 0:
        return "user namespaces are disabled (user.max_user_namespaces = 0): " + _ENABLE_HINT
    if os.geteuid() != 0:
        try:
            if Path("/proc/sys/kernel/unprivileged_userns_clone").read_text().strip() == "0":
                return ("unprivileged user namespaces are disabled "
                        "(kernel.unprivileged_userns_clone = 0): " + _ENABLE_HINT)
        except OSError:
            pass
    return None


def _explain_start_failure(log: str) -> str:
    lines = [l.strip() for l in log.splitlines() if l.strip()]
    last = lines[-1] if lines else "no output"
    low = log.lower()
    if "unshare" in low and ("operation not permitted" in low or "no space left" in low
                             or "permission denied" in low or "invalid argument" in low):
        return f"cannot create the bench namespaces ({last}): " + _ENABLE_HINT
    return f"the bench namespace daemon failed to start: {last}"


def _icmp_checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


class BenchNetwork:
    """A private bench LAN: bridge ``br0`` holding the host address, plus board links.

    The test process stays in its own namespaces; everything it gets from this
    object (sockets, the board link descriptors) was created inside the bench
    namespace and keeps it.
    """

    bridge = "br0"

    def __init__(self, workdir: str | os.PathLike, subnet: str = "192.0.2.0/24",
                 mtu: int = 1500, host_ip: str | None = None, ipv6: bool = False,
                 board_base: int = 10) -> None:
        try:
            self.network = ipaddress.IPv4Network(subnet)
        except ValueError as e:
            raise BenchNetworkError(f"bad subnet {subnet!r}: {e}") from None
        if self.network.num_addresses < 4:
            raise BenchNetworkError(f"subnet {subnet} is too small for a bench LAN")
        host = ipaddress.IPv4Address(host_ip) if host_ip else self.network.network_address + 1
        if host not in self.network or host in (self.network.network_address,
                                                self.network.broadcast_address):
            raise BenchNetworkError(f"host address {host} is not a host of {subnet}")
        if not 68 <= int(mtu) <= 65535:
            raise BenchNetworkError(f"MTU {mtu} out of range 68..65535")
        self.workdir = Path(workdir)
        self.mtu = int(mtu)
        self.ipv6 = ipv6
        self.board_base = board_base
        self._host = host
        self._proc: subprocess.Popen | None = None
        self._ctl: socket.socket | None = None
        self._lifeline: int | None = None
        self._lock = threading.Lock()
        self.pid: int | None = None
        self.start_time_s: float | None = None
        self.links: dict[str, str] = {}

    # -- addresses ---------------------------------------------------------
    @property
    def host_mac(self) -> str:
        """The bench host's MAC address on the bridge (fixed)."""
        from .namespace_daemon import BRIDGE_MAC

        return BRIDGE_MAC

    @property
    def host_ip(self) -> str:
        return str(self._host)

    @property
    def netmask(self) -> str:
        return str(self.network.netmask)

    @property
    def prefixlen(self) -> int:
        return self.network.prefixlen

    @property
    def broadcast(self) -> str:
        return str(self.network.broadcast_address)

    def board_ip(self, index: int = 0) -> str:
        addr = self.network.network_address + self.board_base + int(index)
        if addr not in self.network or addr in (self._host, self.network.broadcast_address):
            raise BenchNetworkError(f"board index {index} has no address in {self.network}")
        return str(addr)

    @property
    def control_path(self) -> Path:
        return self.workdir / "daemon.sock"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # -- life cycle ------------------------------------------------------
    def __enter__(self) -> "BenchNetwork":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> "BenchNetwork":
        if self._proc is not None:
            raise BenchNetworkError("bench network already started")
        problem = userns_problem()
        if problem:
            raise BenchNetworkError(problem)
        ip = _which("ip")
        if ip is None:
            raise BenchNetworkError("the 'ip' command was not found; install iproute2")
        t0 = time.perf_counter()
        self.workdir.mkdir(parents=True, exist_ok=True)
        log_path = self.workdir / "daemon.log"
        life_r, life_w = os.pipe()
        stat_r, stat_w = os.pipe()
        argv = [_which("unshare"), "--user", "--map-root-user", "--net", "--",
                sys.executable, "-I", "-S", str(_NSD),
                "--workdir", str(self.workdir.resolve()), "--lifeline", str(life_r),
                "--status", str(stat_w), "--subnet", str(self.network),
                "--host", self.host_ip, "--mtu", str(self.mtu), "--ip", ip]
        if self.ipv6:
            argv.append("--ipv6")
        try:
            with open(log_path, "wb") as log:
                self._proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                              stderr=log, pass_fds=(life_r, stat_w),
                                              preexec_fn=die_with_parent())
        except OSError as e:
            for fd in (life_r, life_w, stat_r, stat_w):
                os.close(fd)
            raise BenchNetworkError(f"cannot start the namespace daemon: {e}") from None
        os.close(life_r)
        os.close(stat_w)
        self._lifeline = life_w
        try:
            status = self._read_status(stat_r)
        finally:
            os.close(stat_r)
        if not status.get("ok"):
            self._reap()
            log = log_path.read_text(errors="replace") if log_path.exists() else ""
            raise BenchNetworkError(status.get("error") and
                                    f"bench network set-up failed: {status['error']}"
                                    or _explain_start_failure(log))
        self.pid = int(status["pid"])
        try:
            self._ctl = self._connect()
        except OSError as e:
            self._reap()
            raise BenchNetworkError(f"cannot reach the namespace daemon: {e}") from None
        self.start_time_s = time.perf_counter() - t0
        return self

    def _read_status(self, fd: int) -> dict:
        deadline = time.monotonic() + _START_TIMEOUT
        buf = b""
        while not buf.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return {"ok": False, "error": f"no answer within {_START_TIMEOUT:.0f} s"}
            chunk = os.read(fd, 4096)
            if not chunk:
                return {"ok": False}
            buf += chunk
        try:
            return json.loads(buf)
        except ValueError:
            return {"ok": False, "error": "garbled status"}

    def _connect(self) -> socket.socket:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        path = str(self.control_path.resolve())
        if len(path.encode()) < 100:
            s.connect(path)
        else:  # sun_path is 108 bytes: go through a directory descriptor
            dfd = os.open(self.workdir, os.O_RDONLY | os.O_DIRECTORY)
            try:
                s.connect(f"/proc/self/fd/{dfd}/daemon.sock")
            finally:
                os.close(dfd)
        return s

    def _reap(self) -> None:
        if self._lifeline is not None:
            os.close(self._lifeline)
            self._lifeline = None
        if self._proc is not None:
            try:
                self._proc.wait(timeout=2.0)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def stop(self) -> None:
        """Stop the daemon; the namespace goes away once no socket handed out is open."""
        if self._proc is None:
            return
        if self._ctl is not None:
            self._ctl.close()
            self._ctl = None
        self._reap()  # closing the lifeline makes the daemon exit
        self._proc = None
        self.pid = None
        self.links.clear()
        try:
            self.control_path.unlink()
        except OSError:
            pass

    # -- control channel -----------------------------------------------------
    def _call(self, op: str, **args: Any) -> tuple[dict, list[int]]:
        if self._ctl is None:
            raise BenchNetworkError("bench network is not running (call start() first)")
        with self._lock:
            try:
                self._ctl.send(json.dumps({"op": op, **args}).encode())
                data, fds, _, _ = socket.recv_fds(self._ctl, 65536, 4)
            except OSError as e:
                raise BenchNetworkError(f"lost the namespace daemon: {e}") from None
        if not data:
            raise BenchNetworkError("the namespace daemon went away")
        reply = json.loads(data)
        if not reply.pop("ok", False):
            for fd in fds:
                os.close(fd)
            raise BenchNetworkError(f"{op}: {reply.get('error', 'failed')}")
        return reply, fds

    def _one_fd(self, op: str, **args: Any) -> tuple[dict, int]:
        reply, fds = self._call(op, **args)
        if len(fds) != 1:
            for fd in fds:
                os.close(fd)
            raise BenchNetworkError(f"{op}: expected one descriptor, got {len(fds)}")
        return reply, fds[0]

    # -- descriptors from inside the namespace -------------------------------
    def socket(self, family: int = socket.AF_INET, type: int = socket.SOCK_DGRAM,
               proto: int = 0, bind: tuple | None = None) -> socket.socket:
        """An ordinary socket created inside the bench namespace (optionally bound there)."""
        _, fd = self._one_fd("socket", family=int(family), type=int(type), proto=int(proto),
                             bind=list(bind) if bind is not None else None)
        return socket.socket(fileno=fd)

    def raw_socket(self, ifname: str = "br0", ignore_outgoing: bool = False) -> socket.socket:
        """AF_PACKET raw socket (all protocols) bound to an interface of the bench LAN."""
        _, fd = self._one_fd("raw", ifname=ifname, ignore_outgoing=ignore_outgoing)
        return socket.socket(fileno=fd)

    def add_board_link(self, name: str, mtu: int | None = None) -> int:
        """Create veth ``name`` <-> ``name-p`` (the latter on br0).

        Returns a blocking AF_PACKET SOCK_RAW fd bound to the board end: each
        recv() is one frame the LAN sends to the board, each send() one frame
        from the board.  The caller owns the fd (pass it with ``pass_fds``).
        """
        _, fd = self._one_fd("add_link", name=name, mtu=mtu)
        self.links[name] = "veth"
        return fd

    def remove_board_link(self, name: str) -> None:
        self._call("remove_link", name=name)
        self.links.pop(name, None)

    def tap_available(self) -> bool:
        reply, _ = self._call("tap_available")
        self.tap_reason = reply.get("reason", "")
        return bool(reply["available"])

    def add_board_tap(self, name: str, mtu: int | None = None) -> int:
        """A TAP ``name`` on br0 (needs a usable /dev/net/tun); returns its fd (IFF_NO_PI frames)."""
        _, fd = self._one_fd("add_tap", name=name, mtu=mtu)
        self.links[name] = "tap"
        return fd

    @staticmethod
    def port_name(board: str) -> str:
        """The bridge port of board link ``board`` (the veth end on the bridge)."""
        return board + "-p"

    def set_board_port(self, board: str, up: bool) -> None:
        """Put board ``board``'s bridge port up or down: down, frames in both directions
        vanish (the cable pulled on the switch side); the board's own end stays up."""
        self._ip("link", "set", self.port_name(board), "up" if up else "down")

    def set_route_mtu(self, ip: str, mtu: int) -> None:
        """A host route to ``ip`` over the bridge with path MTU ``mtu``, so the host's
        kernel fragments what it sends there (:meth:`remove_route` takes it away)."""
        self._ip("route", "replace", f"{ip}/32", "dev", self.bridge, "mtu", str(int(mtu)))

    def remove_route(self, ip: str) -> None:
        """Remove the host route :meth:`set_route_mtu` made (none there: nothing to do)."""
        self.run(["ip", "route", "del", f"{ip}/32"], capture_output=True)

    def _ip(self, *args: str) -> None:
        r = self.run(["ip", *args], capture_output=True, text=True)
        if r.returncode != 0:
            raise BenchNetworkError(f"ip {' '.join(args)}: {r.stderr.strip()}")

    # -- commands inside the namespace ---------------------------------------
    def command(self, argv: Sequence[str]) -> list[str]:
        """argv prefixed so that it runs inside the bench namespace."""
        if self.pid is None:
            raise BenchNetworkError("bench network is not running (call start() first)")
        nsenter = _which("nsenter")
        if nsenter is None:
            raise BenchNetworkError("the 'nsenter' command was not found on PATH; install util-linux")
        return [nsenter, "--target", str(self.pid), "--user", "--net",
                "--preserve-credentials", "--", *argv]

    def _env(self, kw: dict) -> None:
        env = dict(kw.get("env") or os.environ)
        parts = env.get("PATH", os.defpath).split(os.pathsep)
        env["PATH"] = os.pathsep.join(parts + [p for p in _SBIN if p not in parts])
        kw["env"] = env

    def run(self, argv: Sequence[str], **kw: Any) -> subprocess.CompletedProcess:
        """subprocess.run() of argv inside the namespace (e.g. ``["ip", "-s", "link"]``)."""
        self._env(kw)
        return subprocess.run(self.command(argv), **kw)

    def popen(self, argv: Sequence[str], **kw: Any) -> subprocess.Popen:
        """subprocess.Popen() of argv inside the namespace (e.g. a tcpdump)."""
        self._env(kw)
        kw.setdefault("preexec_fn", die_with_parent())
        return subprocess.Popen(self.command(argv), **kw)

    # -- ICMP ----------------------------------------------------------------
    def ping(self, ip: str, count: int = 1, timeout: float = 1.0, size: int = 56,
             interval: float = 0.0) -> list[float | None]:
        """ICMP echo from the host address; one RTT in seconds (None: no reply) per request."""
        if not 0 <= size <= 65507 - 8:
            raise BenchNetworkError(f"ping size {size} out of range")
        s = self.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        ident = random.randrange(1, 0x10000)
        rtts: list[float | None] = []
        try:
            for seq in range(count):
                if seq and interval:
                    time.sleep(interval)
                payload = bytes((ident + seq + i) & 0xFF for i in range(size))
                head = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
                pkt = struct.pack("!BBHHH", 8, 0, _icmp_checksum(head + payload), ident, seq) + payload
                t0 = time.perf_counter()
                s.sendto(pkt, (ip, 0))
                deadline = t0 + timeout
                rtt = None
                while rtt is None:
                    left = deadline - time.perf_counter()
                    if left <= 0 or not select.select([s], [], [], left)[0]:
                        break
                    data, src = s.recvfrom(65535)
                    t1 = time.perf_counter()
                    ihl = (data[0] & 0x0F) * 4
                    icmp = data[ihl:]
                    if (len(icmp) >= 8 and src[0] == ip and icmp[0] == 0 and icmp[1] == 0
                            and struct.unpack("!HH", icmp[4:8]) == (ident, seq)
                            and icmp[8:] == payload and _icmp_checksum(icmp) == 0):
                        rtt = t1 - t0
                rtts.append(rtt)
        finally:
            s.close()
        return rtts
