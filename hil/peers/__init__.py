"""Protocol peers started per test on the bench network (see :mod:`hil.peers.base`).

Names are imported on first use, so ``import hil.peers.echo`` needs nothing beyond the
standard library (the DNS peer needs dnslib only when it is used).
"""

import importlib

_WHERE = {
    "Exchange": "base", "Peer": "base", "PeerError": "base",
    "DhcpRecord": "dhcp", "DhcpServer": "dhcp",
    "DnsQuery": "dns", "DnsServer": "dns",
    "UdpEchoPeer": "echo",
    "Datagram": "multicast", "MulticastListener": "multicast", "MulticastSender": "multicast",
    "TcpChargenServer": "tcp", "TcpConnLog": "tcp",
    "TcpDaytimeServer": "tcp", "TcpDiscardServer": "tcp", "TcpEchoServer": "tcp",
    "TcpServer": "tcp", "chargen_bytes": "tcp",
    "TcpAcceptor": "tcp_client", "connect_at_once": "tcp_client", "net_connect": "tcp_client",
    "reset_close": "tcp_client",
}
_MODULES = ("dhcpmsg", "dnsraw")

__all__ = sorted(_WHERE) + list(_MODULES)


def __getattr__(name):
    if name in _MODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
