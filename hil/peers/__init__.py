"""Protocol peers started per test on the bench network (see :mod:`hil.peers.base`)."""

from . import dnsraw
from .base import Exchange, Peer, PeerError
from .dns import DnsQuery, DnsServer
from .echo import UdpEchoPeer

__all__ = ["DnsQuery", "DnsServer", "Exchange", "Peer", "PeerError", "UdpEchoPeer", "dnsraw"]
