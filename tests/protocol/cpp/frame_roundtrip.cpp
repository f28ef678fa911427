// Host-built check that the firmware's framing and the generated header agree with the
// Python side: reads a byte stream on stdin, feeds it to agent::FrameReceiver, and for
// every good frame decodes it as the message its type names where it can, then writes
// back the re-encoded frame on stdout.  Damaged frames are reported as "BAD <n>" lines
// on stderr.
#include <stdio.h>
#include <string.h>

#include "agent_proto.h"
#include "framing.h"

static uint8_t rxbuf[4096];
static uint8_t out[8192];

int main() {
    agent::FrameReceiver rx(rxbuf, sizeof rxbuf);
    int c;
    while ((c = getchar()) != EOF) {
        switch (rx.push((uint8_t)c)) {
        case agent::FrameReceiver::FRAME: {
            const uint8_t* b = rx.body();
            size_t n = rx.body_len();
            if (b[0] == proto::MSG_UDP_SENDTO) {
                proto::Reader r(b + 3, n - 3);
                proto::UdpSendtoReq q;
                if (!proto::decode(r, q)) { fprintf(stderr, "DECODE-FAIL\n"); break; }
                // Re-encode the decoded request: must equal the original body.
                uint8_t body[2048];
                proto::Writer w(body, sizeof body);
                w.u8(b[0]); w.u16((uint16_t)(b[1] | (b[2] << 8)));
                proto::encode(w, q);
                if (w.size() != n || memcmp(body, b, n) != 0) { fprintf(stderr, "MISMATCH\n"); break; }
            }
            size_t k = agent::frame_encode(b, n, out, sizeof out);
            fwrite(out, 1, k, stdout);
            break;
        }
        case agent::FrameReceiver::BAD:
            fprintf(stderr, "BAD %d\n", (int)rx.last_error());
            break;
        default:
            break;
        }
    }
    return 0;
}
