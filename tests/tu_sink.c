/*
 * tu_sink.c - see tu_sink.h.
 */
#include "tu_sink.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *dname(enum sl_dir d) { return d == DIR_C2S ? "c2s" : "s2c"; }

__attribute__((format(printf, 2, 3)))
static void logf_(struct tu_flow *f, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (f->loglen + (size_t)n + 2 > f->logcap) {
		size_t nc = (f->logcap + (size_t)n + 2) * 2;
		f->log = realloc(f->log, nc);
		if (!f->log)
			abort();
		f->logcap = nc;
	}
	memcpy(f->log + f->loglen, buf, (size_t)n);
	f->loglen += (size_t)n;
	f->log[f->loglen++] = ' ';
	f->log[f->loglen] = '\0';
}

/* With TU_SINK_FRAMES set in the environment, log entries name their frame
 * (for debugging a test; assertions do not depend on it). */
static const char *frame_note(const struct seg_meta *m)
{
	static char buf[32];
	static int on = -1;
	if (on < 0)
		on = getenv("TU_SINK_FRAMES") != NULL;
	if (!on || !m)
		return "";
	snprintf(buf, sizeof(buf), "#%llu", (unsigned long long)m->frame);
	return buf;
}

static void check_meta(struct tu_flow *f, const struct seg_meta *m)
{
	if (f->closed || !m || m->frame != f->last_frame)
		f->order_errors++;
}

static void *s_open(void *ctx, const struct flow_info *fi, const struct pkt *first)
{
	struct tu_sink *s = ctx;
	if (s->refuse)
		return NULL;
	struct tu_flow *f = calloc(1, sizeof(*f));
	if (!f)
		abort();
	f->id = fi->id;
	f->at_open = *fi;
	f->live = fi;
	if (first->frame != fi->first_frame)
		f->order_errors++;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->flows = realloc(s->flows, s->cap * sizeof(*s->flows));
		if (!s->flows)
			abort();
	}
	s->flows[s->n++] = f;
	logf_(f, "open");
	return f;
}

static void s_packet(void *ctx, void *user, enum sl_dir d, const struct pkt *p)
{
	struct tu_flow *f = user;
	if (f->closed)
		f->order_errors++;
	f->packets[d]++;
	f->last_frame = p->frame;
}

static void s_data(void *ctx, void *user, enum sl_dir d, const uint8_t *b, size_t n,
		   const struct seg_meta *m)
{
	struct tu_flow *f = user;
	check_meta(f, m);
	if (n == 0)
		f->order_errors++;
	if (f->n[d] + n > f->cap[d]) {
		size_t nc = (f->n[d] + n) * 2;
		f->bytes[d] = realloc(f->bytes[d], nc);
		if (!f->bytes[d])
			abort();
		f->cap[d] = nc;
	}
	memcpy(f->bytes[d] + f->n[d], b, n);
	f->n[d] += n;
}

static void s_gap(void *ctx, void *user, enum sl_dir d, uint64_t len, const struct seg_meta *m)
{
	struct tu_flow *f = user;
	check_meta(f, m);
	if (len == 0)
		f->order_errors++;
	f->gaps[d]++;
	f->gap_bytes[d] += len;
	logf_(f, "%s:gap:%llu@%zu%s", dname(d), (unsigned long long)len, f->n[d], frame_note(m));
}

static void s_event(void *ctx, void *user, enum sl_dir d, enum tcp_event ev, uint64_t arg,
		    const struct seg_meta *m)
{
	struct tu_flow *f = user;
	check_meta(f, m);
	f->ev[d][ev]++;
	f->ev_arg[d][ev] += arg;
	logf_(f, "%s:%s:%llu%s", dname(d), tcp_event_name(ev), (unsigned long long)arg, frame_note(m));
}

static void s_close(void *ctx, void *user, const struct flow_info *fi, enum flow_end why)
{
	struct tu_flow *f = user;
	if (f->closed || fi != f->live)
		f->order_errors++;
	f->closed = true;
	f->why = why;
	f->final = *fi;
	logf_(f, "close:%s", flow_end_name(why));
}

void tu_sink_init(struct tu_sink *s)
{
	memset(s, 0, sizeof(*s));
	s->sink.ctx = s;
	s->sink.flow_open = s_open;
	s->sink.packet = s_packet;
	s->sink.data = s_data;
	s->sink.gap = s_gap;
	s->sink.tcp_event = s_event;
	s->sink.flow_close = s_close;
}

void tu_sink_free(struct tu_sink *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->flows[i]->bytes[0]);
		free(s->flows[i]->bytes[1]);
		free(s->flows[i]->log);
		free(s->flows[i]);
	}
	free(s->flows);
	s->flows = NULL;
	s->n = s->cap = 0;
}

struct tu_flow *tu_sink_flow(const struct tu_sink *s, uint64_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->flows[i]->id == id)
			return s->flows[i];
	return NULL;
}

bool tu_flow_logged(const struct tu_flow *f, const char *text)
{
	return f->log && strstr(f->log, text) != NULL;
}
