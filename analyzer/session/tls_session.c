/*
 * tls_session.c - one session's decryption with a key log, wired between the
 * SMTP dissector's TLS tap and its re-entry (see tls_session.h).
 *
 * Order and re-entrancy: the tap is called from inside the dissector. The
 * plaintext of a direction that has not re-entered yet (the first flight
 * after the handshake) is queued with its direction and handed to
 * smtp_tls_plain once the wrapper's smtp_data/smtp_gap returned; once a
 * direction has re-entered, its wire bytes reach the tap outside the
 * dissector's reading loop and the plaintext is fed at once (after the queue,
 * so the order holds). Each queued entry is [dir|flag][8-byte length][bytes].
 */
#include "tls_session.h"

#include <stdlib.h>
#include <string.h>

#include "tls_decrypt.h"

#define Q_GAP 0x80u         /* entry flag: a gap of `length` plaintext bytes */
#define Q_HDR 9u

struct tlss {
	struct tlsd *d;
	struct smtp *smtp;
	struct extract_session *xs;
	struct seg_meta m;              /* the wire segment being read */
	uint8_t *q;
	size_t q_len, q_cap;
	bool ended[2];                  /* decryption of that direction ended: gap told */
	bool tapped;                    /* TLS bytes went by */
	struct session_tls view;
};

static void q_put(struct tlss *t, enum sl_dir dir, const uint8_t *b, size_t n, uint64_t gap)
{
	size_t need = Q_HDR + (b ? n : 0);
	if (b && t->q_len + need > TLS_SESSION_QUEUE_MAX) {
		/* over the cap: those plaintext bytes are lost, said as a gap */
		b = NULL;
		gap = n;
		need = Q_HDR;
	}
	if (t->q_len + need > t->q_cap) {
		size_t cap = t->q_cap ? t->q_cap : 4096;
		while (cap < t->q_len + need)
			cap *= 2;
		uint8_t *nq = realloc(t->q, cap);
		if (!nq)
			return;         /* out of memory: dropped (the dissector sees less) */
		t->q = nq;
		t->q_cap = cap;
	}
	uint64_t len = b ? n : gap;
	t->q[t->q_len] = (uint8_t)dir | (b ? 0 : Q_GAP);
	memcpy(t->q + t->q_len + 1, &len, 8);
	if (b)
		memcpy(t->q + t->q_len + Q_HDR, b, n);
	t->q_len += need;
}

static void q_flush(struct tlss *t)
{
	size_t off = 0;
	while (off + Q_HDR <= t->q_len) {
		uint8_t tag = t->q[off];
		uint64_t len;
		memcpy(&len, t->q + off + 1, 8);
		enum sl_dir dir = (enum sl_dir)(tag & 1);
		if (tag & Q_GAP) {
			smtp_tls_plain(t->smtp, dir, NULL, 0, len, &t->m);
			off += Q_HDR;
		} else {
			smtp_tls_plain(t->smtp, dir, t->q + off + Q_HDR, (size_t)len, 0, &t->m);
			off += Q_HDR + (size_t)len;
		}
	}
	t->q_len = 0;
}

static void deliver(struct tlss *t, enum sl_dir dir, const uint8_t *b, size_t n, uint64_t gap)
{
	if (t->q_len == 0 && smtp_tls_inner(t->smtp, dir))
		smtp_tls_plain(t->smtp, dir, b, n, gap, &t->m);
	else
		q_put(t, dir, b, n, gap);
}

static void on_plain(void *ctx, enum sl_dir dir, const uint8_t *b, size_t n)
{
	struct tlss *t = ctx;
	if (!n)
		return;
	extract_tls_stream(t->xs, dir, b, n);
	deliver(t, dir, b, n, 0);
}

/* A direction whose decryption ended after plaintext flowed: the dissector
 * learns that the rest of it is missing. */
static void check_end(struct tlss *t, enum sl_dir dir, uint64_t len)
{
	enum tlsd_status st = tlsd_status(t->d, dir);
	if (t->ended[dir] || (st != TLSD_GAP && st != TLSD_BAD_KEYS && st != TLSD_MALFORMED))
		return;
	t->ended[dir] = true;
	if (tlsd_info(t->d)->dir[dir].app_bytes)
		deliver(t, dir, NULL, 0, len ? len : 1);
}

static void on_tap(void *ctx, enum sl_dir dir, const uint8_t *b, size_t n, uint64_t gap)
{
	struct tlss *t = ctx;
	t->tapped = true;
	if (b)
		tlsd_data(t->d, dir, b, n);
	else
		tlsd_gap(t->d, dir, gap);
	check_end(t, dir, b ? n : gap);
}

struct tlss *tlss_new(const struct keylog *kl, struct smtp *smtp, struct extract_session *xs)
{
	struct tlss *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->d = tlsd_new(kl, on_plain, t);
	if (!t->d) {
		free(t);
		return NULL;
	}
	t->smtp = smtp;
	t->xs = xs;
	smtp_set_tls_tap(smtp, on_tap, t);
	return t;
}

void tlss_data(struct tlss *t, struct smtp *smtp, enum sl_dir dir, const uint8_t *b, size_t n,
		      const struct seg_meta *m)
{
	if (!t) {
		smtp_data(smtp, dir, b, n, m);
		return;
	}
	t->m = *m;
	smtp_data(smtp, dir, b, n, m);
	q_flush(t);
}

void tlss_gap(struct tlss *t, struct smtp *smtp, enum sl_dir dir, uint64_t len,
		     const struct seg_meta *m)
{
	if (!t) {
		smtp_gap(smtp, dir, len, m);
		return;
	}
	t->m = *m;
	smtp_gap(smtp, dir, len, m);
	q_flush(t);
}

void tlss_end(struct tlss *t, struct smtp *smtp, enum sl_dir dir, const struct seg_meta *m)
{
	if (t && t->tapped) {
		t->m = *m;
		tlsd_end(t->d, dir);
		q_flush(t);
	}
	smtp_end(smtp, dir, m);
}

const struct session_tls *tlss_view(struct tlss *t)
{
	if (!t || !t->tapped)
		return NULL;
	const struct tlsd_info *in = tlsd_info(t->d);
	struct session_tls *v = &t->view;
	memset(v, 0, sizeof(*v));
	for (int d = 0; d < 2; d++) {
		v->status[d] = tlsd_status_name(in->dir[d].status);
		v->app_bytes[d] = in->dir[d].app_bytes;
		v->decrypted |= smtp_tls_inner(t->smtp, (enum sl_dir)d);
	}
	for (int l = 0; l < KL_COUNT && v->n_keys < SESSION_TLS_KEYS_MAX; l++)
		if (in->keys_used & (1u << l))
			v->keys[v->n_keys++] = keylog_label_name((enum keylog_label)l);
	v->cipher = in->cipher ? tlsd_cipher_name(in->cipher) : NULL;
	if (in->dir[0].status == TLSD_NO_KEY || in->dir[1].status == TLSD_NO_KEY)
		tlsd_wanted_line(t->d, v->wanted, sizeof(v->wanted));
	return v;
}

void tlss_free(struct tlss *t)
{
	if (!t)
		return;
	tlsd_free(t->d);
	free(t->q);
	free(t);
}
