"""Peripheral models in isolation, with a fake machine context and a fake clock."""

import struct

from emulator.boards.lpc1768.emac import Emac
from emulator.boards.lpc1768.sysctl import SysCtl
from emulator.boards.lpc1768.timer import Timer
from emulator.boards.lpc1768.uart import Uart
from emulator.core.scs import Scs


class FakeCtx:
    def __init__(self, pclk=1_000_000):
        self.t = 0
        self.pclk = pclk
        self.lines = {}
        self.mem = bytearray(0x10000)
        self.resets = []
        self.clocks = self          # the clock answers, as LpcClocks gives them

    def now_ns(self):
        return self.t

    def set_irq(self, n, level):
        self.lines[n] = level

    def pclk_hz(self, reg, shift):
        return self.pclk

    def cpu_hz(self):
        return 96_000_000

    def powered(self, bit):
        return True

    def clock_changing(self):
        pass

    def clock_changed(self):
        pass

    def poll_host(self):
        pass

    def request_reset(self, why):
        self.resets.append(why)

    def mem_read(self, addr, n):
        return bytes(self.mem[addr:addr + n])

    def mem_write(self, addr, data):
        self.mem[addr:addr + len(data)] = data


def w(p, off, v):
    p.write(off, 4, v)


def r(p, off):
    return p.read(off, 4)


# -- TIMER -----------------------------------------------------------------------------------

def make_timer(pclk=1_000_000):
    ctx = FakeCtx(pclk)
    t = Timer("TIMER3", ctx, (4,), {"pclk": ("PCLKSEL1", 14), "pconp": 23})
    return ctx, t


def test_timer_counts_with_prescaler():
    ctx, t = make_timer(pclk=24_000_000)
    w(t, 0x0C, 23)                      # PR = 23 -> 1 MHz
    w(t, 0x04, 1)
    ctx.t = 1_500_000_000               # 1.5 s
    assert r(t, 0x08) == 1_500_000
    w(t, 0x04, 0)                       # stop: TC frozen
    ctx.t = 3_000_000_000
    assert r(t, 0x08) == 1_500_000


def test_timer_reset_on_match_period_and_interrupt():
    ctx, t = make_timer()
    w(t, 0x18, 999)                     # MR0
    w(t, 0x14, 0b011)                   # MR0I | MR0R
    w(t, 0x04, 1)
    assert t.next_event_ns() == 999_000
    ctx.t = 999_000
    t.update(ctx.t)
    assert r(t, 0x00) == 1 and ctx.lines[4] is True
    assert r(t, 0x08) == 999
    ctx.t = 1_000_000
    assert r(t, 0x08) == 0               # period (MR0 + 1) ticks
    ctx.t = 2_500_000
    assert r(t, 0x08) == 500
    w(t, 0x00, 1)                        # clear the flag: line drops
    assert ctx.lines[4] is False
    assert t.next_event_ns() == 2_999_000


def test_timer_stop_on_match():
    ctx, t = make_timer()
    w(t, 0x1C, 50)                      # MR1
    w(t, 0x14, 0b100 << 3)              # MR1S
    w(t, 0x04, 1)
    ctx.t = 1_000_000
    t.update(ctx.t)
    assert r(t, 0x08) == 50 and r(t, 0x04) & 1 == 0
    assert r(t, 0x00) == 0              # no MR1I: no flag


def test_timer_counter_reset_holds_zero():
    ctx, t = make_timer()
    w(t, 0x04, 1)
    ctx.t = 10_000
    w(t, 0x04, 3)                       # CEN + CRST
    ctx.t = 20_000
    assert r(t, 0x08) == 0
    w(t, 0x04, 1)
    ctx.t = 25_000
    assert r(t, 0x08) == 5


# -- NVIC ------------------------------------------------------------------------------------

def test_nvic_level_line_repends_after_icpr():
    ctx = FakeCtx()
    n = Scs("SCS", ctx, (), {"irq_lines": 35, "prio_bits": 5})
    w(n, 0x100, 1 << 5)                 # ISER0
    n.set_line(5, True)
    assert n.wake_pending()
    w(n, 0x280, 1 << 5)                 # ICPR0 while the line is high: stays pending
    assert r(n, 0x200) & (1 << 5)
    n.set_line(5, False)
    w(n, 0x280, 1 << 5)
    assert not n.wake_pending()
    n.set_line(28, True)                # pending but not enabled: no wake
    assert r(n, 0x200) & (1 << 28) and not n.wake_pending()


def test_nvic_priority_bits_and_sysresetreq():
    ctx = FakeCtx()
    n = Scs("SCS", ctx, (), {"irq_lines": 35, "prio_bits": 5})
    n.write(0x404, 1, 0xFF)             # IPR byte for IRQ 4
    assert n.read(0x404, 1) == 0xF8
    w(n, 0xD0C, 0x0004)                 # no VECTKEY: ignored
    assert ctx.resets == []
    w(n, 0xD0C, 0x05FA0004)
    assert ctx.resets == ["SYSRESETREQ"]
    assert r(n, 0xD00) == 0x412FC230


def test_systick_counts_and_pends():
    ctx = FakeCtx()
    n = Scs("SCS", ctx, (), {"irq_lines": 35, "prio_bits": 5})
    w(n, 0x014, 95_999)                 # 1 ms at 96 MHz
    w(n, 0x018, 0)
    w(n, 0x010, 7)
    assert n.next_event_ns() == 1_000_000
    ctx.t = 500_000
    assert r(n, 0x018) == 95_999 - 47_999
    ctx.t = 1_000_000
    n.update(ctx.t)
    assert n.sys_pending & (1 << 15) and n.wake_pending()
    assert r(n, 0x010) & (1 << 16)      # COUNTFLAG, cleared by the read
    assert not r(n, 0x010) & (1 << 16)


# -- SC ------------------------------------------------------------------------------------

def test_pll_feed_rule_and_clock():
    ctx = FakeCtx()
    sc = SysCtl("SC", ctx)
    assert sc.cclk_hz() == 4_000_000
    w(sc, 0x10C, 1)                      # main oscillator
    w(sc, 0x104, 2)                      # CCLKSEL = 2 (divide by 3)
    w(sc, 0x084, 11)                     # M = 12
    w(sc, 0x08C, 0xAA)
    w(sc, 0x080, 1)                      # broken feed: interleaved access
    w(sc, 0x08C, 0x55)
    assert r(sc, 0x088) == 0             # nothing active yet
    w(sc, 0x08C, 0xAA)
    w(sc, 0x08C, 0x55)
    assert r(sc, 0x088) == 11 | 1 << 24 | 1 << 26
    w(sc, 0x080, 3)
    w(sc, 0x08C, 0xAA)
    w(sc, 0x08C, 0x55)
    assert r(sc, 0x088) & (7 << 24) == 7 << 24
    assert sc.cclk_hz() == 96_000_000
    assert sc.pclk_hz("PCLKSEL1", 14) == 24_000_000
    assert r(sc, 0x0C4) == 0x042887DE


# -- UART ------------------------------------------------------------------------------------

def test_uart_fifo_backlog_and_irq():
    ctx = FakeCtx()
    u = Uart("UART0", ctx, (5,), {"pclk": ("PCLKSEL0", 6)})
    sent = []
    u.tx_sink = sent.append
    w(u, 0x04, 1)                        # IER RBR
    u.feed(bytes(range(20)))
    assert r(u, 0x58) == 16 and ctx.lines[5] is True   # FIFO full, backlog waits
    assert r(u, 0x08) & 0xF == 0x04                     # IIR: RDA
    got = [r(u, 0x00) for _ in range(20)]
    assert got == list(range(20)) and ctx.lines[5] is False
    assert r(u, 0x14) & 1 == 0 and r(u, 0x14) & 0x60 == 0x60
    u.write(0x00, 1, 0x41)
    assert sent == [0x41]


# -- EMAC ------------------------------------------------------------------------------------

def make_emac(nrx=4):
    ctx = FakeCtx()
    e = Emac("EMAC", ctx, (28,), {"pconp": 30, "phy_addr": 1})
    sent = []
    e.tx_sink = sent.append
    w(e, 0x000, 0x0002)                 # MAC1: leave soft reset
    w(e, 0x004, 0x0030)                 # MAC2: CRC + pad
    for i in range(nrx):                # RX descriptors at 0x1000, statuses 0x2000, buffers 0x4000
        ctx.mem_write(0x1000 + 8 * i, struct.pack("<II", 0x4000 + 0x100 * i, 0x80000000 | 0xFF))
    w(e, 0x108, 0x1000)
    w(e, 0x10C, 0x2000)
    w(e, 0x110, nrx - 1)
    ctx.mem_write(0x3000, struct.pack("<II", 0x8000, (20 - 1) | 1 << 30 | 1 << 31))
    w(e, 0x11C, 0x3000)
    w(e, 0x120, 0x3800)
    w(e, 0x124, 1)
    w(e, 0x040, 0x3020)                 # SA0..2 for 02:00:5e:10:20:30
    w(e, 0x044, 0x105E)
    w(e, 0x048, 0x0002)
    w(e, 0x200, 0x22)                   # broadcast + perfect
    w(e, 0xFE4, 0x88)
    w(e, 0x100, 0x3)
    w(e, 0x000, 0x0003)
    return ctx, e, sent


def test_emac_station_address_order():
    _, e, _ = make_emac()
    assert e.station_address() == bytes.fromhex("02005e102030")


def test_emac_tx_pads_and_raises_txdone():
    ctx, e, sent = make_emac()
    ctx.mem_write(0x8000, b"\xff" * 6 + b"\x02" * 6 + b"\x08\x06" + b"abcdef")
    w(e, 0x128, 1)                      # TxProduceIndex
    assert len(sent) == 1 and len(sent[0]) == 60 and sent[0].endswith(bytes(40))
    assert r(e, 0x12C) == 1 and r(e, 0xFE0) & 0x80 and ctx.lines[28] is True
    w(e, 0xFE8, 0xFFFF)
    assert ctx.lines[28] is False


def test_emac_rx_fragments_filter_and_ring_full():
    ctx, e, _ = make_emac()
    frame = bytes.fromhex("02005e102030") + b"\x0a" * 6 + b"\x08\x00" + bytes(range(256)) * 2
    assert e.receive(frame) == "ok"     # 526 + 4 bytes over 3 x 256-byte buffers
    infos = [struct.unpack_from("<I", ctx.mem, 0x2000 + 8 * i)[0] for i in range(3)]
    assert [i & 0x7FF for i in infos] == [255, 255, 530 - 512 - 1]
    assert [bool(i & 1 << 30) for i in infos] == [False, False, True]
    assert r(e, 0x114) == 3
    data = bytes(ctx.mem[0x4000:0x4100] + ctx.mem[0x4100:0x4200] + ctx.mem[0x4200:0x4212])
    assert data[:-4] == frame
    assert e.receive(bytes.fromhex("0a0000000001") + bytes(60)) == "filtered"
    w(e, 0x118, 3)                      # consume everything
    for _ in range(3):
        assert e.receive(b"\xff" * 6 + bytes(60)) == "ok"
    assert e.receive(b"\xff" * 6 + bytes(60)) == "ring_full"
    assert e.stats["rx_dropped_ring_full"] == 1 and e.stats["rx_dropped_filter"] == 1


def test_emac_short_frames_policy():
    ctx, e, _ = make_emac()
    e.short_frames = "runt"
    w(e, 0x100, 0x3)                    # PassRuntFrame off
    assert e.receive(b"\xff" * 6 + bytes(30)) == "runt"
    w(e, 0x100, 0x43)                   # PassRuntFrame on: delivered unpadded
    assert e.receive(b"\xff" * 6 + bytes(30)) == "ok"
    assert struct.unpack_from("<I", ctx.mem, 0x2000)[0] & 0x7FF == 36 + 4 - 1


def test_phy_over_mii():
    _, e, _ = make_emac()
    w(e, 0x028, 0x0102)                 # PHY 1, PHYIDR1
    w(e, 0x024, 1)
    assert r(e, 0x034) & 1 == 0 and r(e, 0x030) == 0x2000
    w(e, 0x028, 0x0110)                 # PHYSTS
    w(e, 0x024, 1)
    assert r(e, 0x030) & 0x17 == 0x15   # link, 100 Mb/s, full duplex, AN complete
    w(e, 0x024, 0)
    w(e, 0x028, 0x0100)
    w(e, 0x02C, 0x8000)                 # BMCR reset
    w(e, 0x024, 1)
    assert r(e, 0x030) & 0x8000 == 0
    w(e, 0x028, 0x0202)                 # PHY address 2: nobody answers
    w(e, 0x024, 1)
    assert r(e, 0x030) == 0xFFFF
