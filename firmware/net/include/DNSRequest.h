// DNSRequest: enumerations only for now (netservices.md 3); the request class comes with the
// DNS implementation.  Values are the contract: do not reorder.
#pragma once

enum DNSRequestErr {
    __DNS_MIN = -0xFFFF,
    DNS_SETUP,       // -65534
    DNS_IF,          // -65533
    DNS_MEM,         // -65532
    DNS_INUSE,       // -65531
    DNS_PROCESSING,  // -65530
    DNS_OK = 0
};

enum DNSReply { DNS_PRTCL = 0, DNS_NOTFOUND = 1, DNS_ERROR = 2, DNS_FOUND = 3 };
