// TCP: a scripted peer (crafted segments, own checksum code) against the stack, fake clock.
#include "tcppeer.h"

TEST(tcp_enum_values) {
    CHECK_EQ((int)TCPSOCKET_SETUP, -65534);
    CHECK_EQ((int)TCPSOCKET_RST, -65528);
    CHECK_EQ((int)TCPSOCKET_DISCONNECTED, 8);
    CHECK_EQ((int)NETTCPSOCKET_EMPTY, (int)TCPSOCKET_EMPTY);
}

TEST(no_interface) {
    host_board::reset();
    Net::poll();
    TCPSocket s;
    CHECK_EQ(s.bind(Host(IpAddr(), 80, NULL)), TCPSOCKET_IF);
    CHECK_EQ(s.send("x", 1), (int)TCPSOCKET_IF);
    CHECK_EQ(s.close(), TCPSOCKET_SETUP);
}

TEST(passive_open_echo_and_close) {
    EthernetNetIf* e = setup();
    {
        Server srv;
        srv.open();
        Peer& p = srv.peer;
        // Data arrives: READABLE on the new socket only.
        p.send(A | P, bytes("hello"));
        Net::poll();
        CHECK_EQ(g_ev2, std::vector<int>{TCPSOCKET_READABLE});
        CHECK(g_ev.empty());
        char buf[64];
        CHECK_EQ(srv.conn->recv(buf, sizeof buf), 5);
        CHECK_EQ(srv.conn->recv(buf, sizeof buf), 0);
        // Echo: out within the send() call, carrying the ACK.
        CHECK_EQ(srv.conn->send("hello", 5), 5);
        auto v = out();
        CHECK_EQ(v.size(), 1u);
        CHECK_EQ(v[0].data, bytes("hello"));
        CHECK_EQ(v[0].seq, srv.iss + 1);
        CHECK_EQ(v[0].ack, p.seq);
        CHECK(v[0].flags & A);
        // ACK of the echo: WRITEABLE.
        g_ev2.clear();
        p.ack += 5;
        p.send(A);
        Net::poll();
        CHECK_EQ(g_ev2, std::vector<int>{TCPSOCKET_WRITEABLE});
        // Peer FIN: DISCONNECTED, still open (half-closed): send works.
        g_ev2.clear();
        p.send(F | A);
        Net::poll();
        CHECK_EQ(g_ev2, std::vector<int>{TCPSOCKET_DISCONNECTED});
        v = out();
        CHECK_EQ(v.size(), 1u);
        CHECK_EQ(v[0].ack, p.seq);  // FIN ACKed at once
        CHECK_EQ(srv.conn->send("bye", 3), 3);
        v = out();
        CHECK_EQ(v.size(), 1u);
        CHECK_EQ(v[0].data, bytes("bye"));
        CHECK_EQ(srv.conn->recv(buf, sizeof buf), 0);
        // Our close: FIN; the peer ACKs: PCB freed (LAST_ACK -> CLOSED).
        CHECK_EQ(srv.conn->close(), TCPSOCKET_OK);
        CHECK_EQ(srv.conn->close(), TCPSOCKET_SETUP);
        v = out();
        CHECK_EQ(v.size(), 1u);
        CHECK_EQ(v[0].flags & F, F);
        CHECK_EQ(v[0].seq, srv.iss + 1 + 5 + 3);
        p.ack = v[0].seq + 1;
        p.send(A);
        Net::poll();
        CHECK_EQ(TcpCore::pcbsInUse(), 0);
        delete srv.conn;
        srv.conn = nullptr;
    }
    Net::poll();
    CHECK_EQ(TcpCore::listenersInUse(), 0);
    delete e;
}

TEST(active_close_time_wait) {
    EthernetNetIf* e = setup();
    {
        Server srv;
        srv.open();
        Peer& p = srv.peer;
        CHECK_EQ(srv.conn->close(), TCPSOCKET_OK);
        auto v = out();
        CHECK_EQ(v.size(), 1u);
        CHECK_EQ(v[0].flags, F | A);
        p.ack = v[0].seq + 1;
        p.send(A);  // FIN_WAIT_2
        Net::poll();
        CHECK_EQ(TcpCore::pcbsInUse(), 1);
        p.send(F | A);  // -> TIME_WAIT, ACKed
        Net::poll();
        v = out();
        CHECK_EQ(v.size(), 1u);
        CHECK_EQ(v[0].ack, p.seq);
        CHECK_EQ(TcpCore::pcbsInUse(), 1);
        // A repeated FIN in TIME_WAIT is ACKed again.
        p.sendAt(p.seq - 1, F | A);
        Net::poll();
        CHECK_EQ(out().size(), 1u);
        uint64_t t0 = board::micros();
        CHECK_EQ(Net::nextTimerUs(), t0 + 2 * NETCFG_TCP_MSL_MS * 1000);
        host_board::set_time_us(t0 + 2 * NETCFG_TCP_MSL_MS * 1000 - 1);
        Net::poll();
        CHECK_EQ(TcpCore::pcbsInUse(), 1);
        host_board::set_time_us(t0 + 2 * NETCFG_TCP_MSL_MS * 1000);
        Net::poll();
        CHECK_EQ(TcpCore::pcbsInUse(), 0);
        delete srv.conn;
        srv.conn = nullptr;
    }
    delete e;
}

TEST(time_wait_reused_when_pool_full) {
    EthernetNetIf* e = setup();
    for (int i = 0; i < NETCFG_TCP_PCBS + 2; i++) {
        Server srv;
        srv.peer.port = (uint16_t)(41000 + i);
        srv.open();
        CHECK(srv.conn != nullptr);
        if (!srv.conn) break;
        srv.conn->close();
        auto v = out();
        srv.peer.ack = v.back().seq + 1;
        srv.peer.send(F | A);
        Net::poll();
        out();
        delete srv.conn;
        srv.conn = nullptr;
    }
    CHECK_EQ(TcpCore::pcbsInUse(), NETCFG_TCP_PCBS);  // all TIME_WAIT, none leaked
    drain();
    CHECK_EQ(TcpCore::pcbsInUse(), 0);
    delete e;
}

TEST(active_open_connected_send_writeable) {
    EthernetNetIf* e = setup();
    TCPSocket s;
    s.setOnEvent(&onEv);
    CHECK_EQ(s.send("x", 1), (int)TCPSOCKET_SETUP);  // never connected
    CHECK_EQ(s.recv(nullptr, 0), 0);
    CHECK_EQ(s.connect(Host(IpAddr(192, 0, 2, 20), 80, NULL)), TCPSOCKET_OK);
    CHECK_EQ(s.connect(Host(IpAddr(192, 0, 2, 20), 80, NULL)), TCPSOCKET_MEM);
    auto v = out();
    CHECK_EQ(v.size(), 1u);
    CHECK_EQ(v[0].flags, S);
    CHECK_EQ(v[0].dport, 80);
    CHECK_EQ(v[0].sport, 4097);  // first ephemeral port (6.4)
    CHECK_EQ(v[0].mss, NETCFG_TCP_MSS);
    Peer p;
    p.port = 80;
    p.myPort = 4097;
    p.ack = v[0].seq + 1;
    SegOpt o;
    o.opts = mssOpt(300);
    p.send(S | A, Bytes(), o);
    Net::poll();
    CHECK_EQ(g_ev, std::vector<int>{TCPSOCKET_CONNECTED});
    v = out();
    CHECK_EQ(v.size(), 1u);
    CHECK_EQ(v[0].flags, A);
    CHECK_EQ(v[0].ack, p.seq);
    // The peer's MSS is honoured: 700 bytes go out as 300 + 300 + 100 at once.
    std::string big(700, 'z');
    CHECK_EQ(s.send(big.data(), 700), 700);
    v = out();
    CHECK_EQ(v.size(), 3u);
    if (v.size() == 3) {
        CHECK_EQ(v[0].data.size(), 300u);
        CHECK_EQ(v[1].data.size(), 300u);
        CHECK_EQ(v[2].data.size(), 100u);
        CHECK_EQ(v[2].flags & P, P);
    }
    g_ev.clear();
    p.ack += 300;
    p.send(A);
    p.ack += 400;
    p.send(A);
    Net::poll();
    CHECK_EQ(g_ev, (std::vector<int>{TCPSOCKET_WRITEABLE, TCPSOCKET_WRITEABLE}));
    CHECK_EQ(s.close(), TCPSOCKET_OK);
    CHECK_EQ(s.close(), TCPSOCKET_SETUP);
    CHECK_EQ(s.send("x", 1), (int)TCPSOCKET_SETUP);  // a fresh implementation again
    s.close();
    drain();
    delete e;
}

TEST(send_buffer_full_returns_zero) {
    EthernetNetIf* e = setup();
    Server srv;
    srv.peer.wnd = 0;  // the peer's window is closed: nothing leaves
    srv.open();
    std::string big(NETCFG_TCP_SND_BUF + 100, 'a');
    CHECK_EQ(srv.conn->send(big.data(), (int)big.size()), NETCFG_TCP_SND_BUF);
    CHECK_EQ(srv.conn->send("x", 1), 0);
    CHECK_EQ(out().size(), 0u);
    delete e;
}

TEST(refused_connect_conrst) {
    EthernetNetIf* e = setup();
    TCPSocket s;
    s.setOnEvent(&onEv);
    CHECK_EQ(s.connect(Host(IpAddr(192, 0, 2, 20), 81, NULL)), TCPSOCKET_OK);
    auto v = out();
    Peer p;
    p.port = 81;
    p.myPort = v[0].sport;
    p.seq = 0;
    p.ack = v[0].seq + 1;
    p.send(R | A);
    Net::poll();
    CHECK_EQ(g_ev, std::vector<int>{TCPSOCKET_CONRST});
    CHECK_EQ(s.send("x", 1), (int)TCPSOCKET_MEM);
    char b[4];
    CHECK_EQ(s.recv(b, 4), (int)TCPSOCKET_MEM);
    CHECK_EQ(s.close(), TCPSOCKET_OK);
    Net::poll();
    CHECK_EQ(TcpCore::pcbsInUse(), 0);
    delete e;
}

TEST(reset_drops_data_and_events) {
    EthernetNetIf* e = setup();
    Server srv;
    srv.open();
    Peer& p = srv.peer;
    p.send(A | P, bytes("unread"));
    p.send(F | A);
    p.send(R | A);  // seq == rcv_nxt: accepted
    Net::poll();
    CHECK_EQ(g_ev2, std::vector<int>{TCPSOCKET_CONRST});  // READABLE/DISCONNECTED discarded
    char b[8];
    CHECK_EQ(srv.conn->recv(b, 8), (int)TCPSOCKET_MEM);
    CHECK_EQ(srv.conn->send("x", 1), (int)TCPSOCKET_MEM);
    delete e;
}

TEST(rst_out_of_window_challenge_ack) {
    EthernetNetIf* e = setup();
    Server srv;
    srv.open();
    Peer& p = srv.peer;
    p.sendAt(p.seq + 100, R | A);  // in window, not exact: challenge ACK (RFC 5961)
    p.sendAt(p.seq + 100000, R);   // outside: ignored
    Net::poll();
    auto v = out();
    CHECK_EQ(v.size(), 1u);
    CHECK_EQ(v[0].flags, A);
    CHECK_EQ(v[0].ack, p.seq);
    CHECK(g_ev2.empty());
    CHECK_EQ(srv.conn->send("ok", 2), 2);
    delete e;
}

TEST(closed_port_gets_rst) {
    EthernetNetIf* e = setup();
    Peer p;
    p.myPort = 12345;
    p.send(S);
    Net::poll();
    auto v = out();
    CHECK_EQ(v.size(), 1u);
    CHECK_EQ(v[0].flags, R | A);
    CHECK_EQ(v[0].seq, 0u);
    CHECK_EQ(v[0].ack, 1001u);
    p.ack = 5555;
    p.send(A, bytes("abc"));
    Net::poll();
    v = out();
    CHECK_EQ(v.size(), 1u);
    CHECK_EQ(v[0].flags, R);
    CHECK_EQ(v[0].seq, 5555u);
    p.send(R);  // never answered
    Net::poll();
    CHECK_EQ(out().size(), 0u);
    CHECK_EQ(Net::stats().tcp_no_port, 3u);
    delete e;
}

TEST(syn_retries_then_conabrt) {
    EthernetNetIf* e = setup();
    TCPSocket s;
    s.setOnEvent(&onEv);
    uint64_t t0 = board::micros();
    CHECK_EQ(s.connect(Host(IpAddr(192, 0, 2, 20), 80, NULL)), TCPSOCKET_OK);
    CHECK_EQ(out().size(), 1u);
    std::vector<uint64_t> at;
    for (int i = 0; i < 100 && g_ev.empty(); i++) {
        uint64_t n = Net::nextTimerUs();
        if (!n) break;
        host_board::set_time_us(n);
        Net::poll();
        for (auto& sg : out()) {
            CHECK_EQ(sg.flags, S);
            at.push_back(board::micros() - t0);
        }
    }
    CHECK_EQ(at.size(), 6u);
    for (size_t i = 0; i < at.size(); i++) CHECK_EQ(at[i], (uint64_t)(i + 1) * 3000000u);
    CHECK_EQ(g_ev, std::vector<int>{TCPSOCKET_CONABRT});
    uint64_t dt = board::micros() - t0;
    CHECK(dt >= 18000000u && dt <= 19000000u);
    CHECK_EQ(TcpCore::pcbsInUse(), 0);
    delete e;
}

TEST(retransmission_backoff_then_conabrt) {
    EthernetNetIf* e = setup();
    Server srv;
    srv.open();
    CHECK_EQ(srv.conn->send("data", 4), 4);
    auto v = out();
    CHECK_EQ(v.size(), 1u);
    uint32_t seq = v[0].seq;
    uint64_t last = board::micros();
    std::vector<uint64_t> gaps;
    for (int i = 0; i < 40 && g_ev2.empty(); i++) {
        uint64_t n = Net::nextTimerUs();
        if (!n) break;
        host_board::set_time_us(n);
        Net::poll();
        for (auto& sg : out()) {
            CHECK_EQ(sg.seq, seq);
            CHECK_EQ(sg.data, bytes("data"));
            gaps.push_back(board::micros() - last);
            last = board::micros();
        }
    }
    CHECK_EQ(gaps.size(), (size_t)NETCFG_TCP_MAXRTX);
    // Doubling from the RTO, capped at 60 s.
    for (size_t i = 1; i < gaps.size(); i++)
        CHECK(gaps[i] == gaps[i - 1] * 2 || gaps[i] == NETCFG_TCP_RTO_MAX_MS * 1000);
    CHECK_EQ(g_ev2, std::vector<int>{TCPSOCKET_CONABRT});
    CHECK_EQ(srv.conn->send("x", 1), (int)TCPSOCKET_MEM);
    delete e;
}

TEST(rtt_estimate_sets_rto) {
    EthernetNetIf* e = setup();
    Server srv;
    srv.open();
    for (int i = 0; i < 8; i++) {
        CHECK_EQ(srv.conn->send("ab", 2), 2);
        out();
        host_board::advance_ms(50);
        srv.peer.ack += 2;
        srv.peer.send(A);
        Net::poll();
    }
    CHECK_EQ(srv.conn->send("cd", 2), 2);
    out();
    uint64_t n = Net::nextTimerUs() - board::micros();
    CHECK_EQ(n, (uint64_t)NETCFG_TCP_RTO_MIN_MS * 1000 > 50000 + 4000 ? NETCFG_TCP_RTO_MIN_MS * 1000 : n);
    CHECK(n < 3000000u);  // learnt: below the initial 3 s
    delete e;
}

TEST(fast_retransmit_on_three_dupacks) {
    EthernetNetIf* e = setup();
    Server srv;
    srv.open();
    Peer& p = srv.peer;
    std::string d(4 * 536, 'q');
    int n = srv.conn->send(d.data(), NETCFG_TCP_SND_BUF < (int)d.size() ? NETCFG_TCP_SND_BUF : (int)d.size());
    CHECK(n > 0);
    auto v = out();
    CHECK(v.size() >= 2u);
    uint32_t first = v[0].seq;
    // Segment 1 lost; each later one makes a duplicate ACK.
    for (int i = 0; i < 3; i++) p.send(A);
    Net::poll();
    v = out();
    CHECK_EQ(v.size(), 1u);
    if (!v.empty()) {
        CHECK_EQ(v[0].seq, first);
        CHECK_EQ(v[0].data.size(), 536u);
    }
    CHECK(Net::stats().tcp_retransmits >= 1u);
    delete e;
}

TEST(out_of_order_reassembly) {
    EthernetNetIf* e = setup();
    Server srv;
    srv.open();
    Peer& p = srv.peer;
    uint32_t s0 = p.seq;
    p.sendAt(s0 + 4, A, bytes("EFGH"));
    p.sendAt(s0 + 8, A, bytes("IJ"));
    Net::poll();
    auto v = out();
    CHECK_EQ(v.size(), 2u);  // duplicate ACKs at once
    for (auto& sg : v) CHECK_EQ(sg.ack, s0);
    CHECK(g_ev2.empty());
    p.sendAt(s0, A, bytes("ABCD"));
    Net::poll();
    v = out();
    CHECK_EQ(v.size(), 1u);
    if (!v.empty()) CHECK_EQ(v[0].ack, s0 + 10);  // hole filled: ACK at once
    CHECK_EQ(g_ev2, std::vector<int>{TCPSOCKET_READABLE});
    char b[32];
    int n = srv.conn->recv(b, sizeof b);
    CHECK_EQ(std::string(b, n > 0 ? n : 0), std::string("ABCDEFGHIJ"));
    CHECK_EQ(Net::stats().tcp_ooseq, 2u);
    p.seq = s0 + 10;
    delete e;
}

TEST(delayed_ack) {
    EthernetNetIf* e = setup();
    Server srv;
    srv.open();
    Peer& p = srv.peer;
    p.send(A, bytes("x"));
    Net::poll();
    CHECK_EQ(out().size(), 0u);  // delayed
    uint64_t n = Net::nextTimerUs();
    CHECK(n > board::micros() && n <= board::micros() + 200000);
    host_board::set_time_us(n);
    Net::poll();
    auto v = out();
    CHECK_EQ(v.size(), 1u);
    if (!v.empty()) CHECK_EQ(v[0].ack, p.seq);
    // Two full-sized segments: ACKed at once.
    Bytes full(536, 'f');
    p.send(A, full);
    Net::poll();
    CHECK_EQ(out().size(), 0u);
    p.send(A, full);
    Net::poll();
    v = out();
    CHECK_EQ(v.size(), 1u);
    if (!v.empty()) CHECK_EQ(v[0].ack, p.seq);
    delete e;
}

TEST(zero_window_probe) {
    EthernetNetIf* e = setup();
    Server srv;
    srv.open();
    Peer& p = srv.peer;
    p.wnd = 0;
    p.send(A);  // window closes
    Net::poll();
    CHECK_EQ(srv.conn->send("abc", 3), 3);
    CHECK_EQ(out().size(), 0u);
    uint64_t n = Net::nextTimerUs();
    CHECK(n > board::micros());
    host_board::set_time_us(n);
    Net::poll();
    auto v = out();
    CHECK_EQ(v.size(), 1u);
    if (!v.empty()) CHECK_EQ(v[0].data, bytes("a"));  // one-byte probe
    // The window opens with the probe byte accepted: the rest follows at once.
    p.wnd = 1000;
    p.ack += 1;
    p.send(A);
    Net::poll();
    v = out();
    CHECK_EQ(v.size(), 1u);
    if (!v.empty()) CHECK_EQ(v[0].data, bytes("bc"));
    delete e;
}

TEST(receive_window_closes_and_reopens) {
    EthernetNetIf* e = setup();
    Server srv;
    srv.open();
    Peer& p = srv.peer;
    Bytes chunk(536, 'w');
    for (int i = 0; i < NETCFG_TCP_WND / 536; i++) p.send(A, chunk);
    Net::poll();
    auto v = out();
    CHECK(!v.empty());
    if (!v.empty()) CHECK_EQ(v.back().wnd, (uint16_t)(NETCFG_TCP_WND - (NETCFG_TCP_WND / 536) * 536));
    std::vector<char> buf(NETCFG_TCP_WND);
    int got = srv.conn->recv(buf.data(), (int)buf.size());
    CHECK_EQ(got, (NETCFG_TCP_WND / 536) * 536);
    CHECK_EQ(out().size(), 0u);  // owed, not sent: a reply could still carry it
    CHECK(Net::nextTimerUs() <= board::micros());  // ... so the main loop must not sleep
    Net::poll();
    v = out();
    CHECK_EQ(v.size(), 1u);  // the window update, by the end of the next poll
    if (!v.empty()) CHECK_EQ(v[0].wnd, (uint16_t)NETCFG_TCP_WND);
    delete e;
}

// An application that answers within the same poll (an echo) sends no pure ACKs: its data
// segments carry the ACK owed for every second full segment and the reopened window.
std::vector<char> g_echo_buf;
TCPSocket* g_echo_sock = nullptr;
void onEcho(TCPSocketEvent e) {
    if (e != TCPSOCKET_READABLE) return;
    int n = g_echo_sock->recv(g_echo_buf.data(), (int)g_echo_buf.size());
    if (n > 0) g_echo_sock->send(g_echo_buf.data(), n);
}

TEST(ack_and_window_update_ride_on_the_reply) {
    EthernetNetIf* e = setup();
    Server srv;
    srv.open();
    Peer& p = srv.peer;
    g_echo_buf.assign(4096, 0);
    g_echo_sock = srv.conn;
    srv.conn->setOnEvent(&onEcho);
    Bytes full(536, 'f');
    p.send(A, full);
    p.send(A, full);
    Net::poll();
    auto v = out();
    CHECK(!v.empty());
    size_t bytes_back = 0;
    for (auto& s : v) {
        CHECK(!s.data.empty());  // no pure ACK
        bytes_back += s.data.size();
    }
    CHECK_EQ(bytes_back, 2 * full.size());
    if (!v.empty()) {
        CHECK_EQ(v.back().ack, p.seq);
        CHECK_EQ(v.back().wnd, (uint16_t)NETCFG_TCP_WND);
    }
    srv.conn->setOnEvent(&onEv2);
    delete e;
}

// A second connection to the server's listener (established, left in the accept queue):
// from now on connections share the heap, and the reserve applies.
Peer secondConnection(uint16_t* synAckWnd = nullptr) {
    Peer q;
    q.port = 40001;
    q.seq = 90000;
    SegOpt o;
    o.opts = mssOpt(536);
    q.send(S, Bytes(), o);
    Net::poll();
    auto v = out();
    CHECK_EQ(v.size(), 1u);
    if (!v.empty()) {
        q.ack = v[0].seq + 1;
        if (synAckWnd) *synAckWnd = v[0].wnd;
    }
    q.send(A);
    Net::poll();
    out();
    return q;
}

// Windows come from heap the connection can really get (NETCFG_TCP_MEM_RESERVE kept free
// while connections share it): with none left a new connection offers a zero window, and
// the window opens by itself (no read, no probe needed) once memory is back.
TEST(window_follows_the_heap) {
    EthernetNetIf* e = setup();
    Server srv;
    srv.open();  // one connection: from the next one on, the reserve applies
    host_board::set_heap(100000, 100000 - NETCFG_TCP_MEM_RESERVE);
    uint16_t wnd = 1;
    Peer q = secondConnection(&wnd);
    CHECK_EQ(wnd, 0);  // no heap above the reserve: a zero window
    q.send(A, bytes("early"));  // into the zero window: not taken
    Net::poll();
    CHECK_EQ(out().size(), 0u);
    host_board::set_heap(100000, 0);  // memory came back
    Net::poll();
    auto v = out();
    CHECK_EQ(v.size(), 1u);  // the window update, unasked
    if (!v.empty()) {
        CHECK_EQ(v[0].dport, q.port);
        CHECK_EQ(v[0].wnd, (uint16_t)NETCFG_TCP_WND);
        CHECK_EQ(v[0].ack, q.seq - 5);  // "early" comes again
    }
    delete e;
}

// Data inside a window offered before the heap shrank takes no more than the heap allows
// above half the reserve; the rest is not acknowledged and comes again.  A lone connection
// keeps no reserve (its own send queue frees itself): see lone_connection_keeps_no_reserve.
TEST(data_never_takes_the_last_of_the_reserve) {
    EthernetNetIf* e = setup();
    Server srv;
    srv.open();
    Peer& p = srv.peer;
    Peer other = secondConnection();
    (void)other;
    host_board::set_heap(100000, 100000 - NETCFG_TCP_MEM_RESERVE / 2 - 200);
    uint32_t start = p.seq;
    p.send(A, Bytes(400, 'r'));
    Net::poll();
    host_board::advance_ms(300);  // past the delayed ACK
    Net::poll();
    auto v = out();
    CHECK(!v.empty());
    if (!v.empty()) CHECK_EQ(v.back().ack, start + 175);  // 200 minus the 1/8 for headers
    std::vector<char> buf(1000);
    CHECK_EQ(srv.conn->recv(buf.data(), (int)buf.size()), 175);
    delete e;
}

TEST(lone_connection_keeps_no_reserve) {
    EthernetNetIf* e = setup();
    Server srv;
    srv.open();
    Peer& p = srv.peer;
    host_board::set_heap(100000, 100000 - 700);
    uint32_t start = p.seq;
    p.send(A, Bytes(400, 'r'));
    Net::poll();
    host_board::advance_ms(300);
    Net::poll();
    auto v = out();
    CHECK(!v.empty());
    if (!v.empty()) CHECK_EQ(v.back().ack, start + 400);  // 700 free is room for 400
    delete e;
}

TEST(accept_errors) {
    EthernetNetIf* e = setup();
    Server srv;
    srv.listen();
    Host h(IpAddr(1, 2, 3, 4), 99, NULL);
    TCPSocket* sentinel = reinterpret_cast<TCPSocket*>(0x1234);
    TCPSocket* ps = sentinel;
    CHECK_EQ(srv.lis.accept(&h, &ps), TCPSOCKET_EMPTY);
    CHECK(ps == sentinel);  // outputs untouched
    CHECK_EQ(h.getIp(), IpAddr(1, 2, 3, 4));
    // A connection reset before accept: ACCEPT, then TCPSOCKET_RST.
    Peer& p = srv.peer;
    p.send(S);
    Net::poll();
    auto v = out();
    p.ack = v[0].seq + 1;
    p.send(A);
    p.send(R | A);
    Net::poll();
    CHECK_EQ(g_ev, std::vector<int>{TCPSOCKET_ACCEPT});
    CHECK_EQ(srv.lis.accept(&h, &ps), TCPSOCKET_RST);
    CHECK_EQ(srv.lis.accept(&h, &ps), TCPSOCKET_EMPTY);
    Net::poll();
    CHECK_EQ(TcpCore::pcbsInUse(), 0);
    // bind to a port in use.
    TCPSocket other;
    CHECK_EQ(other.bind(Host(IpAddr(), 7, NULL)), TCPSOCKET_INUSE);
    CHECK_EQ(other.bind(Host(IpAddr(), 8, NULL)), TCPSOCKET_OK);
    other.close();
    delete e;
}

TEST(listener_close_resets_queue) {
    EthernetNetIf* e = setup();
    size_t base = __sanitizer_get_current_allocated_bytes();
    {
        TCPSocket lis;
        lis.setOnEvent(&onEv);
        CHECK_EQ(lis.bind(Host(IpAddr(), 7, NULL)), TCPSOCKET_OK);
        CHECK_EQ(lis.listen(), TCPSOCKET_OK);
        Peer p;
        p.send(S);
        Net::poll();
        auto v = out();
        p.ack = v[0].seq + 1;
        p.send(A, bytes("pending"));
        Peer q;
        q.port = 40001;
        q.send(S);  // half-open
        Net::poll();
        out();
        CHECK_EQ(TcpCore::pcbsInUse(), 2);
        CHECK_EQ(lis.close(), TCPSOCKET_OK);
        v = out();
        CHECK_EQ(v.size(), 2u);
        for (auto& sg : v) CHECK(sg.flags & R);
        Net::poll();
        CHECK_EQ(TcpCore::pcbsInUse(), 0);
        CHECK_EQ(TcpCore::listenersInUse(), 0);
    }
    Net::poll();
    CHECK_EQ(__sanitizer_get_current_allocated_bytes(), base);
    delete e;
}

TEST(pcb_and_listener_exhaustion) {
    EthernetNetIf* e = setup();
    TCPSocket s[NETCFG_TCP_PCBS + 1];
    for (int i = 0; i < NETCFG_TCP_PCBS; i++)
        CHECK_EQ(s[i].bind(Host(IpAddr(), 100 + i, NULL)), TCPSOCKET_OK);
    CHECK_EQ(s[NETCFG_TCP_PCBS].bind(Host(IpAddr(), 200, NULL)), TCPSOCKET_MEM);
    CHECK_EQ(s[NETCFG_TCP_PCBS].send("x", 1), (int)TCPSOCKET_MEM);
    for (auto& x : s) x.close();
    Net::poll();
    TCPSocket l[NETCFG_TCP_LISTENERS + 1];
    for (int i = 0; i < NETCFG_TCP_LISTENERS; i++) {
        CHECK_EQ(l[i].bind(Host(IpAddr(), 300 + i, NULL)), TCPSOCKET_OK);
        CHECK_EQ(l[i].listen(), TCPSOCKET_OK);
    }
    CHECK_EQ(l[NETCFG_TCP_LISTENERS].bind(Host(IpAddr(), 400, NULL)), TCPSOCKET_OK);
    CHECK_EQ(l[NETCFG_TCP_LISTENERS].listen(), TCPSOCKET_MEM);
    for (auto& x : l) x.close();
    Net::poll();
    CHECK_EQ(TcpCore::pcbsInUse(), 0);
    CHECK_EQ(TcpCore::listenersInUse(), 0);
    delete e;
}

TEST(simultaneous_open) {
    EthernetNetIf* e = setup();
    TCPSocket s;
    s.setOnEvent(&onEv);
    CHECK_EQ(s.bind(Host(IpAddr(), 5000, NULL)), TCPSOCKET_OK);
    CHECK_EQ(s.connect(Host(IpAddr(192, 0, 2, 20), 6000, NULL)), TCPSOCKET_OK);
    auto v = out();
    uint32_t iss = v[0].seq;
    Peer p;
    p.port = 6000;
    p.myPort = 5000;
    p.send(S);  // crossing SYN
    Net::poll();
    v = out();
    CHECK_EQ(v.size(), 1u);
    if (!v.empty()) {
        CHECK_EQ(v[0].flags, S | A);
        CHECK_EQ(v[0].seq, iss);
        CHECK_EQ(v[0].ack, p.seq);
    }
    p.ack = iss + 1;
    p.sendAt(p.seq - 1, S | A);  // its SYN-ACK
    Net::poll();
    CHECK_EQ(g_ev, std::vector<int>{TCPSOCKET_CONNECTED});
    // Simultaneous close: both FINs cross.
    CHECK_EQ(s.close(), TCPSOCKET_OK);
    v = out();
    CHECK_EQ(v.size(), 1u);
    CHECK(!v.empty() && (v[0].flags & F));
    p.send(F | A);  // its FIN does not ACK ours yet -> CLOSING
    Net::poll();
    out();
    p.ack = iss + 2;
    p.sendAt(p.seq, A);  // ACK of our FIN -> TIME_WAIT
    Net::poll();
    CHECK_EQ(TcpCore::pcbsInUse(), 1);
    drain();
    CHECK_EQ(TcpCore::pcbsInUse(), 0);
    delete e;
}

TEST(bad_segments_dropped) {
    EthernetNetIf* e = setup();
    Server srv;
    srv.listen();
    Peer p;
    SegOpt bad;
    bad.bad_csum = true;
    p.send(S, Bytes(), bad);
    p.seq = 1000;
    p.send(S | F);
    p.seq = 1000;
    p.send(S | R);
    p.seq = 1000;
    SegOpt opt;
    opt.opts = Bytes{2, 9, 0, 0};  // MSS option with a lying length
    p.send(S, Bytes(), opt);
    p.seq = 1000;
    opt.opts = Bytes{3, 0, 0, 0};  // zero-length option
    p.send(S, Bytes(), opt);
    p.seq = 1000;
    Net::poll();
    CHECK_EQ(out().size(), 0u);
    CHECK_EQ(Net::stats().tcp_bad_checksum, 1u);
    CHECK_EQ(Net::stats().tcp_bad_flags, 2u);
    CHECK_EQ(Net::stats().tcp_bad_header, 2u);
    CHECK_EQ(TcpCore::pcbsInUse(), 0);
    // Truncated headers (data offset beyond the segment).
    Bytes t = tcpseg(PEER_IP, 40000, 7, 1, 0, S, Bytes(), SegOpt());
    t[12] = 0xF0;
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0800, ipv4(PEER_IP, MY_IP, 6, t)));
    host_board::inject(eth(MY_MAC, PEER_MAC, 0x0800, ipv4(PEER_IP, MY_IP, 6, Bytes(10, 0))));
    Net::poll();
    CHECK_EQ(out().size(), 0u);
    CHECK_EQ(Net::stats().tcp_bad_header, 4u);
    delete e;
}

TEST(syn_flood_bounded_heap_back_to_baseline) {
    EthernetNetIf* e = setup();
    size_t base = __sanitizer_get_current_allocated_bytes();
    {
        TCPSocket lis;
        CHECK_EQ(lis.bind(Host(IpAddr(), 7, NULL)), TCPSOCKET_OK);
        CHECK_EQ(lis.listen(), TCPSOCKET_OK);
        for (int i = 0; i < 10000; i++) {
            Peer p;
            p.port = (uint16_t)(1024 + i);
            p.seq = (uint32_t)i * 7919u;
            p.send(S);
            if (i % 8 == 7) {
                Net::poll();
                host_board::tx_clear();
                CHECK(TcpCore::pcbsInUse() <= NETCFG_TCP_PCBS);
            }
        }
        Net::poll();
        host_board::tx_clear();
        CHECK(TcpCore::pcbsInUse() <= NETCFG_TCP_BACKLOG);
        // While the flood's half-open connections hold the queue a new SYN is dropped (no
        // half-open connection that was answered is evicted); they give up after
        // NETCFG_TCP_SYNACK_MAXRTX SYN-ACK retransmissions, and a legitimate client that
        // retries gets in.
        Peer c;
        c.port = 60000;
        c.send(S);
        Net::poll();
        CHECK_EQ(out().size(), 0u);
        uint64_t giveUp = board::micros() + (NETCFG_TCP_SYNACK_MAXRTX + 1) * NETCFG_TCP_RTO_INIT_MS * 1000;
        for (int i = 0; i < 1000; i++) {
            uint64_t n = Net::nextTimerUs();
            if (!n || n > giveUp) break;
            host_board::set_time_us(n);
            Net::poll();
        }
        host_board::tx_clear();
        CHECK_EQ(TcpCore::pcbsInUse(), 0);
        c.sendAt(c.seq - 1, S);  // the client's retransmitted SYN
        Net::poll();
        auto v = out();
        CHECK_EQ(v.size(), 1u);
        if (!v.empty()) CHECK_EQ(v[0].flags, S | A);
        // Half-open connections time out.
        drain();
        CHECK_EQ(TcpCore::pcbsInUse(), 0);
        lis.close();
    }
    Net::poll();
    CHECK_EQ(__sanitizer_get_current_allocated_bytes(), base);
    delete e;
}

TEST(fuzz_segments) {
    EthernetNetIf* e = setup();
    size_t base = __sanitizer_get_current_allocated_bytes();
    uint32_t rnd = 12345;
    auto next = [&]() {
        rnd = rnd * 1103515245u + 12345u;
        return rnd >> 8;
    };
    {
        Server srv;
        srv.open();
        srv.conn->send("hello world", 11);
        for (int i = 0; i < 20000; i++) {
            Peer& p = srv.peer;
            uint8_t fl = (uint8_t)(next() & 0x3F);
            uint32_t seq = (next() & 3) ? p.seq + (next() % 3000) - 1000 : next();
            uint32_t ack = (next() & 3) ? p.ack + (next() % 3000) - 1000 : next();
            Bytes d(next() % 600, (uint8_t)i);
            SegOpt o;
            if ((next() & 7) == 0) {
                o.opts.resize((next() % 10) * 4);
                for (auto& x : o.opts) x = (uint8_t)next();
            }
            o.wnd = (uint16_t)next();
            uint32_t keepS = p.seq, keepA = p.ack;
            p.seq = seq;
            p.ack = ack;
            p.send(fl, d, o);
            p.seq = keepS;
            p.ack = keepA;
            if (i % 4 == 0) Net::poll();
            if (i % 64 == 0) host_board::advance_ms(next() % 3000);
            if (srv.conn && (next() % 50) == 0) {
                char b[256];
                srv.conn->recv(b, sizeof b);
                srv.conn->send(b, (int)(next() % 256));
            }
            host_board::tx_clear();
        }
        drain();
    }
    drain();
    CHECK_EQ(TcpCore::pcbsInUse(), 0);
    CHECK_EQ(__sanitizer_get_current_allocated_bytes(), base);
    delete e;
}

// A half-closed connection (the peer's FIN arrived: CLOSE_WAIT): data queued before the FIN
// stays readable after DISCONNECTED, send() works, and close() sends everything queued
// (more than the peer's window takes at once) before its FIN.
TEST(half_closed_connection_delivers_and_sends_everything) {
    EthernetNetIf* e = setup();
    Server srv;
    srv.peer.wnd = 0;  // the peer does not read yet
    srv.open();
    Peer& p = srv.peer;
    p.send(A, Bytes(500, 'h'));
    p.send(A, Bytes(500, 'i'));
    p.send(F | A);
    Net::poll();
    CHECK_EQ(g_ev2, (std::vector<int>{TCPSOCKET_READABLE, TCPSOCKET_DISCONNECTED}));
    std::vector<char> buf(2000);
    CHECK_EQ(srv.conn->recv(buf.data(), 600), 600);
    CHECK_EQ(srv.conn->send(buf.data(), 600), 600);
    CHECK_EQ(srv.conn->recv(buf.data(), 2000), 400);
    CHECK_EQ(srv.conn->send(buf.data(), 400), 400);
    CHECK_EQ(srv.conn->sendQueued(), 1000);
    CHECK_EQ(srv.conn->close(), TCPSOCKET_OK);  // LAST_ACK with 1000 bytes queued
    out();
    p.wnd = 536;
    p.send(A);
    uint32_t got = 0;
    bool fin = false;
    for (int i = 0; i < 50 && !fin; i++) {
        Net::poll();
        auto v = out();
        for (auto& s : v) {
            if (s.seq == srv.iss + 1 + got) got += (uint32_t)s.data.size();
            if (s.flags & F) {
                CHECK_EQ(s.seq + (uint32_t)s.data.size(), srv.iss + 1 + 1000);
                fin = true;
            }
        }
        p.ack = srv.iss + 1 + got + (fin ? 1 : 0);
        p.send(A);
        if (v.empty()) host_board::set_time_us(Net::nextTimerUs());
    }
    CHECK_EQ(got, 1000u);
    CHECK(fin);
    Net::poll();
    CHECK_EQ(TcpCore::pcbsInUse(), 0);
    delete srv.conn;
    srv.conn = nullptr;
    delete e;
}

// A burst of clients beyond what the listener (backlog) or the PCB pool can hold: a SYN
// that finds no room is dropped silently (its client retries); a half-open connection
// that was already sent a SYN-ACK is never evicted, so no client whose handshake
// completes is answered with a RST.
TEST(full_syn_queue_drops_new_syn_never_resets_answered_clients) {
    EthernetNetIf* e = setup();
    {
        Server srv;
        srv.listen();
        const int room = NETCFG_TCP_BACKLOG < NETCFG_TCP_PCBS ? NETCFG_TCP_BACKLOG : NETCFG_TCP_PCBS;
        std::vector<Peer> peers;
        for (int i = 0; i < room; i++) {
            Peer q;
            q.port = (uint16_t)(42000 + i);
            q.seq = 5000u + 1000u * (uint32_t)i;
            q.send(S);
            Net::poll();
            auto v = out();
            CHECK_EQ(v.size(), 1u);
            if (!v.empty()) {
                CHECK_EQ(v[0].flags, S | A);
                q.ack = v[0].seq + 1;
            }
            peers.push_back(q);
            host_board::advance_ms(10);
        }
        uint32_t droppedBefore = Net::stats().tcp_syn_dropped;
        // One more: no room.  Dropped silently: no SYN-ACK, no RST.
        Peer late;
        late.port = 43000;
        late.send(S);
        Net::poll();
        CHECK_EQ(out().size(), 0u);
        CHECK_EQ(Net::stats().tcp_syn_dropped, droppedBefore + 1);
        // Every answered client completes its handshake: accepted, never reset.
        for (auto& q : peers) q.send(A);
        Net::poll();
        for (auto& sg : out()) CHECK(!(sg.flags & R));
        CHECK_EQ(g_ev.size(), (size_t)room);
        for (int ev : g_ev) CHECK_EQ(ev, (int)TCPSOCKET_ACCEPT);
        std::vector<TCPSocket*> conns;
        for (int i = 0; i < room; i++) {
            TCPSocket* c = nullptr;
            CHECK_EQ(srv.lis.accept(nullptr, &c), TCPSOCKET_OK);
            if (c) conns.push_back(c);
        }
        // They work: data is taken and acknowledged.
        for (auto& q : peers) q.send(A | P, bytes("x"));
        Net::poll();
        host_board::advance_ms(300);
        Net::poll();
        for (auto& sg : out()) CHECK(!(sg.flags & R));
        for (auto* c : conns) {
            char b[4];
            CHECK_EQ(c->recv(b, sizeof b), 1);
            c->close();
            delete c;
        }
    }
    drain();
    delete e;
}

// Both windows closed: the board's receive window is zero (its application does not read)
// and the peer probes it the way Linux does, with seq = rcv_nxt - 1 and a new ACK.  The
// segment is unacceptable (answered with an ACK), but its ACK field is still processed
// (RFC 793 p. 69, RFC 1122 4.2.2.17): the board's data counts as acknowledged and is never
// retransmitted.
TEST(zero_window_probe_ack_is_processed) {
    EthernetNetIf* e = setup();
    Server srv;
    srv.open();
    Peer& p = srv.peer;
    Bytes chunk(536, 'z');
    for (int i = 0; i < NETCFG_TCP_WND / 536; i++) p.send(A, chunk);
    int rest = NETCFG_TCP_WND % 536;
    if (rest) p.send(A, Bytes((size_t)rest, 'y'));
    Net::poll();
    CHECK_EQ(srv.conn->send("board-data", 10), 10);
    auto v = out();
    CHECK(!v.empty());
    if (!v.empty()) CHECK_EQ(v.back().wnd, 0);  // the board's window is closed
    g_ev2.clear();
    // The probe: one below rcv_nxt, no data, acknowledging the board's 10 bytes, and the
    // peer's own window closes meanwhile (it does not read either).
    p.ack += 10;
    p.wnd = 0;
    p.sendAt(p.seq - 1, A);
    Net::poll();
    v = out();
    CHECK_EQ(v.size(), 1u);  // answered with an ACK (window 0)
    if (!v.empty()) {
        CHECK_EQ(v[0].flags, A);
        CHECK_EQ(v[0].ack, p.seq);
        CHECK_EQ(v[0].wnd, 0);
    }
    CHECK_EQ(g_ev2, std::vector<int>{TCPSOCKET_WRITEABLE});
    CHECK_EQ(srv.conn->sendQueued(), 0);
    // Nothing is retransmitted later: the data was acknowledged.
    for (int i = 0; i < 5; i++) {
        host_board::advance_ms(10000);
        Net::poll();
        for (auto& sg : out()) CHECK(sg.data.empty());
    }
    // New data waits for the peer's window (probes, not retransmissions of old data), and
    // goes out when a window update with an old sequence number but a newer ACK opens it.
    CHECK_EQ(srv.conn->send("more", 4), 4);
    CHECK_EQ(out().size(), 0u);
    p.wnd = 4000;
    p.sendAt(p.seq - 1, A);
    Net::poll();
    v = out();
    bool sawMore = false;
    for (auto& sg : v) sawMore |= sg.data == bytes("more") || sg.data == bytes("m");
    CHECK(sawMore);
    delete e;
}

// Old segments carry old ACKs and windows: a reordered segment (older sequence number and
// older ACK than what the board has seen) neither moves snd_una back nor shrinks the window
// (RFC 793 SND.WL1/SND.WL2), and a duplicate of data already received that carries a new
// ACK has that ACK processed.
TEST(old_segments_old_acks_and_windows) {
    EthernetNetIf* e = setup();
    Server srv;
    srv.open();
    Peer& p = srv.peer;
    uint32_t s0 = p.seq;
    p.send(A, bytes("abcd"));
    Net::poll();
    char b[16];
    CHECK_EQ(srv.conn->recv(b, sizeof b), 4);
    CHECK_EQ(srv.conn->send("0123456789", 10), 10);
    out();
    // The duplicate of "abcd" (retransmitted by the peer) carries an ACK of 4 bytes.
    uint32_t a0 = p.ack;
    p.ack = a0 + 4;
    p.sendAt(s0, A, bytes("abcd"));
    Net::poll();
    auto v = out();
    CHECK(!v.empty());  // answered with an ACK at once
    CHECK_EQ(srv.conn->sendQueued(), 6);
    // An old segment (seq before the last one, old ACK) announcing a zero window: ignored.
    p.ack = a0;
    p.wnd = 0;
    p.sendAt(s0, A);
    Net::poll();
    out();
    CHECK_EQ(srv.conn->sendQueued(), 6);
    CHECK_EQ(srv.conn->send("xy", 2), 2);
    v = out();
    CHECK_EQ(v.size(), 1u);  // the window is still open: sent at once
    if (!v.empty()) CHECK_EQ(v[0].data, bytes("xy"));
    delete e;
}

// --- SACK (RFC 2018), early retransmit (RFC 5827), limited transmit (RFC 3042), Karn ----------

TEST(sack_permitted_offered_and_accepted) {
    EthernetNetIf* e = setup();
    {
        // Passive open: offered back only when the peer's SYN offers it.
        Server srv;
        srv.open(536, true);
        CHECK_EQ(srv.sackOffered, NETCFG_TCP_SACK != 0);
    }
    drain();
    learn_peer();
    {
        Server srv;
        srv.peer.port = 40001;
        srv.open(536, false);
        CHECK(!srv.sackOffered);
    }
    drain();
    learn_peer();
    // Active open: our SYN offers it, after the MSS option, the header padded with NOPs.
    TCPSocket s;
    s.setOnEvent(&onEv);
    CHECK_EQ(s.connect(Host(IpAddr(192, 0, 2, 20), 80, NULL)), TCPSOCKET_OK);
    auto v = out();
    CHECK_EQ(v.size(), 1u);
    if (!v.empty()) {
        Opts o = opts(v[0].opts);
        CHECK(o.ok);
        CHECK_EQ(v[0].opts.size() % 4, 0u);
        CHECK_EQ(o.has(4), NETCFG_TCP_SACK != 0);
        CHECK_EQ(v[0].mss, NETCFG_TCP_MSS);
    }
    s.close();
    drain();
    delete e;
}

// SACK blocks on every ACK while out-of-order data is held: the block of the latest segment
// first, then the blocks of the segments received before it; none once the holes are filled.
TEST(sack_blocks_on_acks_while_out_of_order) {
    EthernetNetIf* e = setup();
    Server srv;
    srv.open(536, true);
    Peer& p = srv.peer;
    uint32_t s0 = p.seq;
    Bytes d(100, 'd');
    // Holes at [0,100), [200,300), [400,500), [600,700): four out-of-order blocks.
    p.sendAt(s0 + 200, A, d);
    Net::poll();
    auto v = out();
    CHECK_EQ(v.size(), 1u);
    if (!v.empty()) {
        CHECK_EQ(v[0].ack, s0);
        Opts o = opts(v[0].opts);
        CHECK(o.ok);
        CHECK_EQ(v[0].opts.size() % 4, 0u);
        if (NETCFG_TCP_SACK) {
            CHECK_EQ(o.sack.size(), 1u);
            if (!o.sack.empty()) CHECK(o.sack[0] == std::make_pair(s0 + 200, s0 + 300));
        } else {
            CHECK(o.sack.empty());
        }
    }
    p.sendAt(s0 + 600, A, d);
    p.sendAt(s0 + 400, A, d);
    p.sendAt(s0 + 800, A, d);
    Net::poll();
    v = out();
    typedef std::vector<std::pair<uint32_t, uint32_t>> B;
    CHECK_EQ(v.size(), 3u);
    if (v.size() == 3 && NETCFG_TCP_SACK) {
        CHECK(opts(v[0].opts).sack == (B{{s0 + 600, s0 + 700}, {s0 + 200, s0 + 300}}));
        CHECK(opts(v[1].opts).sack ==
              (B{{s0 + 400, s0 + 500}, {s0 + 600, s0 + 700}, {s0 + 200, s0 + 300}}));
        CHECK(opts(v[2].opts).sack == (B{{s0 + 800, s0 + 900},
                                         {s0 + 400, s0 + 500},
                                         {s0 + 600, s0 + 700},
                                         {s0 + 200, s0 + 300}}));
        CHECK_EQ(v[2].opts.size(), 36u);  // NOP NOP + 2 + 4 x 8: the most that fits
    }
    // The first hole filled: the ACK moves, the blocks left keep their order.
    p.sendAt(s0, A, Bytes(200, 'a'));
    Net::poll();
    v = out();
    CHECK_EQ(v.size(), 1u);
    if (!v.empty()) {
        CHECK_EQ(v[0].ack, s0 + 300);
        if (NETCFG_TCP_SACK)
            CHECK(opts(v[0].opts).sack ==
                  (B{{s0 + 800, s0 + 900}, {s0 + 400, s0 + 500}, {s0 + 600, s0 + 700}}));
    }
    p.sendAt(s0 + 300, A, d);
    Net::poll();
    v = out();
    CHECK_EQ(v.size(), 1u);
    if (!v.empty()) {
        CHECK_EQ(v[0].ack, s0 + 500);
        if (NETCFG_TCP_SACK)
            CHECK(opts(v[0].opts).sack == (B{{s0 + 800, s0 + 900}, {s0 + 600, s0 + 700}}));
    }
    // A segment joining two blocks: one block, first.
    p.sendAt(s0 + 700, A, d);
    Net::poll();
    v = out();
    CHECK_EQ(v.size(), 1u);
    if (!v.empty() && NETCFG_TCP_SACK) CHECK(opts(v[0].opts).sack == (B{{s0 + 600, s0 + 900}}));
    p.sendAt(s0 + 500, A, d);
    Net::poll();
    v = out();
    CHECK(!v.empty());
    if (!v.empty()) {
        CHECK_EQ(v.back().ack, s0 + 900);
        CHECK(v.back().opts.empty());  // nothing out of order: no SACK option
    }
    p.seq = s0 + 900;
    delete e;
}

// A data segment sent while out-of-order data is held carries the SACK blocks and, with them,
// no more than the peer's MSS; a SACK without SACK-permitted is never sent.
TEST(sack_blocks_fit_beside_data) {
    EthernetNetIf* e = setup();
    {
        Server srv;
        srv.open(536, true);
        Peer& p = srv.peer;
        p.sendAt(p.seq + 100, A, Bytes(50, 'x'));
        Net::poll();
        out();
        std::string big(NETCFG_TCP_SND_BUF, 'z');
        CHECK(srv.conn->send(big.data(), (int)big.size()) > 0);
        auto v = out();
        CHECK(v.size() >= 2u);
        for (auto& sg : v) {
            CHECK(sg.data.size() + sg.opts.size() <= 536u);
            if (NETCFG_TCP_SACK) CHECK_EQ(opts(sg.opts).sack.size(), 1u);
        }
    }
    drain();
    learn_peer();
    {
        Server srv;
        srv.peer.port = 40002;
        srv.open(536, false);
        Peer& p = srv.peer;
        p.sendAt(p.seq + 100, A, Bytes(50, 'x'));
        Net::poll();
        auto v = out();
        CHECK_EQ(v.size(), 1u);
        if (!v.empty()) CHECK(v[0].opts.empty());
    }
    delete e;
}

// The peer's SACK blocks, well formed or not, do no harm: a malformed SACK option is skipped
// (the segment's data is still taken), blocks beyond what was sent are ignored.
TEST(incoming_sack_option_parsed_without_harm) {
    EthernetNetIf* e = setup();
    Server srv;
    srv.open(536, true);
    Peer& p = srv.peer;
    CHECK_EQ(srv.conn->send("abcdef", 6), 6);
    out();
    SegOpt o;
    o.opts = Bytes{1, 1, 5, 7, 0, 0, 0, 0, 0, 0, 0, 1};  // bad length (7)
    p.send(A, bytes("hi"), o);
    Net::poll();
    char b[16];
    CHECK_EQ(srv.conn->recv(b, sizeof b), 2);
    o.opts = sackOpt({{p.ack + 100, p.ack + 200}, {p.ack - 50, p.ack - 10}});  // nonsense
    p.send(A, Bytes(), o);
    o.opts = sackOpt({{p.ack + 2, p.ack + 4}, {p.ack + 4, p.ack + 6}, {p.ack, p.ack + 1},
                      {p.ack + 1, p.ack + 2}});
    p.send(A, Bytes(), o);
    Net::poll();
    CHECK_EQ(Net::stats().tcp_bad_header, 0u);
    p.ack += 6;
    p.send(A);
    Net::poll();
    CHECK_EQ(TcpCore::pcbsInUse(), 1);
    out();
    delete e;
}

// Early retransmit (RFC 5827): 3 segments outstanding and nothing more to send: 2 duplicate
// ACKs retransmit the first; with 2 outstanding, 1 does.
TEST(early_retransmit_with_few_segments_outstanding) {
    EthernetNetIf* e = setup();
    {
        Server srv;
        srv.open(300);
        Peer& p = srv.peer;
        std::string d(900, 'q');
        CHECK_EQ(srv.conn->send(d.data(), 900), 900);
        auto v = out();
        CHECK_EQ(v.size(), 3u);
        uint32_t first = v.empty() ? 0 : v[0].seq;
        p.send(A);  // first duplicate ACK: segment 1 missing
        Net::poll();
        CHECK_EQ(out().size(), 0u);
        p.send(A);  // second: oseg - 1 = 2
        Net::poll();
        v = out();
        CHECK_EQ(v.size(), 1u);
        if (!v.empty()) {
            CHECK_EQ(v[0].seq, first);
            CHECK_EQ(v[0].data.size(), 300u);
        }
        // Segment 1 arrives: 2 left; segment 2 is missing: one duplicate ACK is enough.
        p.ack += 300;
        p.send(A);
        Net::poll();
        v = out();  // (NewReno: a partial ACK retransmits the next segment at once)
        p.ack += 300;
        p.send(A);
        Net::poll();
        out();
        p.ack += 300;
        p.send(A);
        Net::poll();
        CHECK_EQ(out().size(), 0u);
        CHECK_EQ(srv.conn->send(d.data(), 600), 600);
        v = out();
        CHECK_EQ(v.size(), 2u);
        p.send(A);
        Net::poll();
        v = out();
        CHECK_EQ(v.size(), 1u);
        if (!v.empty()) CHECK_EQ(v[0].seq, p.ack);
        p.ack += 600;
        p.send(A);
        Net::poll();
        out();
    }
    drain();
    delete e;
}

// With SACK, the duplicate ACKs are those that SACK new data, data-carrying or not (RFC
// 6675); a repeated ACK that SACKs nothing new is not one.
TEST(early_retransmit_counts_sacked_segments) {
    EthernetNetIf* e = setup();
    Server srv;
    srv.open(300, true);
    if (!NETCFG_TCP_SACK) {
        delete e;
        return;
    }
    Peer& p = srv.peer;
    std::string d(900, 'q');
    CHECK_EQ(srv.conn->send(d.data(), 900), 900);
    auto v = out();
    CHECK_EQ(v.size(), 3u);
    uint32_t a = p.ack;
    SegOpt o;
    o.opts = sackOpt({{a + 300, a + 600}});
    p.send(A | P, bytes("x"), o);  // carries data, SACKs segment 2
    p.send(A, Bytes(), o);         // the same again: nothing new
    Net::poll();
    v = out();
    for (auto& sg : v) CHECK(sg.seq != a || sg.data.empty());  // no retransmission yet
    o.opts = sackOpt({{a + 300, a + 900}});
    p.send(A | P, bytes("y"), o);  // SACKs segment 3: the second duplicate ACK
    Net::poll();
    v = out();
    bool rtx = false;
    for (auto& sg : v) rtx |= sg.seq == a && sg.data.size() == 300u;
    CHECK(rtx);
    p.ack += 900;
    p.send(A);
    Net::poll();
    out();
    delete e;
}

// Limited transmit (RFC 3042): the first and second duplicate ACKs each send one new segment
// the congestion window holds back; no retransmission before the third.
TEST(limited_transmit_on_first_two_dupacks) {
    EthernetNetIf* e = setup();
    Server srv;
    srv.open(300);
    Peer& p = srv.peer;
    std::string d(1608, 'q');
    CHECK_EQ(srv.conn->send(d.data(), 1608), 1608);
    auto v = out();
    CHECK_EQ(v.size(), 4u);  // initial window: 4 x 300
    uint32_t next = v.empty() ? 0 : v.back().seq + 300;
    p.send(A);
    Net::poll();
    v = out();
    CHECK_EQ(v.size(), 1u);
    if (!v.empty()) {
        CHECK_EQ(v[0].seq, next);
        CHECK_EQ(v[0].data.size(), 300u);
    }
    p.send(A);
    Net::poll();
    v = out();
    CHECK_EQ(v.size(), 1u);
    if (!v.empty()) {
        CHECK_EQ(v[0].seq, next + 300);
        CHECK_EQ(v[0].data.size(), 108u);
    }
    CHECK_EQ(Net::stats().tcp_retransmits, 0u);
    p.send(A);
    Net::poll();
    v = out();
    CHECK_EQ(v.size(), 1u);
    if (!v.empty()) CHECK_EQ(v[0].seq, p.ack);  // third: fast retransmit
    p.ack += 1608;
    p.send(A);
    Net::poll();
    out();
    delete e;
}

// Karn's rule in the handshake: a SYN-ACK or SYN that had to be retransmitted gives no RTT
// sample (the ACK cannot say which copy it answers): the RTO stays the initial 3 s instead of
// a sample of 3 s + RTT making it ~9 s.
TEST(retransmitted_syn_gives_no_rtt_sample) {
    EthernetNetIf* e = setup();
    {
        Server srv;
        srv.listen();
        Peer& p = srv.peer;
        SegOpt o;
        o.opts = mssOpt(536);
        p.send(S, Bytes(), o);
        Net::poll();
        auto v = out();
        CHECK_EQ(v.size(), 1u);
        host_board::advance_ms(NETCFG_TCP_RTO_INIT_MS);
        Net::poll();
        v = out();
        CHECK_EQ(v.size(), 1u);  // the SYN-ACK again
        if (v.empty()) return;
        host_board::advance_ms(20);
        p.ack = v[0].seq + 1;
        p.send(A);
        Net::poll();
        Host client;
        CHECK_EQ(srv.lis.accept(&client, &srv.conn), TCPSOCKET_OK);
        if (!srv.conn) return;
        CHECK_EQ(srv.conn->send("x", 1), 1);
        out();
        CHECK_EQ(Net::nextTimerUs() - board::micros(), (uint64_t)NETCFG_TCP_RTO_INIT_MS * 1000);
        p.ack += 1;
        p.send(A);
        Net::poll();
    }
    drain();
    learn_peer();
    {
        TCPSocket s;
        s.setOnEvent(&onEv);
        CHECK_EQ(s.connect(Host(IpAddr(192, 0, 2, 20), 80, NULL)), TCPSOCKET_OK);
        out();
        host_board::advance_ms(NETCFG_TCP_RTO_INIT_MS);
        Net::poll();
        auto v = out();
        CHECK_EQ(v.size(), 1u);  // the SYN again
        host_board::advance_ms(20);
        Peer p;
        p.port = 80;
        p.myPort = v.empty() ? 0 : v[0].sport;
        p.ack = v.empty() ? 0 : v[0].seq + 1;
        SegOpt o;
        o.opts = mssOpt(536);
        p.send(S | A, Bytes(), o);
        Net::poll();
        out();
        CHECK_EQ(s.send("x", 1), 1);
        out();
        CHECK_EQ(Net::nextTimerUs() - board::micros(), (uint64_t)NETCFG_TCP_RTO_INIT_MS * 1000);
        s.close();
    }
    drain();
    delete e;
}

// A segment repeating data already received along with new data (a retransmission that
// overlaps rcv_nxt) is ACKed at once, not delayed: its sender is recovering a loss (RFC 5681
// 4.2); a segment entirely old is ACKed at once too.
TEST(retransmission_overlapping_received_data_acked_at_once) {
    EthernetNetIf* e = setup();
    Server srv;
    srv.open();
    Peer& p = srv.peer;
    uint32_t s0 = p.seq;
    p.send(A, Bytes(100, 'a'));
    Net::poll();
    CHECK_EQ(out().size(), 0u);  // delayed
    p.sendAt(s0, A, Bytes(200, 'a'));
    Net::poll();
    auto v = out();
    CHECK_EQ(v.size(), 1u);
    if (!v.empty()) CHECK_EQ(v[0].ack, s0 + 200);
    p.sendAt(s0, A, Bytes(200, 'a'));  // all of it old
    Net::poll();
    v = out();
    CHECK_EQ(v.size(), 1u);
    if (!v.empty()) CHECK_EQ(v[0].ack, s0 + 200);
    p.seq = s0 + 200;
    delete e;
}

// With SACK, the timed segment SACKed above a hole gives an RTT sample at once: a backed-off
// RTO comes back to what the path needs instead of waiting for (or being stretched by) the
// cumulative ACK that comes only once the hole is filled.
TEST(sacked_timed_segment_gives_rtt_sample) {
    EthernetNetIf* e = setup();
    Server srv;
    srv.open(536, true);
    if (!NETCFG_TCP_SACK) {
        delete e;
        return;
    }
    Peer& p = srv.peer;
    uint32_t a = p.ack;
    CHECK_EQ(srv.conn->send(std::string(100, 'a').data(), 100), 100);
    out();
    host_board::set_time_us(Net::nextTimerUs());  // RTO: segment A again, the RTO doubled
    Net::poll();
    CHECK_EQ(out().size(), 1u);
    CHECK_EQ(srv.conn->send(std::string(100, 'b').data(), 100), 100);  // B: timed
    CHECK_EQ(out().size(), 1u);
    host_board::advance_ms(30);
    SegOpt o;
    o.opts = sackOpt({{a + 100, a + 200}});
    p.send(A, Bytes(), o);  // A still missing, B SACKed
    Net::poll();
    out();
    host_board::advance_ms(2000);
    p.ack = a + 200;
    p.send(A);
    Net::poll();
    out();
    CHECK_EQ(srv.conn->send("c", 1), 1);
    out();
    CHECK_EQ(Net::nextTimerUs() - board::micros(), (uint64_t)NETCFG_TCP_RTO_MIN_MS * 1000);
    p.ack += 1;
    p.send(A);
    Net::poll();
    delete e;
}

// A SACK for new data counts as a duplicate ACK even on a segment our window would not
// accept: a pure ACK sent at the right edge of our full window (the peer's next sequence
// number) still carries its SACK blocks.  Early retransmit counts outstanding segments
// by bytes (ceiling(flight / MSS)).
TEST(sack_dupack_at_the_right_edge_of_a_full_window) {
    EthernetNetIf* e = setup();
    Server srv;
    srv.open(536, true);
    if (!NETCFG_TCP_SACK) {
        delete e;
        return;
    }
    Peer& p = srv.peer;
    // Most of our window fills up (the application reads nothing).
    Bytes chunk(536, 'w');
    for (int i = 0; i < NETCFG_TCP_WND / 536 - 1; i++) p.send(A, chunk);
    Net::poll();
    out();
    uint32_t a = p.ack;
    CHECK_EQ(srv.conn->send(std::string(12, 's').data(), 12), 12);
    CHECK_EQ(srv.conn->send(std::string(536, 'x').data(), 536), 536);
    CHECK_EQ(srv.conn->send(std::string(12, 's').data(), 12), 12);
    auto v = out();
    CHECK_EQ(v.size(), 3u);  // 3 segments, 560 bytes: 2 by bytes, so 1 duplicate ACK is enough
    CHECK(!v.empty());
    uint32_t edge = v.empty() ? 0 : v.back().ack + v.back().wnd;
    CHECK(edge != p.seq);
    SegOpt o;
    o.opts = sackOpt({{a + 12, a + 548}});
    uint32_t keep = p.seq;
    p.seq = edge;  // the peer filled our window: its next sequence number is the right edge
    p.send(A, Bytes(), o);
    p.seq = keep;
    Net::poll();
    v = out();
    bool rtx = false;
    for (auto& sg : v) rtx |= sg.seq == a && sg.data.size() > 0;
    CHECK(rtx);
    p.ack = a + 560;
    p.send(A);
    Net::poll();
    out();
    delete e;
}

// One ACK whose SACK block covers the rest of the flight (its other ACKs lost or delayed)
// is enough: more than (threshold - 1) x MSS bytes SACKed above the first segment (RFC 6675).
TEST(one_sack_covering_the_rest_of_the_flight_retransmits) {
    EthernetNetIf* e = setup();
    Server srv;
    srv.open(300, true);
    if (!NETCFG_TCP_SACK) {
        delete e;
        return;
    }
    Peer& p = srv.peer;
    std::string d(900, 'q');
    CHECK_EQ(srv.conn->send(d.data(), 900), 900);
    auto v = out();
    CHECK_EQ(v.size(), 3u);
    uint32_t a = p.ack;
    SegOpt o;
    o.opts = sackOpt({{a + 300, a + 900}});
    p.send(A, Bytes(), o);
    Net::poll();
    v = out();
    CHECK_EQ(v.size(), 1u);
    if (!v.empty()) {
        CHECK_EQ(v[0].seq, a);
        CHECK_EQ(v[0].data.size(), 300u);
    }
    // A SACK of one segment out of three is not (reordering is likelier).
    p.ack += 900;
    p.send(A);
    Net::poll();
    out();
    CHECK_EQ(srv.conn->send(d.data(), 900), 900);
    out();
    a = p.ack;
    o.opts = sackOpt({{a + 600, a + 900}});
    p.send(A, Bytes(), o);
    Net::poll();
    CHECK_EQ(out().size(), 0u);
    p.ack += 900;
    p.send(A);
    Net::poll();
    out();
    delete e;
}
