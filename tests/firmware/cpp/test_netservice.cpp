// NetService (netservices.md 2.4, 4.1, 4.3) through Net::poll(): owned vs unowned services,
// one poll() per Net::poll(), deferred destruction after close() (also from inside the
// service's own poll() or a socket callback it owns), deleting while the pool iterates, and
// the order services -> interface -> UDP events.
#include <string.h>

#include <string>

#include "EthernetNetIf.h"
#include "UDPSocket.h"
#include "net.h"
#include "netservice.h"
#include "testlib.h"

static std::string g_log;
static int g_alive = 0;

struct Svc : NetService {
    std::string name;
    int polls = 0;
    int closeAt = -1;           // close() inside the poll() with this number
    NetService* victim = nullptr;  // deleted inside the next poll()
    bool deleteSelf = false;
    Svc(const char* n, bool owned) : NetService(owned), name(n) { g_alive++; }
    ~Svc() override {
        g_alive--;
        g_log += "~" + name + " ";
    }
    void poll() override {
        polls++;
        g_log += name + " ";
        if (polls == closeAt) close();
        if (victim) {
            NetService* v = victim;
            victim = nullptr;
            delete v;
        }
        if (deleteSelf) delete this;  // unowned services may go away inside their poll
    }
    void doClose() { close(); }
};

static void reset_log() {
    g_log.clear();
}

TEST(owned_closed_deleted_at_next_net_poll) {
    EthernetNetIf* e = up_static();
    g_alive = 0;
    Svc* a = new Svc("a", true);
    Net::poll();
    CHECK_EQ(a->polls, 1);
    a->doClose();  // outside any poll: still deferred
    CHECK_EQ(g_alive, 1);
    reset_log();
    Net::poll();
    CHECK_EQ(g_log, std::string("~a "));  // deleted at the start, not polled again
    CHECK_EQ(g_alive, 0);
    delete e;
}

TEST(unowned_never_deleted_by_the_pool) {
    EthernetNetIf* e = up_static();
    g_alive = 0;
    Svc* b = new Svc("b", false);
    b->doClose();
    for (int i = 0; i < 3; i++) Net::poll();
    CHECK_EQ(g_alive, 1);
    CHECK_EQ(b->polls, 3);  // a closed unowned service keeps being polled (as the original)
    delete b;                // its owner deletes it: it leaves the list
    CHECK_EQ(g_alive, 0);
    reset_log();
    Net::poll();
    CHECK_EQ(g_log, std::string(""));
    delete e;
}

TEST(close_inside_own_poll_is_deferred) {
    EthernetNetIf* e = up_static();
    g_alive = 0;
    Svc* a = new Svc("a", true);
    Svc* b = new Svc("b", true);
    a->closeAt = 2;
    reset_log();
    Net::poll();
    Net::poll();  // a closes itself inside this poll: it survives it, b still polled after it
    CHECK_EQ(g_log, std::string("a b a b "));
    CHECK_EQ(g_alive, 2);
    reset_log();
    Net::poll();
    CHECK_EQ(g_log, std::string("~a b "));
    b->doClose();
    Net::poll();
    CHECK_EQ(g_alive, 0);
    delete e;
}

TEST(one_poll_per_net_poll) {
    EthernetNetIf* e = up_static();
    g_alive = 0;
    Svc* s[3] = {new Svc("x", false), new Svc("y", true), new Svc("z", false)};
    for (int i = 0; i < 5; i++) Net::poll();
    for (Svc* v : s) CHECK_EQ(v->polls, 5);
    // NetService::servicesPoll alone (not through Net::poll) polls once too.
    NetService::servicesPoll();
    for (Svc* v : s) CHECK_EQ(v->polls, 6);
    delete s[0];
    s[1]->doClose();
    delete s[2];
    Net::poll();
    CHECK_EQ(g_alive, 0);
    delete e;
}

TEST(deleting_while_iterating) {
    EthernetNetIf* e = up_static();
    g_alive = 0;
    Svc* a = new Svc("a", false);
    Svc* b = new Svc("b", false);
    Svc* c = new Svc("c", false);
    Svc* d = new Svc("d", true);
    // a deletes the next entry (b); c deletes itself; d (owned) is still polled.
    a->victim = b;
    c->deleteSelf = true;
    reset_log();
    Net::poll();
    CHECK_EQ(g_log, std::string("a ~b c ~c d "));
    CHECK_EQ(g_alive, 2);
    // Deleting an earlier entry (already visited) and an owned, closed one by hand.
    d->closeAt = d->polls + 1;
    reset_log();
    Net::poll();  // d closes itself
    CHECK_EQ(g_log, std::string("a d "));
    a->victim = d;  // closed and owned, deleted by hand before the pool gets to it: once
    d = nullptr;
    reset_log();
    Net::poll();
    CHECK_EQ(g_log, std::string("a ~d "));
    delete a;
    CHECK_EQ(g_alive, 0);
    delete e;
}

// A service owning a socket that closes itself from the socket callback (like the original's
// TCPEchoHandler): destroyed at the start of the next Net::poll, never inside the callback.
struct Handler : NetService {
    UDPSocket sock;
    int* deleted;
    bool inCallback = false;
    explicit Handler(int* d) : NetService(true), deleted(d) {
        sock.setOnEvent(this, &Handler::onEvent);
        sock.bind(Host(IpAddr(), 6000, NULL));
    }
    ~Handler() override {
        CHECK(!inCallback);
        sock.close();
        (*deleted)++;
    }
    void onEvent(UDPSocketEvent) {
        inCallback = true;
        char b[32];
        while (sock.recvfrom(b, sizeof b, NULL) > 0) {
        }
        close();
        inCallback = false;
    }
};

TEST(close_from_socket_callback) {
    EthernetNetIf* e = up_static();
    int deleted = 0;
    new Handler(&deleted);
    host_board::inject(udp_frame(PEER_IP, 1, 6000, bytes("bye")));
    Net::poll();  // the callback runs (step 4) and closes the service
    CHECK_EQ(deleted, 0);
    Net::poll();  // deleted in step 1 of this poll
    CHECK_EQ(deleted, 1);
    Net::poll();  // its socket implementation goes too
    // The port is free again.
    UDPSocket s;
    CHECK_EQ(s.bind(Host(IpAddr(), 6000, NULL)), UDPSOCKET_OK);
    s.close();
    Net::poll();
    delete e;
}

// Order inside Net::poll: services, then the interface (frames), then UDP events.
struct Recorder : NetService {
    std::vector<std::string>* log;
    UDPSocket* s;
    Recorder(std::vector<std::string>* l, UDPSocket* s_) : NetService(false), log(l), s(s_) {}
    void poll() override {
        log->push_back("service:" + std::to_string(Net::stats().frames_rx));
    }
};
static std::vector<std::string>* g_order;
static void on_udp(UDPSocketEvent) { g_order->push_back("udp:" + std::to_string(Net::stats().frames_rx)); }

TEST(net_poll_order) {
    EthernetNetIf* e = up_static();
    std::vector<std::string> log;
    g_order = &log;
    UDPSocket s;
    s.setOnEvent(&on_udp);
    s.bind(Host(IpAddr(), 6001, NULL));
    Recorder r(&log, &s);
    host_board::inject(udp_frame(PEER_IP, 1, 6001, bytes("1")));
    Net::poll();
    CHECK_EQ(log.size(), 2u);
    if (log.size() == 2) {
        CHECK_EQ(log[0], std::string("service:0"));  // before the frame was read
        CHECK_EQ(log[1], std::string("udp:1"));      // after it
    }
    s.close();
    Net::poll();
    delete e;
}

// A service created from a socket callback is polled from the next Net::poll on.
static Svc* g_spawned = nullptr;
static void spawn_cb(UDPSocketEvent) {
    if (!g_spawned) g_spawned = new Svc("spawned", true);
}

TEST(service_created_in_callback) {
    EthernetNetIf* e = up_static();
    g_alive = 0;
    g_spawned = nullptr;
    UDPSocket s;
    s.setOnEvent(&spawn_cb);
    s.bind(Host(IpAddr(), 6002, NULL));
    host_board::inject(udp_frame(PEER_IP, 1, 6002, bytes("x")));
    Net::poll();
    CHECK(g_spawned != nullptr);
    if (g_spawned) {
        CHECK_EQ(g_spawned->polls, 0);
        Net::poll();
        CHECK_EQ(g_spawned->polls, 1);
        g_spawned->doClose();
    }
    Net::poll();
    CHECK_EQ(g_alive, 0);
    s.close();
    Net::poll();
    delete e;
}
