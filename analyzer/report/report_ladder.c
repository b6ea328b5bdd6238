/*
 * report_ladder.c - a session as a ladder diagram: the client's lane on the
 * left, the server's on the right, one arrow per timeline event in the
 * direction its bytes or packet travelled, with frame number and time since
 * the session began. The decisive event and the close are marked; a silence
 * longer than LADDER_SILENCE_NS gets a line of its own with its length.
 *
 * The text form here is --transcript --ladder; report_html.c draws the same
 * ladder in SVG from the same timeline and the same marks
 * (report_ladder_marks), so the terminal and the page agree on what was
 * decisive.
 */
#include <inttypes.h>
#include <string.h>

#include "report_int.h"

/* Silences at least this long get their own line (the page draws them to scale). */
#define LADDER_SILENCE_NS (1 * NS_PER_SEC)
/* Width of the arrow between the lanes, in columns. */
#define LADDER_ARROW_COLS 50

static bool is_reply(const struct event *e)
{
	return e->kind == EV_GREETING || e->kind == EV_REPLY || e->kind == EV_REPLY_UNPAIRED;
}

/* Index of the newest event of a kind (dir < 0: either direction), or -1. */
static int last_of(const struct timeline *tl, enum ev_kind k, int dir)
{
	for (uint32_t i = tl_count(tl); i-- > 0;) {
		const struct event *e = tl_at(tl, i);
		if (e->kind == k && (dir < 0 || e->dir == dir))
			return (int)i;
	}
	return -1;
}

static int find_close(const struct timeline *tl, const struct verdict *v)
{
	int dir = v->closed_by == BY_CLIENT ? DIR_C2S : v->closed_by == BY_SERVER ? DIR_S2C : -1;
	uint32_t n = tl_count(tl);
	/* The first FIN/RST of the closing side with the kind the verdict names,
	 * then any FIN/RST of that side, then any at all. */
	for (int pass = 0; pass < 3; pass++) {
		for (uint32_t i = 0; i < n; i++) {
			const struct event *e = tl_at(tl, i);
			bool fin = e->kind == EV_FIN, rst = e->kind == EV_RST || e->kind == EV_SYN_RST;
			if (!fin && !rst)
				continue;
			if (pass < 2 && dir >= 0 && e->dir != dir)
				continue;
			if (pass == 0 && ((v->close == CLOSE_FIN && !fin) || (v->close == CLOSE_RST && !rst)))
				continue;
			return (int)i;
		}
	}
	return -1;
}

void report_ladder_marks(const struct session_view *s, const struct verdict *v, struct ladder_marks *m)
{
	const struct timeline *tl = s->tl;
	m->decisive = m->close = -1;
	if (!tl || !tl_count(tl))
		return;
	if (v->close != CLOSE_NONE || v->closed_by != BY_NOBODY)
		m->close = find_close(tl, v);
	if (v->has_reply) {
		/* The newest reply that is the verdict's reply: same code, enhanced
		 * code and first line; failing that, the same code. */
		int same_code = -1;
		for (uint32_t i = tl_count(tl); i-- > 0;) {
			const struct event *e = tl_at(tl, i);
			if (!is_reply(e) || e->code != v->reply_code)
				continue;
			if (same_code < 0)
				same_code = (int)i;
			size_t n = SL_MIN(strlen(e->text), strlen(v->reply_text));
			if (!strcmp(e->enhanced, v->reply_enhanced) && !strncmp(e->text, v->reply_text, n)) {
				m->decisive = (int)i;
				return;
			}
		}
		if (same_code >= 0) {
			m->decisive = same_code;
			return;
		}
	}
	switch (v->cause) {
	case CAUSE_CONNECTION_REFUSED: m->decisive = last_of(tl, EV_SYN_RST, -1); break;
	case CAUSE_UNANSWERED: m->decisive = last_of(tl, EV_SYN, -1); break;
	case CAUSE_TLS_FAILED: m->decisive = last_of(tl, EV_TLS_ALERT, -1); break;
	case CAUSE_NETWORK_FAILURE: m->decisive = last_of(tl, EV_RETRANSMISSION, -1); break;
	default: break;
	}
	if (m->decisive < 0)
		m->decisive = m->close >= 0 ? m->close : (int)tl_count(tl) - 1;
}

/* The label an arrow carries: what was said, or what happened. */
static void label(const struct event *e, char *out, size_t len)
{
	char line[EV_TEXT_MAX + 16];
	switch ((enum ev_kind)e->kind) {
	case EV_COMMAND:
		report_mask_command(e->text, out, len);
		return;
	case EV_AUTH:
		report_mask_command(e->text, line, sizeof(line));
		snprintf(out, len, "auth %s", line);
		return;
	case EV_GREETING:
	case EV_REPLY:
	case EV_REPLY_UNPAIRED:
		if (e->code)
			snprintf(out, len, "%u%s%s %s", e->code, e->enhanced[0] ? " " : "", e->enhanced, e->text);
		else
			snprintf(out, len, "%s", e->text);
		return;
	case EV_DATA_START:
		snprintf(out, len, "[body starts]");
		return;
	case EV_DATA_END:
		snprintf(out, len, "[body %" PRIu64 " bytes] .", e->num);
		return;
	case EV_BDAT:
		snprintf(out, len, "[BDAT %" PRIu64 " bytes%s]", e->num, e->code == 1 ? " LAST" : "");
		return;
	case EV_SYN: snprintf(out, len, "SYN"); return;
	case EV_SYNACK: snprintf(out, len, "SYN-ACK"); return;
	case EV_FIN: snprintf(out, len, "FIN"); return;
	case EV_RST: snprintf(out, len, "RST"); return;
	case EV_SYN_RST: snprintf(out, len, "RST (to SYN)"); return;
	case EV_GAP:
	case EV_RETRANSMISSION:
	case EV_TLS_APPDATA:
		snprintf(out, len, "%s %" PRIu64 " bytes%s%s", ev_kind_name((enum ev_kind)e->kind), e->num,
			 e->text[0] ? " " : "", e->text);
		return;
	default:
		snprintf(out, len, "%s%s%s", ev_kind_name((enum ev_kind)e->kind), e->text[0] ? " " : "", e->text);
		return;
	}
}

/* Writes "|--- label ---->|" or "|<--- label ---|" in LADDER_ARROW_COLS columns. */
static void arrow(FILE *f, const char *text, bool to_server)
{
	const int inner = LADDER_ARROW_COLS - 2;   /* between the two lane bars */
	const int room = inner - 6;                /* label and its spaces, within the shaft */
	int n = (int)strlen(text);
	bool cut = n > room - 2;
	if (cut) {
		n = room - 3;
		while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
			n--;    /* not inside a UTF-8 sequence */
	}
	int shaft = inner - (n + (cut ? 3 : 0) + 2) - 1;
	if (shaft < 3)
		shaft = 3;   /* dashes around the label, head included */
	int before = to_server ? 2 : shaft - 2, after = shaft - before;
	fputc('|', f);
	if (!to_server)
		fputc('<', f);
	for (int i = 0; i < before; i++)
		fputc('-', f);
	fprintf(f, " %.*s%s ", n, text, cut ? "..." : "");
	for (int i = 0; i < after; i++)
		fputc('-', f);
	if (to_server)
		fputc('>', f);
	fputc('|', f);
}

void report_ladder_session(struct reporter *r, const struct session_view *s, const struct verdict *v)
{
	FILE *f = r->o.out;
	const struct flow_info *fi = s->fi;
	const struct timeline *tl = s->tl;
	char ca[SL_ADDRSTRLEN + 8], sa[SL_ADDRSTRLEN + 8], a[SL_ADDRSTRLEN], rel[32], text[EV_TEXT_MAX + 48];
	snprintf(ca, sizeof(ca), "%s:%u", sl_addr_str(&fi->client, a, sizeof(a)), fi->client_port);
	snprintf(sa, sizeof(sa), "%s:%u", sl_addr_str(&fi->server, a, sizeof(a)), fi->server_port);
	fprintf(f, "=== session %" PRIu64 "  %s -> %s  %s  verdict %s\n", s->id, ca, sa,
		s->protocol ? s->protocol : "Unknown", cause_name(v->cause));
	fprintf(f, "%-9s %-10s %-*s%*s\n", "frame", "time", LADDER_ARROW_COLS / 2, "client", LADDER_ARROW_COLS / 2, "server");
	fprintf(f, "%-9s %-10s %-*s%*s\n", "", "", LADDER_ARROW_COLS / 2, ca, LADDER_ARROW_COLS / 2, sa);
	if (!tl)
		return;
	struct ladder_marks m;
	report_ladder_marks(s, v, &m);
	sl_time prev = fi->first_ts;
	for (uint32_t i = 0; i < tl_count(tl); i++) {
		const struct event *e = tl_at(tl, i);
		if (i == TL_HEAD_KEEP && tl->dropped)
			fprintf(f, "%-20s |%*s... %" PRIu64 " events omitted ...\n", "", 4, "", tl->dropped);
		if (i > 0 && e->ts - prev >= LADDER_SILENCE_NS) {
			sl_time d = e->ts - prev;
			fprintf(f, "%-20s :  ~~ silence %" PRId64 ".%03" PRId64 " s ~~\n", "", (int64_t)(d / NS_PER_SEC),
				(int64_t)((d % NS_PER_SEC) / NS_PER_MS));
		}
		prev = e->ts;
		char fr[24];
		snprintf(fr, sizeof(fr), "#%" PRIu64, e->frame);
		report_rel_time(e->ts, fi->first_ts, rel, sizeof(rel));
		label(e, text, sizeof(text));
		fprintf(f, "%-9s %-10s ", fr, rel);
		arrow(f, text, e->dir == DIR_C2S);
		if ((int)i == m.decisive)
			fputs("  << decisive", f);
		if ((int)i == m.close)
			fputs((int)i == m.decisive ? ", close" : "  << close", f);
		fputc('\n', f);
	}
	if (tl->oom)
		fprintf(f, "%-20s ... later events not kept (out of memory) ...\n", "");
}
