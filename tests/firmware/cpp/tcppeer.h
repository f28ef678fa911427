// TCP test helpers shared by the host test programs: a scripted peer (crafted segments,
// own checksum code), a listener with one accepted connection, set-up and clean-up.
// Everything is in an anonymous namespace: each program gets its own copy.
#pragma once
#include <string.h>

#include <string>
#include <vector>

#include "EthernetNetIf.h"
#include "TCPSocket.h"
#include "net.h"
#include "netstack.h"
#include "tcp.h"
#include "testlib.h"

namespace t {
inline std::string show(const std::vector<int>& v) {
    std::string s = "{";
    for (size_t i = 0; i < v.size(); i++) s += (i ? "," : "") + std::to_string(v[i]);
    return s + "}";
}
inline std::string show(const IpAddr& a) {
    return std::to_string(a[0]) + "." + std::to_string(a[1]) + "." + std::to_string(a[2]) + "." +
           std::to_string(a[3]);
}
}  // namespace t

// Heap in use (ASan's allocator counts every live block).
extern "C" size_t __sanitizer_get_current_allocated_bytes();

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
namespace {

enum { F = 0x01, S = 0x02, R = 0x04, P = 0x08, A = 0x10 };

void put16(Bytes& b, size_t at, uint16_t v) {
    b[at] = (uint8_t)(v >> 8);
    b[at + 1] = (uint8_t)v;
}
void put32(Bytes& b, size_t at, uint32_t v) {
    put16(b, at, (uint16_t)(v >> 16));
    put16(b, at + 2, (uint16_t)v);
}
uint16_t g16(const Bytes& b, size_t at) { return (uint16_t)(b[at] << 8 | b[at + 1]); }
uint32_t g32(const Bytes& b, size_t at) { return (uint32_t)g16(b, at) << 16 | g16(b, at + 2); }

uint32_t pseudo(uint32_t src, uint32_t dst, size_t len) {
    return (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + 6 + (uint32_t)len;
}

struct SegOpt {
    Bytes opts;
    bool bad_csum = false;
    uint16_t wnd = 8192;
    uint32_t src = 0;  // 0: PEER_IP
};

Bytes tcpseg(uint32_t src, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t fl,
             const Bytes& data, const SegOpt& o) {
    size_t hl = 20 + o.opts.size();
    Bytes b(hl);
    put16(b, 0, sport);
    put16(b, 2, dport);
    put32(b, 4, seq);
    put32(b, 8, ack);
    b[12] = (uint8_t)((hl / 4) << 4);
    b[13] = fl;
    put16(b, 14, o.wnd);
    for (size_t i = 0; i < o.opts.size(); i++) b[20 + i] = o.opts[i];
    b.insert(b.end(), data.begin(), data.end());
    uint16_t c = csum(b.data(), b.size(), pseudo(src, MY_IP, b.size()));
    put16(b, 16, o.bad_csum ? (uint16_t)(c ^ 0x5555) : c);
    return b;
}

struct Seg {
    bool ok = false;
    uint16_t sport = 0, dport = 0;
    uint32_t seq = 0, ack = 0;
    uint8_t flags = 0;
    uint16_t wnd = 0, mss = 0;
    Bytes opts;  // the option bytes, as sent
    Bytes data;
};

Seg ptcp(const Bytes& f) {
    Seg s;
    Parsed p = parse(f);
    if (!p.ok || p.type != 0x0800 || p.ip_proto != 6) return s;
    size_t ihl = (f[14] & 15) * 4u;
    size_t total = g16(f, 16);
    Bytes t(f.begin() + 14 + (long)ihl, f.begin() + 14 + (long)total);
    if (t.size() < 20) return s;
    if (csum(t.data(), t.size(), pseudo(p.ip_src, p.ip_dst, t.size())) != 0) return s;
    s.sport = g16(t, 0);
    s.dport = g16(t, 2);
    s.seq = g32(t, 4);
    s.ack = g32(t, 8);
    s.flags = t[13];
    s.wnd = g16(t, 14);
    size_t doff = (t[12] >> 4) * 4u;
    if (doff > 20 && t[20] == 2 && t[21] == 4) s.mss = g16(t, 22);
    if (doff > t.size()) return s;
    s.opts.assign(t.begin() + 20, t.begin() + (long)doff);
    s.data.assign(t.begin() + (long)doff, t.end());
    s.ok = true;
    return s;
}

// All TCP segments sent since the last call (other frames are dropped).
std::vector<Seg> out() {
    std::vector<Seg> v;
    for (auto& f : host_board::tx_take_all()) {
        Seg s = ptcp(f);
        if (s.ok) v.push_back(s);
    }
    return v;
}

// The scripted remote end of one connection.
struct Peer {
    uint16_t port = 40000;
    uint16_t myPort = 7;  // the board's port
    uint32_t seq = 1000;  // next sequence number the peer sends
    uint32_t ack = 0;     // next sequence number expected from the board
    uint16_t wnd = 8192;
    void send(uint8_t fl, const Bytes& data = Bytes(), const SegOpt& o0 = SegOpt()) {
        SegOpt o = o0;
        if (o0.wnd == 8192) o.wnd = wnd;
        uint32_t src = o.src ? o.src : PEER_IP;
        host_board::inject(eth(MY_MAC, PEER_MAC, 0x0800,
                               ipv4(src, MY_IP, 6, tcpseg(src, port, myPort, seq, ack, fl, data, o))));
        seq += (uint32_t)data.size() + ((fl & S) ? 1 : 0) + ((fl & F) ? 1 : 0);
    }
    void sendAt(uint32_t s, uint8_t fl, const Bytes& data = Bytes()) {
        uint32_t keep = seq;
        seq = s;
        send(fl, data);
        seq = keep;
    }
};

Bytes mssOpt(uint16_t m) { return Bytes{2, 4, (uint8_t)(m >> 8), (uint8_t)m}; }
// MSS + NOP NOP SACK-permitted, as a SYN offering SACK carries them.
Bytes mssSackOpt(uint16_t m) {
    Bytes b = mssOpt(m);
    b.insert(b.end(), {1, 1, 4, 2});
    return b;
}
// A SACK option (NOP NOP kind 5) with the given blocks.
Bytes sackOpt(const std::vector<std::pair<uint32_t, uint32_t>>& blocks) {
    Bytes b{1, 1, 5, (uint8_t)(2 + 8 * blocks.size())};
    for (auto& bl : blocks)
        for (uint32_t v : {bl.first, bl.second})
            b.insert(b.end(), {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v});
    return b;
}

// Walks a segment's options: the kinds present, in order, and the SACK blocks.
struct Opts {
    bool ok = true;  // well formed
    std::vector<int> kinds;
    std::vector<std::pair<uint32_t, uint32_t>> sack;
    bool has(int k) const {
        for (int x : kinds)
            if (x == k) return true;
        return false;
    }
};
Opts opts(const Bytes& o) {
    Opts r;
    for (size_t i = 0; i < o.size();) {
        int k = o[i];
        if (k == 0) break;
        if (k == 1) {
            i++;
            continue;
        }
        if (i + 1 >= o.size() || o[i + 1] < 2 || i + o[i + 1] > o.size()) {
            r.ok = false;
            break;
        }
        int l = o[i + 1];
        r.kinds.push_back(k);
        if (k == 5)
            for (int j = 2; j + 8 <= l; j += 8)
                r.sack.push_back({g32(o, i + j), g32(o, i + j + 4)});
        i += l;
    }
    return r;
}

std::vector<int> g_ev;
void onEv(TCPSocketEvent e) { g_ev.push_back((int)e); }
std::vector<int> g_ev2;
void onEv2(TCPSocketEvent e) { g_ev2.push_back((int)e); }

// A listener on port 7 and one accepted connection from peer (handshake done, polled).
struct Server {
    TCPSocket lis;
    TCPSocket* conn = nullptr;
    Peer peer;
    uint32_t iss = 0;
    void listen() {
        lis.setOnEvent(&onEv);
        CHECK_EQ(lis.bind(Host(IpAddr(), 7, NULL)), TCPSOCKET_OK);
        CHECK_EQ(lis.listen(), TCPSOCKET_OK);
    }
    bool sackOffered = false;  // our SYN-ACK carried SACK-permitted
    void open(uint16_t peerMss = 536, bool sack = false) {
        listen();
        SegOpt o;
        o.opts = sack ? mssSackOpt(peerMss) : mssOpt(peerMss);
        peer.send(S, Bytes(), o);
        Net::poll();
        auto v = out();
        CHECK_EQ(v.size(), 1u);
        if (v.empty()) return;
        CHECK_EQ(v[0].flags, S | A);
        CHECK_EQ(v[0].ack, peer.seq);
        CHECK_EQ(v[0].mss, NETCFG_TCP_MSS);
        iss = v[0].seq;
        sackOffered = opts(v[0].opts).has(4);
        peer.ack = iss + 1;
        peer.send(A);
        Net::poll();
        CHECK_EQ(g_ev, std::vector<int>{TCPSOCKET_ACCEPT});
        Host client;
        CHECK_EQ(lis.accept(&client, &conn), TCPSOCKET_OK);
        CHECK(conn != nullptr);
        CHECK_EQ(client.getIp(), IpAddr(192, 0, 2, 20));
        CHECK_EQ(client.getPort(), (int)peer.port);
        if (conn) conn->setOnEvent(&onEv2);
        g_ev.clear();
    }
    ~Server() {
        if (conn) {
            conn->close();
            delete conn;
        }
        lis.close();
        Net::poll();
    }
};

EthernetNetIf* setup() {
    EthernetNetIf* e = up_static();
    learn_peer();
    g_ev.clear();
    g_ev2.clear();
    g_ev.reserve(1 << 16);  // no reallocation inside heap-baseline checks
    g_ev2.reserve(1 << 16);
    return e;
}

// Clean up everything (TIME_WAIT included): lets 2MSL pass.
void drain() {
    for (int i = 0; i < 50; i++) {
        host_board::advance_ms(65000);
        Net::poll();
    }
    host_board::tx_clear();
}

}  // namespace
#pragma GCC diagnostic pop
