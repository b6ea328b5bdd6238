/*
 * chunks.h - a growing list of fixed-size chunks that never move: the
 * storage of pools and tables whose elements are found by index or held by
 * pointer (the flow table's records, the key log's entries). Only the array
 * of chunk pointers is reallocated, so a pointer into a chunk stays valid
 * until chunks_free.
 */
#ifndef SLEUTH_CHUNKS_H
#define SLEUTH_CHUNKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct chunks {
	void **v;               /* v[0..n) */
	uint32_t n, cap;
};

/* A new chunk of bytes (zeroed when zero), appended; NULL when memory runs
 * out (the list is unchanged then). */
void *chunks_add(struct chunks *c, size_t bytes, bool zero);
/* Frees every chunk and the list. */
void chunks_free(struct chunks *c);

#endif
