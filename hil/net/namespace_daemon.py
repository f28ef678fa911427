"""Namespace daemon of the bench network.

Started by :class:`hil.net.BenchNetwork` as::

    unshare --user --map-root-user --net -- python -S -m hil.net.namespace_daemon ...

so it runs as "root" of a fresh user namespace inside a fresh network
namespace.  It builds the bench LAN (bridge ``br0`` with the host address),
then serves a unix SOCK_SEQPACKET control socket in the run's work directory.
Each request is one JSON object; each answer is one JSON object, with file
descriptors created inside the namespace attached with SCM_RIGHTS.

The daemon exits when its lifeline pipe reports EOF, i.e. when every copy of
the write end held by the host process is closed -- which the kernel does when
the host process dies, however it dies.

Standard library only, and no imports from the rest of ``hil``: the daemon is
started with ``python -S`` to keep start-up short.
"""

from __future__ import annotations

import argparse
import array
import errno
import fcntl
import ipaddress
import json
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import time

CONTROL_NAME = "daemon.sock"
BRIDGE = "br0"
BRIDGE_MAC = "02:00:c0:00:02:01"  # locally administered, stable across ports
ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_IGNORE_OUTGOING = 23
TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
# ethtool ioctls (linux/sockios.h, linux/ethtool.h): turn off TX checksum, scatter-gather,
# TSO and GSO offloads.
SIOCETHTOOL = 0x8946
ETHTOOL_OFFLOAD_OFF = (0x17, 0x19, 0x1F, 0x24)  # STXCSUM, SSG, STSO, SGSO
MAX_NAME = 12  # IFNAMSIZ-1 = 15, minus the "-p" suffix of the bridge port


class NsdError(Exception):
    """A request failed; the message is sent back to the host."""


def _write(path: str, value: str, missing_ok: bool = False) -> None:
    try:
        with open(path, "w") as f:
            f.write(value)
    except FileNotFoundError:
        if not missing_ok:
            raise


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not name or len(name) > MAX_NAME:
        raise NsdError(f"interface name must be 1..{MAX_NAME} characters, got {name!r}")
    if not all(c.isalnum() or c in "_-" for c in name) or name in (BRIDGE, "lo"):
        raise NsdError(f"invalid interface name {name!r} (letters, digits, '-', '_')")
    return name


class Daemon:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.ip = args.ip
        self.mtu = args.mtu
        self.iface = ipaddress.ip_interface(f"{args.host}/{ipaddress.ip_network(args.subnet).prefixlen}")
        self.links: dict[str, str] = {}  # name -> "veth" | "tap"
        self.sel = selectors.DefaultSelector()
        self.listener: socket.socket | None = None
        self.running = True

    # -- helpers ---------------------------------------------------------
    def ip_batch(self, lines: list[str]) -> None:
        r = subprocess.run([self.ip, "-batch", "-"], input="\n".join(lines) + "\n",
                           capture_output=True, text=True)
        if r.returncode != 0:
            msg = "; ".join(l.strip() for l in r.stderr.splitlines() if l.strip())
            raise NsdError(f"ip: {msg or 'failed'}")

    def no_offload(self, ifname: str) -> None:
        """Checksums and segments complete in software on this interface.

        With offloads on, the kernel hands frames to a veth with the UDP/TCP checksum
        left for "hardware" to fill in (CHECKSUM_PARTIAL) and TCP in 64 KiB
        super-segments; an AF_PACKET reader (the emulated board) would get both as they
        are, and a board must see what a real wire carries.
        """
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            for cmd in ETHTOOL_OFFLOAD_OFF:
                value = array.array("I", [cmd, 0])
                addr, _ = value.buffer_info()
                req = struct.pack("16sP", ifname.encode(), addr)
                try:
                    fcntl.ioctl(sock, SIOCETHTOOL, req)
                except OSError as exc:
                    if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                        raise NsdError(f"cannot turn off offloads on {ifname}: {exc.strerror}")
        finally:
            sock.close()

    def wait_running(self, *ifnames: str, timeout: float = 3.0) -> None:
        """Wait until the kernel has the interfaces' carrier up (IFF_RUNNING).

        Carrier changes are applied by the kernel's link-watch work, which is rate
        limited to once a second across the whole machine; until it runs, the bridge
        does not forward to a new port and the first frames of a board are lost."""
        SIOCGIFFLAGS, IFF_RUNNING = 0x8913, 0x40
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            deadline = time.monotonic() + timeout
            for name in ifnames:
                while True:
                    req = struct.pack("16sH", name.encode(), 0)
                    flags = struct.unpack_from("H", fcntl.ioctl(sock, SIOCGIFFLAGS, req), 16)[0]
                    if flags & IFF_RUNNING:
                        break
                    if time.monotonic() > deadline:
                        raise NsdError(f"link {name} did not come up within {timeout:g} s")
                    time.sleep(0.005)
        finally:
            sock.close()

    def quiet_port(self, ifname: str) -> None:
        """No IPv6 on a link interface (no RS/NS/MLD noise towards the board)."""
        _write(f"/proc/sys/net/ipv6/conf/{ifname}/disable_ipv6", "1", missing_ok=True)

    # -- set-up ----------------------------------------------------------
    def setup(self) -> None:
        a = self.args
        # Per-namespace sysctls: ICMP datagram sockets and low ports for everybody.
        _write("/proc/sys/net/ipv4/ping_group_range", "0 0")  # only gid 0 is mapped
        _write("/proc/sys/net/ipv4/ip_unprivileged_port_start", "0", missing_ok=True)
        if not a.ipv6:
            _write("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1", missing_ok=True)
            _write("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1", missing_ok=True)
        net = self.iface.network
        self.ip_batch([
            "link set lo up",
            f"link add {BRIDGE} address {BRIDGE_MAC} mtu {self.mtu} type bridge"
            " stp_state 0 forward_delay 0 mcast_snooping 0",
            f"addr add {self.iface.with_prefixlen} broadcast {net.broadcast_address} dev {BRIDGE}",
            f"link set {BRIDGE} up",
        ])
        self.no_offload(BRIDGE)
        os.chdir(a.workdir)  # bind a short relative path: sun_path is only 108 bytes
        try:
            os.unlink(CONTROL_NAME)
        except FileNotFoundError:
            pass
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.listener.bind(CONTROL_NAME)
        os.chmod(CONTROL_NAME, 0o600)
        self.listener.listen(8)
        self.sel.register(self.listener, selectors.EVENT_READ, self._accept)
        self.sel.register(a.lifeline, selectors.EVENT_READ, self._lifeline)

    # -- event loop ------------------------------------------------------
    def serve(self) -> None:
        while self.running:
            for key, _ in self.sel.select():
                key.data(key.fileobj)
                if not self.running:
                    break
        self.close()

    def close(self) -> None:
        if self.listener is not None:
            self.listener.close()
            self.listener = None
            try:
                os.unlink(os.path.join(self.args.workdir, CONTROL_NAME))
            except OSError:
                pass

    def _lifeline(self, fd: int) -> None:
        if not os.read(fd, 64):
            self.running = False

    def _accept(self, listener: socket.socket) -> None:
        conn, _ = listener.accept()
        self.sel.register(conn, selectors.EVENT_READ, self._request)

    def _request(self, conn: socket.socket) -> None:
        try:
            data, fds, _, _ = socket.recv_fds(conn, 65536, 4)
        except OSError:
            data, fds = b"", []
        for fd in fds:  # nobody is supposed to send us descriptors
            os.close(fd)
        if not data:
            self.sel.unregister(conn)
            conn.close()
            return
        out: list[int] = []
        try:
            req = json.loads(data)
            handler = getattr(self, "op_" + str(req.get("op")), None)
            if handler is None:
                raise NsdError(f"unknown request {req.get('op')!r}")
            result, out = handler(req)
            reply = {"ok": True, **result}
        except Exception as e:  # a bad request must never kill the daemon
            reply = {"ok": False, "error": str(e) or type(e).__name__}
        try:
            socket.send_fds(conn, [json.dumps(reply).encode()], out)
        except OSError:
            pass
        finally:
            for fd in out:
                os.close(fd)

    # -- requests --------------------------------------------------------
    def op_hello(self, req: dict) -> tuple[dict, list[int]]:
        return {"pid": os.getpid(), "links": self.links}, []

    def op_shutdown(self, req: dict) -> tuple[dict, list[int]]:
        self.running = False
        return {}, []

    def op_socket(self, req: dict) -> tuple[dict, list[int]]:
        s = socket.socket(int(req["family"]), int(req["type"]), int(req.get("proto", 0)))
        try:
            if req.get("bind") is not None:
                s.bind(tuple(req["bind"]))
            return {}, [s.detach()]
        finally:
            s.close()

    def _packet_socket(self, ifname: str, ignore_outgoing: bool) -> int:
        # protocol 0 at creation: nothing is queued before the bind to ifname.
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        try:
            if ignore_outgoing:
                s.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
            s.bind((ifname, ETH_P_ALL))
            return s.detach()
        finally:
            s.close()

    def op_raw(self, req: dict) -> tuple[dict, list[int]]:
        ifname = req.get("ifname") or BRIDGE
        try:  # not /sys/class/net: sysfs shows the namespace of whoever mounted it
            socket.if_nametoindex(ifname)
        except OSError:
            raise NsdError(f"no interface {ifname!r} on the bench network") from None
        return {}, [self._packet_socket(ifname, bool(req.get("ignore_outgoing", False)))]

    def op_add_link(self, req: dict) -> tuple[dict, list[int]]:
        name = _check_name(req.get("name"))
        if name in self.links:
            raise NsdError(f"link {name!r} already exists")
        mtu = int(req.get("mtu") or self.mtu)
        port = name + "-p"
        # The board end belongs to the board: the kernel must neither answer
        # ARP on it (arp off) nor accept IP arriving on it (rp_filter), or the
        # host would answer twice, once through br0 and once through the veth.
        # Without --ipv6 the namespace default already disables IPv6 on new links.
        self.links[name] = "veth"
        try:
            self.ip_batch([  # one ip(8) process: most of the cost is the exec
                f"link add {port} mtu {mtu} master {BRIDGE} type veth"
                f" peer name {name} mtu {mtu} arp off multicast off",
                f"link set {port} up",
                f"link set {name} up",
            ])
            # No frame reaches the board end before its fd exists, so setting
            # these right after "up" leaves no window that matters.
            _write(f"/proc/sys/net/ipv4/conf/{name}/rp_filter", "1")
            self.no_offload(port)
            self.no_offload(name)
            self.wait_running(port, name)
            if self.args.ipv6:
                self.quiet_port(name)
                self.quiet_port(port)
            fd = self._packet_socket(name, ignore_outgoing=True)
        except BaseException:
            self._delete(name)
            raise
        return {"ifname": name, "port": port}, [fd]

    def _delete(self, name: str) -> None:
        self.links.pop(name, None)
        subprocess.run([self.ip, "link", "del", name], capture_output=True)

    def op_remove_link(self, req: dict) -> tuple[dict, list[int]]:
        name = _check_name(req.get("name"))
        if name not in self.links:
            raise NsdError(f"no board link {name!r}")
        self._delete(name)
        return {}, []

    def op_tap_available(self, req: dict) -> tuple[dict, list[int]]:
        try:
            os.close(os.open("/dev/net/tun", os.O_RDWR))
            return {"available": True, "reason": ""}, []
        except OSError as e:
            return {"available": False, "reason": f"/dev/net/tun: {e.strerror}"}, []

    def op_add_tap(self, req: dict) -> tuple[dict, list[int]]:
        name = _check_name(req.get("name"))
        if name in self.links:
            raise NsdError(f"link {name!r} already exists")
        mtu = int(req.get("mtu") or self.mtu)
        try:
            fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
        except OSError as e:
            raise NsdError(f"TAP unavailable: /dev/net/tun: {e.strerror}") from None
        try:
            fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
            self.links[name] = "tap"
            if self.args.ipv6:
                self.quiet_port(name)
            self.ip_batch([
                f"link set {name} mtu {mtu}",
                f"link set {name} master {BRIDGE}",
                f"link set {name} up",
            ])
        except BaseException:
            os.close(fd)  # a non-persistent TAP vanishes with its last fd
            self.links.pop(name, None)
            raise
        return {"ifname": name}, [fd]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m hil.net.namespace_daemon",
                                description=__doc__.splitlines()[0])
    p.add_argument("--workdir", required=True)
    p.add_argument("--lifeline", type=int, required=True, help="fd: read end of the host's pipe")
    p.add_argument("--status", type=int, required=True, help="fd: one JSON line when ready")
    p.add_argument("--subnet", default="192.0.2.0/24")
    p.add_argument("--host", default="192.0.2.1")
    p.add_argument("--mtu", type=int, default=1500)
    p.add_argument("--ipv6", action="store_true")
    p.add_argument("--ip", default="ip", help="path of the ip(8) command")
    args = p.parse_args(argv)
    # The host owns our lifetime (lifeline pipe); a Ctrl-C on the terminal
    # must not kill us before the host has cleaned up.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    t0 = time.perf_counter()
    daemon = Daemon(args)
    try:
        daemon.setup()
    except Exception as e:
        status = {"ok": False, "error": f"{e}"}
    else:
        status = {"ok": True, "pid": os.getpid(), "setup_s": time.perf_counter() - t0}
    os.write(args.status, (json.dumps(status) + "\n").encode())
    os.close(args.status)
    if not status["ok"]:
        daemon.close()
        return 1
    daemon.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
