// Memory and string functions for the freestanding firmware (declared in <string.h>).
//
// Every function carries __attribute__((no_builtin)) -- the per-function form of
// -fno-builtin -- so that clang does not recognise the copy/fill loops below as memcpy/memset
// idioms and turn them into calls to themselves.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define RT_NO_BUILTIN __attribute__((no_builtin))

// A word that may sit at any address.  The Cortex-M3 performs unaligned LDR/STR itself (as
// long as CCR.UNALIGN_TRP stays clear, its reset value); LDM/STM/LDRD still need alignment,
// and this type keeps the compiler from using them on such a pointer.
typedef uint32_t __attribute__((aligned(1), may_alias)) rt_unaligned_u32;
typedef uint32_t __attribute__((may_alias)) rt_u32;

RT_NO_BUILTIN void* memcpy(void* dst, const void* src, size_t n) {
    unsigned char* d = (unsigned char*)dst;
    const unsigned char* s = (const unsigned char*)src;
    if (n >= 8) {
        // Align the destination; then copy words, from an aligned source with 8-word blocks
        // (LDM/STM) or from a misaligned one word by word.  Frame payloads sit 2 bytes off a
        // word boundary (14-byte Ethernet header), so the misaligned case is a hot path.
        while ((uintptr_t)d & 3) {
            *d++ = *s++;
            --n;
        }
        rt_u32* dw = (rt_u32*)d;
        if (((uintptr_t)s & 3) == 0) {
            const rt_u32* sw = (const rt_u32*)s;
            while (n >= 32) {
                uint32_t a = sw[0], b = sw[1], c = sw[2], e = sw[3];
                uint32_t f = sw[4], g = sw[5], h = sw[6], i = sw[7];
                dw[0] = a; dw[1] = b; dw[2] = c; dw[3] = e;
                dw[4] = f; dw[5] = g; dw[6] = h; dw[7] = i;
                dw += 8;
                sw += 8;
                n -= 32;
            }
            while (n >= 4) {
                *dw++ = *sw++;
                n -= 4;
            }
            s = (const unsigned char*)sw;
        } else {
            const rt_unaligned_u32* sw = (const rt_unaligned_u32*)s;
            while (n >= 16) {
                uint32_t a = sw[0], b = sw[1], c = sw[2], e = sw[3];
                dw[0] = a; dw[1] = b; dw[2] = c; dw[3] = e;
                dw += 4;
                sw += 4;
                n -= 16;
            }
            while (n >= 4) {
                *dw++ = *sw++;
                n -= 4;
            }
            s = (const unsigned char*)sw;
        }
        d = (unsigned char*)dw;
    }
    while (n--) *d++ = *s++;
    return dst;
}

RT_NO_BUILTIN void* memmove(void* dst, const void* src, size_t n) {
    unsigned char* d = (unsigned char*)dst;
    const unsigned char* s = (const unsigned char*)src;
    if (d == s || n == 0) return dst;
    if (d < s || d >= s + n) return memcpy(dst, src, n);  // no harmful overlap
    // Overlap with dst above src: copy backwards.
    d += n;
    s += n;
    while (n--) *--d = *--s;
    return dst;
}

RT_NO_BUILTIN void* memset(void* dst, int c, size_t n) {
    unsigned char* d = (unsigned char*)dst;
    unsigned char b = (unsigned char)c;
    while (n && ((uintptr_t)d & 3)) {
        *d++ = b;
        --n;
    }
    uint32_t w = b * 0x01010101u;
    uint32_t* dw = (uint32_t*)d;
    while (n >= 4) {
        *dw++ = w;
        n -= 4;
    }
    d = (unsigned char*)dw;
    while (n--) *d++ = b;
    return dst;
}

RT_NO_BUILTIN int memcmp(const void* a, const void* b, size_t n) {
    const unsigned char* x = (const unsigned char*)a;
    const unsigned char* y = (const unsigned char*)b;
    for (; n; --n, ++x, ++y) {
        if (*x != *y) return *x - *y;
    }
    return 0;
}

RT_NO_BUILTIN void* memchr(const void* s, int c, size_t n) {
    const unsigned char* p = (const unsigned char*)s;
    for (; n; --n, ++p) {
        if (*p == (unsigned char)c) return (void*)p;
    }
    return NULL;
}

RT_NO_BUILTIN size_t strlen(const char* s) {
    const char* p = s;
    while (*p) ++p;
    return (size_t)(p - s);
}

RT_NO_BUILTIN size_t strnlen(const char* s, size_t max) {
    size_t n = 0;
    while (n < max && s[n]) ++n;
    return n;
}

RT_NO_BUILTIN int strcmp(const char* a, const char* b) {
    while (*a && *a == *b) {
        ++a;
        ++b;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

RT_NO_BUILTIN int strncmp(const char* a, const char* b, size_t n) {
    for (; n; --n, ++a, ++b) {
        if (*a != *b) return (unsigned char)*a - (unsigned char)*b;
        if (!*a) return 0;
    }
    return 0;
}

RT_NO_BUILTIN char* strcpy(char* dst, const char* src) {
    char* d = dst;
    while ((*d++ = *src++) != 0) {
    }
    return dst;
}

RT_NO_BUILTIN char* strncpy(char* dst, const char* src, size_t n) {
    size_t i = 0;
    for (; i < n && src[i]; ++i) dst[i] = src[i];
    for (; i < n; ++i) dst[i] = 0;  // C semantics: pad with NULs, no terminator if src is long
    return dst;
}

RT_NO_BUILTIN char* strchr(const char* s, int c) {
    for (;; ++s) {
        if (*s == (char)c) return (char*)s;
        if (!*s) return NULL;
    }
}

RT_NO_BUILTIN char* strrchr(const char* s, int c) {
    const char* last = NULL;
    for (;; ++s) {
        if (*s == (char)c) last = s;
        if (!*s) return (char*)last;
    }
}
