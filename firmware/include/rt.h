// Freestanding runtime (firmware/rt): heap statistics and a small printf family.
// The C string/memory functions and malloc & co. are declared in <string.h> / <stdlib.h>
// (firmware/include), operator new/delete by the compiler.
#pragma once
#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// Heap over [__heap_start, __heap_end) (linker script).  Bytes handed out (block headers
// included) now, and the highest value this has ever reached.
size_t rt_heap_used(void);
size_t rt_heap_peak(void);
// Total size of the heap area.
size_t rt_heap_size(void);

// printf subset: %d %i %u %x %X %s %c %p %%, flags '0' and '-', a field width (digits or
// '*'), length modifiers l, ll (and h, z, which are accepted).  snprintf semantics: the output
// is always NUL-terminated when size > 0 and the return value is the length the whole output
// would have had.
int rt_vsnprintf(char* buf, size_t size, const char* fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
int rt_snprintf(char* buf, size_t size, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
// Formats straight to board::uart_write (no length limit).  Returns the number of bytes written.
int rt_printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
int rt_vprintf(const char* fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#ifdef __cplusplus
}
#endif
