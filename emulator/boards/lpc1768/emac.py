"""LPC1768 Ethernet MAC (EMAC) with descriptor DMA and the DP83848 PHY (reference 7, 8).

Transmit: whenever Command.TxEnable=1 and TxProduceIndex != TxConsumeIndex (checked on a
TxProduceIndex or Command write) the MAC gathers descriptors from TxConsumeIndex up to
one with Last=1, pads to 60 bytes when padding is on (descriptor Override bits or MAC2),
hands the frame (without FCS) to the link, writes a status word of 0 per descriptor,
advances TxConsumeIndex, raises TxDone if a descriptor had Interrupt=1 and TxFinished when
the queue is empty.  A frame whose Last descriptor is missing gets NoDescriptor+Error in
its statuses and raises TxError.  With CRC appending off (MAC2.CRC_EN=0 and no override)
the last 4 bytes in memory are the software FCS and are not put on the link.

Receive (frame from the link): needs MAC1.RECEIVE_ENABLE, Command.RxEnable and no RX
reset bits held.  Short frames: policy "pad" (default) pads to 60 bytes, as the sending
NIC would have on a real wire; policy "runt" delivers them unpadded when
Command.PassRuntFrame=1 (no error bits, RxSize counts the FCS) and drops them otherwise.
Filter per RxFilterCtrl (perfect match against SA2/SA1/SA0 in the driver byte order of
reference 7.2, hash filter with CRC bits 28:23), or everything with PassRxFilter.
The MAC appends the 4-byte FCS and counts it in RxSize (= bytes in the buffer - 1).
Ring full (produce+1 == consume) -> frame dropped and counted, no RxOverrun.  A frame that
runs out of descriptors midway gets NoDescriptor+Error+LastFlag in the last status written
and raises RxError.  MAXF is not enforced: long frames span descriptors.
RangeError is never set.  ENET IRQ = (IntStatus & IntEnable) != 0.
"""

import struct
import zlib

from ...core.regs import Field, Peripheral, Reg
from .phy import Dp83848

_CMD_RXEN, _CMD_TXEN = 1 << 0, 1 << 1
_CMD_REGRESET, _CMD_TXRESET, _CMD_RXRESET = 1 << 3, 1 << 4, 1 << 5
_CMD_PASSRUNT, _CMD_PASSFILTER = 1 << 6, 1 << 7

INT_RXOVERRUN, INT_RXERROR, INT_RXFINISHED, INT_RXDONE = 1, 2, 4, 8
INT_TXUNDERRUN, INT_TXERROR, INT_TXFINISHED, INT_TXDONE = 16, 32, 64, 128
INT_SOFT, INT_WAKEUP = 1 << 12, 1 << 13

RX_LAST, RX_ERROR, RX_NODESC = 1 << 30, 1 << 31, 1 << 29
RX_MULTICAST, RX_BROADCAST, RX_FAILFILTER = 1 << 21, 1 << 22, 1 << 20
RX_CRCERROR = 1 << 23
TX_LAST, TX_INT, TX_OVERRIDE, TX_PAD, TX_CRC = 1 << 30, 1 << 31, 1 << 26, 1 << 28, 1 << 29
TXS_NODESC, TXS_ERROR = 1 << 30, 1 << 31

_LOCAL_SRAM = (0x1000_0000, 0x1000_8000)


def _idx(name, offset):
    return Reg(name, offset, fields=(Field("INDEX", 0, 16),))


class Emac(Peripheral):
    REGISTERS = (
        Reg("MAC1", 0x000, reset=0x8000,
            fields=(Field("RECEIVE_ENABLE", 0), Field("PASS_ALL", 1),
                    Field("RX_FLOW", 2, implemented=False), Field("TX_FLOW", 3, implemented=False),
                    Field("LOOPBACK", 4, implemented=False), Field("RESET_TX", 8),
                    Field("RESET_MCS_TX", 9), Field("RESET_RX", 10), Field("RESET_MCS_RX", 11),
                    Field("SIM_RESET", 14), Field("SOFT_RESET", 15))),
        Reg("MAC2", 0x004, fields=(Field("FULL_DUPLEX", 0), Field("FRAME_LEN_CHECK", 1, implemented=False),
                                   Field("HUGE_FRAME", 2), Field("DELAYED_CRC", 3, implemented=False),
                                   Field("CRC_EN", 4), Field("PAD_CRC_EN", 5),
                                   Field("VLAN_PAD", 6), Field("AUTO_PAD", 7),
                                   Field("PURE_PREAMBLE", 8), Field("LONG_PREAMBLE", 9),
                                   Field("NO_BACKOFF", 12), Field("BACKPRESSURE", 13),
                                   Field("EXCESS_DEFER", 14))),
        Reg("IPGT", 0x008, writable=0x7F),
        Reg("IPGR", 0x00C, writable=0x7F7F),
        Reg("CLRT", 0x010, reset=0x370F, writable=0x3F0F),
        Reg("MAXF", 0x014, reset=0x0600, writable=0xFFFF),
        Reg("SUPP", 0x018, fields=(Field("SPEED", 8),)),
        Reg("TEST", 0x01C, fields=(Field("SHORTCUT_PAUSE", 0, implemented=False),
                                   Field("TEST_PAUSE", 1, implemented=False),
                                   Field("TEST_BACKPRESSURE", 2, implemented=False))),
        Reg("MCFG", 0x020, fields=(Field("SCAN_INC", 0), Field("SUPP_PREAMBLE", 1),
                                   Field("CLOCK_SELECT", 2, 4), Field("RESET_MII_MGMT", 15))),
        Reg("MCMD", 0x024, fields=(Field("READ", 0), Field("SCAN", 1, implemented=False))),
        Reg("MADR", 0x028, fields=(Field("REG", 0, 5), Field("PHY", 8, 5))),
        Reg("MWTD", 0x02C, access="wo"),
        Reg("MRDD", 0x030, access="ro"),
        Reg("MIND", 0x034, access="ro"),
        Reg("SA0", 0x040, writable=0xFFFF),
        Reg("SA1", 0x044, writable=0xFFFF),
        Reg("SA2", 0x048, writable=0xFFFF),
        Reg("Command", 0x100, fields=(Field("RxEnable", 0), Field("TxEnable", 1),
                                      Field("RegReset", 3), Field("TxReset", 4),
                                      Field("RxReset", 5), Field("PassRuntFrame", 6),
                                      Field("PassRxFilter", 7),
                                      Field("TxFlowControl", 8, implemented=False),
                                      Field("RMII", 9), Field("FullDuplex", 10))),
        Reg("Status", 0x104, access="ro"),
        Reg("RxDescriptor", 0x108, writable=0xFFFFFFFC),
        Reg("RxStatus", 0x10C, writable=0xFFFFFFF8),
        _idx("RxDescriptorNumber", 0x110),
        Reg("RxProduceIndex", 0x114, access="ro"),
        _idx("RxConsumeIndex", 0x118),
        Reg("TxDescriptor", 0x11C, writable=0xFFFFFFFC),
        Reg("TxStatus", 0x120, writable=0xFFFFFFFC),
        _idx("TxDescriptorNumber", 0x124),
        _idx("TxProduceIndex", 0x128),
        Reg("TxConsumeIndex", 0x12C, access="ro"),
        Reg("TSV0", 0x158, access="ro"),
        Reg("TSV1", 0x15C, access="ro"),
        Reg("RSV", 0x160, access="ro"),
        Reg("FlowControlCounter", 0x170),
        Reg("FlowControlStatus", 0x174, access="ro"),
        Reg("RxFilterCtrl", 0x200, fields=(Field("AcceptUnicastEn", 0), Field("AcceptBroadcastEn", 1),
                                           Field("AcceptMulticastEn", 2), Field("AcceptUnicastHashEn", 3),
                                           Field("AcceptMulticastHashEn", 4), Field("AcceptPerfectEn", 5),
                                           Field("MagicPacketEnWoL", 12, implemented=False),
                                           Field("RxFilterEnWoL", 13, implemented=False))),
        Reg("RxFilterWoLStatus", 0x204, access="ro"),
        Reg("RxFilterWoLClear", 0x208, access="wo"),
        Reg("HashFilterL", 0x210),
        Reg("HashFilterH", 0x214),
        Reg("IntStatus", 0xFE0, access="ro"),
        Reg("IntEnable", 0xFE4, writable=0x30FF),
        Reg("IntClear", 0xFE8, access="wo"),
        Reg("IntSet", 0xFEC, access="wo"),
        Reg("PowerDown", 0xFF4, fields=(Field("PowerDownMACAHB", 31, implemented=False),)),
        Reg("ModuleID", 0xFFC, reset=0x39022000, access="ro"),
    )

    def __init__(self, name, ctx, irqs=(), extra=None):
        self.phy = Dp83848(address=(extra or {}).get("phy_addr", 1))
        self.tx_sink = None                   # callable(bytes) installed by the machine
        self.short_frames = "pad"             # or "runt"
        self.on_rx_space = None               # called when a full ring gets room again
        self.stats = {}
        super().__init__(name, ctx, irqs, extra)

    def reset(self):
        super().reset()
        self.phy.reset()
        self.stats = dict(tx_frames=0, rx_frames=0, rx_dropped_filter=0,
                          rx_dropped_ring_full=0, rx_dropped_disabled=0, rx_dropped_runt=0,
                          tx_errors=0)
        self._mii_reading = False

    # -- helpers -------------------------------------------------------------------------------
    def _irq(self):
        self.set_irq(bool(self.r["IntStatus"] & self.r["IntEnable"]))

    def _raise(self, bits):
        self.r["IntStatus"] |= bits
        self._irq()

    def _dma_check(self, addr):
        if _LOCAL_SRAM[0] <= addr < _LOCAL_SRAM[1]:
            self.log_once("dma-local", "DMA to local SRAM 0x%08X (not reachable on silicon)", addr)

    def station_address(self):
        sa0, sa1, sa2 = self.r["SA0"], self.r["SA1"], self.r["SA2"]
        return bytes((sa2 & 0xFF, sa2 >> 8, sa1 & 0xFF, sa1 >> 8, sa0 & 0xFF, sa0 >> 8))

    def rx_enabled(self):
        return (self.r["MAC1"] & 1 and not self.r["MAC1"] & 0xCC00
                and self.r["Command"] & _CMD_RXEN)

    # -- MII management ----------------------------------------------------------------------
    def _phy_for(self):
        madr = self.r["MADR"]
        return ((madr >> 8) & 0x1F) == self.phy.address, madr & 0x1F

    def _mii_read(self):
        ours, reg = self._phy_for()
        self.r["MRDD"] = self.phy.read(reg) if ours else 0xFFFF

    def write_MCMD(self, value, mask):
        self.r["MCMD"] = ((self.r["MCMD"] & ~mask) | (value & mask)) & 3
        if self.r["MCMD"] & 1:
            self._mii_read()
        if self.r["MCMD"] & 2:
            self.log_once("scan", "MII scan mode not modelled (single read done)")

    def write_MADR(self, value, mask):
        self.r["MADR"] = ((self.r["MADR"] & ~mask) | (value & mask)) & 0x1F1F
        if self.r["MCMD"] & 1:
            self._mii_read()                   # NuttX sets MCMD.READ before MADR

    def write_MWTD(self, value, mask):
        ours, reg = self._phy_for()
        if ours:
            self.phy.write(reg, value & 0xFFFF)

    def read_MIND(self):
        return 0 if self.phy.link_up else 0x8   # never busy; bit 3 MII link fail

    # -- command / status ----------------------------------------------------------------------
    def write_Command(self, value, mask):
        value = (self.r["Command"] & ~mask) | (value & mask)
        if value & _CMD_REGRESET:
            for name in ("RxDescriptor", "RxStatus", "RxDescriptorNumber", "RxProduceIndex",
                         "RxConsumeIndex", "TxDescriptor", "TxStatus", "TxDescriptorNumber",
                         "TxProduceIndex", "TxConsumeIndex", "IntStatus", "IntEnable",
                         "RxFilterCtrl", "TSV0", "TSV1", "RSV"):
                self.r[name] = 0
            value &= ~(_CMD_RXEN | _CMD_TXEN)
        if value & _CMD_TXRESET:
            self.r["TxProduceIndex"] = self.r["TxConsumeIndex"] = 0
            value &= ~_CMD_TXEN
        if value & _CMD_RXRESET:
            self.r["RxProduceIndex"] = self.r["RxConsumeIndex"] = 0
            value &= ~_CMD_RXEN
        self.r["Command"] = value & 0x7C7 & ~(_CMD_REGRESET | _CMD_TXRESET | _CMD_RXRESET)
        self._irq()
        self._tx_run()
        if self.on_rx_space is not None and self.can_receive():
            self.on_rx_space()              # a receive reset empties the ring

    def read_Status(self):
        cmd = self.r["Command"]
        value = 1 if cmd & _CMD_RXEN else 0
        if cmd & _CMD_TXEN and self.r["TxProduceIndex"] != self.r["TxConsumeIndex"]:
            value |= 2
        return value

    def write_IntClear(self, value, mask):
        self.r["IntStatus"] &= ~(value & mask)
        self._irq()

    def write_IntSet(self, value, mask):
        self._raise(value & mask & 0x30FF)

    def write_IntEnable(self, value, mask):
        self.r["IntEnable"] = ((self.r["IntEnable"] & ~mask) | (value & mask)) & 0x30FF
        self._irq()

    def write_RxFilterWoLClear(self, value, mask):
        self.r["RxFilterWoLStatus"] &= ~(value & mask)

    def write_TxProduceIndex(self, value, mask):
        n = self.r["TxDescriptorNumber"] + 1
        self.r["TxProduceIndex"] = ((self.r["TxProduceIndex"] & ~mask) | (value & mask)) & 0xFFFF
        if self.r["TxProduceIndex"] >= n:
            self.log_once("txpi", "TxProduceIndex %d beyond the ring (%d)",
                          self.r["TxProduceIndex"], n)
        self._tx_run()

    # -- transmit ------------------------------------------------------------------------------
    def _tx_run(self):
        r = self.r
        if not r["Command"] & _CMD_TXEN or r["MAC1"] & 0xC300:
            return
        n = r["TxDescriptorNumber"] + 1
        produce = r["TxProduceIndex"] % n
        base, sbase = r["TxDescriptor"], r["TxStatus"]
        mem_read, mem_write = self.ctx.mem_read, self.ctx.mem_write
        raised = 0
        while r["TxConsumeIndex"] != produce:
            idx = r["TxConsumeIndex"]
            parts, used, last, ctrl, ctrl_any = [], [], False, 0, 0
            while idx != produce:
                pkt, ctrl = struct.unpack("<II", mem_read(base + 8 * idx, 8))
                self._dma_check(pkt)
                parts.append(mem_read(pkt, (ctrl & 0x7FF) + 1))
                used.append(idx)
                ctrl_any |= ctrl
                idx = (idx + 1) % n
                if ctrl & TX_LAST:
                    last = True
                    break
            interrupt = ctrl_any & TX_INT
            if not last:
                for i in used:
                    mem_write(sbase + 4 * i, struct.pack("<I", TXS_NODESC | TXS_ERROR))
                r["TxConsumeIndex"] = idx
                self.stats["tx_errors"] += 1
                raised |= INT_TXERROR
                break
            frame = b"".join(parts)
            if ctrl & TX_OVERRIDE:
                pad, crc = ctrl & TX_PAD, ctrl & TX_CRC
            else:
                mac2 = r["MAC2"]
                pad, crc = mac2 & 0x20, mac2 & 0x10 or mac2 & 0x20
            if not crc and len(frame) >= 4:
                frame = frame[:-4]                 # software supplied the FCS
            if pad and len(frame) < 60:
                frame += bytes(60 - len(frame))
            for i in used:
                mem_write(sbase + 4 * i, b"\0\0\0\0")
            r["TxConsumeIndex"] = idx
            self.stats["tx_frames"] += 1
            r["TSV1"] = len(frame) + 4
            r["TSV0"] = 0x8 | (len(frame) + 4) << 12 | self._cast_bits(frame, 4, 5)
            if interrupt:
                raised |= INT_TXDONE
            if self.tx_sink is not None:
                self.tx_sink(bytes(frame))
        if r["TxConsumeIndex"] == produce:
            raised |= INT_TXFINISHED
        if raised:
            self._raise(raised)

    @staticmethod
    def _cast_bits(frame, mbit, bbit):
        if frame[:6] == b"\xff" * 6:
            return 1 << bbit
        if frame[0] & 1:
            return 1 << mbit
        return 0

    # -- receive --------------------------------------------------------------------------------
    def _hash_hit(self, da):
        crc = zlib.crc32(da)
        index = (crc >> 23) & 0x3F
        table = self.r["HashFilterH"] << 32 | self.r["HashFilterL"]
        return bool(table >> index & 1)

    def _accept(self, da):
        flt = self.r["RxFilterCtrl"]
        if da == b"\xff" * 6:
            if flt & 2:
                return True
        elif da[0] & 1:
            if flt & 4 or (flt & 16 and self._hash_hit(da)):
                return True
        else:
            if flt & 1 or (flt & 8 and self._hash_hit(da)):
                return True
        return bool(flt & 0x20 and da == self.station_address())

    def can_receive(self):
        """True unless receive is on and the ring has no free descriptor."""
        r = self.r
        if not self.rx_enabled():
            return True                        # frames are dropped (counted), not held
        n = r["RxDescriptorNumber"] + 1
        return (r["RxProduceIndex"] % n + 1) % n != r["RxConsumeIndex"] % n

    def write_RxConsumeIndex(self, value, mask):
        self.r["RxConsumeIndex"] = ((self.r["RxConsumeIndex"] & ~mask) | (value & mask)) & 0xFFFF
        if self.on_rx_space is not None and self.can_receive():
            self.on_rx_space()

    def receive(self, frame, fcs_ok=True, as_is=False):
        """A frame (no FCS) arrives from the link.  Returns a short outcome string.

        ``as_is`` (control channel ``inject``): no padding of short frames, so a runt
        stays a runt; ``fcs_ok=False`` delivers the frame with a wrong FCS and CRCError."""
        r = self.r
        if not self.rx_enabled():
            self.stats["rx_dropped_disabled"] += 1
            return "disabled"
        if len(frame) < 14:
            self.stats["rx_dropped_runt"] += 1
            return "runt"
        if len(frame) < 60:
            if self.short_frames == "pad" and not as_is:
                frame = bytes(frame) + bytes(60 - len(frame))
            elif not r["Command"] & _CMD_PASSRUNT:
                self.stats["rx_dropped_runt"] += 1
                return "runt"
        da = bytes(frame[:6])
        flags = 0
        if not self._accept(da):
            if not r["Command"] & _CMD_PASSFILTER:
                self.stats["rx_dropped_filter"] += 1
                return "filtered"
            flags |= RX_FAILFILTER
        flags |= self._cast_bits(da, 21, 22)
        n = r["RxDescriptorNumber"] + 1
        produce, consume = r["RxProduceIndex"] % n, r["RxConsumeIndex"] % n
        if (produce + 1) % n == consume:
            self.stats["rx_dropped_ring_full"] += 1
            return "ring_full"
        fcs = zlib.crc32(frame) & 0xFFFFFFFF
        if not fcs_ok:
            fcs ^= 0xA5A5A5A5
            flags |= RX_CRCERROR | RX_ERROR
        data = bytes(frame) + struct.pack("<I", fcs)
        hashword = ((zlib.crc32(da) >> 23) & 0x1FF) << 16 | ((zlib.crc32(bytes(frame[6:12])) >> 23) & 0x1FF)
        base, sbase = r["RxDescriptor"], r["RxStatus"]
        mem_read, mem_write = self.ctx.mem_read, self.ctx.mem_write
        off, raised, outcome = 0, 0, "ok"
        while True:
            pkt, ctrl = struct.unpack("<II", mem_read(base + 8 * produce, 8))
            self._dma_check(pkt)
            size = (ctrl & 0x7FF) + 1
            chunk = data[off:off + size]
            mem_write(pkt, chunk)
            off += len(chunk)
            status = len(chunk) - 1
            nxt = (produce + 1) % n
            if off >= len(data):
                status |= RX_LAST | flags
            elif (nxt + 1) % n == consume:
                status |= RX_LAST | RX_NODESC | RX_ERROR | flags
                raised |= INT_RXERROR
                outcome = "truncated"
            mem_write(sbase + 8 * produce, struct.pack("<II", status, hashword))
            if ctrl & (1 << 31):
                raised |= INT_RXDONE
            produce = nxt
            if status & RX_LAST:
                break
        r["RxProduceIndex"] = produce
        r["RSV"] = (len(data) & 0xFFFF) | 1 << 23 | self._cast_bits(da, 24, 25)
        if outcome == "ok":
            self.stats["rx_frames"] += 1
        else:
            self.stats["rx_dropped_ring_full"] += 1
        if (produce + 1) % n == consume:
            raised |= INT_RXFINISHED
        if raised:
            self._raise(raised)
        return outcome
