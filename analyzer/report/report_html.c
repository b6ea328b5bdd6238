/*
 * report_html.c - --html OUT.html: the report as one self-contained page
 * (style sheet and script inline, no network access: the page's Content
 * Security Policy forbids any fetch and any script but its own).
 *
 * The page is streamed, so memory stays bounded whatever the number of
 * sessions and the file grows with the sessions, never with the bytes:
 *   report_html_begin    the head, the style sheet, the meta data block and
 *                        the opening of the sessions data block;
 *   report_html_session  one line per session in that block, as it ends;
 *   report_html_end      the summary block, the script and the tail.
 *
 * Data blocks are <script type="application/json"> elements the browser never
 * runs. Every string goes through json_write_string_html(), which escapes '<',
 * '>', '&', U+2028 and U+2029 as well as what JSON needs, so no capture text
 * can end the element; the script inserts every string with textContent,
 * never as markup.
 *
 * One session line is "[ROW]\t{DETAIL}": ROW holds the table's columns, parsed
 * for every session when the page opens; DETAIL (timeline, evidence,
 * explanation) is parsed only when that session's ladder is shown. A raw tab
 * cannot occur inside either part (JSON escapes it), so the split is safe.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "report_int.h"

#ifndef SLEUTH_VERSION
#define SLEUTH_VERSION "dev"
#endif

/* Bytes of randomness in the script's CSP nonce (reporter.html_nonce holds them as hex). */
#define HTML_NONCE_BYTES 16
_Static_assert(sizeof(((struct reporter *)0)->html_nonce) == 2 * HTML_NONCE_BYTES + 1, "nonce buffer");

static void hstr(FILE *f, const char *s)
{
	json_write_string_html(f, s ? s : "", s ? strlen(s) : 0);
}

static void hstrn(FILE *f, const char *s, size_t cap)
{
	json_write_string_html(f, s, strnlen(s, cap));
}

/* The nonce of the page's one script, as hex: a script the data smuggled in
 * (it cannot: the data are escaped) still would not run without it. */
static void make_nonce(char *out, size_t outlen)
{
	unsigned char b[HTML_NONCE_BYTES];
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		/* No entropy: the nonce is a second line of defence only. */
		uint64_t x = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull;
		for (size_t i = 0; i < sizeof(b); i++, x = x * 6364136223846793005ull + 1442695040888963407ull)
			b[i] = (unsigned char)(x >> 56);
	}
	for (size_t i = 0; i < sizeof(b) && 2 * i + 3 <= outlen; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

void report_html_begin(struct reporter *r)
{
	FILE *f = r->o.html;
	if (r->o.html_nonce && r->o.html_nonce[0]) {
		snprintf(r->html_nonce, sizeof(r->html_nonce), "%s", r->o.html_nonce);
	} else {
		make_nonce(r->html_nonce, sizeof(r->html_nonce));
		if (r->o.html_nonce)
			snprintf(r->o.html_nonce, REPORT_HTML_NONCE_LEN, "%s", r->html_nonce);
	}
	if (r->o.html_resume)
		return;         /* an earlier reporter wrote the head (analyze --pair) */
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		   "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		   "style-src 'unsafe-inline'; img-src data:; script-src 'nonce-%s'\">\n"
		   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		   "<meta name=\"generator\" content=\"smtpsleuth %s\">\n"
		   "<title>smtpsleuth report</title>\n<style>\n%s%s</style>\n</head>\n<body>\n"
		   "<noscript><p>This report is drawn by its script; allow JavaScript for this file.</p></noscript>\n"
		   "<div id=\"app\"><p class=\"loading\">Loading the report&hellip;</p></div>\n",
		r->html_nonce, SLEUTH_VERSION, report_html_css, report_html_path_css);
	fputs("<script type=\"application/json\" id=\"sl-meta\">{\"generator\":\"smtpsleuth " SLEUTH_VERSION "\",\"inputs\":[", f);
	for (int i = 0; i < r->o.n_inputs; i++) {
		if (i)
			fputc(',', f);
		hstr(f, r->o.inputs[i]);
	}
	fputs("],\"causes\":[", f);
	for (int i = 0; i < CAUSE__COUNT; i++)
		fprintf(f, "%s\"%s\"", i ? "," : "", cause_name((enum cause)i));
	fputs("],\"confidences\":[", f);
	for (int i = CONF_HIGH; i <= CONF_LOW; i++)
		fprintf(f, "%s\"%s\"", i ? "," : "", confidence_name((enum confidence)i));
	fputs("],\"kinds\":[", f);
	for (int i = 0; i < EV__COUNT; i++)
		fprintf(f, "%s\"%s\"", i ? "," : "", ev_kind_name((enum ev_kind)i));
	fprintf(f, "],\"head_keep\":%d}</script>\n<script type=\"application/json\" id=\"sl-sessions\">\n", TL_HEAD_KEEP);
}

static void rel_secs(FILE *f, sl_time t, sl_time t0)
{
	if (!t) {
		fputs("null", f);
		return;
	}
	fprintf(f, "%.6f", (double)(t - t0) / NS_PER_SEC);
}

static void pair(FILE *f, const char *k, uint64_t c, uint64_t s)
{
	fprintf(f, ",\"%s\":[%" PRIu64 ",%" PRIu64 "]", k, c, s);
}

static void detail_smtp(FILE *f, const struct smtp_facts *sm)
{
	fputs("\"smtp\":{\"banner\":", f);
	hstrn(f, sm->greeting.text, sizeof(sm->greeting.text));
	fputs(",\"helo_verb\":", f);
	hstrn(f, sm->helo_verb, sizeof(sm->helo_verb));
	fputs(",\"helo\":", f);
	hstrn(f, sm->helo_arg, sizeof(sm->helo_arg));
	fputs(",\"auth\":", f);
	if (sm->auth_attempts || sm->auth_mech[0]) {
		fputc('[', f);
		hstrn(f, sm->auth_mech, sizeof(sm->auth_mech));
		fputc(',', f);
		hstrn(f, sm->auth_user, sizeof(sm->auth_user));
		fprintf(f, ",\"%s\"]", report_auth_result_name(sm->auth_result));
	} else {
		fputs("null", f);
	}
	fprintf(f, ",\"msgs_total\":%" PRIu32 ",\"msgs\":[", sm->n_msgs);
	for (uint32_t i = 0; i < smtp_msgs_kept(sm); i++) {
		const struct smtp_message *m = &sm->msgs[i];
		fputs(i ? ",[" : "[", f);
		hstrn(f, m->mail_from, sizeof(m->mail_from));
		fputs(",[", f);
		for (uint32_t j = 0; j < SL_MIN(m->rcpts, SMTP_MAX_RCPTS); j++) {
			if (j)
				fputc(',', f);
			hstrn(f, m->rcpt_to[j], sizeof(m->rcpt_to[j]));
		}
		fputs("],", f);
		hstrn(f, m->subject, sizeof(m->subject));
		fprintf(f, ",%" PRIu64 ",%u]", m->wire_bytes, m->final_reply.code);
	}
	fputs("]}", f);
}

static void detail_timeline(FILE *f, const struct session_view *s)
{
	const struct timeline *tl = s->tl;
	char masked[EV_TEXT_MAX + 16];
	fputs(",\"tl\":[", f);
	for (uint32_t i = 0; tl && i < tl_count(tl); i++) {
		const struct event *e = tl_at(tl, i);
		fprintf(f, "%s[%u,%u,", i ? "," : "", e->kind, e->dir);
		rel_secs(f, e->ts ? e->ts : s->fi->first_ts, s->fi->first_ts);
		fprintf(f, ",%" PRIu64 ",%u,", e->frame, e->code);
		hstrn(f, e->enhanced, sizeof(e->enhanced));
		fputc(',', f);
		if (e->kind == EV_COMMAND || e->kind == EV_AUTH) {
			report_mask_command(e->text, masked, sizeof(masked));
			hstr(f, masked);
		} else {
			hstrn(f, e->text, sizeof(e->text));
		}
		fprintf(f, ",%" PRIu64 "]", e->num);
	}
	fprintf(f, "],\"dropped\":%" PRIu64 ",\"oom\":%s", tl ? tl->dropped : 0, tl && tl->oom ? "true" : "false");
}

/* Copies a JSON text made by another module (one value: it ends no element
 * and holds no raw newline or tab, JSON's strings escape both) into the data
 * block: '<', '>', '&', U+2028 and U+2029 can only stand inside its strings,
 * where \u escapes mean the same; a newline or tab outside a string is
 * blank space, written as a space, so the session line stays one line. */
static void json_copy_html(FILE *f, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)b[i];
		if (c == '<' || c == '>' || c == '&')
			fprintf(f, "\\u%04x", c);
		else if (c == 0xe2 && n - i >= 3 && (unsigned char)b[i + 1] == 0x80 &&
			 ((unsigned char)b[i + 2] == 0xa8 || (unsigned char)b[i + 2] == 0xa9))
			fprintf(f, "\\u20%02x", (unsigned char)b[i += 2] - 0xa8 + 0x28);
		else
			fputc(c == '\n' || c == '\t' || c == '\r' ? ' ' : c, f);
	}
}

/* A module's facts (the `path` of analyze --pair), under their key, as
 * --json writes them. */
static void detail_extra(FILE *f, const struct report_extra *x)
{
	if (!x || !x->json || !x->key)
		return;
	char *buf = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&buf, &n);
	if (!m)
		return;         /* out of memory: the page shows the session without it */
	x->json(m, x->ctx);
	if (fclose(m) == 0 && buf && n) {
		fputc(',', f);
		hstr(f, x->key);
		fputc(':', f);
		json_copy_html(f, buf, n);
	}
	free(buf);
}

void report_html_session(struct reporter *r, const struct session_view *s, const struct verdict *v)
{
	FILE *f = r->o.html;
	const struct flow_info *fi = s->fi;
	char a[SL_ADDRSTRLEN];
	if (r->html_ended)
		return;
	/* ROW: id, start, duration, client, port, server, port, cause, confidence,
	 * phase, reply code, enhanced, reply text, bytes c2s, bytes s2c, protocol,
	 * side ("server" for a session of analyze --pair seen at the server only:
	 * its id is that capture's own, so the page keys rows by side and id) */
	fprintf(f, "[%" PRIu64 ",%.6f,%.6f,", s->id, (double)fi->first_ts / NS_PER_SEC,
		(double)(fi->last_ts - fi->first_ts) / NS_PER_SEC);
	hstr(f, sl_addr_str(&fi->client, a, sizeof(a)));
	fprintf(f, ",%u,", fi->client_port);
	hstr(f, sl_addr_str(&fi->server, a, sizeof(a)));
	fprintf(f, ",%u,%d,%d,\"%s\",", fi->server_port, (int)v->cause, (int)v->confidence, verdict_phase_name(v->phase));
	if (v->has_reply && v->reply_code)
		fprintf(f, "%u,", v->reply_code);
	else
		fputs("null,", f);
	hstrn(f, v->reply_enhanced, sizeof(v->reply_enhanced));
	fputc(',', f);
	if (v->has_reply)
		hstrn(f, v->reply_text, sizeof(v->reply_text));
	else
		fputs("\"\"", f);
	fprintf(f, ",%" PRIu64 ",%" PRIu64 ",", fi->dir[DIR_C2S].bytes, fi->dir[DIR_S2C].bytes);
	hstr(f, s->protocol ? s->protocol : "Unknown");
	fputc(',', f);
	hstr(f, s->extra ? s->extra->seen_only_at : NULL);

	/* DETAIL */
	struct ladder_marks m;
	report_ladder_marks(s, v, &m);
	/* The file: its index in the inputs list when it is one of them (it
	 * nearly always is), so the page does not repeat a path per session. */
	fputs("]\t{\"file\":", f);
	int in = -1;
	for (int i = 0; fi->file && i < r->o.n_inputs && in < 0; i++)
		if (!strcmp(fi->file, r->o.inputs[i]))
			in = i;
	if (in >= 0)
		fprintf(f, "%d", in);
	else
		hstr(f, fi->file);
	fprintf(f, ",\"closed_by\":\"%s\",\"close\":\"%s\",\"explanation\":", closed_by_name(v->closed_by),
		close_kind_name(v->close));
	hstrn(f, v->explanation, sizeof(v->explanation));
	fputs(",\"advice\":", f);
	hstrn(f, v->advice, sizeof(v->advice));
	fputs(",\"evidence\":[", f);
	for (uint32_t i = 0; i < SL_MIN(v->n_ev, VERDICT_MAX_EVIDENCE); i++) {
		fprintf(f, "%s[%" PRIu64 ",", i ? "," : "", v->ev[i].frame);
		rel_secs(f, v->ev[i].ts, fi->first_ts);
		fputc(',', f);
		hstrn(f, v->ev[i].text, sizeof(v->ev[i].text));
		fputc(']', f);
	}
	fprintf(f, "],\"decisive\":%d,\"close_at\":%d", m.decisive, m.close);
	detail_timeline(f, s);
	const struct tcp_dir_stats *c = &fi->dir[DIR_C2S], *sv = &fi->dir[DIR_S2C];
	fprintf(f, ",\"tcp\":{\"syns\":%u,\"handshake\":%s,\"midstream\":%s,\"end\":\"%s\"", c->syns,
		fi->handshake_done ? "true" : "false", s->capture_started_midstream ? "true" : "false",
		flow_end_name(s->end));
	pair(f, "packets", c->packets, sv->packets);
	pair(f, "retransmissions", c->retransmissions, sv->retransmissions);
	pair(f, "gaps", c->gaps, sv->gaps);
	fputs("},\"risks\":[", f);
	for (uint32_t i = 0; i < SL_MIN(s->n_risks, SESSION_MAX_RISKS); i++) {
		if (i)
			fputc(',', f);
		hstr(f, s->risks[i]);
	}
	fputs("],", f);
	detail_smtp(f, s->smtp);
	detail_extra(f, s->extra);
	fputs("}\n", f);
}

void report_html_end(struct reporter *r, const struct summary *sum)
{
	FILE *f = r->o.html;
	if (r->html_ended)
		return;
	r->html_ended = true;
	fputs("</script>\n<script type=\"application/json\" id=\"sl-summary\">", f);
	report_json_summary_to(r, f, sum, true);
	fprintf(f, "</script>\n<script nonce=\"%s\">\n%s%s%s</script>\n</body>\n</html>\n", r->html_nonce, report_html_js,
		report_html_path_js, report_html_js_end);
	fflush(f);
}
