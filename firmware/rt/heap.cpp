// Heap over [__heap_start, __heap_end) (AHB SRAM bank 0, see the linker script):
// first-fit over an address-ordered free list, neighbours coalesced on free.
//
// Every block starts with an 8-byte header {size, next}; size is the whole block (header
// included, a multiple of 8) so payloads are 8-byte aligned.  Free blocks are linked through
// `next` in address order; an allocated block has next == kUsedMagic, which lets free() and
// realloc() catch wild or double frees (they halt with a message rather than corrupt the heap).
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"

extern "C" char __heap_start[], __heap_end[];

namespace {

struct Block {
    uint32_t size;  // bytes, header included
    Block* next;    // free: next free block (address order); used: kUsedMagic
};

constexpr uintptr_t kUsedMagic = 0xA110CA7Eu;
constexpr size_t kAlign = 8;
constexpr size_t kHeader = sizeof(Block);
constexpr size_t kMinBlock = 2 * kHeader;  // smaller remainders are not split off

Block* g_free = nullptr;
bool g_init = false;
size_t g_used = 0;
size_t g_peak = 0;

void heap_init() {
    uintptr_t start = ((uintptr_t)__heap_start + kAlign - 1) & ~(uintptr_t)(kAlign - 1);
    uintptr_t end = (uintptr_t)__heap_end & ~(uintptr_t)(kAlign - 1);
    g_init = true;
    if (end <= start + kMinBlock) return;
    g_free = reinterpret_cast<Block*>(start);
    g_free->size = (uint32_t)(end - start);
    g_free->next = nullptr;
}

[[noreturn]] void heap_corrupt(const char* what, void* p) {
    rt_printf("\r\n*** rt heap: %s %p\r\n", what, p);
    for (;;) __asm volatile("wfi");
}

void account(long delta) {
    g_used = (size_t)((long)g_used + delta);
    if (g_used > g_peak) g_peak = g_used;
}

Block* header_of(void* p) {
    Block* b = reinterpret_cast<Block*>(static_cast<char*>(p) - kHeader);
    if ((uintptr_t)b < (uintptr_t)__heap_start || (uintptr_t)p > (uintptr_t)__heap_end ||
        ((uintptr_t)p & (kAlign - 1)) || (uintptr_t)b->next != kUsedMagic)
        heap_corrupt("bad pointer", p);
    return b;
}

// Bytes of block needed for `n` payload bytes; 0 if impossible.
size_t block_size_for(size_t n) {
    if (n > (size_t)(__heap_end - __heap_start)) return 0;
    size_t s = (n + kHeader + kAlign - 1) & ~(kAlign - 1);
    return s < kMinBlock ? kMinBlock : s;
}

// Insert a block into the address-ordered free list and merge it with its neighbours.
void insert_free(Block* b) {
    Block* prev = nullptr;
    Block* cur = g_free;
    while (cur && cur < b) {
        prev = cur;
        cur = cur->next;
    }
    b->next = cur;
    if (cur && reinterpret_cast<char*>(b) + b->size == reinterpret_cast<char*>(cur)) {
        b->size += cur->size;
        b->next = cur->next;
    }
    if (prev) {
        prev->next = b;
        if (reinterpret_cast<char*>(prev) + prev->size == reinterpret_cast<char*>(b)) {
            prev->size += b->size;
            prev->next = b->next;
        }
    } else {
        g_free = b;
    }
}

}  // namespace

extern "C" {

void* malloc(size_t n) {
    if (!g_init) heap_init();
    size_t need = block_size_for(n);
    if (need == 0) return nullptr;
    Block* prev = nullptr;
    for (Block* b = g_free; b; prev = b, b = b->next) {
        if (b->size < need) continue;
        if (b->size - need >= kMinBlock) {
            // Split: the front stays free, the tail is handed out (no list surgery needed).
            b->size -= (uint32_t)need;
            b = reinterpret_cast<Block*>(reinterpret_cast<char*>(b) + b->size);
            b->size = (uint32_t)need;
        } else if (prev) {
            prev->next = b->next;
        } else {
            g_free = b->next;
        }
        b->next = reinterpret_cast<Block*>(kUsedMagic);
        account((long)b->size);
        return reinterpret_cast<char*>(b) + kHeader;
    }
    return nullptr;
}

void free(void* p) {
    if (!p) return;
    Block* b = header_of(p);
    account(-(long)b->size);
    insert_free(b);
}

void* calloc(size_t count, size_t size) {
    if (size && count > (size_t)-1 / size) return nullptr;
    size_t n = count * size;
    void* p = malloc(n);
    if (p) memset(p, 0, n);
    return p;
}

void* realloc(void* p, size_t n) {
    if (!p) return malloc(n);
    if (n == 0) {
        free(p);
        return nullptr;
    }
    Block* b = header_of(p);
    size_t need = block_size_for(n);
    if (need == 0) return nullptr;
    if (need <= b->size) return p;  // shrinking keeps the block (simple and good enough)

    // Grow in place if the next block is free and large enough.
    Block* after = reinterpret_cast<Block*>(reinterpret_cast<char*>(b) + b->size);
    Block* prev = nullptr;
    Block* f = g_free;
    while (f && f < after) {
        prev = f;
        f = f->next;
    }
    if (f == after && b->size + f->size >= need) {
        if (prev)
            prev->next = f->next;
        else
            g_free = f->next;
        size_t total = b->size + f->size;
        size_t old = b->size;
        if (total - need >= kMinBlock) {
            Block* rest = reinterpret_cast<Block*>(reinterpret_cast<char*>(b) + need);
            rest->size = (uint32_t)(total - need);
            insert_free(rest);
            b->size = (uint32_t)need;
        } else {
            b->size = (uint32_t)total;
        }
        account((long)b->size - (long)old);
        return p;
    }

    void* q = malloc(n);
    if (!q) return nullptr;
    memcpy(q, p, b->size - kHeader);
    free(p);
    return q;
}

size_t rt_heap_used(void) { return g_used; }
size_t rt_heap_peak(void) { return g_peak; }
size_t rt_heap_size(void) { return (size_t)(__heap_end - __heap_start); }

int abs(int v) { return v < 0 ? -v : v; }
long labs(long v) { return v < 0 ? -v : v; }

int atoi(const char* s) {
    while (*s == ' ' || *s == '\t') ++s;
    bool neg = *s == '-';
    if (*s == '-' || *s == '+') ++s;
    int v = 0;
    while (*s >= '0' && *s <= '9') v = v * 10 + (*s++ - '0');
    return neg ? -v : v;
}

}  // extern "C"
