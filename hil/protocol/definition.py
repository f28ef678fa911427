"""The agent protocol: the one definition both sides are built from.

The host (Python) encodes and decodes frames straight from the tables below; the
firmware's C++ header ``agent_proto.h`` is *generated* from them by ``hil build``
(see :mod:`hil.protocol.codegen`) and never edited by hand.

Wire format (see :mod:`hil.protocol.framing`)::

    0x00 | COBS( type:u8  id:u16  payload...  crc16:u16 ) | 0x00

* ``type`` is a request code (0x01..0x3F), its reply (request | 0x80), an
  event (0x40..0x7F, ``id`` = 0) or ``ERROR`` (0xFF, ``id`` = the offending request
  or 0 when the frame could not be parsed).
* All integers are little-endian.  ``bytes`` fields carry a u16 length prefix.
  ``ip4`` is four bytes in dotted order.  ``str`` is like ``bytes`` (UTF-8).
* Every event starts with the board time in microseconds (``ts_us``, u64).
* The CRC is CRC-16/CCITT-FALSE over type, id and payload.

Console text printed by the firmware travels on the same UART between frames;
the host separates the two (frames never contain a 0x00 byte after COBS).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

PROTOCOL_VERSION = 1

#: Field type name -> (C++ type, fixed size in bytes or None for length-prefixed)
FIELD_TYPES = {
    "u8": ("uint8_t", 1),
    "u16": ("uint16_t", 2),
    "u32": ("uint32_t", 4),
    "i32": ("int32_t", 4),
    "u64": ("uint64_t", 8),
    "ip4": ("IpV4", 4),
    "mac": ("MacAddr", 6),
    "bytes": ("Bytes", None),
    "str": ("Bytes", None),
}

#: Largest payload a frame may carry (type/id/crc excluded).  Both sides reject more.
MAX_PAYLOAD = 1600


@dataclass(frozen=True)
class Field:
    name: str
    type: str

    def __post_init__(self):
        if self.type not in FIELD_TYPES:
            raise ValueError(f"unknown field type {self.type!r} for {self.name!r}")


def _fields(spec: str) -> tuple[Field, ...]:
    """``"handle:u8 ip:ip4"`` -> fields.  A length-prefixed field must come last."""
    out = tuple(Field(*item.split(":")) for item in spec.split())
    for f in out[:-1]:
        if FIELD_TYPES[f.type][1] is None:
            raise ValueError(f"variable-length field {f.name!r} must be the last one")
    return out


@dataclass(frozen=True)
class Command:
    name: str
    code: int
    request: tuple[Field, ...]
    reply: tuple[Field, ...]
    doc: str = ""

    @property
    def reply_code(self) -> int:
        return self.code | 0x80


@dataclass(frozen=True)
class Event:
    name: str
    code: int
    fields: tuple[Field, ...]  # after the implicit ts_us:u64
    doc: str = ""


def command(name, code, request="", reply="", doc=""):
    return Command(name, code, _fields(request), _fields(reply), doc)


def event(name, code, fields="", doc=""):
    return Event(name, code, _fields(fields), doc)


COMMANDS: tuple[Command, ...] = (
    command("HELLO", 0x01, "", "version:u16 proto_hash:u32 max_payload:u16 board:str",
            "Identify the agent; the host checks version and hash before anything else."),
    command("ECHO", 0x02, "data:bytes", "data:bytes",
            "Return the payload unchanged (link check and round-trip benchmark)."),
    command("RESET", 0x03, "", "",
            "Reply, then reset the chip; a BOOT event follows when the agent is back."),
    command("LED_SET", 0x04, "led:u8 on:u8", "leds:u8", "Switch LED1..4; reply = LED bit mask."),
    command("STATS", 0x05, "", "values:bytes",
            "Device counters, u32 each, in the order of STAT_NAMES."),
    command("SPIN", 0x06, "iterations:u32", "elapsed_us:u64",
            "Run a fixed compute loop (4 instructions per iteration) and time it."),
    command("TIME", 0x07, "", "now_us:u64", "The board time now (microseconds since reset)."),
    command("NET_STATIC", 0x10, "ip:ip4 netmask:ip4 gateway:ip4 dns:ip4 mac:mac",
            "result:i32 ip:ip4 mac:mac",
            "Create the EthernetNetIf with a static address (mac 00:00:00:00:00:00 = the "
            "board's own) and run setup(); result is an EthernetErr."),
    command("NET_STATUS", 0x11, "", "up:u8 link:u8 ip:ip4 mac:mac", "Interface state."),
    command("NET_DHCP", 0x12, "timeout_ms:u32 hostname:str", "result:i32 ip:ip4 mac:mac",
            "Create the EthernetNetIf in DHCP mode (host name option when not empty) and "
            "run setup(timeout_ms); result is an EthernetErr."),
    command("NET_INFO", 0x13, "", "ip:ip4 netmask:ip4 gateway:ip4 dns:ip4 polls:u32 hostname:str",
            "Addresses the interface uses, and how many times Net::poll() has run."),
    command("NET_DELETE", 0x14, "", "result:i32", "Destroy the interface (no default interface after)."),
    command("MAC_SET", 0x15, "mac:mac", "result:i32",
            "MAC address for the next NET_STATIC/NET_DHCP (00:00:00:00:00:00 = the board's)."),
    command("UDP_NEW", 0x20, "", "result:i32",
            "Create a UDPSocket wrapper; result is its handle (>= 0) or a UDPSocketErr."),
    command("UDP_DELETE", 0x21, "handle:u8", "result:i32",
            "Destroy the wrapper (its destructor closes the socket)."),
    command("UDP_BIND", 0x22, "handle:u8 ip:ip4 port:u16", "result:i32", "UDPSocket::bind."),
    command("UDP_SENDTO", 0x23, "handle:u8 ip:ip4 port:u16 data:bytes", "result:i32",
            "UDPSocket::sendto; result = bytes sent or a UDPSocketErr."),
    command("UDP_RECVFROM", 0x24, "handle:u8 maxlen:u16", "result:i32 ip:ip4 port:u16 data:bytes",
            "UDPSocket::recvfrom; result = bytes copied, 0 when nothing is queued, or an error."),
    command("UDP_CLOSE", 0x25, "handle:u8", "result:i32", "UDPSocket::close."),
    command("UDP_ON_EVENT", 0x26, "handle:u8 mode:u8", "result:i32",
            "Event callback: mode 0 = resetOnEvent(), 1 = setOnEvent(function), "
            "2 = setOnEvent(object, member).  Events are reported as UDP_EVENT."),
    command("UDP_ECHO", 0x27, "handle:u8 on:u8", "result:i32",
            "When on, the event callback itself drains the socket and sends every "
            "datagram back to its sender (device-side RFC 862 for benchmarks)."),
    command("TCP_NEW", 0x28, "", "result:i32",
            "Create a TCPSocket wrapper; result is its handle (>= 0) or a TCPSocketErr."),
    command("TCP_DELETE", 0x29, "handle:u8", "result:i32", "Destroy the wrapper (closes it)."),
    command("TCP_BIND", 0x2A, "handle:u8 ip:ip4 port:u16", "result:i32", "TCPSocket::bind."),
    command("TCP_LISTEN", 0x2B, "handle:u8", "result:i32", "TCPSocket::listen."),
    command("TCP_CONNECT", 0x2C, "handle:u8 ip:ip4 port:u16", "result:i32", "TCPSocket::connect."),
    command("TCP_ACCEPT", 0x2D, "handle:u8", "result:i32 new_handle:i32 ip:ip4 port:u16",
            "TCPSocket::accept; the accepted socket gets a handle (and no callback yet)."),
    command("TCP_SEND", 0x2E, "handle:u8 data:bytes", "result:i32", "TCPSocket::send."),
    command("TCP_RECV", 0x2F, "handle:u8 maxlen:u16", "result:i32 data:bytes", "TCPSocket::recv."),
    command("TCP_CLOSE", 0x30, "handle:u8", "result:i32", "TCPSocket::close."),
    command("TCP_ON_EVENT", 0x31, "handle:u8 mode:u8", "result:i32",
            "Event callback form, as UDP_ON_EVENT.  Events are reported as TCP_EVENT."),
    command("TCP_STREAM", 0x32, "handle:u8 mode:u8 count:u32", "result:i32",
            "Device-side data mover in the socket's own callback: mode 0 = off, 1 = echo, "
            "2 = sink (count and SHA-256 what arrives), 3 = source (send count bytes of the "
            "pattern i % 251, then close)."),
    command("TCP_STREAM_STATUS", 0x33, "handle:u8", "rx_bytes:u32 tx_bytes:u32 sha256:bytes",
            "Bytes moved by the stream mode, and the SHA-256 of the bytes received."),
    command("TCP_AUTO_ACCEPT", 0x34, "handle:u8 on:u8 stream:u8", "result:i32",
            "The listener accepts inside its own ACCEPT callback, as a server does; each new "
            "socket gets the member callback and the given stream mode (TCP_ACCEPTED event)."),
    command("DNS_NEW", 0x35, "", "result:i32", "Create a DNSRequest; result is its handle."),
    command("DNS_DELETE", 0x36, "handle:u8", "result:i32", "Destroy the DNSRequest."),
    command("DNS_RESOLVE", 0x37, "handle:u8 host_form:u8 name:str", "result:i32",
            "DNSRequest::resolve(const char*), or resolve(Host*) when host_form is 1."),
    command("DNS_GET_RESULT", 0x38, "handle:u8", "result:i32 ip:ip4", "DNSRequest::getResult."),
    command("DNS_CLOSE", 0x39, "handle:u8", "result:i32", "DNSRequest::close."),
    command("DNS_ON_REPLY", 0x3A, "handle:u8 mode:u8", "result:i32",
            "setOnReply form (1 = function, 2 = member; DNSRequest has no reset)."),
    command("SVC_NEW", 0x3C, "owned:u8", "result:i32",
            "Create a NetService (owned by the pool or not) that counts its polls."),
    command("SVC_CLOSE", 0x3D, "handle:u8 from_poll:u8", "result:i32",
            "Call the service's close() now, or from inside its own next poll()."),
    command("SVC_STATUS", 0x3E, "handle:u8", "alive:u8 polls:u32 net_polls:u32",
            "Whether the object still exists, its poll count, and Net::poll()'s count."),
    command("SVC_DELETE", 0x3F, "handle:u8", "result:i32", "delete the service (unowned ones)."),
)

EVENTS: tuple[Event, ...] = (
    event("BOOT", 0x40, "version:u16 reset_cause:u8",
          "The agent started (after power-on or reset)."),
    event("UDP_EVENT", 0x41, "handle:u8 event:u8 mode:u8",
          "A UDPSocket callback ran: event = UDPSocketEvent, mode = which callback form."),
    event("TCP_EVENT", 0x42, "handle:u8 event:u8 mode:u8",
          "A TCPSocket callback ran: event = TCPSocketEvent."),
    event("TCP_ACCEPTED", 0x43, "listener:u8 new_handle:i32 result:i32 ip:ip4 port:u16",
          "Auto-accept: accept() ran inside the listener's callback."),
    event("DNS_REPLY", 0x44, "handle:u8 reply:u8 ip:ip4 host_ip:ip4 mode:u8",
          "A DNSRequest reply callback ran: reply = DNSReply, ip = getResult(), host_ip = "
          "the Host's address for the Host form."),
    event("SVC_DELETED", 0x45, "handle:u8 polls:u32",
          "A NetService's destructor ran (polls = how often it was polled)."),
)

ERROR_CODE = 0xFF
#: ERROR reply payload: ``code:u8``.  Codes:
ERRORS = {
    "BAD_FRAME": 1,      # COBS/length damage
    "BAD_CRC": 2,
    "UNKNOWN_TYPE": 3,
    "BAD_PAYLOAD": 4,    # too short / too long for the type
    "BAD_HANDLE": 5,
    "TOO_LARGE": 6,
}

#: Counters returned by STATS, in order.
STAT_NAMES: tuple[str, ...] = (
    "eth_rx_frames", "eth_tx_frames", "eth_rx_runt", "eth_rx_oversize", "eth_rx_error",
    "eth_rx_overrun", "eth_tx_error",
    "ip_rx", "ip_bad_checksum", "ip_bad_header", "ip_fragments_dropped",
    "udp_rx", "udp_bad_checksum", "udp_no_port", "udp_queue_full",
    "icmp_echo_replied", "arp_rx", "arp_tx", "frames_unknown_type",
    "agent_bad_frames", "agent_bad_crc", "heap_used", "heap_peak",
    "tcp_rx", "tcp_bad_header", "tcp_bad_checksum", "tcp_bad_flags", "tcp_dropped",
    "tcp_no_port", "tcp_syn_dropped", "tcp_ooseq", "tcp_retransmits", "tcp_rst_tx", "tcp_tx",
    "ip_frag_tx", "ip_reassembled", "ip_reasm_timeout", "igmp_rx", "igmp_bad", "igmp_tx",
    "icmp_unreach_tx", "icmp_unreach_ratelimited",
)

# Contract enums from netservices.md section 3 (shared with the Python mirror).
UDPSOCKET_ERRORS = {
    "UDPSOCKET_SETUP": -65534, "UDPSOCKET_IF": -65533, "UDPSOCKET_MEM": -65532,
    "UDPSOCKET_INUSE": -65531, "UDPSOCKET_OK": 0,
}
UDPSOCKET_EVENTS = {"UDPSOCKET_READABLE": 0}
TCPSOCKET_ERRORS = {
    "TCPSOCKET_SETUP": -65534, "TCPSOCKET_TIMEOUT": -65533, "TCPSOCKET_IF": -65532,
    "TCPSOCKET_MEM": -65531, "TCPSOCKET_INUSE": -65530, "TCPSOCKET_EMPTY": -65529,
    "TCPSOCKET_RST": -65528, "TCPSOCKET_OK": 0,
}
TCPSOCKET_EVENTS = {
    "TCPSOCKET_CONNECTED": 0, "TCPSOCKET_ACCEPT": 1, "TCPSOCKET_READABLE": 2,
    "TCPSOCKET_WRITEABLE": 3, "TCPSOCKET_CONTIMEOUT": 4, "TCPSOCKET_CONRST": 5,
    "TCPSOCKET_CONABRT": 6, "TCPSOCKET_ERROR": 7, "TCPSOCKET_DISCONNECTED": 8,
}
DNS_ERRORS = {
    "DNS_SETUP": -65534, "DNS_IF": -65533, "DNS_MEM": -65532, "DNS_INUSE": -65531,
    "DNS_PROCESSING": -65530, "DNS_OK": 0,
}
DNS_REPLIES = {"DNS_PRTCL": 0, "DNS_NOTFOUND": 1, "DNS_ERROR": 2, "DNS_FOUND": 3}
ETHERNET_ERRORS = {"ETH_TIMEOUT": -65534, "ETH_OK": 0}


def all_frames():
    for c in COMMANDS:
        yield c.code, c.name, c.request
        yield c.reply_code, c.name + "_REPLY", c.reply
    for e in EVENTS:
        yield e.code, e.name, (Field("ts_us", "u64"),) + e.fields
    yield ERROR_CODE, "ERROR", (Field("code", "u8"),)


def protocol_hash() -> int:
    """A 32-bit fingerprint of the definition: both sides must agree on it."""
    text = repr((PROTOCOL_VERSION, MAX_PAYLOAD, list(all_frames()), STAT_NAMES))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


def _check():
    codes = [c for c, _, _ in all_frames()]
    if len(codes) != len(set(codes)):
        raise ValueError("duplicate message codes in the protocol definition")
    for c in COMMANDS:
        if not 0x01 <= c.code <= 0x3F:
            raise ValueError(f"{c.name}: request codes are 0x01..0x3F")
    for e in EVENTS:
        if not 0x40 <= e.code <= 0x7F:
            raise ValueError(f"{e.name}: event codes are 0x40..0x7F")


_check()
