// NetService: base of objects polled by Net::poll() and, when "owned", destroyed by it
// (netservices.md 2.4).
//
// Every NetService joins a global list on construction.  NetService::servicesPoll() (the
// first step of Net::poll()) walks the list in insertion order: an owned service that has
// called close() is removed and deleted there; every other service gets poll().  So an
// owned service may close() itself inside its own callback and is destroyed at the start
// of the next Net::poll(), never while one of its methods runs.  A non-owned service
// (owned = false) is never deleted by the pool; its owner deletes it (the destructor
// leaves the list).  Services may be created or deleted from inside poll().
#pragma once

class NetService {
public:
    explicit NetService(bool owned = true);
    virtual ~NetService();

    // Called once per Net::poll(); does nothing by default.
    virtual void poll();

    static void servicesPoll();

protected:
    // Marks the service closed: an owned service is deleted by the next servicesPoll().
    void close();

private:
    NetService(const NetService&) = delete;
    NetService& operator=(const NetService&) = delete;

    NetService* m_prev;
    NetService* m_next;
    bool m_owned;
    bool m_closed;
    bool m_removed;
};
