// UDPSocketExample (netservices.md 7.1), on this project's stack: joins the multicast group
// 239.192.1.100, sends "Hello world!" to 239.192.1.100:50000 every 5 s and prints every
// datagram another host sends to the group.
//
// As the original it uses DHCP (EthernetNetIf with no arguments).  Build with
// -DUDPEX_STATIC_IP=a,b,c,d (image udp_socket_example_static: 192.0.2.20) for a static
// address instead; UDPEX_NETMASK, UDPEX_GATEWAY and UDPEX_DNS (same a,b,c,d form) default
// to 255.255.255.0 and a.b.c.1.  See README.md next to this file.
//
// Differences from the original, all invisible on the wire and the console: printf is
// rt_printf, the mbed Timer is board::micros(), and the main loop sleeps in
// board::wait_for_event() until the stack's next timer, the next 5 s tick or a frame.
#include <stdint.h>

#include "EthernetNetIf.h"
#include "UDPSocket.h"
#include "board.h"
#include "net.h"
#include "rt.h"

#ifdef UDPEX_STATIC_IP
#define UDPEX_FIRST3_(a, b, c, d) a, b, c
#define UDPEX_FIRST3(x) UDPEX_FIRST3_(x)
#ifndef UDPEX_NETMASK
#define UDPEX_NETMASK 255, 255, 255, 0
#endif
#ifndef UDPEX_GATEWAY
#define UDPEX_GATEWAY UDPEX_FIRST3(UDPEX_STATIC_IP), 1
#endif
#ifndef UDPEX_DNS
#define UDPEX_DNS UDPEX_GATEWAY
#endif
EthernetNetIf eth(IpAddr(UDPEX_STATIC_IP), IpAddr(UDPEX_NETMASK), IpAddr(UDPEX_GATEWAY),
                  IpAddr(UDPEX_DNS));
#else
EthernetNetIf eth;
#endif
UDPSocket udp;

void onUDPSocketEvent(UDPSocketEvent e) {
    switch (e) {
        case UDPSOCKET_READABLE:  // The only event for now
            char buf[64] = {0};
            Host host;
            int len;
            while ((len = udp.recvfrom(buf, 63, &host)) != 0) {
                if (len <= 0) break;
                rt_printf("From %d.%d.%d.%d: %s\n", host.getIp()[0], host.getIp()[1],
                          host.getIp()[2], host.getIp()[3], buf);
            }
            break;
    }
}

int main() {
    rt_printf("Setting up...\n");
    EthernetErr ethErr = eth.setup();
    if (ethErr) {
        rt_printf("Error %d in setup.\n", (int)ethErr);
        return -1;
    }
    rt_printf("Setup OK\n");

    Host multicast(IpAddr(239, 192, 1, 100), 50000, NULL);  // Join multicast group on port 50000

    udp.setOnEvent(&onUDPSocketEvent);

    udp.bind(multicast);

    const uint64_t period = 5000000;  // 5 s
    uint64_t tmr = board::micros();   // the original's Timer, started here
    while (true) {
        Net::poll();
        if (board::micros() - tmr > period) {
            tmr = board::micros();
            const char* str = "Hello world!";
            udp.sendto(str, 12, &multicast);
            rt_printf("%s\n", str);
        }
        // Sleep until the stack's next timer, the next send, or a frame/byte arrives.
        uint64_t deadline = tmr + period + 1;
        uint64_t next = Net::nextTimerUs();
        if (next && next < deadline) deadline = next;
        board::wait_for_event(deadline);
    }
}
