// Small printf family: rt_vsnprintf / rt_snprintf into a buffer, rt_printf to the console
// (board::uart_write).  Conversions %d %i %u %x %X %s %c %p %%; flags '0' and '-'; width as
// digits or '*'; length modifiers hh, h, l, ll, z.  No floating point.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "rt.h"

namespace {

// Output sink: either a bounded buffer or the UART (through a small staging buffer).
struct Sink {
    char* buf;
    size_t cap;     // buffer mode: usable bytes (size - 1); unused in UART mode
    size_t count;   // bytes the full output has so far
    bool uart;
    char stage[64];
    size_t staged;

    void put(char c) {
        if (uart) {
            stage[staged++] = c;
            if (staged == sizeof stage) flush();
        } else if (count < cap) {
            buf[count] = c;
        }
        ++count;
    }
    void flush() {
        if (uart && staged) board::uart_write(stage, staged);
        staged = 0;
    }
    void repeat(char c, int n) {
        while (n-- > 0) put(c);
    }
};

// Format one number: magnitude v, sign, base 10/16, width, flags.
void put_number(Sink& out, uint64_t v, bool negative, unsigned base, bool upper, int width,
                bool zero_pad, bool left) {
    char digits[24];
    int n = 0;
    const char* set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        digits[n++] = set[v % base];
        v /= base;
    } while (v);
    int len = n + (negative ? 1 : 0);
    if (!left && !zero_pad) out.repeat(' ', width - len);
    if (negative) out.put('-');
    if (!left && zero_pad) out.repeat('0', width - len);
    while (n) out.put(digits[--n]);
    if (left) out.repeat(' ', width - len);
}

void format(Sink& out, const char* fmt, va_list ap) {
    for (; *fmt; ++fmt) {
        if (*fmt != '%') {
            out.put(*fmt);
            continue;
        }
        ++fmt;
        bool zero_pad = false, left = false;
        for (;; ++fmt) {
            if (*fmt == '0')
                zero_pad = true;
            else if (*fmt == '-')
                left = true;
            else
                break;
        }
        int width = 0;
        if (*fmt == '*') {
            width = va_arg(ap, int);
            if (width < 0) {
                left = true;
                width = -width;
            }
            ++fmt;
        } else {
            while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
        }
        if (left) zero_pad = false;
        int longness = 0;  // 0 int, 1 long, 2 long long, 3 size_t
        int shortness = 0; // 1 h (short), 2 hh (char)
        while (*fmt == 'l' || *fmt == 'h' || *fmt == 'z') {
            if (*fmt == 'l') ++longness;
            if (*fmt == 'h') ++shortness;
            if (*fmt == 'z') longness = 3;
            ++fmt;
        }
        switch (*fmt) {
            case 'd':
            case 'i': {
                int64_t v = longness == 2   ? va_arg(ap, long long)
                            : longness == 1 ? va_arg(ap, long)
                            : longness == 3 ? (int64_t)va_arg(ap, size_t)
                                            : va_arg(ap, int);
                if (shortness == 1) v = (short)v;
                if (shortness >= 2) v = (signed char)v;
                uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
                put_number(out, mag, v < 0, 10, false, width, zero_pad, left);
                break;
            }
            case 'u':
            case 'x':
            case 'X': {
                uint64_t v = longness == 2   ? va_arg(ap, unsigned long long)
                             : longness == 1 ? va_arg(ap, unsigned long)
                             : longness == 3 ? va_arg(ap, size_t)
                                             : va_arg(ap, unsigned);
                if (shortness == 1) v = (unsigned short)v;
                if (shortness >= 2) v = (unsigned char)v;
                put_number(out, v, false, *fmt == 'u' ? 10 : 16, *fmt == 'X', width, zero_pad,
                           left);
                break;
            }
            case 'p': {
                uintptr_t v = (uintptr_t)va_arg(ap, void*);
                out.put('0');
                out.put('x');
                put_number(out, v, false, 16, false, 8, true, false);
                break;
            }
            case 'c': {
                char c = (char)va_arg(ap, int);
                if (!left) out.repeat(' ', width - 1);
                out.put(c);
                if (left) out.repeat(' ', width - 1);
                break;
            }
            case 's': {
                const char* s = va_arg(ap, const char*);
                if (!s) s = "(null)";
                int len = 0;
                while (s[len]) ++len;
                if (!left) out.repeat(' ', width - len);
                while (*s) out.put(*s++);
                if (left) out.repeat(' ', width - len);
                break;
            }
            case '%':
                out.put('%');
                break;
            case '\0':
                return;  // lone '%' at the end
            default:     // unknown conversion: print it as written
                out.put('%');
                out.put(*fmt);
                break;
        }
    }
}

}  // namespace

extern "C" {

int rt_vsnprintf(char* buf, size_t size, const char* fmt, va_list ap) {
    Sink out;
    out.buf = buf;
    out.cap = size ? size - 1 : 0;
    out.count = 0;
    out.uart = false;
    out.staged = 0;
    format(out, fmt, ap);
    if (size) buf[out.count < out.cap ? out.count : out.cap] = '\0';
    return (int)out.count;
}

int rt_snprintf(char* buf, size_t size, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = rt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int rt_vprintf(const char* fmt, va_list ap) {
    Sink out;
    out.buf = nullptr;
    out.cap = 0;
    out.count = 0;
    out.uart = true;
    out.staged = 0;
    format(out, fmt, ap);
    out.flush();
    return (int)out.count;
}

int rt_printf(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = rt_vprintf(fmt, ap);
    va_end(ap);
    return n;
}

}  // extern "C"
