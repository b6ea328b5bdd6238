/*
 * memcap.h - the memory accountant: one budget of bytes for everything the
 * analysis holds per flow (flow records, reassembly buffers, dissector and
 * nDPI state, timelines, extraction state).
 *
 * An allocation is reserved before it is made, in one call that checks and
 * counts together (memcap_reserve), and released when freed. A failed
 * malloc is no signal on Linux (overcommit never fails), so this count, not
 * the allocator, is what bounds memory. The accountant does not evict: the
 * engine watches memcap_pressure() at points where no flow is in the middle
 * of a callback and ends flows until the count is back under the low mark,
 * so a reservation made inside a callback fails only when one flow alone
 * outgrows the headroom (the caller then stops keeping that state and says
 * so, as for any cap).
 *
 * Not thread-safe: one accountant per analysis thread.
 */
#ifndef SLEUTH_MEMCAP_H
#define SLEUTH_MEMCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEMCAP_DEFAULT     (1ull << 30)   /* 1 GiB: analyze's and live's default */
#define MEMCAP_MIN         (4ull << 20)   /* smaller budgets cannot hold the fixed tables */

struct memcap {
	uint64_t cap;           /* bytes; 0 = no cap (counted only) */
	uint64_t used;
	uint64_t peak;
	uint64_t denied;        /* reservations refused */
};

void memcap_init(struct memcap *m, uint64_t cap);
/* Counts n bytes against the cap; false (and nothing counted) when they do
 * not fit. A NULL accountant accepts everything. */
bool memcap_reserve(struct memcap *m, size_t n);
/* Returns n bytes reserved earlier. */
void memcap_release(struct memcap *m, size_t n);
/* Above the high mark (7/8 of the cap): time to end flows. The 1/8 above
 * it is headroom for state grown inside callbacks, and for what the count
 * does not see (allocator overhead, nDPI's allocations beyond those
 * counted with its struct; docs/engine.md has counted and resident bytes
 * per flow). */
bool memcap_pressure(const struct memcap *m);
/* Below the low mark (13/16 of the cap): eviction may stop. */
bool memcap_relieved(const struct memcap *m);

#endif
