// Interface commands: the EthernetNetIf the agent runs on (static or DHCP).
#include <string.h>

#include "EthernetNetIf.h"
#include "agent.h"
#include "net.h"

namespace agent {
namespace {

EthernetNetIf* g_netif = nullptr;
uint8_t g_mac[6];
bool g_custom_mac = false;
char g_hostname[64];

void fill_mac(proto::MacAddr& m) {
    if (g_netif) memcpy(m.b, g_netif->getHwAddr(), 6);
}

}  // namespace

bool handle_net(uint8_t type, uint16_t id, proto::Reader& r) {
    switch (type) {
    case proto::MSG_MAC_SET: {
        proto::MacSetReq q;
        if (!parse(r, id, q)) return true;
        g_custom_mac = false;
        for (int i = 0; i < 6; i++) g_custom_mac |= q.mac.b[i] != 0;
        memcpy(g_mac, q.mac.b, 6);
        reply_result<proto::MacSetReply>(id, 0);
        return true;
    }
    case proto::MSG_NET_STATIC: {
        proto::NetStaticReq q;
        if (!parse(r, id, q)) return true;
        delete g_netif;
        g_netif = new EthernetNetIf(to_ip(q.ip), to_ip(q.netmask), to_ip(q.gateway), to_ip(q.dns));
        bool custom = false;
        for (int i = 0; i < 6; i++) custom |= q.mac.b[i] != 0;
        if (custom) g_netif->setHwAddr(q.mac.b);
        else if (g_custom_mac) g_netif->setHwAddr(g_mac);
        proto::NetStaticReply a;
        a.result = g_netif->setup();
        a.ip = from_ip(g_netif->getIp());
        fill_mac(a.mac);
        send_msg(id, a);
        return true;
    }
    case proto::MSG_NET_DHCP: {
        proto::NetDhcpReq q;
        if (!parse(r, id, q)) return true;
        delete g_netif;
        size_t n = q.hostname.len < sizeof g_hostname - 1 ? q.hostname.len : sizeof g_hostname - 1;
        memcpy(g_hostname, q.hostname.data, n);
        g_hostname[n] = 0;
        // The host name pointer is kept, not copied, by the interface (as the original).
        g_netif = new EthernetNetIf(n ? g_hostname : nullptr);
        if (g_custom_mac) g_netif->setHwAddr(g_mac);
        proto::NetDhcpReply a;
        a.result = g_netif->setup((int)q.timeout_ms);
        a.ip = from_ip(g_netif->getIp());
        fill_mac(a.mac);
        send_msg(id, a);
        return true;
    }
    case proto::MSG_NET_STATUS: {
        proto::NetStatusReq q;
        if (!parse(r, id, q)) return true;
        proto::NetStatusReply a;
        a.up = g_netif != nullptr;
        a.link = board::eth::link_up();
        if (g_netif) a.ip = from_ip(g_netif->getIp());
        fill_mac(a.mac);
        send_msg(id, a);
        return true;
    }
    case proto::MSG_NET_INFO: {
        proto::NetInfoReq q;
        if (!parse(r, id, q)) return true;
        proto::NetInfoReply a;
        a.polls = g_net_polls;
        if (g_netif) {
            a.ip = from_ip(g_netif->getIp());
            a.netmask = from_ip(g_netif->getNetmask());
            a.gateway = from_ip(g_netif->getGateway());
            a.dns = from_ip(g_netif->getDns());
            const char* h = g_netif->getHostname();
            a.hostname = proto::Bytes{(const uint8_t*)(h ? h : ""), (uint16_t)(h ? strlen(h) : 0)};
        } else {
            a.hostname = proto::Bytes{(const uint8_t*)"", 0};
        }
        send_msg(id, a);
        return true;
    }
    case proto::MSG_NET_DELETE: {
        proto::NetDeleteReq q;
        if (!parse(r, id, q)) return true;
        delete g_netif;
        g_netif = nullptr;
        reply_result<proto::NetDeleteReply>(id, 0);
        return true;
    }
    default:
        return false;
    }
}

}  // namespace agent
