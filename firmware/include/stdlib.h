// <stdlib.h> for the freestanding firmware: the heap of firmware/rt/heap.cpp and a few
// helpers.  No exit(): firmware never ends.
#pragma once
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

void* malloc(size_t size);
void free(void* p);
void* calloc(size_t count, size_t size);
void* realloc(void* p, size_t size);
int abs(int v);
long labs(long v);
int atoi(const char* s);

#ifdef __cplusplus
}
#endif
