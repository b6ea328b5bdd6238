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

#include "report_int.h"

const char *report_rel_time(sl_time t, sl_time t0, char *buf, size_t len)
{
	sl_time d = t - t0;
	const char *sign = "+";
	if (d < 0) {
		sign = "-";
		d = -d;
	}
	snprintf(buf, len, "%s%" PRId64 ".%03" PRId64 "s", sign, (int64_t)(d / NS_PER_SEC), (int64_t)((d % NS_PER_SEC) / NS_PER_MS));
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
	if (r->n_files > 1 && frame)
		snprintf(buf, len, "%s:%" PRIu64, report_file(r, frame, "?"), frame_no(frame));
	else
		snprintf(buf, len, "#%" PRIu64, frame_no(frame));
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
static void wrapped(FILE *f, const char *label, const char *text)
{
	const size_t width = 78, indent = 12;
	fprintf(f, "  %-9s ", label);
	size_t col0 = indent, colx = col0;
	const char *p = text;
	while (*p) {
		while (*p == ' ')
			p++;
		size_t w = strcspn(p, " ");
		if (!w)
			break;
		if (colx > col0 && colx + 1 + w > width) {
			fprintf(f, "\n%*s", (int)indent, "");
			colx = col0;
		} else if (colx > col0) {
			fputc(' ', f);
			colx++;
		}
		fwrite(p, 1, w, f);
		colx += w;
		p += w;
	}
	fputc('\n', f);
}

static void text_session(struct reporter *r, const struct session_view *s, const struct verdict *v)
{
	FILE *f = r->o.out;
	const struct flow_info *fi = s->fi;
	char ca[SL_ADDRSTRLEN], sa[SL_ADDRSTRLEN], t0[40], d[32], rel[32];
	sl_addr_str(&fi->client, ca, sizeof(ca));
	sl_addr_str(&fi->server, sa, sizeof(sa));
	dur(fi->last_ts - fi->first_ts, d, sizeof(d));
	bool v6 = fi->client.v == 6;
	fprintf(f, "%s#%" PRIu64 "%s  %s%s%s:%u -> %s%s%s:%u  %s  %s  %s%s\n", col(r, C_BOLD), s->id, col(r, C_RESET),
		v6 ? "[" : "", ca, v6 ? "]" : "", fi->client_port, v6 ? "[" : "", sa, v6 ? "]" : "", fi->server_port,
		sl_time_str(fi->first_ts, t0, sizeof(t0)), d, s->protocol ? s->protocol : "Unknown",
		s->protocol_guessed ? " (guessed by port)" : "");
	if (s->n_risks) {
		fprintf(f, "  risks     ");
		for (uint32_t i = 0; i < SL_MIN(s->n_risks, SESSION_MAX_RISKS); i++)
			fprintf(f, "%s%s", i ? ", " : "", s->risks[i]);
		fputc('\n', f);
	}
	/* Files are named when the input was files (live capture has none). */
	const char *f0 = r->n_files ? report_file(r, fi->first_frame, NULL) : NULL;
	const char *f1 = r->n_files ? report_file(r, fi->last_frame, NULL) : NULL;
	if (f0 && f1 && f0 != f1)
		fprintf(f, "  files     %s (frame %" PRIu64 ") to %s (frame %" PRIu64 ")\n", f0, frame_no(fi->first_frame),
			f1, frame_no(fi->last_frame));
	else if (f0 && fi->first_frame == fi->last_frame)
		fprintf(f, "  file      %s (frame %" PRIu64 ")\n", f0, frame_no(fi->first_frame));
	else if (f0)
		fprintf(f, "  file      %s (frames %" PRIu64 "-%" PRIu64 ")\n", f0, frame_no(fi->first_frame),
			frame_no(fi->last_frame));
	if (s->community_id[0])
		fprintf(f, "  flow      community_id %s\n", s->community_id);
	fprintf(f, "  verdict   %s%s%s (%s) closed by %s", col(r, cause_colour(v->cause)), cause_name(v->cause),
		col(r, C_RESET), confidence_name(v->confidence), closed_by_name(v->closed_by));
	if (v->close != CLOSE_NONE)
		fprintf(f, " with %s", v->close == CLOSE_FIN ? "FIN" : "RST");
	fprintf(f, " in phase %s\n", verdict_phase_name(v->phase));
	if (v->has_reply) {
		if (v->reply_code)
			fprintf(f, "  reply     %u%s%s %s\n", v->reply_code, v->reply_enhanced[0] ? " " : "",
				v->reply_enhanced, v->reply_text);
		else
			fprintf(f, "  reply     (no code) %s %s\n", v->reply_enhanced, v->reply_text);
	}
	if (s->tls_dec) {
		const struct session_tls *t = s->tls_dec;
		if (t->decrypted) {
			fprintf(f, "  tls       decrypted with the key log (%s; client %s, server %s; keys", t->cipher ? t->cipher : "suite unknown",
				t->status[DIR_C2S], t->status[DIR_S2C]);
			for (uint32_t i = 0; i < SL_MIN(t->n_keys, SESSION_TLS_KEYS_MAX); i++)
				fprintf(f, "%s %s", i ? "," : "", t->keys[i]);
			fputs(")\n", f);
		} else {
			fprintf(f, "  tls       not decrypted (client %s, server %s)%s%s\n", t->status[DIR_C2S], t->status[DIR_S2C],
				t->wanted[0] ? "; the key log line that would decrypt it: " : "", t->wanted);
		}
	}
	wrapped(f, "why", v->explanation);
	if (v->n_ev)
		fprintf(f, "  evidence\n");
	for (uint32_t i = 0; i < SL_MIN(v->n_ev, VERDICT_MAX_EVIDENCE); i++) {
		const struct evidence *e = &v->ev[i];
		if (e->ts)
			report_rel_time(e->ts, fi->first_ts, rel, sizeof(rel));
		else
			snprintf(rel, sizeof(rel), "-");
		char fr[300];
		fprintf(f, "    %s%-8s%s %10s  %s\n", col(r, C_DIM), report_frame_str(r, e->frame, fr, sizeof(fr)),
			col(r, C_RESET), rel, e->text);
	}
	wrapped(f, "advice", v->advice);
	if (v->client_view[0])
		wrapped(f, "client", v->client_view);
	if (s->extra && s->extra->text)
		s->extra->text(f, s->extra->ctx);
	fputc('\n', f);
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
