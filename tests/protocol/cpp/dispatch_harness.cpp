// Host-built check of the generated request dispatch (agent_dispatch.inc via
// firmware/agent/dispatch.cpp): reads request bodies from stdin, each preceded by its
// length (u16 LE), serves each with agent::handle_frame(), and writes every message the
// agent sends the same way on stdout.  The handlers are stubs the test generates
// (handler_stubs.inc): each names itself on stderr, answers ERR_BAD_HANDLE for handle
// 0xEE, and puts its message code in a `result` reply field.
#include <stdio.h>

#include "agent.h"

namespace agent {

uint8_t g_tx_body[kTxBodyCap];

void send_body(const uint8_t* body, size_t len) {
    uint8_t n[2] = {(uint8_t)len, (uint8_t)(len >> 8)};
    fwrite(n, 1, 2, stdout);
    fwrite(body, 1, len, stdout);
}

#include "handler_stubs.inc"

}  // namespace agent

int main() {
    static uint8_t body[65536];
    uint8_t n[2];
    while (fread(n, 1, 2, stdin) == 2) {
        size_t len = (size_t)(n[0] | (n[1] << 8));
        if (fread(body, 1, len, stdin) != len) return 2;
        agent::handle_frame(body, len);
    }
    return 0;
}
