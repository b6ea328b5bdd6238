/*
 * report.c - the reporter object: filters, dispatch to the JSON and
 * transcript writers, and the default text report (a block per session,
 * then the summary table of causes and the accounting lines).
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

static const char *const flow_end_names[END__COUNT] = {
#define X(e, s) [e] = s,
	FLOW_ENDS(X)
#undef X
};

static const char *const decode_names[DEC__COUNT] = {
#define X(e, s) [e] = s,
	DECODE_RESULTS(X)
#undef X
};

const char *report_flow_end_name(enum flow_end e)
{
	return (unsigned)e < END__COUNT ? flow_end_names[e] : "?";
}

const char *report_decode_name(enum decode_result r)
{
	return (unsigned)r < DEC__COUNT ? decode_names[r] : "?";
}

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
	return r;
}

void reporter_free(struct reporter *r)
{
	free(r);
}

bool reporter_wants(const struct reporter *r, const struct session_view *s, const struct verdict *v)
{
	if (r->o.cause_mask && !(r->o.cause_mask & (1u << v->cause)))
		return false;
	if (r->o.failures_only && v->cause == CAUSE_COMPLETED)
		return false;
	if (r->o.has_addr_filter && !sl_addr_eq(&s->fi->client, &r->o.addr_filter) &&
	    !sl_addr_eq(&s->fi->server, &r->o.addr_filter))
		return false;
	if (r->o.port_filter && s->fi->client_port != r->o.port_filter && s->fi->server_port != r->o.port_filter)
		return false;
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
	fprintf(f, "%s#%" PRIu64 "%s  %s%s%s:%u -> %s%s%s:%u  %s  %s  %s\n", col(r, C_BOLD), s->id, col(r, C_RESET),
		v6 ? "[" : "", ca, v6 ? "]" : "", fi->client_port, v6 ? "[" : "", sa, v6 ? "]" : "", fi->server_port,
		sl_time_str(fi->first_ts, t0, sizeof(t0)), d, s->protocol ? s->protocol : "Unknown");
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
	wrapped(f, "why", v->explanation);
	if (v->n_ev)
		fprintf(f, "  evidence\n");
	for (uint32_t i = 0; i < SL_MIN(v->n_ev, VERDICT_MAX_EVIDENCE); i++) {
		const struct evidence *e = &v->ev[i];
		if (e->ts)
			report_rel_time(e->ts, fi->first_ts, rel, sizeof(rel));
		else
			snprintf(rel, sizeof(rel), "-");
		fprintf(f, "    %s#%-7" PRIu64 "%s %10s  %s\n", col(r, C_DIM), e->frame, col(r, C_RESET), rel, e->text);
	}
	wrapped(f, "advice", v->advice);
	fputc('\n', f);
}

void reporter_session(struct reporter *r, const struct session_view *s, const struct verdict *v)
{
	if ((unsigned)v->cause < CAUSE__COUNT)
		r->causes[v->cause]++;
	r->sessions++;
	if (r->o.quiet)
		return;
	if (r->o.json) {
		if (r->o.json_format == JSON_ECS)
			report_ecs_session(r, s, v);
		else
			report_json_session(r, s, v);
		return;
	}
	if (r->o.transcript)
		report_transcript_session(r, s, v);
	text_session(r, s, v);
}

void reporter_summary(struct reporter *r, const struct summary *sum)
{
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
	fprintf(f, "  flows: %" PRIu64 " = %" PRIu64 " SMTP sessions + %" PRIu64 " other flows + %" PRIu64
		   " dropped (%" PRIu64 " by the flow-table cap, %" PRIu64 " by the memory cap)\n",
		sum->flows, sum->smtp_sessions, sum->other_flows, sum->flows_evicted + sum->flows_untracked,
		sum->flows_evicted, sum->flows_untracked);
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
			fprintf(f, "%s%s %" PRIu64, first ? "" : ", ", report_decode_name((enum decode_result)i), sum->decode[i]);
			first = false;
		}
		fprintf(f, ")\n");
	}
	if (sum->ooo_cap_hits)
		fprintf(f, "  reassembly cap hits: %" PRIu64 "\n", sum->ooo_cap_hits);
	if (sum->kernel_stats)
		fprintf(f, "  kernel drops: %" PRIu64 "\n", sum->kernel_drops);
	if (sum->error[0])
		fprintf(f, "  %serror:%s %.256s\n", col(r, C_RED), col(r, C_RESET), sum->error);
	fflush(f);
}
