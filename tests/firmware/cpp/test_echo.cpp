// The EchoServer example (firmware/examples/echo_server) against a scripted peer: RFC 862
// on a connection the client half-closes early, and the idle timer of a busy connection.
#include <stdarg.h>
#include <stdio.h>

#include <map>

#include "tcppeer.h"

// The example's sources, built into this program (they print with rt_printf).
#include "../../../firmware/examples/echo_server/EchoServer.cpp"
#include "../../../firmware/examples/echo_server/TCPEchoHandler.cpp"

extern "C" int rt_printf(const char* fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0) board::uart_write(buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
    return n;
}

namespace {

// What the board sent on one connection: the data by offset from its first byte, its FIN.
struct Received {
    uint32_t base = 0;  // the board's ISS + 1
    std::map<uint32_t, uint8_t> bytes;
    bool fin = false;
    uint32_t finOff = 0;
    bool rst = false;
    uint32_t contig = 0;  // bytes [0, contig) all received
    uint32_t contiguous() const { return contig; }
    void take(const Seg& s) {
        uint32_t off = s.seq - base;
        for (size_t i = 0; i < s.data.size(); i++) bytes[off + (uint32_t)i] = s.data[i];
        while (bytes.count(contig)) contig++;
        if (s.flags & F) {
            fin = true;
            finOff = off + (uint32_t)s.data.size();
        }
        if (s.flags & R) rst = true;
    }
    Bytes data() const {
        Bytes b;
        for (uint32_t i = 0; i < contiguous(); i++) b.push_back(bytes.at(i));
        return b;
    }
};

// The client connects to port 7 of an EchoServer; returns the board's ISS.
uint32_t connectClient(Peer& p) {
    SegOpt o;
    o.opts = mssOpt(536);
    p.send(S, Bytes(), o);
    Net::poll();
    auto v = out();
    CHECK_EQ(v.size(), 1u);
    if (v.empty()) return 0;
    CHECK_EQ(v[0].flags, S | A);
    p.ack = v[0].seq + 1;
    p.send(A);
    Net::poll();
    CHECK(host_board::uart_output().find("Incoming TCP connection") != std::string::npos);
    return v[0].seq;
}

// The client reads everything the board sends and ACKs it (a window of 8192), moving the
// clock to the next timer when nothing happens, until the board's FIN (or the limit).
void readToEnd(Peer& p, Received& r, int rounds = 400) {
    for (int i = 0; i < rounds && !(r.fin && r.contiguous() >= r.finOff); i++) {
        Net::poll();
        auto v = out();
        for (auto& s : v) r.take(s);
        if (r.rst) return;
        if (!v.empty()) {
            uint32_t c = r.contiguous();
            p.ack = r.base + c + ((r.fin && c == r.finOff) ? 1 : 0);
            p.send(A);
            continue;
        }
        uint64_t n = Net::nextTimerUs();
        uint64_t h = TCPEchoHandler::nextDeadlineUs();
        if (h && (!n || h < n)) n = h;
        if (!n) break;
        if (n > board::micros()) host_board::set_time_us(n);
    }
    Net::poll();
    for (auto& s : out()) r.take(s);
}

Bytes pattern(size_t n, uint8_t salt = 0) {
    Bytes b(n);
    for (size_t i = 0; i < n; i++) b[i] = (uint8_t)((i * 7 + salt + i / 251) & 0xFF);
    return b;
}

}  // namespace

// RFC 862: everything received is sent back, also when the client half-closes (FIN) while
// the echo is still waiting: data in the handler, in the socket's receive buffer and in its
// send buffer all go out, then the board closes.
TEST(echo_half_closed_client_gets_every_byte) {
    EthernetNetIf* e = setup();
    host_board::uart_output();
    {
        EchoServer srv;
        srv.bind(7, 7);
        Peer p;
        p.wnd = 0;  // the client does not read yet: the echo piles up on the board
        uint32_t iss = connectClient(p);
        CHECK_EQ(TCPEchoHandler::count(), 1);
        Bytes sent = pattern(2000);
        for (size_t off = 0; off < sent.size(); off += 500) {
            p.send(A, Bytes(sent.begin() + (long)off, sent.begin() + (long)(off + 500)));
            Net::poll();
        }
        p.send(F | A);  // input ended: FIN at once
        Net::poll();
        out();
        // The client reads now (window open).
        p.wnd = 8192;
        p.send(A);
        Received r;
        r.base = iss + 1;
        readToEnd(p, r);
        CHECK(!r.rst);
        CHECK_EQ(r.contiguous(), (uint32_t)sent.size());
        CHECK(r.data() == sent);
        CHECK(r.fin);
        CHECK_EQ(r.finOff, (uint32_t)sent.size());
        Net::poll();
        Net::poll();
        CHECK_EQ(TCPEchoHandler::count(), 0);
        CHECK_EQ(TcpCore::pcbsInUse(), 0);
    }
    Net::poll();
    delete e;
}

// The same with a larger stream and a client that keeps its window small: the board keeps
// sending on the half-closed connection for many round trips.
TEST(echo_half_closed_long_tail) {
    EthernetNetIf* e = setup();
    {
        EchoServer srv;
        srv.bind(7, 7);
        Peer p;
        uint32_t iss = connectClient(p);
        Received r;
        r.base = iss + 1;
        Bytes sent = pattern(20000, 3);
        size_t off = 0;
        bool finSent = false;
        uint32_t boardAck = p.seq, boardWnd = NETCFG_TCP_WND;
        // Send as the board's window allows, acknowledging the echo only every other round
        // (the board's send buffer stays busy); FIN right behind the last data.
        for (int i = 0; i < 4000 && !finSent; i++) {
            Net::poll();
            auto v = out();
            for (auto& s : v) {
                r.take(s);
                boardAck = s.ack;
                boardWnd = s.wnd;
            }
            bool moved = !v.empty();
            while (off < sent.size()) {
                size_t n = sent.size() - off < 536 ? sent.size() - off : 536;
                if ((int32_t)(p.seq + (uint32_t)n - (boardAck + boardWnd)) > 0) break;
                p.send(A, Bytes(sent.begin() + (long)off, sent.begin() + (long)(off + n)));
                off += n;
                moved = true;
            }
            if (off == sent.size()) {
                p.send(F | A);
                finSent = true;
            }
            if (i % 2) {
                p.ack = r.base + r.contiguous();
                p.send(A);
                moved = true;
            }
            if (!moved) {
                uint64_t n = Net::nextTimerUs();
                if (n > board::micros()) host_board::set_time_us(n);
                else host_board::advance_ms(10);
            }
        }
        CHECK(finSent);
        readToEnd(p, r, 2000);
        CHECK(!r.rst);
        CHECK_EQ(r.contiguous(), (uint32_t)sent.size());
        CHECK(r.data() == sent);
        CHECK(r.fin);
    }
    Net::poll();
    delete e;
}

// Idle means nothing moved either way: while the board still owes data (retransmitting
// with back-off to a client that does not acknowledge), the 5 s idle timer does not close
// the connection.
TEST(echo_idle_timer_spares_a_busy_connection) {
    EthernetNetIf* e = setup();
    {
        EchoServer srv;
        srv.bind(7, 7);
        Peer p;
        uint32_t iss = connectClient(p);
        Received r;
        r.base = iss + 1;
        p.send(A | P, bytes("first"));
        Net::poll();
        for (auto& s : out()) r.take(s);
        CHECK(r.data() == bytes("first"));
        // The client's ACKs are lost for 20 s: the board retransmits with back-off.
        uint64_t t0 = board::micros();
        while (board::micros() < t0 + 20000000u) {
            uint64_t n = Net::nextTimerUs();
            uint64_t h = TCPEchoHandler::nextDeadlineUs();
            if (h && (!n || h < n)) n = h;
            if (!n || n > t0 + 20000000u) n = t0 + 20000000u;
            host_board::set_time_us(n > board::micros() ? n : board::micros() + 1000);
            Net::poll();
            for (auto& s : out()) {
                CHECK(!(s.flags & (F | R)));  // neither closed nor reset
                r.take(s);
            }
        }
        CHECK_EQ(TCPEchoHandler::count(), 1);
        // The client is back: it ACKs and sends more; the echo continues.
        p.ack = r.base + r.contiguous();
        p.send(A | P, bytes("second"));
        Net::poll();
        for (auto& s : out()) {
            CHECK(!(s.flags & (F | R)));
            r.take(s);
        }
        CHECK(r.data() == bytes("firstsecond"));
        p.ack = r.base + r.contiguous();
        p.send(A);
        Net::poll();
        // Now idle for real: closed after ECHO_TIMEOUT.
        host_board::advance_ms(ECHO_TIMEOUT + 10);
        Net::poll();
        Net::poll();
        auto v = out();
        CHECK_EQ(v.size(), 1u);
        if (!v.empty()) CHECK_EQ(v[0].flags & F, F);
    }
    Net::poll();
    delete e;
}

// A connection that only sends (the client reads slowly, the board's echo data goes out
// as the client ACKs) is not idle either.
TEST(echo_idle_timer_restarts_on_data_sent) {
    EthernetNetIf* e = setup();
    {
        EchoServer srv;
        srv.bind(7, 7);
        Peer p;
        p.wnd = 536;  // one segment at a time
        uint32_t iss = connectClient(p);
        Received r;
        r.base = iss + 1;
        Bytes sent = pattern(1500, 9);
        p.send(A, Bytes(sent.begin(), sent.begin() + 536));
        p.send(A, Bytes(sent.begin() + 536, sent.begin() + 1072));
        p.send(A, Bytes(sent.begin() + 1072, sent.end()));
        Net::poll();
        // The client ACKs one segment every 3 s: 3 s apart, the transfer takes > 5 s.
        for (int i = 0; i < 10 && r.contiguous() < sent.size(); i++) {
            for (auto& s : out()) {
                CHECK(!(s.flags & (F | R)));
                r.take(s);
            }
            host_board::advance_ms(3000);
            p.ack = r.base + r.contiguous();
            p.send(A);
            Net::poll();
        }
        for (auto& s : out()) r.take(s);
        CHECK(r.data() == sent);
        CHECK(!r.fin);
        CHECK_EQ(TCPEchoHandler::count(), 1);
    }
    Net::poll();
    delete e;
}
