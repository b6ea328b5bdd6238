/*
 * timeline.c - bounded event log of one session (see timeline.h).
 *
 * Growth doubles the array until it holds TL_HEAD_KEEP + TL_TAIL_KEEP events;
 * after that the tail part is a ring. tl_at() hides the ring so readers see
 * events in time order.
 */
#include "timeline.h"

#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#define TL_FULL (TL_HEAD_KEEP + TL_TAIL_KEEP)
#define TL_INITIAL 1     /* a SYN-only flow holds one event (its SYN); 1, 2, 4, ... after */

static const char *const ev_names[EV__COUNT] = {
#define X(e, s) [e] = s,
	EVENT_KINDS(X)
#undef X
};

const char *ev_kind_name(enum ev_kind k)
{
	return (unsigned)k < EV__COUNT ? ev_names[k] : "?";
}

void tl_init(struct timeline *tl)
{
	memset(tl, 0, sizeof(*tl));
}

void tl_free(struct timeline *tl)
{
	if (!tl)
		return;
	free(tl->ev);
	memcap_release(tl->mem, (size_t)tl->cap * sizeof(*tl->ev));
	struct memcap *mem = tl->mem;
	tl_init(tl);
	tl->mem = mem;
}

static bool tl_grow(struct timeline *tl)
{
	uint32_t ncap = tl->cap ? tl->cap * 2 : TL_INITIAL;
	if (ncap > TL_FULL)
		ncap = TL_FULL;
	if (!memcap_reserve(tl->mem, (size_t)(ncap - tl->cap) * sizeof(*tl->ev)))
		return false;
	struct event *ne = realloc(tl->ev, (size_t)ncap * sizeof(*ne));
	if (!ne) {
		memcap_release(tl->mem, (size_t)(ncap - tl->cap) * sizeof(*tl->ev));
		return false;
	}
	tl->ev = ne;
	tl->cap = ncap;
	return true;
}

struct event *tl_add(struct timeline *tl, enum ev_kind kind, enum sl_dir dir,
		     sl_time ts, uint64_t frame, const void *text, size_t textlen)
{
	struct event *e;

	tl->total++;
	if (tl->oom)
		return NULL;
	if (tl->n < TL_FULL) {
		if (tl->n == tl->cap && !tl_grow(tl)) {
			tl->oom = true;
			return NULL;
		}
		e = &tl->ev[tl->n++];
		if (tl->n == TL_FULL)
			tl->ring_start = TL_HEAD_KEEP;
	} else {
		/* Full: overwrite the oldest tail event. */
		e = &tl->ev[tl->ring_start];
		tl->ring_start++;
		if (tl->ring_start == TL_FULL)
			tl->ring_start = TL_HEAD_KEEP;
		tl->dropped++;
	}
	memset(e, 0, sizeof(*e));
	e->ts = ts;
	e->frame = frame;
	e->kind = (uint16_t)kind;
	e->dir = (uint8_t)dir;
	if (text && textlen)
		sl_text_copy(e->text, sizeof(e->text), text, textlen);
	return e;
}

uint32_t tl_count(const struct timeline *tl)
{
	return tl->n;
}

struct event *tl_at_mut(struct timeline *tl, uint32_t i)
{
	return (struct event *)(uintptr_t)tl_at(tl, i);
}

const struct event *tl_at(const struct timeline *tl, uint32_t i)
{
	if (i >= tl->n)
		return NULL;
	if (tl->n < TL_FULL || i < TL_HEAD_KEEP)
		return &tl->ev[i];
	/* Tail part, rotated: logical index i maps past ring_start. */
	uint32_t off = i - TL_HEAD_KEEP;
	uint32_t phys = tl->ring_start + off;
	if (phys >= TL_FULL)
		phys -= TL_TAIL_KEEP;
	return &tl->ev[phys];
}

const struct event *tl_last(const struct timeline *tl, enum ev_kind kind, int dir)
{
	for (uint32_t i = tl->n; i-- > 0;) {
		const struct event *e = tl_at(tl, i);
		if (e->kind == kind && (dir < 0 || e->dir == dir))
			return e;
	}
	return NULL;
}
