"""Protocol peers started per test on the bench network (see :mod:`hil.peers.base`)."""

from . import dhcpmsg, dnsraw
from .base import Exchange, Peer, PeerError
from .dhcp import DhcpRecord, DhcpServer
from .dns import DnsQuery, DnsServer
from .echo import UdpEchoPeer
from .multicast import Datagram, MulticastListener, MulticastSender
from .tcp import (TcpAcceptor, TcpChargenServer, TcpConnLog, TcpDaytimeServer, TcpDiscardServer,
                  TcpEchoServer, TcpServer, chargen_bytes, net_connect)

__all__ = ["DhcpRecord", "DhcpServer", "dhcpmsg", "DnsQuery", "DnsServer", "Exchange", "Peer", "PeerError", "UdpEchoPeer", "dnsraw",
           "Datagram", "MulticastListener", "MulticastSender",
           "TcpAcceptor", "TcpChargenServer", "TcpConnLog", "TcpDaytimeServer", "TcpDiscardServer",
           "TcpEchoServer", "TcpServer", "chargen_bytes", "net_connect"]
