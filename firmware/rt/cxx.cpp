// C++ runtime support for freestanding, exception-free, RTTI-free firmware.
#include <new>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "rt.h"

namespace std {
const nothrow_t nothrow{};
}

namespace {

[[noreturn]] void out_of_memory(size_t size) {
    // Without exceptions the ordinary new must not return nullptr (the compiler assumes a
    // non-null result), so running out of heap is fatal.
    rt_printf("\r\n*** rt: out of memory (new %u bytes, heap used %u of %u)\r\n",
              (unsigned)size, (unsigned)rt_heap_used(), (unsigned)rt_heap_size());
    for (;;) __asm volatile("wfi");
}

void* checked_alloc(size_t size) {
    void* p = malloc(size ? size : 1);
    if (!p) out_of_memory(size);
    return p;
}

}  // namespace

void* operator new(size_t size) { return checked_alloc(size); }
void* operator new[](size_t size) { return checked_alloc(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept { return malloc(size ? size : 1); }
void* operator new[](size_t size, const std::nothrow_t&) noexcept { return malloc(size ? size : 1); }
void operator delete(void* p) noexcept { free(p); }
void operator delete[](void* p) noexcept { free(p); }
void operator delete(void* p, size_t) noexcept { free(p); }
void operator delete[](void* p, size_t) noexcept { free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { free(p); }

extern "C" {

// A pure virtual function was called (an object used during construction/destruction).
[[noreturn]] void __cxa_pure_virtual() {
    rt_printf("\r\n*** rt: pure virtual call\r\n");
    for (;;) __asm volatile("wfi");
}

// Static destructors never run: the firmware does not exit.  These registration hooks
// (-fuse-cxa-atexit or not, ARM EABI or not) therefore just accept and ignore.
void* __dso_handle = nullptr;
int __cxa_atexit(void (*)(void*), void*, void*) { return 0; }
int __aeabi_atexit(void*, void (*)(void*), void*) { return 0; }
int atexit(void (*)(void)) { return 0; }

// Guards for function-local statics if built without -fno-threadsafe-statics: single
// threaded, so a guard is "done" once its first byte is 1.
int __cxa_guard_acquire(uint32_t* g) { return (*g & 1) == 0; }
void __cxa_guard_release(uint32_t* g) { *g = 1; }
void __cxa_guard_abort(uint32_t*) {}

}  // extern "C"
