"""Protocol peers started per test on the bench network (see :mod:`hil.peers.base`)."""

from .base import Exchange, Peer, PeerError
from .echo import UdpEchoPeer

__all__ = ["Exchange", "Peer", "PeerError", "UdpEchoPeer"]
