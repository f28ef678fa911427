// Internet checksum helpers (RFC 1071).
#include "netstack.h"

// The sum of 16-bit words does not depend on byte order except for a final swap
// (RFC 1071 2(B)), so the bulk is added as native 32-bit words into a 64-bit accumulator,
// folded, and swapped back to big-endian words.  Same result as the byte-pair loop.
static inline uint32_t swap16s(uint32_t v) { return ((v & 0x00FFu) << 8) | ((v >> 8) & 0x00FFu); }

uint32_t inet_sum(uint32_t sum, const void* data, size_t len) {
    const uint8_t* p = (const uint8_t*)data;
    if (((uintptr_t)p & 1) == 0 && len >= 8) {
        uint64_t acc = 0;
        if ((uintptr_t)p & 2) {  // to a 4-byte boundary
            acc += (uint32_t)(p[0] | (p[1] << 8));
            p += 2;
            len -= 2;
        }
        const uint32_t* w = (const uint32_t*)p;
#if defined(__arm__) && defined(__thumb2__)
        // 32 bytes per round: eight loads (two LDMs) and a carry chain (ADDS/ADCS); the
        // carry out of each chain is counted apart, so no end-around carry is ever lost.
        uint32_t lo = 0, carries = 0;
        while (len >= 32) {
            uint32_t a = w[0], b = w[1], c = w[2], d = w[3], e = w[4], f = w[5], g = w[6], h = w[7];
            __asm__("adds %[lo], %[lo], %[a]\n\t"
                    "adcs %[lo], %[lo], %[b]\n\t"
                    "adcs %[lo], %[lo], %[c]\n\t"
                    "adcs %[lo], %[lo], %[d]\n\t"
                    "adcs %[lo], %[lo], %[e]\n\t"
                    "adcs %[lo], %[lo], %[f]\n\t"
                    "adcs %[lo], %[lo], %[g]\n\t"
                    "adcs %[lo], %[lo], %[h]\n\t"
                    "adc %[cy], %[cy], #0"
                    : [lo] "+r"(lo), [cy] "+r"(carries)
                    : [a] "r"(a), [b] "r"(b), [c] "r"(c), [d] "r"(d), [e] "r"(e), [f] "r"(f),
                      [g] "r"(g), [h] "r"(h)
                    : "cc");
            w += 8;
            len -= 32;
        }
        acc += (uint64_t)lo + carries;
#endif
        while (len >= 16) {
            acc += (uint64_t)w[0] + w[1] + w[2] + w[3];
            w += 4;
            len -= 16;
        }
        while (len >= 4) {
            acc += *w++;
            len -= 4;
        }
        p = (const uint8_t*)w;
        if (len >= 2) {
            acc += (uint32_t)(p[0] | (p[1] << 8));
            p += 2;
            len -= 2;
        }
        while (acc >> 16) acc = (acc & 0xFFFFu) + (acc >> 16);
        sum += swap16s((uint32_t)acc);  // little-endian words -> big-endian words
    }
    while (len >= 2) {
        sum += (uint32_t)((p[0] << 8) | p[1]);
        p += 2;
        len -= 2;
    }
    if (len) sum += (uint32_t)(p[0] << 8);
    return sum;
}

uint16_t inet_fold(uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xFFFFu) + (sum >> 16);
    return (uint16_t)~sum;
}

uint32_t inet_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len) {
    return (src >> 16) + (src & 0xFFFFu) + (dst >> 16) + (dst & 0xFFFFu) + proto + len;
}
