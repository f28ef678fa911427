// EchoServer example (netservices.md 7.2, after darran's mbed EchoServer): RFC 862 echo on
// TCP port 7 and UDP port 7.
//
// Addressing: STATIC by default, 192.0.2.20/24 (the bench agent board is .10), gateway 192.0.2.1 (the DHCP client is
// being written in parallel); build with -DECHO_USE_DHCP=1 for the original's DHCP mode.
// Console lines are the original's; "Handlers: %d" (printed by TCPEchoHandler whenever the
// number of connection handlers changes) is an addition for tests.
// The main loop sleeps with board::wait_for_event() until a frame, a stack timer or a
// handler's idle deadline.
#include <stdint.h>

#include "EchoServer.h"
#include "EthernetNetIf.h"
#include "TCPEchoHandler.h"
#include "board.h"
#include "net.h"
#include "rt.h"

int main() {
#if defined(ECHO_USE_DHCP) && ECHO_USE_DHCP
    EthernetNetIf* eth = new EthernetNetIf();
#else
    EthernetNetIf* eth = new EthernetNetIf(IpAddr(192, 0, 2, 20), IpAddr(255, 255, 255, 0),
                                           IpAddr(192, 0, 2, 1), IpAddr(192, 0, 2, 1));
#endif
    EchoServer* server = new EchoServer();

    rt_printf("\r\nSetting up...\r\n");
    EthernetErr ethErr = eth->setup();
    if (ethErr) {
        rt_printf("Error %d in setup.\n", ethErr);
        return -1;
    }
    IpAddr ip = eth->getIp();
    rt_printf("mbed IP Address is %d.%d.%d.%d\r\n", ip[0], ip[1], ip[2], ip[3]);

    server->bind();

    rt_printf("Entering while loop Net::poll()ing\r\n");
    for (;;) {
        Net::poll();
        uint64_t now = board::micros();
        uint64_t deadline = now + 1000000;  // at least once a second
        uint64_t next = Net::nextTimerUs();
        uint64_t h = TCPEchoHandler::nextDeadlineUs();
        if (h && (!next || h < next)) next = h;
        if (next && next <= now) continue;  // something is due already
        if (next && next < deadline) deadline = next;
        board::wait_for_event(deadline);
    }
}
