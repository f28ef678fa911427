// Memory and string functions for the freestanding firmware (declared in <string.h>).
//
// Every function carries __attribute__((no_builtin)) -- the per-function form of
// -fno-builtin -- so that clang does not recognise the copy/fill loops below as memcpy/memset
// idioms and turn them into calls to themselves.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define RT_NO_BUILTIN __attribute__((no_builtin))

RT_NO_BUILTIN void* memcpy(void* dst, const void* src, size_t n) {
    unsigned char* d = (unsigned char*)dst;
    const unsigned char* s = (const unsigned char*)src;
    // Word copy when both pointers share the same alignment (the Cortex-M3 handles unaligned
    // LDR/STR too, but not LDM/STM, which the compiler may use).
    if ((((uintptr_t)d ^ (uintptr_t)s) & 3) == 0) {
        while (n && ((uintptr_t)d & 3)) {
            *d++ = *s++;
            --n;
        }
        uint32_t* dw = (uint32_t*)d;
        const uint32_t* sw = (const uint32_t*)s;
        while (n >= 16) {
            dw[0] = sw[0];
            dw[1] = sw[1];
            dw[2] = sw[2];
            dw[3] = sw[3];
            dw += 4;
            sw += 4;
            n -= 16;
        }
        while (n >= 4) {
            *dw++ = *sw++;
            n -= 4;
        }
        d = (unsigned char*)dw;
        s = (const unsigned char*)sw;
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
