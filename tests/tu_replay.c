/*
 * tu_replay.c - see tu_replay.h.
 */
#include "tu_replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "session.h"
#include "smtp.h"
#include "source.h"
#include "timeline.h"

void (*tu_replay_hook)(const struct session_view *sv, const struct verdict *v);

struct rflow {
	struct timeline tl;
	struct smtp *smtp;
	bool midstream;
};

struct rctx {
	struct tu_replay *out;
	sl_time last_ts;
};

static void *r_open(void *ctx, const struct flow_info *fi, const struct pkt *first)
{
	struct rflow *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	tl_init(&f->tl);
	f->smtp = smtp_new(&f->tl);
	return f;
}

static void r_packet(void *ctx, void *user, enum sl_dir dir, const struct pkt *p)
{
}

static void r_data(void *ctx, void *user, enum sl_dir dir, const uint8_t *b, size_t n, const struct seg_meta *m)
{
	struct rflow *f = user;
	smtp_data(f->smtp, dir, b, n, m);
}

static void r_gap(void *ctx, void *user, enum sl_dir dir, uint64_t len, const struct seg_meta *m)
{
	struct rflow *f = user;
	struct event *e = tl_add(&f->tl, EV_GAP, dir, m->ts, m->frame, NULL, 0);
	if (e)
		e->num = len;
	smtp_gap(f->smtp, dir, len, m);
}

static void r_event(void *ctx, void *user, enum sl_dir dir, enum tcp_event ev, uint64_t arg, const struct seg_meta *m)
{
	struct rflow *f = user;
	enum ev_kind k;
	switch (ev) {
	case TCP_SYN: k = EV_SYN; break;
	case TCP_SYNACK: k = EV_SYNACK; break;
	case TCP_SYN_RST: k = EV_SYN_RST; break;
	case TCP_FIN: k = EV_FIN; break;
	case TCP_RST: k = EV_RST; break;
	case TCP_RETRANSMISSION: k = EV_RETRANSMISSION; break;
	case TCP_OVERLAP_CONFLICT: k = EV_OVERLAP; break;
	case TCP_ZERO_WINDOW: k = EV_ZERO_WINDOW; break;
	case TCP_KEEPALIVE: k = EV_KEEPALIVE; break;
	case TCP_OOO_CAP: k = EV_REASSEMBLY_CAP; break;
	case TCP_TRUNCATED: k = EV_TRUNCATED; break;
	case TCP_MIDSTREAM: k = EV_MIDSTREAM; f->midstream = true; break;
	case TCP_DATA_AFTER_CLOSE: k = EV_DATA_AFTER_CLOSE; break;
	case TCP_BAD_TIMESTAMP: k = EV_BAD_TIMESTAMP; break;
	default: return;
	}
	struct event *e = tl_add(&f->tl, k, dir, m->ts, m->frame, NULL, 0);
	if (e)
		e->num = arg;
	if (ev == TCP_FIN || ev == TCP_RST)
		smtp_end(f->smtp, dir, m);
}

static void r_close(void *ctx, void *user, const struct flow_info *fi, enum flow_end why)
{
	struct rctx *c = ctx;
	struct rflow *f = user;
	struct tu_replay *o = c->out;
	if (o->n < TU_REPLAY_MAX) {
		struct tu_replayed *r = &o->s[o->n++];
		struct session_view sv = {
			.id = fi->id, .fi = fi, .smtp = smtp_facts(f->smtp), .tl = &f->tl, .protocol = "SMTP",
			.end = why, .capture_end = c->last_ts, .capture_started_midstream = f->midstream,
		};
		struct diag_config cfg;
		diag_config_default(&cfg);
		diagnose(&sv, &cfg, &r->v);
		if (tu_replay_hook)
			tu_replay_hook(&sv, &r->v);
		r->id = fi->id;
		r->client_port = fi->client_port;
		r->server_port = fi->server_port;
		r->is_smtp = sv.smtp->is_smtp;
	}
	smtp_free(f->smtp);
	tl_free(&f->tl);
	free(f);
}

static int by_id(const void *a, const void *b)
{
	const struct tu_replayed *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

bool tu_replay_file(const char *path, struct tu_replay *out)
{
	memset(out, 0, sizeof(*out));
	char err[256];
	struct source *src = source_open_file(path, err, sizeof(err));
	if (!src)
		return false;
	struct rctx c = { .out = out };
	struct engine_sink sink = { &c, r_open, r_packet, r_data, r_gap, r_event, r_close };
	struct engine_config cfg;
	engine_config_default(&cfg);
	struct engine *e = engine_new(&cfg, &sink);
	struct raw_packet raw;
	int rc;
	while ((rc = source_next(src, &raw, err, sizeof(err))) == 1) {
		if (raw.ts > c.last_ts)
			c.last_ts = raw.ts;
		engine_feed(e, &raw);
	}
	if (rc < 0)
		snprintf(out->err, sizeof(out->err), "%s", err);
	engine_finish(e);
	engine_free(e);
	source_close(src);
	qsort(out->s, out->n, sizeof(out->s[0]), by_id);
	return true;
}

const struct tu_replayed *tu_replay_get(const struct tu_replay *r, uint16_t port, size_t nth)
{
	for (size_t i = 0; i < r->n; i++)
		if (!port || r->s[i].server_port == port) {
			if (!nth)
				return &r->s[i];
			nth--;
		}
	return NULL;
}
