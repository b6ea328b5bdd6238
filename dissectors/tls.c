/*
 * tls.c - the TLS record layer, read far enough to tell a failed handshake
 * from an encrypted session (after STARTTLS or on implicit-TLS ports).
 *
 * Per direction: record headers are gathered (5 bytes, may be split
 * anywhere), bodies are skipped except for
 *  - handshake records before ChangeCipherSpec, until the hello of that
 *    side (ClientHello: SNI, offered versions incl. supported_versions;
 *    ServerHello: chosen version and cipher) is parsed; a hello may span
 *    records and segments and is gathered in a buffer of TLS_HS_BUF_MAX;
 *  - alerts in clear (2-byte records before ChangeCipherSpec);
 *  - application data, counted (bytes and records per side).
 * A record header that cannot be TLS ends parsing of that side (a gap too:
 * record boundaries are lost). Memory: the struct, allocated once.
 *
 * handshake_done: for TLS 1.2 and older, ChangeCipherSpec both ways; for
 * TLS 1.3 (where the handshake continues inside application-data records),
 * application data from the server and a client record longer than an
 * encrypted alert (19 bytes), i.e. the client's Finished or data.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls.h"
#include "cursor.h"

#define TLS_REC_MAX (16384 + 2048)
#define TLS13_ENC_ALERT_LEN 19

struct tls_dir {
	uint8_t hdr[5];
	uint8_t hdr_len;
	uint8_t type;
	uint32_t left;          /* body bytes of the current record still to come */
	uint32_t rec_len;
	bool dead;
	bool hello_done;        /* the hello was parsed (or given up) */
	uint8_t alert[2];
	uint8_t alert_len;
	size_t hs_len;
	uint8_t hs[TLS_HS_BUF_MAX];
};

struct tls {
	struct tls_facts *f;
	struct timeline *tl;
	bool client_long_appdata;
	struct tls_dir d[2];
};

struct tls *tls_new(struct tls_facts *facts, struct timeline *tl)
{
	struct tls *t = malloc(sizeof(*t));
	if (!t)
		return NULL;
	/* the hello buffers are written before they are read: not cleared */
	memset(t, 0, offsetof(struct tls, d));
	for (int i = 0; i < 2; i++)
		memset(&t->d[i], 0, offsetof(struct tls_dir, hs));
	t->f = facts;
	t->tl = tl;
	return t;
}

void tls_free(struct tls *t)
{
	free(t);
}

static bool is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

static struct event *ev(struct tls *t, enum ev_kind k, enum sl_dir d, const struct seg_meta *m,
			const char *text)
{
	return tl_add(t->tl, k, d, m->ts, m->frame, text, text ? strlen(text) : 0);
}

/* Walks extensions; calls back per (type, body). */
static void client_hello(struct tls *t, struct cursor *c, const struct seg_meta *m)
{
	struct tls_facts *f = t->f;
	uint16_t legacy;
	uint8_t l8;
	uint16_t l16;
	if (!cur_u16(c, &legacy) || !cur_skip(c, 32) || !cur_u8(c, &l8) || !cur_skip(c, l8) ||
	    !cur_u16(c, &l16) || !cur_skip(c, l16) || !cur_u8(c, &l8) || !cur_skip(c, l8))
		goto out;
	f->offered_max = legacy;
	struct cursor exts;
	if (!cur_u16(c, &l16) || !cur_sub(c, l16, &exts))
		goto out;
	while (cur_left(&exts) >= 4) {
		uint16_t type, len;
		struct cursor e;
		if (!cur_u16(&exts, &type) || !cur_u16(&exts, &len) || !cur_sub(&exts, len, &e))
			break;
		if (type == 0) {            /* server_name */
			uint16_t list, nl;
			uint8_t nt;
			const uint8_t *name;
			if (cur_u16(&e, &list) && cur_u8(&e, &nt) && nt == 0 && cur_u16(&e, &nl) &&
			    cur_bytes(&e, nl, &name))
				sl_text_copy(f->sni, sizeof(f->sni), name, nl);
		} else if (type == 43) {    /* supported_versions */
			uint8_t vl;
			if (!cur_u8(&e, &vl))
				continue;
			for (uint8_t i = 0; i + 1 < vl; i += 2) {
				uint16_t v;
				if (!cur_u16(&e, &v))
					break;
				if (!is_grease(v) && v > f->offered_max && v <= 0x0304)
					f->offered_max = v;
			}
		}
	}
out:
	f->client_hello = true;
	f->client_hello_frame = m->frame;
	char text[sizeof(f->sni) + 64];
	snprintf(text, sizeof(text), "sni=%s offered up to %s", f->sni[0] ? f->sni : "(none)",
		 tls_version_name(f->offered_max));
	ev(t, EV_TLS_CLIENT_HELLO, DIR_C2S, m, text);
}

static void server_hello(struct tls *t, struct cursor *c, const struct seg_meta *m)
{
	struct tls_facts *f = t->f;
	uint16_t legacy, l16;
	uint8_t l8;
	if (!cur_u16(c, &legacy) || !cur_skip(c, 32) || !cur_u8(c, &l8) || !cur_skip(c, l8) ||
	    !cur_u16(c, &f->cipher) || !cur_skip(c, 1))
		goto out;
	f->version = legacy;
	struct cursor exts;
	if (!cur_u16(c, &l16) || !cur_sub(c, l16, &exts))
		goto out;
	while (cur_left(&exts) >= 4) {
		uint16_t type, len, v;
		struct cursor e;
		if (!cur_u16(&exts, &type) || !cur_u16(&exts, &len) || !cur_sub(&exts, len, &e))
			break;
		if (type == 43 && cur_u16(&e, &v))
			f->version = v;
	}
out:
	f->server_hello = true;
	f->server_hello_frame = m->frame;
	char text[64];
	snprintf(text, sizeof(text), "%s", tls_version_name(f->version));
	struct event *e = ev(t, EV_TLS_SERVER_HELLO, DIR_S2C, m, text);
	if (e)
		e->num = f->version;
}

/* Parses complete handshake messages gathered in hs. */
static void handshake(struct tls *t, enum sl_dir d, const struct seg_meta *m)
{
	struct tls_dir *td = &t->d[d];
	while (!td->hello_done && td->hs_len >= 4) {
		uint32_t len = ((uint32_t)td->hs[1] << 16) | ((uint32_t)td->hs[2] << 8) | td->hs[3];
		if ((size_t)len + 4 > sizeof(td->hs)) {
			td->hello_done = true;      /* too big to gather: give up on it */
			break;
		}
		if (td->hs_len < (size_t)len + 4)
			return;
		struct cursor c = cur_make(td->hs + 4, len);
		uint8_t type = td->hs[0];
		if (type == 1 && d == DIR_C2S) {
			client_hello(t, &c, m);
			td->hello_done = true;
		} else if (type == 2 && d == DIR_S2C) {
			server_hello(t, &c, m);
			td->hello_done = true;
		}
		memmove(td->hs, td->hs + 4 + len, td->hs_len - 4 - len);
		td->hs_len -= 4 + len;
	}
	if (td->hello_done)
		td->hs_len = 0;
}

static void update_done(struct tls *t)
{
	struct tls_facts *f = t->f;
	if (f->version == 0x0304)
		f->handshake_done = f->appdata_records[DIR_S2C] > 0 && t->client_long_appdata;
	else
		f->handshake_done = f->ccs[DIR_C2S] && f->ccs[DIR_S2C];
}

static void record_start(struct tls *t, enum sl_dir d, const struct seg_meta *m)
{
	struct tls_facts *f = t->f;
	struct tls_dir *td = &t->d[d];
	f->records[d]++;
	if (td->type == 23) {
		if (f->appdata_records[d] == 0) {
			f->first_appdata_frame[d] = m->frame;
			struct event *e = ev(t, EV_TLS_APPDATA, d, m, NULL);
			if (e)
				e->num = td->rec_len;
		}
		f->appdata_records[d]++;
		f->appdata_bytes[d] += td->rec_len;
		if (d == DIR_C2S && td->rec_len > TLS13_ENC_ALERT_LEN)
			t->client_long_appdata = true;
	} else if (td->type == 20) {
		f->ccs[d] = true;
	}
	td->alert_len = 0;
	update_done(t);
}

static void alert(struct tls *t, enum sl_dir d, const struct seg_meta *m)
{
	struct tls_facts *f = t->f;
	struct tls_dir *td = &t->d[d];
	f->alert = true;
	f->alert_level = td->alert[0];
	f->alert_desc = td->alert[1];
	f->alert_dir = (uint8_t)d;
	f->alert_frame = m->frame;
	char text[64];
	snprintf(text, sizeof(text), "%s %s", td->alert[0] == 2 ? "fatal" : "warning", tls_alert_name(td->alert[1]));
	struct event *e = ev(t, EV_TLS_ALERT, d, m, text);
	if (e)
		e->code = (uint16_t)(td->alert[0] * 256 + td->alert[1]);
}

void tls_plaintext(struct tls *t, enum sl_dir dir, const struct seg_meta *m)
{
	if (!t)
		return;
	struct tls_facts *f = t->f;
	t->d[dir].dead = true;
	if (!f->plaintext_after_tls) {
		f->plaintext_after_tls = true;
		f->plaintext_dir = (uint8_t)dir;
		f->plaintext_frame = m->frame;
	}
	ev(t, EV_TLS_MISMATCH, dir, m, dir == DIR_C2S ? "client sent plaintext where TLS was due"
						  : "server sent plaintext where TLS was due");
}

void tls_data(struct tls *t, enum sl_dir dir, const uint8_t *b, size_t n, const struct seg_meta *m)
{
	if (!t)
		return;
	struct tls_dir *td = &t->d[dir];
	struct tls_facts *f = t->f;
	while (n && !td->dead) {
		if (td->left == 0 && td->hdr_len < 5) {
			size_t k = SL_MIN(n, (size_t)(5 - td->hdr_len));
			memcpy(td->hdr + td->hdr_len, b, k);
			td->hdr_len = (uint8_t)(td->hdr_len + k);
			b += k;
			n -= k;
			if (td->hdr_len < 5)
				return;
			uint32_t len = ((uint32_t)td->hdr[3] << 8) | td->hdr[4];
			if (td->hdr[0] < 20 || td->hdr[0] > 24 || td->hdr[1] != 3 || len > TLS_REC_MAX) {
				f->bad_record[dir] = true;
				if (f->records[dir] == 0) {
					tls_plaintext(t, dir, m);
				} else {
					td->dead = true;
					ev(t, EV_NOTE, dir, m, "TLS record layer lost (not a record header)");
				}
				return;
			}
			td->type = td->hdr[0];
			td->rec_len = len;
			td->left = len;
			td->hdr_len = 0;
			record_start(t, dir, m);
			continue;
		}
		size_t k = (size_t)SL_MIN((uint64_t)n, (uint64_t)td->left);
		if (td->type == 22 && !td->hello_done && !f->ccs[dir]) {
			size_t room = sizeof(td->hs) - td->hs_len;
			size_t c = SL_MIN(room, k);
			memcpy(td->hs + td->hs_len, b, c);
			td->hs_len += c;
			handshake(t, dir, m);
			if (c < k)
				td->hello_done = true;
		} else if (td->type == 21 && td->rec_len == 2 && !f->ccs[dir]) {
			for (size_t i = 0; i < k && td->alert_len < 2; i++)
				td->alert[td->alert_len++] = b[i];
			if (td->alert_len == 2 && k == td->left)
				alert(t, dir, m);
		}
		td->left -= (uint32_t)k;
		b += k;
		n -= k;
	}
}

void tls_gap(struct tls *t, enum sl_dir dir, uint64_t len)
{
	if (!t || len == 0)
		return;
	struct tls_dir *td = &t->d[dir];
	if (td->left >= len && td->hdr_len == 0) {
		/* inside a record body: still aligned */
		td->left -= (uint32_t)len;
		if (td->type == 22)
			td->hello_done = true;
		return;
	}
	td->dead = true;    /* record boundaries are lost */
}
