/*
 * stage.c - the analysis stage thread and its ring of session copies (see
 * stage.h for the split and why the output does not depend on it).
 *
 * The ring is a fixed array of slots guarded by one mutex and condition
 * variables. That costs a lock per session, not per packet, which does not
 * show next to a session's diagnosis and report (tens of microseconds).
 * Waking a sleeping thread is a system call, so each side wakes the other
 * only in batches: the stage thread once STAGE_WAKE_BATCH sessions wait (or
 * at a drain, a kick, the end), the producer once that many slots are free.
 * The stage thread also looks every STAGE_LATENCY_NS while it waits, so no
 * session waits longer than that for the rest of its batch.
 * A slot owns growable buffers for the parts of a view that the dissector
 * and the timeline allocate (messages, events, the file name, and the
 * packets kept for nDPI when its work is deferred to this thread) and fixed
 * copies of the rest (flow info, facts, the TLS decryption's summary, the
 * cut message, protocol and risk names), so the view the stage sees points
 * only into its slot and into static tables (the ignored risks' reasons,
 * the TLS key labels, status and cipher names). The copies are not reserved
 * against the memory cap (--memory-cap): the session's own state is
 * released on the reading thread right after the copy, as with one thread,
 * so evictions (and the output) do not depend on the number of threads; the
 * ring bounds the copies instead (STAGE_RING_SLOTS, engine.md).
 */
#include "stage.h"

#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STAGE_NAME_MAX 96       /* risk and file names longer than this are cut */
#define STAGE_WAKE_BATCH 16     /* sessions (or free slots) that wake the other side */
/* Longest a session waits in the ring for a batch to fill: the stage thread
 * looks on its own this often, so a slow input (a pipe from `tcpdump -U`)
 * still gets each session's report as it ends. */
#define STAGE_LATENCY_NS (10 * 1000 * 1000)

struct stage_slot {
	struct session_view v;
	struct flow_info fi;
	struct smtp_facts f;
	struct timeline tl;
	struct smtp_message *msgs;      /* owned, msgs_cap entries */
	uint32_t msgs_cap;
	struct event *ev;               /* owned, ev_cap entries */
	uint32_t ev_cap;
	char *file;                     /* owned, file_cap bytes */
	size_t file_cap;
	uint8_t *kept;                  /* owned, kept_cap bytes: session_view.cls_kept */
	size_t kept_cap;
	struct session_tls tls;         /* the TLS decryptor's summary (freed with the session) */
	char protocol[32];
	char risk[SESSION_MAX_RISKS][STAGE_NAME_MAX];
	char ignored[SESSION_MAX_RISKS][STAGE_NAME_MAX];
	char cut[256];
};

struct stage {
	stage_fn fn;
	void *ctx;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t not_empty, not_full, idle;
	struct stage_slot *slot[STAGE_RING_SLOTS];
	uint32_t head, count;           /* next slot to take; slots filled */
	bool busy;                      /* the thread is running fn */
	bool consumer_asleep;           /* waiting on not_empty */
	bool producer_asleep;           /* waiting on not_full */
	bool hurry;                     /* a drain or kick: take what is there now */
	bool stop;
	bool started;
};

static void copy_str(char *dst, size_t cap, const char *src)
{
	if (!src) {
		dst[0] = '\0';
		return;
	}
	size_t n = strnlen(src, cap - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* A message but for its unused recipient rows (about 5 KB of its 7.3):
 * those are all zeros in the dissector's, and here only their first byte
 * is, which every reader sees the same (they are strings). */
_Static_assert(offsetof(struct smtp_message, mail_from) == 0 &&
	       offsetof(struct smtp_message, rcpt_to) == sizeof(((struct smtp_message *)0)->mail_from) &&
	       offsetof(struct smtp_message, rcpt_codes) ==
		       offsetof(struct smtp_message, rcpt_to) + sizeof(((struct smtp_message *)0)->rcpt_to),
	       "copy_message copies mail_from, the used rcpt_to rows, then everything after them");

static void copy_message(struct smtp_message *d, const struct smtp_message *m)
{
	uint32_t rows = SL_MIN(m->rcpts, (uint32_t)SMTP_MAX_RCPTS);
	size_t tail = offsetof(struct smtp_message, rcpt_codes);
	memcpy(d->mail_from, m->mail_from, sizeof(d->mail_from));
	memcpy(d->rcpt_to, m->rcpt_to, (size_t)rows * sizeof(d->rcpt_to[0]));
	for (uint32_t i = rows; i < SMTP_MAX_RCPTS; i++)
		d->rcpt_to[i][0] = '\0';
	memcpy((char *)d + tail, (const char *)m + tail, sizeof(*m) - tail);
}

/* Fills slot s with a copy of v. False when a buffer cannot grow. */
static bool slot_fill(struct stage_slot *s, const struct session_view *v)
{
	uint32_t kept = smtp_msgs_kept(v->smtp);
	if (kept > s->msgs_cap) {
		struct smtp_message *m = realloc(s->msgs, (size_t)kept * sizeof(*m));
		if (!m)
			return false;
		s->msgs = m;
		s->msgs_cap = kept;
	}
	uint32_t nev = v->tl->n;
	if (nev > s->ev_cap) {
		struct event *e = realloc(s->ev, (size_t)nev * sizeof(*e));
		if (!e)
			return false;
		s->ev = e;
		s->ev_cap = nev;
	}
	size_t flen = v->fi->file ? strlen(v->fi->file) + 1 : 0;
	if (flen > s->file_cap) {
		char *b = realloc(s->file, flen);
		if (!b)
			return false;
		s->file = b;
		s->file_cap = flen;
	}
	size_t klen = v->cls_kept ? v->cls_kept_len : 0;
	if (klen > s->kept_cap) {
		uint8_t *k = realloc(s->kept, klen);
		if (!k)
			return false;
		s->kept = k;
		s->kept_cap = klen;
	}
	s->v = *v;
	s->fi = *v->fi;
	if (v->fi->file) {
		memcpy(s->file, v->fi->file, flen);
		s->fi.file = s->file;
	}
	s->f = *v->smtp;
	for (uint32_t i = 0; i < kept; i++)
		copy_message(&s->msgs[i], &v->smtp->msgs[i]);
	s->f.msgs = kept ? s->msgs : NULL;
	s->f.msgs_cap = kept;
	/* The events in their storage order: tl_at() maps the ring the same way. */
	s->tl = *v->tl;
	if (nev)
		memcpy(s->ev, v->tl->ev, (size_t)nev * sizeof(*s->ev));
	s->tl.ev = nev ? s->ev : NULL;
	s->tl.cap = nev;
	s->tl.mem = NULL;       /* nothing reserved for the copy: nothing to release */
	s->v.fi = &s->fi;
	s->v.smtp = &s->f;
	s->v.tl = &s->tl;
	if (v->protocol) {
		copy_str(s->protocol, sizeof(s->protocol), v->protocol);
		s->v.protocol = s->protocol;
	}
	for (uint32_t i = 0; i < SL_MIN(v->n_risks, SESSION_MAX_RISKS); i++) {
		copy_str(s->risk[i], sizeof(s->risk[i]), v->risks[i]);
		s->v.risks[i] = v->risks[i] ? s->risk[i] : NULL;
	}
	for (uint32_t i = 0; i < SL_MIN(v->n_risks_ignored, SESSION_MAX_RISKS); i++) {
		copy_str(s->ignored[i], sizeof(s->ignored[i]), v->risks_ignored[i]);
		s->v.risks_ignored[i] = v->risks_ignored[i] ? s->ignored[i] : NULL;
		/* risks_ignored_why[i]: classify.c's static table, kept as is */
	}
	if (v->tls_dec) {
		s->tls = *v->tls_dec;   /* its names point into static tables */
		s->v.tls_dec = &s->tls;
	}
	if (klen)
		memcpy(s->kept, v->cls_kept, klen);
	s->v.cls_kept = klen ? s->kept : NULL;
	/* Set by the --pair hook on the stage thread, never before. */
	s->v.extra = NULL;
	if (v->cut) {
		copy_str(s->cut, sizeof(s->cut), v->cut);
		s->v.cut = s->cut;
	}
	return true;
}

static void slot_free(struct stage_slot *s)
{
	if (!s)
		return;
	free(s->msgs);
	free(s->ev);
	free(s->file);
	free(s->kept);
	free(s);
}

/* With the lock held and the ring empty: sleeps until a batch is there, a
 * drain or stop asks, or STAGE_LATENCY_NS passed with a session waiting. */
static void stage_wait(struct stage *st)
{
	while (!st->stop && !st->hurry && st->count < STAGE_WAKE_BATCH) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += STAGE_LATENCY_NS;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		st->consumer_asleep = true;
		int rc = pthread_cond_timedwait(&st->not_empty, &st->mu, &until);
		st->consumer_asleep = false;
		if (rc == ETIMEDOUT && st->count)
			return;
	}
}

static void *stage_main(void *arg)
{
	struct stage *st = arg;
	pthread_mutex_lock(&st->mu);
	for (;;) {
		if (!st->count) {
			if (st->stop)
				break;  /* stop, and nothing left */
			stage_wait(st);
			continue;
		}
		struct stage_slot *s = st->slot[st->head];
		st->busy = true;
		pthread_mutex_unlock(&st->mu);
		st->fn(st->ctx, &s->v);
		pthread_mutex_lock(&st->mu);
		st->busy = false;
		st->head = (st->head + 1) % STAGE_RING_SLOTS;
		st->count--;
		if (st->producer_asleep && STAGE_RING_SLOTS - st->count >= STAGE_WAKE_BATCH)
			pthread_cond_signal(&st->not_full);
		if (!st->count) {
			st->hurry = false;
			pthread_cond_broadcast(&st->idle);
		}
	}
	pthread_mutex_unlock(&st->mu);
	return NULL;
}

struct stage *stage_new(stage_fn fn, void *ctx, char *err, size_t errlen)
{
	struct stage *st = calloc(1, sizeof(*st));
	if (!st) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	st->fn = fn;
	st->ctx = ctx;
	pthread_mutex_init(&st->mu, NULL);
	pthread_cond_init(&st->not_empty, NULL);
	pthread_cond_init(&st->not_full, NULL);
	pthread_cond_init(&st->idle, NULL);
	/* The thread inherits this mask: the signals that ask us to stop stay
	 * with the caller's thread, whose handlers main.c and live.c install.
	 * Those that the thread's own writes or faults raise are left as they
	 * are: a SIGPIPE from writing the report to a closed pipe ends
	 * `analyze | head` as it does with one thread. */
	sigset_t all, old;
	sigfillset(&all);
	sigdelset(&all, SIGPIPE);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGABRT);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&st->thread, NULL, stage_main, st);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		snprintf(err, errlen, "cannot start the analysis thread");
		stage_free(st);
		return NULL;
	}
	st->started = true;
	return st;
}

bool stage_push(struct stage *st, const struct session_view *v)
{
	pthread_mutex_lock(&st->mu);
	while (st->count == STAGE_RING_SLOTS) {
		/* a full ring is a batch: wake the stage thread, then wait */
		if (st->consumer_asleep)
			pthread_cond_signal(&st->not_empty);
		st->producer_asleep = true;
		pthread_cond_wait(&st->not_full, &st->mu);
		st->producer_asleep = false;
	}
	uint32_t tail = (st->head + st->count) % STAGE_RING_SLOTS;
	struct stage_slot *s = st->slot[tail];
	pthread_mutex_unlock(&st->mu);
	/* The tail slot is ours until count covers it: the thread only reads
	 * slots below head + count. */
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return false;
		st->slot[tail] = s;
	}
	if (!slot_fill(s, v))
		return false;
	pthread_mutex_lock(&st->mu);
	st->count++;
	if (st->consumer_asleep && (st->count >= STAGE_WAKE_BATCH || st->hurry))
		pthread_cond_signal(&st->not_empty);
	pthread_mutex_unlock(&st->mu);
	return true;
}

void stage_kick(struct stage *st)
{
	pthread_mutex_lock(&st->mu);
	if (st->count) {
		st->hurry = true;
		pthread_cond_signal(&st->not_empty);
	}
	pthread_mutex_unlock(&st->mu);
}

void stage_drain(struct stage *st)
{
	pthread_mutex_lock(&st->mu);
	if (st->count) {
		st->hurry = true;
		pthread_cond_signal(&st->not_empty);
	}
	while (st->count)
		pthread_cond_wait(&st->idle, &st->mu);
	pthread_mutex_unlock(&st->mu);
}

void stage_free(struct stage *st)
{
	if (!st)
		return;
	if (st->started) {
		pthread_mutex_lock(&st->mu);
		st->stop = true;
		pthread_cond_signal(&st->not_empty);
		pthread_mutex_unlock(&st->mu);
		pthread_join(st->thread, NULL);
	}
	for (size_t i = 0; i < STAGE_RING_SLOTS; i++)
		slot_free(st->slot[i]);
	pthread_mutex_destroy(&st->mu);
	pthread_cond_destroy(&st->not_empty);
	pthread_cond_destroy(&st->not_full);
	pthread_cond_destroy(&st->idle);
	free(st);
}
