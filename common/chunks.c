/*
 * chunks.c - a growing list of fixed-size chunks (chunks.h).
 */
#include "chunks.h"

#include <stdlib.h>
#include <string.h>

#define CHUNKS_FIRST_CAP 16u    /* chunk pointers the list starts with */

void *chunks_add(struct chunks *c, size_t bytes, bool zero)
{
	if (c->n == c->cap) {
		uint32_t cap = c->cap ? c->cap * 2 : CHUNKS_FIRST_CAP;
		void **v = realloc(c->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		c->v = v;
		c->cap = cap;
	}
	void *chunk = zero ? calloc(1, bytes) : malloc(bytes);
	if (chunk)
		c->v[c->n++] = chunk;
	return chunk;
}

void chunks_free(struct chunks *c)
{
	for (uint32_t i = 0; i < c->n; i++)
		free(c->v[i]);
	free(c->v);
	memset(c, 0, sizeof(*c));
}
