// TCPSocket commands: wrappers per handle, both callback forms, accept driven by the host or
// done by the listener's own callback (as a server does), and stream modes that move bulk
// data inside the callbacks (echo, sink with SHA-256, source of a known pattern).
#include <stdlib.h>
#include <string.h>

#include "TCPSocket.h"
#include "netcfg.h"
#include "agent.h"
#include "rt.h"
#include "sha256.h"

namespace agent {
namespace {

constexpr int kMaxTcp = 12;
constexpr uint16_t kChunk = NETCFG_TCP_MSS;  // one full segment per step

enum StreamMode : uint8_t { ST_OFF = 0, ST_ECHO = 1, ST_SINK = 2, ST_SOURCE = 3 };

struct TcpSlot {
    TCPSocket* sock = nullptr;
    uint8_t handle = 0;
    uint8_t stream = ST_OFF;
    bool auto_accept = false;
    uint8_t child_stream = ST_OFF;
    bool reap = false;        // an echo connection the listener accepted: freed once closed
    bool dead = false;        // closed: free the slot after this Net::poll()
    bool peer_fin = false;    // a reaped echo connection got the peer's FIN: close once drained
    uint32_t rx = 0, tx = 0, source_left = 0;
    uint16_t pend_off = 0, pend_len = 0;  // echo: bytes received but not yet accepted by send()
    uint8_t* buf = nullptr;               // kChunk bytes, allocated for stream modes
    Sha256 sha;

    void reset_stream(uint8_t mode, uint32_t count);
    // Move stream data as far as the buffers allow; true when an echo has handed everything
    // received so far to send() (nothing waiting in buf, nothing unread in the socket).
    bool pump();
    void step();                     // pump, then close a half-closed echo once drained
    void report(TCPSocketEvent e, CallbackMode mode);
    void onEvent(TCPSocketEvent e) { report(e, CB_MEMBER); }
};

TcpSlot g_tcp[kMaxTcp];

template <int N>
void tcp_function_cb(TCPSocketEvent e) { g_tcp[N].report(e, CB_FUNCTION); }
void (*const g_tcp_fns[kMaxTcp])(TCPSocketEvent) = {
    tcp_function_cb<0>, tcp_function_cb<1>, tcp_function_cb<2>, tcp_function_cb<3>,
    tcp_function_cb<4>, tcp_function_cb<5>, tcp_function_cb<6>, tcp_function_cb<7>,
    tcp_function_cb<8>, tcp_function_cb<9>, tcp_function_cb<10>, tcp_function_cb<11>};

int alloc_slot(TCPSocket* sock) {
    for (int i = 0; i < kMaxTcp; i++) {
        if (!g_tcp[i].sock) {
            TcpSlot& s = g_tcp[i];
            s.sock = sock;
            s.handle = (uint8_t)i;
            s.auto_accept = false;
            s.child_stream = ST_OFF;
            s.reap = s.dead = s.peer_fin = false;
            s.reset_stream(ST_OFF, 0);
            return i;
        }
    }
    return -1;
}

void free_slot(TcpSlot& s) {
    delete s.sock;
    s.sock = nullptr;
    free(s.buf);
    s.buf = nullptr;
    s.stream = ST_OFF;
}

void TcpSlot::reset_stream(uint8_t mode, uint32_t count) {
    stream = mode;
    rx = tx = 0;
    source_left = count;
    pend_off = pend_len = 0;
    sha.reset();
    if (mode != ST_OFF && !buf) buf = (uint8_t*)malloc(kChunk);
}

bool TcpSlot::pump() {
    if (!buf && stream != ST_OFF) buf = (uint8_t*)malloc(kChunk);  // none free at accept
    if (!buf) return false;
    for (int guard = 0; guard < 64; guard++) {
        if (stream == ST_SINK) {
            int n = sock->recv((char*)buf, kChunk);
            if (n <= 0) return true;
            rx += (uint32_t)n;
            sha.update(buf, (size_t)n);
        } else if (stream == ST_ECHO) {
            if (pend_len == 0) {
                int n = sock->recv((char*)buf, kChunk);
                if (n <= 0) return true;  // all received data is in the socket's send queue
                rx += (uint32_t)n;
                pend_off = 0;
                pend_len = (uint16_t)n;
            }
            int sent = sock->send((const char*)buf + pend_off, pend_len);
            if (sent <= 0) return false;  // buffer full: WRITEABLE brings us back
            tx += (uint32_t)sent;
            pend_off = (uint16_t)(pend_off + sent);
            pend_len = (uint16_t)(pend_len - sent);
            if (pend_len) return false;
        } else if (stream == ST_SOURCE) {
            if (source_left == 0) return true;
            uint16_t n = source_left < kChunk ? (uint16_t)source_left : kChunk;
            for (uint16_t i = 0; i < n; i++) buf[i] = (uint8_t)((tx + i) % 251);
            int sent = sock->send((const char*)buf, n);
            if (sent <= 0) return false;
            tx += (uint32_t)sent;
            source_left -= (uint32_t)sent;
            if (source_left == 0) {
                sock->close();  // FIN after the queued data
                return true;
            }
        } else {
            return true;
        }
    }
    return false;  // more may be waiting: the next event continues
}

void TcpSlot::step() {
    bool drained = pump();
    // A half-closed echo connection (the peer's FIN came while its echo was still waiting)
    // is closed only once everything it sent has been handed to the socket; close() then
    // sends the FIN after the queued data (RFC 862: everything received is sent back).
    if (reap && peer_fin && drained && !dead) {
        sock->close();
        dead = true;
    }
}

void TcpSlot::report(TCPSocketEvent e, CallbackMode mode) {
    if (e == TCPSOCKET_ACCEPT && auto_accept) {
        Host client;
        TCPSocket* child = nullptr;
        proto::EvTcpAccepted ev;
        ev.ts_us = board::micros();
        ev.listener = handle;
        ev.result = sock->accept(&client, &child);
        ev.new_handle = -1;
        if (ev.result == TCPSOCKET_OK) {
            int h = alloc_slot(child);
            if (h < 0) {
                child->close();
                delete child;
                ev.result = TCPSOCKET_MEM;
            } else {
                TcpSlot& c = g_tcp[h];
                c.sock->setOnEvent(&c, &TcpSlot::onEvent);
                c.reset_stream(child_stream, 0);
                c.reap = child_stream == ST_ECHO;  // a server's echo connection lives alone
                ev.new_handle = h;
            }
        }
        ev.ip = from_ip(client.getIp());
        ev.port = (uint16_t)client.getPort();
        send_msg(0, ev);
        if (ev.new_handle >= 0) g_tcp[ev.new_handle].pump();
        return;
    }
    if (reap && e == TCPSOCKET_DISCONNECTED && stream == ST_ECHO) {
        // Peer half-closed: keep echoing (WRITEABLE brings us back), FIN once drained.
        peer_fin = true;
        step();
    } else if (reap && e != TCPSOCKET_READABLE && e != TCPSOCKET_WRITEABLE) {
        // Peer closed, reset or gone: this connection is over.
        sock->close();
        dead = true;
    }
    bool data_event = e == TCPSOCKET_READABLE || e == TCPSOCKET_WRITEABLE ||
                      e == TCPSOCKET_CONNECTED;
    if (stream != ST_OFF && data_event && !dead) {
        step();
        if (e != TCPSOCKET_CONNECTED) return;  // bulk traffic stays on the board
    }
    proto::EvTcpEvent ev;
    ev.ts_us = board::micros();
    ev.handle = handle;
    ev.event = (uint8_t)e;
    ev.mode = mode;
    send_msg(0, ev);
}

TcpSlot* slot(uint8_t h) { return (h < kMaxTcp && g_tcp[h].sock) ? &g_tcp[h] : nullptr; }

// Start a stream once TCP_STREAM's reply is out (data already waiting, or a source).
void pump_after_reply(void* slot) { static_cast<TcpSlot*>(slot)->pump(); }

}  // namespace

void tcp_reap() {
    for (TcpSlot& s : g_tcp) {
        if (s.sock && s.dead) free_slot(s);
        // A stream whose buffer could not be had yet: try again (memory comes back as other
        // connections' data is read or acknowledged; no event may announce it).
        else if (s.sock && s.stream != ST_OFF && !s.buf) s.step();
    }
}

uint8_t handle_tcp_new(const proto::TcpNewReq&, proto::TcpNewReply& reply) {
    int h = alloc_slot(new TCPSocket());
    reply.result = h < 0 ? TCPSOCKET_MEM : h;
    return REPLY;
}

uint8_t handle_tcp_delete(const proto::TcpDeleteReq& req, proto::TcpDeleteReply& reply) {
    TcpSlot* s = slot(req.handle);
    if (!s) return proto::ERR_BAD_HANDLE;
    free_slot(*s);
    reply.result = TCPSOCKET_OK;
    return REPLY;
}

uint8_t handle_tcp_bind(const proto::TcpBindReq& req, proto::TcpBindReply& reply) {
    TcpSlot* s = slot(req.handle);
    if (!s) return proto::ERR_BAD_HANDLE;
    reply.result = s->sock->bind(Host(to_ip(req.ip), req.port, nullptr));
    return REPLY;
}

uint8_t handle_tcp_listen(const proto::TcpListenReq& req, proto::TcpListenReply& reply) {
    TcpSlot* s = slot(req.handle);
    if (!s) return proto::ERR_BAD_HANDLE;
    reply.result = s->sock->listen();
    return REPLY;
}

uint8_t handle_tcp_connect(const proto::TcpConnectReq& req, proto::TcpConnectReply& reply) {
    TcpSlot* s = slot(req.handle);
    if (!s) return proto::ERR_BAD_HANDLE;
    reply.result = s->sock->connect(Host(to_ip(req.ip), req.port, nullptr));
    return REPLY;
}

uint8_t handle_tcp_accept(const proto::TcpAcceptReq& req, proto::TcpAcceptReply& reply) {
    TcpSlot* s = slot(req.handle);
    if (!s) return proto::ERR_BAD_HANDLE;
    Host client;
    TCPSocket* child = nullptr;
    reply.result = s->sock->accept(&client, &child);
    reply.new_handle = -1;
    if (reply.result == TCPSOCKET_OK) {
        reply.new_handle = alloc_slot(child);
        if (reply.new_handle < 0) {
            child->close();
            delete child;
            reply.result = TCPSOCKET_MEM;
        }
    }
    reply.ip = from_ip(client.getIp());
    reply.port = (uint16_t)client.getPort();
    return REPLY;
}

uint8_t handle_tcp_send(const proto::TcpSendReq& req, proto::TcpSendReply& reply) {
    TcpSlot* s = slot(req.handle);
    if (!s) return proto::ERR_BAD_HANDLE;
    reply.result = s->sock->send((const char*)req.data.data, req.data.len);
    return REPLY;
}

uint8_t handle_tcp_recv(const proto::TcpRecvReq& req, proto::TcpRecvReply& reply) {
    TcpSlot* s = slot(req.handle);
    if (!s) return proto::ERR_BAD_HANDLE;
    static char buf[proto::MAX_PAYLOAD];
    int cap = req.maxlen < sizeof buf ? req.maxlen : (int)sizeof buf;
    reply.result = s->sock->recv(buf, cap);
    reply.data = proto::Bytes{(const uint8_t*)buf, (uint16_t)(reply.result > 0 ? reply.result : 0)};
    return REPLY;
}

uint8_t handle_tcp_close(const proto::TcpCloseReq& req, proto::TcpCloseReply& reply) {
    TcpSlot* s = slot(req.handle);
    if (!s) return proto::ERR_BAD_HANDLE;
    reply.result = s->sock->close();
    return REPLY;
}

uint8_t handle_tcp_on_event(const proto::TcpOnEventReq& req, proto::TcpOnEventReply& reply) {
    TcpSlot* s = slot(req.handle);
    if (!s) return proto::ERR_BAD_HANDLE;
    reply.result = TCPSOCKET_OK;
    if (req.mode == CB_NONE) s->sock->resetOnEvent();
    else if (req.mode == CB_FUNCTION) s->sock->setOnEvent(g_tcp_fns[s->handle]);
    else if (req.mode == CB_MEMBER) s->sock->setOnEvent(s, &TcpSlot::onEvent);
    else reply.result = TCPSOCKET_SETUP;
    return REPLY;
}

uint8_t handle_tcp_stream(const proto::TcpStreamReq& req, proto::TcpStreamReply& reply) {
    TcpSlot* s = slot(req.handle);
    if (!s) return proto::ERR_BAD_HANDLE;
    if (req.mode > ST_SOURCE) {
        reply.result = TCPSOCKET_SETUP;
        return REPLY;
    }
    s->reset_stream(req.mode, req.count);
    if (req.mode != ST_OFF) s->sock->setOnEvent(s, &TcpSlot::onEvent);
    reply.result = TCPSOCKET_OK;
    after_reply(pump_after_reply, s);
    return REPLY;
}

uint8_t handle_tcp_stream_status(const proto::TcpStreamStatusReq& req,
                                 proto::TcpStreamStatusReply& reply) {
    TcpSlot* s = slot(req.handle);
    if (!s) return proto::ERR_BAD_HANDLE;
    static uint8_t digest[32];
    s->sha.final(digest);
    reply.rx_bytes = s->rx;
    reply.tx_bytes = s->tx;
    reply.sha256 = proto::Bytes{digest, 32};
    return REPLY;
}

uint8_t handle_tcp_auto_accept(const proto::TcpAutoAcceptReq& req,
                               proto::TcpAutoAcceptReply& reply) {
    TcpSlot* s = slot(req.handle);
    if (!s) return proto::ERR_BAD_HANDLE;
    s->auto_accept = req.on != 0;
    s->child_stream = req.stream <= ST_SOURCE ? req.stream : ST_OFF;
    if (s->auto_accept) s->sock->setOnEvent(s, &TcpSlot::onEvent);
    reply.result = TCPSOCKET_OK;
    return REPLY;
}

}  // namespace agent
