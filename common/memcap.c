/*
 * memcap.c - the memory accountant (see memcap.h).
 *
 * Invariant: used is the sum of the reservations not yet released, and
 * never above cap when cap is set. The two marks leave room between the
 * point where eviction starts and the hard cap, so that state a flow grows
 * inside a callback (a timeline event, a reassembly segment) still fits.
 */
#include "memcap.h"

#include <string.h>

void memcap_init(struct memcap *m, uint64_t cap)
{
	memset(m, 0, sizeof(*m));
	m->cap = cap;
}

bool memcap_reserve(struct memcap *m, size_t n)
{
	if (!m)
		return true;
	if (m->cap && (n > m->cap || m->used > m->cap - n)) {
		m->denied++;
		return false;
	}
	m->used += n;
	if (m->used > m->peak)
		m->peak = m->used;
	return true;
}

void memcap_release(struct memcap *m, size_t n)
{
	if (!m)
		return;
	m->used = n > m->used ? 0 : m->used - n;
}

bool memcap_pressure(const struct memcap *m)
{
	return m && m->cap && m->used > m->cap - m->cap / 8;
}

bool memcap_relieved(const struct memcap *m)
{
	return !m || !m->cap || m->used <= m->cap - m->cap / 8 - m->cap / 16;
}
