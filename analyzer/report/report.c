/*
 * report.c - the reporter object: filters, dispatch to the JSON,
 * transcript, ladder and HTML writers, and the default text report (a block
 * per session, then the summary table of causes and the accounting lines).
 *
 * Causes are counted here from reporter_session() calls (the sessions that
 * passed the filters); the summary prints the pipeline's counts when it
 * filled summary.causes, else these. Colour escapes are written only when
 * report_opts.color is set (the caller checks isatty).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "report_int.h"

/* Appends n bytes of s to the string in buf (len bytes, *at used), cut to
 * fit as snprintf cuts, NUL-terminated. */
static void bput(char *buf, size_t len, size_t *at, const char *s, size_t n)
{
	if (*at + 1 >= len)
		return;
	if (n > len - 1 - *at)
		n = len - 1 - *at;
	memcpy(buf + *at, s, n);
	*at += n;
	buf[*at] = '\0';
}

static void bput_u64(char *buf, size_t len, size_t *at, uint64_t v)
{
	char b[24];
	char *e = b + sizeof(b), *p = e;
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	bput(buf, len, at, p, (size_t)(e - p));
}

/* As snprintf(buf, len, "%s%" PRId64 ".%03" PRId64 "s", sign, seconds, ms),
 * by hand: the text report, the transcript and the ladder write one per line. */
const char *report_rel_time(sl_time t, sl_time t0, char *buf, size_t len)
{
	sl_time d = t - t0;
	const char *sign = "+";
	if (d < 0) {
		sign = "-";
		d = -d;
	}
	if (d < 0 || !len) {    /* the one value without a positive twin; no room */
		snprintf(buf, len, "%s%" PRId64 ".%03" PRId64 "s", sign, (int64_t)(d / NS_PER_SEC),
			 (int64_t)((d % NS_PER_SEC) / NS_PER_MS));
		return buf;
	}
	size_t at = 0;
	buf[0] = '\0';
	int64_t ms = (int64_t)((d % NS_PER_SEC) / NS_PER_MS);
	char frac[5] = { '.', (char)('0' + ms / 100), (char)('0' + ms / 10 % 10), (char)('0' + ms % 10), 's' };
	bput(buf, len, &at, sign, 1);
	bput_u64(buf, len, &at, (uint64_t)(d / NS_PER_SEC));
	bput(buf, len, &at, frac, sizeof(frac));
	return buf;
}

struct reporter *reporter_new(const struct report_opts *o)
{
	struct reporter *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->o = *o;
	if (!r->o.out)
		r->o.out = stdout;
	if (r->o.html)
		report_html_begin(r);
	return r;
}

void reporter_free(struct reporter *r)
{
	free(r);
}

void reporter_set_files(struct reporter *r, const char *const *names, size_t n)
{
	r->files = names;
	r->n_files = names ? n : 0;
}

const char *report_file(const struct reporter *r, uint64_t frame, const char *fallback)
{
	uint32_t idx = frame_file(frame);
	return idx < r->n_files ? r->files[idx] : fallback;
}

const char *report_frame_str(const struct reporter *r, uint64_t frame, char *buf, size_t len)
{
	if (r->n_files > 1 && frame) {
		snprintf(buf, len, "%s:%" PRIu64, report_file(r, frame, "?"), frame_no(frame));
	} else if (len) {
		size_t at = 0;
		buf[0] = '\0';
		bput(buf, len, &at, "#", 1);
		bput_u64(buf, len, &at, frame_no(frame));
	}
	return buf;
}

bool reporter_wants(const struct reporter *r, const struct session_view *s, const struct verdict *v)
{
	if (r->o.cause_mask && !(r->o.cause_mask & (1u << v->cause)))
		return false;
	if (r->o.failures_only && v->cause == CAUSE_COMPLETED)
		return false;
	if (r->o.n_hosts) {
		bool hit = false;
		for (uint32_t i = 0; i < SL_MIN(r->o.n_hosts, REPORT_MAX_FILTERS) && !hit; i++)
			hit = sl_cidr_match(&r->o.hosts[i], &s->fi->client) || sl_cidr_match(&r->o.hosts[i], &s->fi->server);
		if (!hit)
			return false;
	}
	if (r->o.n_ports) {
		bool hit = false;
		for (uint32_t i = 0; i < SL_MIN(r->o.n_ports, REPORT_MAX_FILTERS) && !hit; i++)
			hit = s->fi->client_port == r->o.ports[i] || s->fi->server_port == r->o.ports[i];
		if (!hit)
			return false;
	}
	return true;
}

/* ANSI colours, only when asked. */
static const char *col(const struct reporter *r, const char *code)
{
	return r->o.color ? code : "";
}
#define C_RESET "\033[0m"
#define C_BOLD "\033[1m"
#define C_GREEN "\033[32m"
#define C_RED "\033[31m"
#define C_YELLOW "\033[33m"
#define C_DIM "\033[2m"

static const char *cause_colour(enum cause c)
{
	switch (c) {
	case CAUSE_COMPLETED: return C_GREEN;
	case CAUSE_ENCRYPTED:
	case CAUSE_CAPTURE_INCOMPLETE:
	case CAUSE_UNKNOWN: return C_YELLOW;
	default: return C_RED;
	}
}

static void dur(sl_time ns, char *b, size_t n)
{
	if (ns < 0)
		ns = 0;
	snprintf(b, n, "%.3f s", (double)ns / NS_PER_SEC);
}

/* Writes text wrapped at ~76 columns with the given indent (text is already
 * printable: the diagnosis built it from sanitised parts). */
static void wrapped(struct jw *w, const char *label, const char *text)
{
	const size_t width = 78, indent = 12;
	jw_mem(w, "  ", 2);
	jw_pad(w, label, strlen(label), 9, true);
	jw_putc(w, ' ');
	size_t col0 = indent, colx = col0;
	const char *p = text;
	while (*p) {
		while (*p == ' ')
			p++;
		size_t n = strcspn(p, " ");
		if (!n)
			break;
		if (colx > col0 && colx + 1 + n > width) {
			jw_putc(w, '\n');
			jw_pad(w, "", 0, indent, false);
			colx = col0;
		} else if (colx > col0) {
			jw_putc(w, ' ');
			colx++;
		}
		jw_mem(w, p, n);
		colx += n;
		p += n;
	}
	jw_putc(w, '\n');
}

/* "[addr]:port" for IPv6, "addr:port" for IPv4. */
static void text_endpoint(struct jw *w, const char *a, bool v6, uint16_t port)
{
	if (v6)
		jw_putc(w, '[');
	jw_lit(w, a);
	if (v6)
		jw_putc(w, ']');
	jw_putc(w, ':');
	jw_u64(w, port);
}

/* A session's block, built in a buffer of its own and handed to the FILE in
 * one write (jsonw.h); what printf wrote before, byte for byte. */
static void text_session(struct reporter *r, const struct session_view *s, const struct verdict *v)
{
	char buf[JW_CAP];
	struct jw wb, *w = &wb;
	jw_init(w, r->o.out, buf, sizeof(buf));
	const struct flow_info *fi = s->fi;
	char ca[SL_ADDRSTRLEN], sa[SL_ADDRSTRLEN], d[32], rel[32];
	sl_addr_str(&fi->client, ca, sizeof(ca));
	sl_addr_str(&fi->server, sa, sizeof(sa));
	dur(fi->last_ts - fi->first_ts, d, sizeof(d));
	bool v6 = fi->client.v == 6;
	jw_lit(w, col(r, C_BOLD));
	jw_putc(w, '#');
	jw_u64(w, s->id);
	jw_lit(w, col(r, C_RESET));
	jw_mem(w, "  ", 2);
	text_endpoint(w, ca, v6, fi->client_port);
	jw_lit(w, " -> ");
	text_endpoint(w, sa, v6, fi->server_port);
	jw_mem(w, "  ", 2);
	jw_time_text(w, fi->first_ts, false);
	jw_mem(w, "  ", 2);
	jw_lit(w, d);
	jw_mem(w, "  ", 2);
	jw_lit(w, s->protocol ? s->protocol : "Unknown");
	jw_lit(w, s->protocol_guessed ? " (guessed by port)\n" : "\n");
	if (s->n_risks) {
		jw_lit(w, "  risks     ");
		for (uint32_t i = 0; i < SL_MIN(s->n_risks, SESSION_MAX_RISKS); i++) {
			if (i)
				jw_mem(w, ", ", 2);
			jw_lit(w, s->risks[i]);
		}
		jw_putc(w, '\n');
	}
	/* Files are named when the input was files (live capture has none). */
	const char *f0 = r->n_files ? report_file(r, fi->first_frame, NULL) : NULL;
	const char *f1 = r->n_files ? report_file(r, fi->last_frame, NULL) : NULL;
	if (f0 && f1 && f0 != f1)
		jw_printf(w, "  files     %s (frame %" PRIu64 ") to %s (frame %" PRIu64 ")\n", f0, frame_no(fi->first_frame),
			  f1, frame_no(fi->last_frame));
	else if (f0) {
		/* "  file      %s (frame %" PRIu64 ")\n" or "... (frames %" PRIu64 "-%" PRIu64 ")\n" */
		jw_lit(w, "  file      ");
		jw_lit(w, f0);
		if (fi->first_frame == fi->last_frame) {
			jw_lit(w, " (frame ");
		} else {
			jw_lit(w, " (frames ");
			jw_u64(w, frame_no(fi->first_frame));
			jw_putc(w, '-');
		}
		jw_u64(w, frame_no(fi->last_frame));
		jw_lit(w, ")\n");
	}
	if (s->community_id[0]) {
		jw_lit(w, "  flow      community_id ");
		jw_lit(w, s->community_id);
		jw_putc(w, '\n');
	}
	jw_lit(w, "  verdict   ");
	jw_lit(w, col(r, cause_colour(v->cause)));
	jw_lit(w, cause_name(v->cause));
	jw_lit(w, col(r, C_RESET));
	jw_lit(w, " (");
	jw_lit(w, confidence_name(v->confidence));
	jw_lit(w, ") closed by ");
	jw_lit(w, closed_by_name(v->closed_by));
	if (v->close != CLOSE_NONE)
		jw_lit(w, v->close == CLOSE_FIN ? " with FIN" : " with RST");
	jw_lit(w, " in phase ");
	jw_lit(w, verdict_phase_name(v->phase));
	jw_putc(w, '\n');
	if (v->has_reply) {
		if (v->reply_code) {
			jw_lit(w, "  reply     ");
			jw_u64(w, v->reply_code);
			if (v->reply_enhanced[0])
				jw_putc(w, ' ');
		} else {
			jw_lit(w, "  reply     (no code) ");
		}
		jw_lit(w, v->reply_enhanced);
		jw_putc(w, ' ');
		jw_lit(w, v->reply_text);
		jw_putc(w, '\n');
	}
	if (s->tls_dec) {
		const struct session_tls *t = s->tls_dec;
		if (t->decrypted) {
			jw_printf(w, "  tls       decrypted with the key log (%s; client %s, server %s; keys", t->cipher ? t->cipher : "suite unknown",
				  t->status[DIR_C2S], t->status[DIR_S2C]);
			for (uint32_t i = 0; i < SL_MIN(t->n_keys, SESSION_TLS_KEYS_MAX); i++)
				jw_printf(w, "%s %s", i ? "," : "", t->keys[i]);
			jw_lit(w, ")\n");
		} else {
			jw_printf(w, "  tls       not decrypted (client %s, server %s)%s%s\n", t->status[DIR_C2S], t->status[DIR_S2C],
				  t->wanted[0] ? "; the key log line that would decrypt it: " : "", t->wanted);
		}
	}
	wrapped(w, "why", v->explanation);
	if (v->n_ev)
		jw_lit(w, "  evidence\n");
	for (uint32_t i = 0; i < SL_MIN(v->n_ev, VERDICT_MAX_EVIDENCE); i++) {
		const struct evidence *e = &v->ev[i];
		if (e->ts)
			report_rel_time(e->ts, fi->first_ts, rel, sizeof(rel));
		else
			memcpy(rel, "-", 2);
		char fr[300];
		report_frame_str(r, e->frame, fr, sizeof(fr));
		jw_mem(w, "    ", 4);
		jw_lit(w, col(r, C_DIM));
		jw_pad(w, fr, strlen(fr), 8, true);
		jw_lit(w, col(r, C_RESET));
		jw_putc(w, ' ');
		jw_pad(w, rel, strlen(rel), 10, false);
		jw_mem(w, "  ", 2);
		jw_lit(w, e->text);
		jw_putc(w, '\n');
	}
	wrapped(w, "advice", v->advice);
	if (v->client_view[0])
		wrapped(w, "client", v->client_view);
	if (s->extra && s->extra->text) {
		jw_flush(w);    /* the module writes to the FILE itself */
		s->extra->text(r->o.out, s->extra->ctx);
	}
	jw_putc(w, '\n');
	jw_flush(w);
}

void reporter_session(struct reporter *r, const struct session_view *s, const struct verdict *v)
{
	if ((unsigned)v->cause < CAUSE__COUNT)
		r->causes[v->cause]++;
	r->sessions++;
	if (r->o.html)
		report_html_session(r, s, v);
	if (r->o.quiet)
		return;
	/* Each session is flushed as it ends, so a reader at the other end of
	 * a pipe (or `tail -f`) sees it at once. */
	if (r->o.json) {
		if (r->o.json_format == JSON_ECS)
			report_ecs_session(r, s, v);
		else
			report_json_session(r, s, v);
		fflush(r->o.out);
		return;
	}
	if (r->o.ladder)
		report_ladder_session(r, s, v);
	else if (r->o.transcript)
		report_transcript_session(r, s, v);
	text_session(r, s, v);
	fflush(r->o.out);
}

void reporter_summary(struct reporter *r, const struct summary *sum)
{
	if (r->o.html)
		report_html_end(r, sum);
	if (r->o.json) {
		if (r->o.json_format == JSON_ECS)
			report_ecs_summary(r, sum);
		else
			report_json_summary(r, sum);
		fflush(r->o.out);
		return;
	}
	FILE *f = r->o.out;
	bool pipeline_counted = false;
	for (int i = 0; i < CAUSE__COUNT; i++)
		pipeline_counted |= sum->causes[i] != 0;
	const uint64_t *causes = pipeline_counted ? sum->causes : r->causes;
	uint64_t total = 0;
	for (int i = 0; i < CAUSE__COUNT; i++)
		total += causes[i];
	fprintf(f, "%sSummary%s\n", col(r, C_BOLD), col(r, C_RESET));
	fprintf(f, "  %-20s %8s\n", "cause", "sessions");
	for (int i = 0; i < CAUSE__COUNT; i++)
		if (causes[i])
			fprintf(f, "  %s%-20s%s %8" PRIu64 "\n", col(r, cause_colour((enum cause)i)),
				cause_name((enum cause)i), col(r, C_RESET), causes[i]);
	fprintf(f, "  %-20s %8" PRIu64 "\n", "total", total);
	char a[40], b[40];
	if (sum->files || sum->records)
		fprintf(f, "  input: %u file%s, %" PRIu64 " records, %" PRIu64 " bytes, %s to %s\n", sum->files,
			sum->files == 1 ? "" : "s", sum->records, sum->bytes_read,
			sum->first_ts ? sl_time_str(sum->first_ts, a, sizeof(a)) : "-",
			sum->last_ts ? sl_time_str(sum->last_ts, b, sizeof(b)) : "-");
	fprintf(f, "  flows: %" PRIu64 " = %" PRIu64 " SMTP session%s + %" PRIu64 " other flow%s + %" PRIu64
		   " dropped (%" PRIu64 " by the flow-table cap, %" PRIu64 " by the memory cap)\n",
		sum->flows, sum->smtp_sessions, sum->smtp_sessions == 1 ? "" : "s", sum->other_flows,
		sum->other_flows == 1 ? "" : "s", sum->flows_evicted + sum->flows_untracked,
		sum->flows_evicted, sum->flows_untracked);
	if (sum->evicted_flow_table || sum->evicted_memory)
		fprintf(f, "  evicted early (each reported): %" PRIu64 " by the flow-table cap, %" PRIu64 " by the memory cap\n",
			sum->evicted_flow_table, sum->evicted_memory);
	if (sum->smtp_sessions != r->sessions)
		fprintf(f, "  sessions shown: %" PRIu64 " (after filters)\n", r->sessions);
	if (sum->n_protocols || sum->protocols_other) {
		fprintf(f, "  other protocols:");
		for (uint32_t i = 0; i < SL_MIN(sum->n_protocols, REPORT_MAX_PROTOCOLS); i++)
			fprintf(f, " %.32s %" PRIu64 "%s", sum->protocols[i].name, sum->protocols[i].n,
				i + 1 < sum->n_protocols || sum->protocols_other ? "," : "");
		if (sum->protocols_other)
			fprintf(f, " (more) %" PRIu64, sum->protocols_other);
		fputc('\n', f);
	}
	uint64_t undec = 0;
	for (int i = 0; i < DEC__COUNT; i++)
		if (i != DEC_TCP)
			undec += sum->decode[i];
	if (undec) {
		fprintf(f, "  packets not analysed: %" PRIu64 " (", undec);
		bool first = true;
		for (int i = 0; i < DEC__COUNT; i++) {
			if (i == DEC_TCP || !sum->decode[i])
				continue;
			fprintf(f, "%s%s %" PRIu64, first ? "" : ", ", decode_result_name((enum decode_result)i), sum->decode[i]);
			first = false;
		}
		fprintf(f, ")\n");
	}
	if (sum->ooo_cap_hits)
		fprintf(f, "  reassembly cap hits: %" PRIu64 "\n", sum->ooo_cap_hits);
	if (sum->kernel_stats)
		fprintf(f, "  kernel drops: %" PRIu64 "\n", sum->kernel_drops);
	if (sum->bad_timestamps)
		fprintf(f, "  timestamps that cannot be right: %" PRIu64 " (the previous time used)\n",
			sum->bad_timestamps);
	if (sum->extract_errors)
		fprintf(f, "  %sextraction:%s %" PRIu64 " file%s refused or not fully written (first: %.320s)\n",
			col(r, C_RED), col(r, C_RESET), sum->extract_errors, sum->extract_errors == 1 ? "" : "s",
			sum->extract_error);
	if (sum->n_errors) {
		for (uint32_t i = 0; i < SL_MIN(sum->n_errors, SUMMARY_MAX_ERRORS); i++)
			fprintf(f, "  %serror:%s %.256s\n", col(r, C_RED), col(r, C_RESET), sum->errors[i]);
		if (sum->errors_total > sum->n_errors)
			fprintf(f, "  %serror:%s ... and %" PRIu64 " more input errors\n", col(r, C_RED), col(r, C_RESET),
				sum->errors_total - sum->n_errors);
	} else if (sum->error[0]) {
		fprintf(f, "  %serror:%s %.256s\n", col(r, C_RED), col(r, C_RESET), sum->error);
	}
	if (sum->tls_keylog.source[0])
		fprintf(f, "  TLS key log (%s): %" PRIu64 " client random%s, %" PRIu64 " malformed line%s\n",
			!strcmp(sum->tls_keylog.source, "option") ? "--tls-keylog" : sum->tls_keylog.source,
			sum->tls_keylog.entries, sum->tls_keylog.entries == 1 ? "" : "s", sum->tls_keylog.malformed,
			sum->tls_keylog.malformed == 1 ? "" : "s");
	if (sum->interrupted[0])
		fprintf(f, "  %sinterrupted:%s by %.16s; sessions still open were reported as capture_incomplete\n",
			col(r, C_RED), col(r, C_RESET), sum->interrupted);
	fflush(f);
}
