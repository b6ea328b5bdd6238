/*
 * smtp_harness.h - feeding scripted dialogs to the SMTP dissector in the
 * SMTP test runners (check_smtp*.c, check_tls.c): a dialog is a list of
 * steps (direction, bytes); each step gets frame = its index + 1 so a
 * dialog fed whole, split, or one byte at a time must give the same events
 * and facts. Header-only so each runner stays self-contained.
 */
#ifndef SLEUTH_SMTP_HARNESS_H
#define SLEUTH_SMTP_HARNESS_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp.h"

struct step {
	enum sl_dir dir;
	const char *b;      /* NULL ends the list */
	size_t n;           /* 0 = strlen(b) */
	uint64_t gap;       /* when b == "" and gap > 0: a gap of that many bytes */
};

#define C(s) { DIR_C2S, s, sizeof(s) - 1, 0 }
#define S(s) { DIR_S2C, s, sizeof(s) - 1, 0 }
#define CB(p, len) { DIR_C2S, (const char *)(p), len, 0 }
#define SB(p, len) { DIR_S2C, (const char *)(p), len, 0 }
#define CGAP(len) { DIR_C2S, "", 0, len }
#define SGAP(len) { DIR_S2C, "", 0, len }
#define END { DIR_C2S, NULL, 0, 0 }

struct run {
	struct timeline tl;
	struct smtp *s;
	/* body sink capture */
	char *body;
	size_t body_len, body_cap;
	uint32_t body_done;
};

static void run_sink(void *ctx, uint32_t msg, const uint8_t *b, size_t n, bool done)
{
	struct run *r = ctx;
	(void)msg;
	if (done) {
		r->body_done++;
		return;
	}
	if (r->body_len + n + 1 > r->body_cap) {
		r->body_cap = (r->body_len + n + 1) * 2;
		r->body = realloc(r->body, r->body_cap);
	}
	memcpy(r->body + r->body_len, b, n);
	r->body_len += n;
	r->body[r->body_len] = '\0';
}

static void run_init(struct run *r)
{
	memset(r, 0, sizeof(*r));
	tl_init(&r->tl);
	r->s = smtp_new(&r->tl);
	smtp_set_body_sink(r->s, run_sink, r);
}

static void run_free(struct run *r)
{
	smtp_free(r->s);
	tl_free(&r->tl);
	free(r->body);
}

static struct seg_meta step_meta(size_t i)
{
	struct seg_meta m;
	memset(&m, 0, sizeof(m));
	m.frame = i + 1;
	m.ts = (sl_time)(i + 1) * NS_PER_MS;
	return m;
}

/* Each step's bytes in its own exact-size allocation (overreads show). */
static void feed_piece(struct run *r, enum sl_dir d, const char *p, size_t n, const struct seg_meta *m)
{
	uint8_t *copy = malloc(n ? n : 1);
	memcpy(copy, p, n);
	smtp_data(r->s, d, copy, n, m);
	free(copy);
}

static size_t step_len(const struct step *st)
{
	return st->n ? st->n : strlen(st->b);
}

/* mode: 0 whole steps; 1 one byte at a time; 2 step `which` split at `at`. */
static void run_feed(struct run *r, const struct step *steps, int mode, size_t which, size_t at, bool end)
{
	size_t i;
	for (i = 0; steps[i].b; i++) {
		const struct step *st = &steps[i];
		struct seg_meta m = step_meta(i);
		if (st->gap) {
			smtp_gap(r->s, st->dir, st->gap, &m);
			continue;
		}
		size_t n = step_len(st);
		if (mode == 1) {
			for (size_t k = 0; k < n; k++)
				feed_piece(r, st->dir, st->b + k, 1, &m);
		} else if (mode == 2 && i == which && at <= n) {
			feed_piece(r, st->dir, st->b, at, &m);
			feed_piece(r, st->dir, st->b + at, n - at, &m);
		} else {
			feed_piece(r, st->dir, st->b, n, &m);
		}
	}
	if (end) {
		struct seg_meta m = step_meta(i);
		smtp_end(r->s, DIR_C2S, &m);
		smtp_end(r->s, DIR_S2C, &m);
	}
}

/* A printable dump of every event, for equality checks and messages. */
static inline char *run_dump(const struct run *r)
{
	size_t cap = 1 << 16, len = 0;
	char *out = malloc(cap);
	out[0] = '\0';
	for (uint32_t i = 0; i < tl_count(&r->tl); i++) {
		const struct event *e = tl_at(&r->tl, i);
		char line[512];
		int k = snprintf(line, sizeof(line), "%llu %s %d code=%u enh=%s num=%llu [%s]\n",
				 (unsigned long long)e->frame, ev_kind_name((enum ev_kind)e->kind), e->dir, e->code,
				 e->enhanced, (unsigned long long)e->num, e->text);
		if (len + (size_t)k + 1 > cap) {
			cap = (len + (size_t)k + 1) * 2;
			out = realloc(out, cap);
		}
		memcpy(out + len, line, (size_t)k + 1);
		len += (size_t)k;
	}
	return out;
}

static inline const struct event *find_ev(const struct run *r, enum ev_kind k, uint32_t nth)
{
	for (uint32_t i = 0; i < tl_count(&r->tl); i++) {
		const struct event *e = tl_at(&r->tl, i);
		if (e->kind == k && nth-- == 0)
			return e;
	}
	return NULL;
}

static inline uint32_t count_ev(const struct run *r, enum ev_kind k)
{
	uint32_t c = 0;
	for (uint32_t i = 0; i < tl_count(&r->tl); i++)
		if (tl_at(&r->tl, i)->kind == k)
			c++;
	return c;
}

/* Offset of the first differing byte of two facts, or (size_t)-1. Message
 * slots past n_msgs are never written and not compared. */
static inline size_t facts_diff(const struct smtp_facts *a, const struct smtp_facts *b)
{
	const uint8_t *x = (const uint8_t *)a, *y = (const uint8_t *)b;
	size_t used = SL_MIN(a->n_msgs, (uint32_t)SMTP_MAX_MESSAGES);
	size_t skip_from = offsetof(struct smtp_facts, msgs) + used * sizeof(struct smtp_message);
	size_t skip_to = offsetof(struct smtp_facts, msgs) + sizeof(a->msgs);
	for (size_t i = 0; i < sizeof(*a); i++) {
		if (i == skip_from)
			i = skip_to;
		if (i < sizeof(*a) && x[i] != y[i])
			return i;
	}
	return (size_t)-1;
}

/* Feeds the dialog whole, byte by byte and split at every offset of every
 * step; all runs must give the same events and facts as the whole run. */
static inline void check_split_invariance(const struct step *steps)
{
	struct run ref;
	run_init(&ref);
	run_feed(&ref, steps, 0, 0, 0, true);
	char *want = run_dump(&ref);
	struct run r;
	run_init(&r);
	run_feed(&r, steps, 1, 0, 0, true);
	char *got = run_dump(&r);
	ck_assert_msg(strcmp(want, got) == 0, "byte-at-a-time differs:\n--- whole\n%s--- bytes\n%s", want, got);
	ck_assert_msg(facts_diff(smtp_facts(ref.s), smtp_facts(r.s)) == (size_t)-1,
		      "byte-at-a-time facts differ at offset %zu", facts_diff(smtp_facts(ref.s), smtp_facts(r.s)));
	ck_assert_uint_eq(ref.body_len, r.body_len);
	free(got);
	run_free(&r);
	for (size_t i = 0; steps[i].b; i++) {
		if (steps[i].gap)
			continue;
		size_t n = step_len(&steps[i]);
		for (size_t at = 1; at < n; at++) {
			run_init(&r);
			run_feed(&r, steps, 2, i, at, true);
			got = run_dump(&r);
			ck_assert_msg(strcmp(want, got) == 0, "split step %zu at %zu differs:\n--- whole\n%s--- split\n%s",
				      i, at, want, got);
			ck_assert_msg(facts_diff(smtp_facts(ref.s), smtp_facts(r.s)) == (size_t)-1,
				      "split step %zu at %zu: facts differ at offset %zu", i, at,
				      facts_diff(smtp_facts(ref.s), smtp_facts(r.s)));
			ck_assert_uint_eq(ref.body_len, r.body_len);
			if (ref.body_len)
				ck_assert(memcmp(ref.body, r.body, ref.body_len) == 0);
			free(got);
			run_free(&r);
		}
	}
	free(want);
	run_free(&ref);
}

/* True when needle occurs anywhere in the facts' bytes or any event. */
static inline bool leaks(const struct run *r, const char *needle)
{
	size_t nl = strlen(needle);
	const struct smtp_facts *f = smtp_facts(r->s);
	size_t used = SL_MIN(f->n_msgs, (uint32_t)SMTP_MAX_MESSAGES);
	size_t head = offsetof(struct smtp_facts, msgs) + used * sizeof(struct smtp_message);
	size_t tail = offsetof(struct smtp_facts, msgs) + sizeof(f->msgs);
	if (memmem(f, head, needle, nl) || memmem((const uint8_t *)f + tail, sizeof(*f) - tail, needle, nl))
		return true;
	for (uint32_t i = 0; i < tl_count(&r->tl); i++) {
		const struct event *e = tl_at(&r->tl, i);
		if (memmem(e, sizeof(*e), needle, nl))
			return true;
	}
	return false;
}

#endif
