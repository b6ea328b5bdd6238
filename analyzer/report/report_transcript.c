/*
 * report_transcript.c - --transcript: a session's dialog in time order,
 * relative times, C:/S: marks for the two sides, TCP and TLS events in
 * between, bodies abbreviated to their size.
 *
 * Secrets: the timeline never holds AUTH credentials (the dissector masks
 * them); this writer masks an AUTH initial response again anyway, so a
 * producer's slip cannot print a password.
 */
#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "jsonw.h"
#include "report_int.h"

void report_mask_command(const char *in, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s", in);
	if (strncasecmp(in, "AUTH ", 5) != 0)
		return;
	/* AUTH <mechanism> [initial-response]: keep the verb and mechanism. */
	const char *mech = in + 5;
	while (*mech == ' ')
		mech++;
	size_t ml = strcspn(mech, " ");
	const char *rest = mech + ml;
	while (*rest == ' ')
		rest++;
	if (*rest && strcmp(rest, "********") != 0)
		snprintf(out, outlen, "AUTH %.*s ********", (int)ml, mech);
}

/* One transcript line: who spoke ('C', 'S', or '-' for a note between
 * them) and what, in text. Returns false for an event not shown. */
struct tline {
	char who;
	char text[EV_TEXT_MAX + 48];
};

static bool transcript_line(const struct event *e, sl_time *data_start, struct tline *out)
{
	char line[EV_TEXT_MAX + 16];
	out->who = e->dir == DIR_C2S ? 'C' : 'S';
	switch ((enum ev_kind)e->kind) {
	case EV_COMMAND:
		report_mask_command(e->text, out->text, sizeof(out->text));
		break;
	case EV_GREETING:
	case EV_REPLY:
		if (e->code)
			snprintf(out->text, sizeof(out->text), "%u%s%s %s%s", e->code, e->enhanced[0] ? " " : "",
				 e->enhanced, e->text, e->num > 1 ? " [multi-line]" : "");
		else
			snprintf(out->text, sizeof(out->text), "%s [no reply code]", e->text);
		break;
	case EV_REPLY_UNPAIRED:
		snprintf(out->text, sizeof(out->text), "%u%s%s %s [unpaired reply]", e->code, e->enhanced[0] ? " " : "",
			 e->enhanced, e->text);
		break;
	case EV_DATA_START:
		*data_start = e->ts;
		snprintf(out->text, sizeof(out->text), "[body starts]");
		break;
	case EV_DATA_END:
		snprintf(out->text, sizeof(out->text), "[body: %" PRIu64 " bytes%s] .", e->num,
			 *data_start ? "" : ", start not seen");
		*data_start = 0;
		break;
	case EV_BDAT:
		snprintf(out->text, sizeof(out->text), "[BDAT chunk: %" PRIu64 " bytes%s]", e->num,
			 e->code == 1 ? ", LAST" : "");
		break;
	case EV_AUTH:
		report_mask_command(e->text, line, sizeof(line));
		snprintf(out->text, sizeof(out->text), "[auth %s]", line);
		break;
	case EV_AUTH_RESULT:
		out->who = '-';
		snprintf(out->text, sizeof(out->text), "auth %s (%u)", e->text, e->code);
		break;
	case EV_NOCODE_LINE:
		/* printed as the note the dissector used to write for it */
		snprintf(out->text, sizeof(out->text), "[note " NOCODE_NOTE_PREFIX "%s]", e->text);
		break;
	default:
	{
		/* "[fin]", not "[fin fin]": a text that only repeats the kind is left out. */
		const char *kind = ev_kind_name((enum ev_kind)e->kind);
		bool same = !e->text[0] || !strcasecmp(e->text, kind);
		snprintf(out->text, sizeof(out->text), "[%s%s%s]", kind, same ? "" : " ", same ? "" : e->text);
	}
		if (e->kind == EV_GAP || e->kind == EV_RETRANSMISSION || e->kind == EV_TLS_APPDATA) {
			size_t l = strlen(out->text);
			snprintf(out->text + l, sizeof(out->text) - l, " %" PRIu64 " bytes", e->num);
		}
		break;
	}
	return true;
}

/* Is event i the server's 250 to the last EHLO/LHLO (where the capability
 * lines, kept in the facts, are shown)? */
static uint32_t last_ehlo_reply(const struct timeline *tl)
{
	uint32_t found = UINT32_MAX;
	bool ehlo_pending = false;
	for (uint32_t i = 0; i < tl_count(tl); i++) {
		const struct event *e = tl_at(tl, i);
		if (e->kind == EV_COMMAND)
			ehlo_pending = !strncasecmp(e->text, "EHLO", 4) || !strncasecmp(e->text, "LHLO", 4);
		else if (e->kind == EV_REPLY && ehlo_pending) {
			if (e->code == 250)
				found = i;
			ehlo_pending = false;
		}
	}
	return found;
}

/* Calls fn for every line of the session's transcript, in order: the
 * events, and the EHLO capabilities after the reply that listed them. */
typedef void (*tline_fn)(void *ctx, uint32_t i, const struct event *e, const struct tline *l);

static void transcript_walk(const struct session_view *s, tline_fn fn, void *ctx)
{
	const struct timeline *tl = s->tl;
	sl_time data_start = 0;
	uint32_t ehlo = last_ehlo_reply(tl);
	for (uint32_t i = 0; i < tl_count(tl); i++) {
		const struct event *e = tl_at(tl, i);
		struct tline l;
		if (transcript_line(e, &data_start, &l))
			fn(ctx, i, e, &l);
		if (i != ehlo || !s->smtp)
			continue;
		const char *p = s->smtp->extensions;
		while (*p) {
			size_t n = strcspn(p, "\n");
			l.who = 'S';
			snprintf(l.text, sizeof(l.text), "  %.*s", (int)SL_MIN(n, sizeof(l.text) - 3), p);
			fn(ctx, i, e, &l);
			p += n;
			if (*p == '\n')
				p++;
		}
	}
}

struct text_ctx {
	struct reporter *r;
	const struct session_view *s;
	bool omitted_shown;
};

static void text_line(void *ctx, uint32_t i, const struct event *e, const struct tline *l)
{
	struct text_ctx *t = ctx;
	FILE *f = t->r->o.out;
	char rel[32], fr[300];
	if (i >= TL_HEAD_KEEP && t->s->tl->dropped && !t->omitted_shown) {
		t->omitted_shown = true;
		fprintf(f, "          ... %" PRIu64 " events omitted ...\n", t->s->tl->dropped);
	}
	report_rel_time(e->ts, t->s->fi->first_ts, rel, sizeof(rel));
	report_frame_str(t->r, e->frame, fr, sizeof(fr));
	if (l->who == '-')
		fprintf(f, "%10s %-9s -- %s\n", rel, fr, l->text);
	else
		fprintf(f, "%10s %-9s %c: %s\n", rel, fr, l->who, l->text);
}

void report_transcript_session(struct reporter *r, const struct session_view *s, const struct verdict *v)
{
	FILE *f = r->o.out;
	const struct flow_info *fi = s->fi;
	char ca[SL_ADDRSTRLEN], sa[SL_ADDRSTRLEN];
	fprintf(f, "=== session %" PRIu64 "  %s:%u -> %s:%u  %s  verdict %s\n", s->id,
		sl_addr_str(&fi->client, ca, sizeof(ca)), fi->client_port,
		sl_addr_str(&fi->server, sa, sizeof(sa)), fi->server_port,
		s->protocol ? s->protocol : "Unknown", cause_name(v->cause));
	if (!s->tl)
		return;
	struct text_ctx t = { r, s, false };
	transcript_walk(s, text_line, &t);
	if (s->tl->oom)
		fprintf(f, "          ... later events not kept (out of memory) ...\n");
}

struct json_ctx {
	struct reporter *r;
	struct jw *w;
	const struct session_view *s;
	bool first;
};

static void json_line(void *ctx, uint32_t i, const struct event *e, const struct tline *l)
{
	struct json_ctx *j = ctx;
	(void)i;
	struct jw *w = j->w;
	const char *file = report_file(j->r, e->frame, j->s->fi->file);
	jw_lit(w, j->first ? "{\"frame\":" : ",{\"frame\":");
	j->first = false;
	jw_u64(w, frame_no(e->frame));
	jw_lit(w, ",\"file\":");
	jw_string(w, file ? file : "", file ? strlen(file) : 0, false);
	jw_lit(w, ",\"time\":");
	jw_time(w, e->ts);      /* sl_time_str(), quoted (plain ASCII: nothing to escape) */
	jw_lit(w, l->who == 'C' ? ",\"side\":\"client\",\"line\":"
		  : l->who == 'S' ? ",\"side\":\"server\",\"line\":" : ",\"side\":\"note\",\"line\":");
	jw_string(w, l->text, strlen(l->text), false);
	jw_putc(w, '}');
}

void report_transcript_json(struct reporter *r, struct jw *w, const struct session_view *s)
{
	jw_lit(w, ",\"transcript\":[");
	if (s->tl) {
		struct json_ctx j = { r, w, s, true };
		transcript_walk(s, json_line, &j);
	}
	jw_lit(w, "],\"transcript_omitted\":");
	jw_u64(w, s->tl ? s->tl->dropped : 0);
}
