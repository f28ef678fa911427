// Heap over the RAM no static object uses (see the linker script): AHB SRAM bank 0
// [__heap_start, __heap_end), the rest of local SRAM [__heap2_start, __heap2_end) between
// .bss and the main stack's reserve, and the rest of AHB SRAM bank 1 after the Ethernet
// buffers [__heap3_start, __heap3_end).  One first-fit, address-ordered free list spans
// them all; neighbours are coalesced on free (never across regions: they are not adjacent).
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

extern "C" char __heap_start[], __heap_end[], __heap2_start[], __heap2_end[], __heap3_start[],
    __heap3_end[];

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

struct Region {
    char* start;
    char* end;
};
const Region kRegions[] = {
    {__heap_start, __heap_end}, {__heap2_start, __heap2_end}, {__heap3_start, __heap3_end}};
size_t g_size = 0;

void insert_free(Block* b);

void heap_init() {
    g_init = true;
    for (const Region& r : kRegions) {
        uintptr_t start = ((uintptr_t)r.start + kAlign - 1) & ~(uintptr_t)(kAlign - 1);
        uintptr_t end = (uintptr_t)r.end & ~(uintptr_t)(kAlign - 1);
        if (end <= start + kMinBlock) continue;
        Block* b = reinterpret_cast<Block*>(start);
        b->size = (uint32_t)(end - start);
        insert_free(b);
        g_size += b->size;
    }
}

bool in_heap(uintptr_t b, uintptr_t p) {
    for (const Region& r : kRegions)
        if (b >= (uintptr_t)r.start && p <= (uintptr_t)r.end) return true;
    return false;
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
    if (!in_heap((uintptr_t)b, (uintptr_t)p) || ((uintptr_t)p & (kAlign - 1)) ||
        (uintptr_t)b->next != kUsedMagic)
        heap_corrupt("bad pointer", p);
    return b;
}

// Bytes of block needed for `n` payload bytes; 0 if impossible.
size_t block_size_for(size_t n) {
    if (n > g_size) return 0;
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
size_t rt_heap_size(void) {
    if (!g_init) heap_init();
    return g_size;
}

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
