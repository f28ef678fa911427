// NetService pool: see netservice.h.
#include "netservice.h"

#include <stddef.h>

namespace {
NetService* g_head = NULL;
NetService* g_tail = NULL;
// Next entry servicesPoll() will visit; moved on when that entry leaves the list while a
// poll() runs (a service deleting another one, or itself).
NetService* g_cursor = NULL;
bool g_walking = false;
}  // namespace

NetService::NetService(bool owned)
    : m_prev(g_tail), m_next(NULL), m_owned(owned), m_closed(false), m_removed(false) {
    if (g_tail) g_tail->m_next = this;
    else g_head = this;
    g_tail = this;
    // Created during a walk that already passed the old tail: visit it in this walk too.
    if (g_walking && !g_cursor) g_cursor = this;
}

NetService::~NetService() {
    if (m_removed) return;  // already taken out by servicesPoll()
    if (g_cursor == this) g_cursor = m_next;
    if (m_prev) m_prev->m_next = m_next;
    else g_head = m_next;
    if (m_next) m_next->m_prev = m_prev;
    else g_tail = m_prev;
}

void NetService::poll() {}

void NetService::close() { m_closed = true; }

void NetService::servicesPoll() {
    NetService* s = g_head;
    g_walking = true;
    while (s) {
        g_cursor = s->m_next;
        if (s->m_owned && s->m_closed) {
            if (s->m_prev) s->m_prev->m_next = s->m_next;
            else g_head = s->m_next;
            if (s->m_next) s->m_next->m_prev = s->m_prev;
            else g_tail = s->m_prev;
            s->m_removed = true;
            delete s;
        } else {
            s->poll();
        }
        s = g_cursor;
    }
    g_cursor = NULL;
    g_walking = false;
}
