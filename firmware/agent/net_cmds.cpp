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

uint8_t handle_mac_set(const proto::MacSetReq& req, proto::MacSetReply& reply) {
    g_custom_mac = false;
    for (int i = 0; i < 6; i++) g_custom_mac |= req.mac.b[i] != 0;
    memcpy(g_mac, req.mac.b, 6);
    reply.result = 0;
    return REPLY;
}

uint8_t handle_net_static(const proto::NetStaticReq& req, proto::NetStaticReply& reply) {
    delete g_netif;
    g_netif = new EthernetNetIf(to_ip(req.ip), to_ip(req.netmask), to_ip(req.gateway),
                                to_ip(req.dns));
    bool custom = false;
    for (int i = 0; i < 6; i++) custom |= req.mac.b[i] != 0;
    if (custom) g_netif->setHwAddr(req.mac.b);
    else if (g_custom_mac) g_netif->setHwAddr(g_mac);
    reply.result = g_netif->setup();
    reply.ip = from_ip(g_netif->getIp());
    fill_mac(reply.mac);
    return REPLY;
}

uint8_t handle_net_dhcp(const proto::NetDhcpReq& req, proto::NetDhcpReply& reply) {
    delete g_netif;
    size_t n = req.hostname.len < sizeof g_hostname - 1 ? req.hostname.len : sizeof g_hostname - 1;
    memcpy(g_hostname, req.hostname.data, n);
    g_hostname[n] = 0;
    // The host name pointer is kept, not copied, by the interface (as the original).
    g_netif = new EthernetNetIf(n ? g_hostname : nullptr);
    if (g_custom_mac) g_netif->setHwAddr(g_mac);
    reply.result = g_netif->setup((int)req.timeout_ms);
    reply.ip = from_ip(g_netif->getIp());
    fill_mac(reply.mac);
    return REPLY;
}

uint8_t handle_net_status(const proto::NetStatusReq&, proto::NetStatusReply& reply) {
    reply.up = g_netif != nullptr;
    reply.link = board::eth::link_up();
    if (g_netif) reply.ip = from_ip(g_netif->getIp());
    fill_mac(reply.mac);
    return REPLY;
}

uint8_t handle_net_info(const proto::NetInfoReq&, proto::NetInfoReply& reply) {
    reply.polls = g_net_polls;
    if (g_netif) {
        reply.ip = from_ip(g_netif->getIp());
        reply.netmask = from_ip(g_netif->getNetmask());
        reply.gateway = from_ip(g_netif->getGateway());
        reply.dns = from_ip(g_netif->getDns());
        const char* h = g_netif->getHostname();
        reply.hostname = proto::Bytes{(const uint8_t*)(h ? h : ""), (uint16_t)(h ? strlen(h) : 0)};
    } else {
        reply.hostname = proto::Bytes{(const uint8_t*)"", 0};
    }
    return REPLY;
}

uint8_t handle_net_delete(const proto::NetDeleteReq&, proto::NetDeleteReply& reply) {
    delete g_netif;
    g_netif = nullptr;
    reply.result = 0;
    return REPLY;
}

}  // namespace agent
