// Host: (IpAddr, port, optional name) (netservices.md 2.2).
//
// Differences from the original, on purpose (6.5):
//  * a NULL name means "no name" (the original called strlen(NULL));
//  * copying a Host copies its name (the original copied the pointer and freed it twice).
// An empty name is stored as "no name": getName() returns NULL.  If the heap cannot hold
// the copy the Host is left unnamed.
#pragma once
#include <stddef.h>

#include <new>

#include "ipaddr.h"

class Host {
public:
    Host() : m_ip(), m_port(0), m_name(NULL) {}
    Host(const IpAddr& ip, const int& port, const char* name = "")
        : m_ip(ip), m_port(port), m_name(NULL) {
        setName(name);
    }
    Host(const Host& o) : m_ip(o.m_ip), m_port(o.m_port), m_name(NULL) { setName(o.m_name); }
    Host& operator=(const Host& o) {
        if (this != &o) {
            m_ip = o.m_ip;
            m_port = o.m_port;
            setName(o.m_name);
        }
        return *this;
    }
    ~Host() { delete[] m_name; }

    const IpAddr& getIp() const { return m_ip; }
    const int& getPort() const { return m_port; }
    const char* getName() const { return m_name; }

    void setIp(const IpAddr& ip) { m_ip = ip; }
    void setPort(int port) { m_port = port; }
    void setName(const char* name) {
        char* copy = NULL;
        if (name && name[0]) {
            size_t n = 0;
            while (name[n]) n++;
            copy = new (std::nothrow) char[n + 1];
            if (copy) {
                for (size_t i = 0; i <= n; i++) copy[i] = name[i];
            }
        }
        delete[] m_name;
        m_name = copy;
    }

private:
    IpAddr m_ip;
    int m_port;
    char* m_name;
};
