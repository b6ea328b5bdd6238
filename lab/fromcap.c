/*
 * fromcap.c - from one captured session to a profile (see fromcap.h).
 *
 * The derivation walks the session's timeline once, in time order:
 * commands become client script lines (with the pause before each) and
 * server steps; replies fill the server steps in FIFO order (pipelining);
 * a body becomes a byte count; the first FIN or RST says how the session
 * ended, which becomes a close after a reply, an idle timeout (a silence
 * then a close, with or without 421), a cut mid-body, or the client's close.
 * A SIZE limit the server advertised becomes the policy's max_size, and the
 * refusals it explains are left to the policy ("policy": true), so a user
 * who raises max_size in the file sees the refusal go away.
 */
#include "fromcap.h"
#include "diagnose.h"
#include "report.h"
#include "sessions.h"
#include "source.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FC_MAX_STEPS   500     /* script lines and server steps each (PROF_MAX_STEPS is 512) */
#define FC_MAX_PENDING 64      /* commands awaiting a reply */
#define FC_LINE_MAX    512
/* A close sooner than this after a reply is "after that reply"; a later one is
 * an idle timeout. The analyzer draws the same line (DIAG_IDLE_MIN_NS: a
 * silence under 1 s is too short to be a timeout), so the profile plays what
 * the verdict read. */
#define FC_REPLY_GAP_S 1.0
#define FC_IDLE_REPLY_S 5.0    /* the analyzer's T4: client silence before an unasked 4xx */

enum cs_kind { CS_LINE, CS_BODY, CS_STARTTLS, CS_CLOSE };

struct cs_step {
	enum cs_kind kind;
	double pause;
	char line[FC_LINE_MAX];
	bool reply;             /* the captured server answered it */
	uint64_t bytes;         /* CS_BODY, or the BDAT chunk after a line */
	bool complete;          /* CS_BODY: the final dot was sent */
	bool rst;               /* CS_CLOSE */
};

struct sv_step {
	char verb[16];
	bool answered, policy;
	uint16_t code;
	char enh[12];
	char text[EV_TEXT_MAX];
	double delay, t_cmd;
	const char *close;      /* "fin", "rst" or NULL */
};

struct derive {
	struct cs_step cs[FC_MAX_STEPS];
	unsigned n_cs;
	struct sv_step sv[FC_MAX_STEPS];
	unsigned n_sv;
	bool has_greeting;
	struct sv_step greeting;
	const char *greeting_close;
	bool refused;
	bool max_size_set;
	uint64_t max_size;
	const char *size_action;
	double idle_timeout;
	const char *idle_action;
	bool has_idle_reply;    /* idle_action "reply": the captured server's words */
	struct sv_step idle_reply;
	uint64_t cut_after;
	const char *cut_how;
	bool client_waits;      /* the server closed first: the client reads until it does */
	bool plain_starttls;    /* STARTTLS 220, then plaintext (a capture decrypted before us) */
	double greeting_delay;  /* the client gave up before a greeting that never came,
	                           or talked before it (early_talker) */
	bool early_talker;
};

static double secs(sl_time t)
{
	return (double)t / 1e9;
}

/* ---- the dialog lines ---- */

static void dlg_add(struct dialog *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void dlg_add(struct dialog *d, const char *fmt, ...)
{
	if (d->n >= DLG_MAX_LINES) {
		d->truncated = true;
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->line[d->n++], DLG_LINE_MAX, fmt, ap);
	va_end(ap);
}

static void verb_of(const char *text, char *verb, size_t cap)
{
	size_t k = 0;
	while (text[k] && text[k] != ' ' && k + 1 < cap) {
		verb[k] = (char)toupper((unsigned char)text[k]);
		k++;
	}
	verb[k] = 0;
}

static void dialog_of(const struct session_view *s, struct dialog *d)
{
	const struct timeline *tl = s->tl;
	bool fin[2] = { false, false };
	for (uint32_t i = 0; i < tl_count(tl); i++) {
		const struct event *e = tl_at(tl, i);
		char verb[16];
		const char *side = e->dir == DIR_C2S ? "C" : "S";
		switch (e->kind) {
		case EV_GREETING:
		case EV_REPLY:
		case EV_REPLY_UNPAIRED:
			dlg_add(d, "S %u%s%s", e->code, e->enhanced[0] ? " " : "", e->enhanced);
			break;
		case EV_COMMAND:
			verb_of(e->text, verb, sizeof(verb));
			dlg_add(d, "C %s", verb);
			break;
		case EV_DATA_END:
			dlg_add(d, "C <body>");
			break;
		case EV_SYN_RST:
			dlg_add(d, "S rst-to-syn");
			break;
		case EV_FIN:
			if (!fin[e->dir & 1])
				dlg_add(d, "%s close fin", side);
			fin[e->dir & 1] = true;
			break;
		case EV_RST:
			dlg_add(d, "%s close rst", side);
			break;
		default:
			break;
		}
	}
}

/* ---- the derivation ---- */

static struct sv_step *sv_new(struct derive *dv, const char *verb, double t)
{
	if (dv->n_sv >= FC_MAX_STEPS)
		return NULL;
	struct sv_step *st = &dv->sv[dv->n_sv++];
	memset(st, 0, sizeof(*st));
	snprintf(st->verb, sizeof(st->verb), "%s", verb);
	st->t_cmd = t;
	return st;
}

static struct cs_step *cs_new(struct derive *dv, enum cs_kind k, double pause)
{
	if (dv->n_cs >= FC_MAX_STEPS)
		return NULL;
	struct cs_step *c = &dv->cs[dv->n_cs++];
	memset(c, 0, sizeof(*c));
	c->kind = k;
	c->pause = pause < 0 ? 0 : pause;
	return c;
}

/* Whether a command line carries credentials: AUTH with an initial
 * response, or any line while the server's last reply was 334. */
static bool auth_line(const char *text, bool after_334, char *out, size_t cap)
{
	if (after_334) {
		snprintf(out, cap, "{secret}");
		return true;
	}
	char verb[16];
	verb_of(text, verb, sizeof(verb));
	if (strcmp(verb, "AUTH"))
		return false;
	/* "AUTH MECH [initial-response]": keep the mechanism, never the rest */
	const char *sp = strchr(text, ' ');
	char mech[40] = "";
	if (sp) {
		size_t k = 0;
		for (sp++; *sp && *sp != ' ' && k + 1 < sizeof(mech); sp++)
			mech[k++] = *sp;
		mech[k] = 0;
	}
	bool has_ir = sp && *sp == ' ';
	snprintf(out, cap, "AUTH %s%s", mech, has_ir ? " {secret}" : "");
	return true;
}

static void derive(const struct session_view *s, struct derive *dv, char *why, size_t whylen)
{
	const struct timeline *tl = s->tl;
	const struct smtp_facts *f = s->smtp;
	unsigned pend[FC_MAX_PENDING];
	unsigned n_pend = 0;
	double t_conn = secs(s->fi->first_ts), t_last = t_conn, t_last_c2s = t_conn;
	bool after_334 = false, in_tls = false, bdat_msg = false;
	bool closed = false;
	int close_dir = -1;
	bool close_rst = false;
	double t_close = 0;
	int last_sv = -2;                  /* step answered last: -1 greeting, -2 none */
	double t_last_reply = -1;
	const struct event *unpaired = NULL;

	if (tl->dropped)
		snprintf(why, whylen, "the timeline lost %llu events (a session this long is not replayed)",
		         (unsigned long long)tl->dropped);
	for (uint32_t i = 0; i < tl_count(tl); i++) {
		const struct event *e = tl_at(tl, i);
		double t = secs(e->ts);
		switch (e->kind) {
		case EV_SYN_RST:
			dv->refused = true;
			break;
		case EV_GREETING: {
			if (dv->n_cs && !dv->has_greeting) {
				/* the client talked first: the server holds its greeting
				 * as long, so the early lines reach it before */
				dv->early_talker = true;
				dv->greeting_delay = t - t_conn;
			}
			dv->has_greeting = true;
			struct sv_step *g = &dv->greeting;
			g->answered = true;
			g->code = e->code;
			memcpy(g->enh, e->enhanced, sizeof(g->enh));
			snprintf(g->text, sizeof(g->text), "%s", e->text);
			g->delay = t - t_conn;
			last_sv = -1;
			t_last_reply = t;
			t_last = t;
			break;
		}
		case EV_COMMAND: {
			if (in_tls)
				break;
			char verb[16], line[FC_LINE_MAX];
			verb_of(e->text, verb, sizeof(verb));
			bool secret = auth_line(e->text, after_334, line, sizeof(line));
			if (!secret)
				snprintf(line, sizeof(line), "%s", e->text);
			struct cs_step *c = cs_new(dv, CS_LINE, t - t_last);
			struct sv_step *st = sv_new(dv, after_334 || !verb[0] ? "*" : verb, t);
			if (!c || !st) {
				snprintf(why, whylen, "more than %d commands", FC_MAX_STEPS);
				return;
			}
			snprintf(c->line, sizeof(c->line), "%s", line);
			if (!strcmp(verb, "MAIL") || !strcmp(verb, "RSET"))
				bdat_msg = false;
			if (!strcmp(verb, "BDAT") && !after_334) {
				bdat_msg = true;
				unsigned long long n = strtoull(e->text + 4, NULL, 10);
				c->bytes = n;
			}
			if (n_pend < FC_MAX_PENDING)
				pend[n_pend++] = dv->n_sv - 1;
			after_334 = false;
			t_last = t_last_c2s = t;
			break;
		}
		case EV_DATA_END: {
			/* after BDAT chunks the end is already in the script */
			if (bdat_msg) {
				bdat_msg = false;
				break;
			}
			struct cs_step *c = cs_new(dv, CS_BODY, t - t_last);
			struct sv_step *st = sv_new(dv, ".", t);
			if (!c || !st) {
				snprintf(why, whylen, "more than %d commands", FC_MAX_STEPS);
				return;
			}
			c->bytes = e->num;
			c->complete = true;
			c->pause = 0;
			if (n_pend < FC_MAX_PENDING)
				pend[n_pend++] = dv->n_sv - 1;
			t_last = t_last_c2s = t;
			break;
		}
		case EV_REPLY: {
			if (!n_pend)
				break;
			unsigned k = pend[0];
			memmove(pend, pend + 1, (n_pend - 1) * sizeof(pend[0]));
			n_pend--;
			struct sv_step *st = &dv->sv[k];
			st->answered = true;
			st->code = e->code;
			memcpy(st->enh, e->enhanced, sizeof(st->enh));
			snprintf(st->text, sizeof(st->text), "%s", e->text);
			st->delay = t - st->t_cmd;
			/* the reply to an AUTH line says whether credentials follow */
			after_334 = e->code == 334;
			last_sv = (int)k;
			t_last_reply = t;
			t_last = t;
			break;
		}
		case EV_REPLY_UNPAIRED:
			unpaired = e;
			t_last_reply = t;
			t_last = t;
			break;
		case EV_STARTTLS:
			if (e->code == 220 && f->plaintext_smtp_after_tls) {
				dv->plain_starttls = true;   /* a decrypted capture: the dialog goes on */
			} else if (e->code == 220) {
				if (!cs_new(dv, CS_STARTTLS, 0))
					return;
				in_tls = true;
			}
			break;
		case EV_FIN:
		case EV_RST:
			if (closed)
				break;   /* the first close says who ended it */
			closed = true;
			close_dir = e->dir;
			close_rst = e->kind == EV_RST;
			t_close = t;
			break;
		default:
			break;
		}
	}
	/* Script lines and server steps were made in the same order, one each
	 * (a body is a line of the script and a "." step): mark the answered. */
	for (unsigned c = 0, k = 0; c < dv->n_cs && k < dv->n_sv; c++) {
		if (dv->cs[c].kind == CS_LINE || dv->cs[c].kind == CS_BODY)
			dv->cs[c].reply = dv->sv[k++].answered;
	}
	/* A body that did not end: its bytes, sent without the final dot. Only
	 * a body the server invited (354, or BDAT chunks): bytes a client
	 * pipelined after a DATA the server never answered are not one, though
	 * the dissector reads them as one when no answer comes (Exim's 554 SMTP
	 * synchronization error, tests/data/exim/unauth_pipelining). */
	uint32_t kept = smtp_msgs_kept(f);
	bool body_open = f->in_body && !in_tls && kept &&
		(f->msgs[kept - 1].data_reply.code == 354 || f->msgs[kept - 1].bdat);
	if (body_open) {
		uint64_t bytes = f->msgs[kept - 1].wire_bytes;
		struct cs_step *c = cs_new(dv, CS_BODY, 0);
		if (c) {
			c->bytes = bytes;
			c->complete = false;
		}
	}
	/* The SIZE limit is the policy's, and the refusals it explains too. */
	if (f->has_size_limit && f->size_limit) {
		dv->max_size_set = true;
		dv->max_size = f->size_limit;
		uint64_t sent = 0;
		for (unsigned c = 0; c < dv->n_cs; c++)
			if (dv->cs[c].kind == CS_BODY)
				sent = dv->cs[c].bytes;
		for (unsigned k = 0; k < dv->n_sv; k++) {
			struct sv_step *st = &dv->sv[k];
			if (st->code != 552)
				continue;
			if ((!strcmp(st->verb, ".") && sent > f->size_limit) || !strcmp(st->verb, "MAIL") ||
			    !strcmp(st->verb, "BDAT"))
				st->policy = true;
		}
	}
	/* A server without CHUNKING refuses BDAT as an unknown command and then
	 * reads the chunk's bytes as command lines, each refused, until its
	 * error limit (Sendmail: tests/data/sendmail/bdat_size). The bundled
	 * server follows BDAT whatever its profile advertises, so it would take
	 * the chunk as data: the replay would end another way, or the same way
	 * only by the race between the two closes. Said, not replayed. */
	for (unsigned k = 0; k < dv->n_sv; k++) {
		const struct sv_step *st = &dv->sv[k];
		if (!strcmp(st->verb, "BDAT") && (st->code == 500 || st->code == 502)) {
			snprintf(why, whylen, "the server did not know BDAT (%u to it) and read the chunk's "
				 "bytes as commands; the bundled server follows BDAT, so it cannot replay that",
				 st->code);
			return;
		}
	}
	/* How it ended. */
	if (dv->refused)
		return;
	if (!closed) {
		snprintf(why, whylen, "the capture shows no close (FIN or RST): the ending is not in the file");
		return;
	}
	/* An unasked 421 4.4.2 is an idle timeout by its code; any other unasked
	 * 4xx after a long client silence is read the same way by the analyzer
	 * (its T4 row), and the bundled server's idle reply reproduces both, also
	 * when the client closed after it (Exim's 421 inside DATA, then the
	 * client's FIN: tests/data/exim/data_idle_timeout). */
	bool idle_reply = unpaired && secs(unpaired->ts) <= t_close &&
		((unpaired->code == 421 && !strcmp(unpaired->enhanced, "4.4.2")) ||
		 (unpaired->code / 100 == 4 && secs(unpaired->ts) - t_last_c2s >= FC_IDLE_REPLY_S));
	if (idle_reply) {
		dv->client_waits = true;
		dv->idle_timeout = secs(unpaired->ts) - t_last_c2s;
		dv->idle_action = "reply";
		dv->has_idle_reply = true;
		dv->idle_reply.answered = true;
		dv->idle_reply.code = unpaired->code;
		memcpy(dv->idle_reply.enh, unpaired->enhanced, sizeof(dv->idle_reply.enh));
		snprintf(dv->idle_reply.text, sizeof(dv->idle_reply.text), "%s", unpaired->text);
		return;
	}
	if (close_dir == DIR_C2S) {
		if (!dv->has_greeting) {
			/* the server was still silent when the client gave up */
			dv->greeting_delay = t_close - t_conn + 5.0;
		}
		struct cs_step *c = cs_new(dv, CS_CLOSE, t_close - t_last);
		if (c)
			c->rst = close_rst;
		return;
	}
	dv->client_waits = true;
	const char *how = close_rst ? "rst" : "fin";
	bool client_spoke_last = t_last_c2s > t_last_reply;
	if (body_open) {
		/* cut mid-body: over the advertised limit it is the size policy */
		uint64_t sent = dv->n_cs && dv->cs[dv->n_cs - 1].kind == CS_BODY ? dv->cs[dv->n_cs - 1].bytes : 0;
		if (dv->max_size_set && sent > dv->max_size) {
			dv->size_action = close_rst ? "reset" : "close";
		} else {
			dv->cut_after = sent ? sent : 1;
			dv->cut_how = how;
		}
		return;
	}
	if (!client_spoke_last && last_sv != -2 && t_close - t_last_reply <= FC_REPLY_GAP_S) {
		if (last_sv == -1)
			dv->greeting_close = how;
		else
			dv->sv[last_sv].close = how;
		return;
	}
	if (!dv->has_greeting) {
		dv->greeting_close = how;     /* accept, then close without a word */
		return;
	}
	if (n_pend) {
		/* the server closed instead of answering the client's last command */
		dv->sv[pend[0]].close = how;
		return;
	}
	dv->idle_timeout = t_close - (t_last_c2s > t_last_reply ? t_last_c2s : t_last_reply);
	if (dv->idle_timeout < 0.05)
		dv->idle_timeout = 0.05;
	dv->idle_action = "close";
}

/* ---- the JSON ---- */

static void jstr(FILE *o, const char *s)
{
	json_write_string(o, s, strlen(s));
}

static void write_reply(FILE *o, const struct sv_step *st, bool with_verb)
{
	fprintf(o, "{");
	if (with_verb) {
		fprintf(o, "\"command\": ");
		jstr(o, st->verb);
		fprintf(o, ", ");
	}
	if (st->answered)
		fprintf(o, "\"code\": %u, \"enhanced\": ", st->code);
	else
		fprintf(o, "\"code\": null, \"enhanced\": ");
	jstr(o, st->enh);
	fprintf(o, ", \"text\": ");
	jstr(o, st->text);
	fprintf(o, ", \"delay\": %.6f", st->delay);
	if (st->close)
		fprintf(o, ", \"close\": \"%s\"", st->close);
	if (st->policy)
		fprintf(o, ", \"policy\": true");
	fprintf(o, "}");
}

static void write_json(FILE *o, const char *file, const struct session_view *s, const struct verdict *v,
                       const struct derive *dv)
{
	const struct smtp_facts *f = s->smtp;
	fprintf(o, "{\n  \"smtpsleuth_profile\": 1,\n  \"source\": {\"file\": ");
	jstr(o, file);
	fprintf(o, ", \"session\": %llu, \"cause\": \"%s\", \"phase\": \"%s\", \"close\": \"%s\", \"closed_by\": \"%s\"},\n",
	        (unsigned long long)s->id, cause_name(v->cause), verdict_phase_name(v->phase),
	        close_kind_name(v->close), closed_by_name(v->closed_by));
	fprintf(o, "  \"server\": {\n    \"listen\": %s,\n", dv->refused ? "false" : "true");
	if (dv->greeting_delay > 0)   /* the greeting comes after the client gave up or talked */
		fprintf(o, "    \"greeting_delay\": %.3f,\n", dv->greeting_delay);
	if (dv->greeting_delay > 0 && !dv->has_greeting) {
		/* the server's own greeting, later than the client waited */
	} else if (dv->has_greeting) {
		fprintf(o, "    \"greeting\": ");
		struct sv_step g = dv->greeting;
		g.close = dv->greeting_close;
		write_reply(o, &g, false);
		fprintf(o, ",\n");
	} else {
		fprintf(o, "    \"greeting\": null,\n    \"greeting_close\": \"%s\",\n",
		        dv->greeting_close ? dv->greeting_close : "fin");
	}
	if (f->helo_verb[0] && !strcasecmp(f->helo_verb, "EHLO")) {
		fprintf(o, "    \"ehlo\": {\"hostname\": ");
		char host[64] = "";
		for (unsigned k = 0; k < dv->n_sv; k++)
			if (!strcmp(dv->sv[k].verb, "EHLO") && dv->sv[k].code == 250) {
				verb_of(dv->sv[k].text, host, sizeof(host));
				for (char *c = host; *c; c++)
					*c = (char)tolower((unsigned char)*c);
				break;
			}
		jstr(o, host[0] ? host : "smtpsleuth.test");
		fprintf(o, ", \"extensions\": [");
		char ext[sizeof(f->extensions)];
		snprintf(ext, sizeof(ext), "%s", f->extensions);
		unsigned n = 0;
		/* One capability line each, with its parameters ("AUTH PLAIN LOGIN");
		 * a profile's extension is at most 63 bytes. */
		for (char *save = NULL, *w = strtok_r(ext, "\n", &save); w && n < 32; w = strtok_r(NULL, "\n", &save)) {
			char item[64];
			if (!strncasecmp(w, "SIZE", 4) && (!w[4] || w[4] == ' ') && f->has_size_limit && f->size_limit)
				snprintf(item, sizeof(item), "SIZE %llu", (unsigned long long)f->size_limit);
			else
				snprintf(item, sizeof(item), "%.63s", w);
			fprintf(o, "%s", n++ ? ", " : "");
			jstr(o, item);
		}
		fprintf(o, "]},\n");
		fprintf(o, "    \"starttls\": %s,\n", (f->ext & SMTP_EXT_STARTTLS) && !dv->plain_starttls ? "true" : "false");
	}
	if (dv->max_size_set)
		fprintf(o, "    \"max_size\": %llu,\n", (unsigned long long)dv->max_size);
	if (dv->size_action)
		fprintf(o, "    \"size_action\": \"%s\",\n", dv->size_action);
	if (dv->idle_action)
		fprintf(o, "    \"idle_timeout\": %.3f,\n    \"idle_action\": \"%s\",\n", dv->idle_timeout, dv->idle_action);
	if (dv->has_idle_reply) {
		fprintf(o, "    \"idle_reply\": ");
		write_reply(o, &dv->idle_reply, false);
		fprintf(o, ",\n");
	}
	if (dv->cut_how)
		fprintf(o, "    \"cut\": {\"after_bytes\": %llu, \"how\": \"%s\"},\n",
		        (unsigned long long)dv->cut_after, dv->cut_how);
	fprintf(o, "    \"replies\": [");
	for (unsigned k = 0; k < dv->n_sv; k++) {
		fprintf(o, "%s\n      ", k ? "," : "");
		write_reply(o, &dv->sv[k], true);
	}
	fprintf(o, "\n    ]\n  },\n  \"client\": {\n    \"greeting\": %s,\n    \"wait_close\": %s,\n    \"script\": [",
	        dv->has_greeting && !dv->early_talker ? "true" : "false", dv->client_waits ? "true" : "false");
	for (unsigned c = 0; c < dv->n_cs; c++) {
		const struct cs_step *st = &dv->cs[c];
		fprintf(o, "%s\n      {\"pause\": %.6f, ", c ? "," : "", st->pause);
		switch (st->kind) {
		case CS_LINE:
			fprintf(o, "\"send\": ");
			jstr(o, st->line);
			if (st->bytes)
				fprintf(o, ", \"bdat\": %llu", (unsigned long long)st->bytes);
			fprintf(o, ", \"reply\": %s}", st->reply ? "true" : "false");
			break;
		case CS_BODY:
			fprintf(o, "\"body\": %llu, \"end\": %s, \"reply\": %s}", (unsigned long long)st->bytes,
			        st->complete ? "true" : "false", st->reply ? "true" : "false");
			break;
		case CS_STARTTLS:
			fprintf(o, "\"tls_handshake\": true}");
			break;
		case CS_CLOSE:
			fprintf(o, "\"close\": \"%s\"}", st->rst ? "rst" : "fin");
			break;
		}
	}
	fprintf(o, "\n    ]\n  }\n}\n");
}

/* ---- the analysis ---- */

struct fc_ctx {
	struct case_info *ci;
	uint64_t want;
	bool derive;
	const char *file;
	struct diag_config dcfg;
	bool oom;
};

static void on_session(void *ctx, const struct session_view *s, struct summary *sum)
{
	struct fc_ctx *c = ctx;
	struct case_info *ci = c->ci;
	if (ci->n_sessions < SL_ARRAY_LEN(ci->ids))
		ci->ids[ci->n_sessions] = s->id;
	ci->n_sessions++;
	if (ci->found || (c->want && s->id != c->want))
		return;
	ci->found = true;
	ci->id = s->id;
	ci->server_port = s->fi->server_port;
	diagnose(s, &c->dcfg, &ci->v);
	dialog_of(s, &ci->d);
	if (!c->derive)
		return;
	struct derive *dv = calloc(1, sizeof(*dv));
	char *buf = NULL;
	size_t len = 0;
	FILE *o = dv ? open_memstream(&buf, &len) : NULL;
	if (!o) {
		free(dv);
		c->oom = true;
		return;
	}
	derive(s, dv, ci->why_not, sizeof(ci->why_not));
	enum cause k = ci->v.cause;
	if (k == CAUSE_MIDDLEBOX_RESET || k == CAUSE_NETWORK_FAILURE || k == CAUSE_UNANSWERED)
		snprintf(ci->why_not, sizeof(ci->why_not),
		         "%s is the network's doing, not the server's or the client's: a replay on loopback "
		         "cannot show it (use 'reproduce %s' as root: network namespaces)",
		         cause_name(k), cause_name(k));
	else if (s->smtp->nocode_lines)
		snprintf(ci->why_not, sizeof(ci->why_not),
		         "the server sent %u line(s) without a reply code, which a profile cannot carry "
		         "(every profile reply has a code 100..599)", s->smtp->nocode_lines);
	else if (k == CAUSE_CAPTURE_INCOMPLETE)
		snprintf(ci->why_not, sizeof(ci->why_not),
		         "capture_incomplete: the capture itself hides how the session ended (cut, truncated or one-sided)");
	else if (s->fi->dir[0].gap_bytes || s->fi->dir[1].gap_bytes)
		snprintf(ci->why_not, sizeof(ci->why_not),
		         "the capture lost %llu bytes of the dialog (gaps): what was said there is unknown",
		         (unsigned long long)(s->fi->dir[0].gap_bytes + s->fi->dir[1].gap_bytes));
	else if (s->fi->dir[DIR_C2S].fin_frame && s->smtp->greeting.code &&
	         s->smtp->greeting.frame > s->fi->dir[DIR_C2S].fin_frame)
		snprintf(ci->why_not, sizeof(ci->why_not),
		         "the client sent its whole dialog and closed its side (FIN, frame %llu) before the "
		         "greeting: the replay sends each command after the reply to the one before",
		         (unsigned long long)s->fi->dir[DIR_C2S].fin_frame);
	else if (s->capture_started_midstream || !s->fi->syn_seen)
		snprintf(ci->why_not, sizeof(ci->why_not),
		         "the capture starts in the middle of the session: its beginning is not in the file");
	if (s->smtp->tls.handshake_done)
		snprintf(ci->why_not, sizeof(ci->why_not),
		         "the dialog went on inside TLS (no key log): what the server said there is not in the file");
	else if (s->smtp->implicit_tls)
		snprintf(ci->why_not, sizeof(ci->why_not),
		         "the client spoke TLS from its first byte (implicit TLS) and no handshake completed: "
		         "the replay's client speaks SMTP in plaintext and cannot send that TLS hello");
	write_json(o, c->file, s, &ci->v, dv);
	fclose(o);
	free(dv);
	ci->json = buf;
	ci->json_len = len;
}

int fromcap_analyze(const char *file, uint64_t want_id, bool derive_it, struct case_info *ci,
                    char *err, size_t errlen)
{
	memset(ci, 0, sizeof(*ci));
	struct fc_ctx c = { .ci = ci, .want = want_id, .derive = derive_it, .file = file };
	diag_config_default(&c.dcfg);
	struct sessions_config cfg;
	sessions_config_default(&cfg);
	char e[512];
	struct source *src = source_open_file(file, e, sizeof(e));
	if (!src) {
		snprintf(err, errlen, "%s", e);
		return 1;
	}
	struct sessions *ss = sessions_new(&cfg, on_session, &c, e, sizeof(e));
	if (!ss) {
		source_close(src);
		snprintf(err, errlen, "%s", e);
		return 1;
	}
	sessions_set_input(ss, source_name(src));
	struct raw_packet raw;
	int r;
	bool damaged = false;
	while ((r = source_next(src, &raw, e, sizeof(e))) > 0)
		sessions_feed(ss, &raw);
	if (r < 0) {
		sessions_input_error(ss, e);
		damaged = true;
	}
	sessions_finish(ss);
	sessions_free(ss);
	source_close(src);
	if (c.oom) {
		snprintf(err, errlen, "out of memory");
		return 1;
	}
	if (damaged && ci->found && !ci->why_not[0])
		snprintf(ci->why_not, sizeof(ci->why_not), "the file is damaged (%.200s)", e);
	if (!ci->n_sessions) {
		snprintf(err, errlen, "%s: no SMTP session in the file", file);
		return 1;
	}
	if (!want_id && ci->n_sessions > 1) {
		/* sessions end in any order: list their ids in ascending order */
		size_t kept = ci->n_sessions < SL_ARRAY_LEN(ci->ids) ? ci->n_sessions : SL_ARRAY_LEN(ci->ids);
		for (size_t i = 1; i < kept; i++)
			for (size_t k = i; k > 0 && ci->ids[k - 1] > ci->ids[k]; k--) {
				uint64_t t = ci->ids[k];
				ci->ids[k] = ci->ids[k - 1];
				ci->ids[k - 1] = t;
			}
		int k = snprintf(err, errlen, "%s holds %u SMTP sessions; choose one with --session ID (ids:",
		                 file, ci->n_sessions);
		for (unsigned i = 0; i < ci->n_sessions && i < SL_ARRAY_LEN(ci->ids) && k > 0 && (size_t)k < errlen; i++)
			k += snprintf(err + k, errlen - (size_t)k, " %llu", (unsigned long long)ci->ids[i]);
		if (k > 0 && (size_t)k < errlen)
			snprintf(err + k, errlen - (size_t)k, "%s)", ci->n_sessions > SL_ARRAY_LEN(ci->ids) ? " ..." : "");
		return 1;
	}
	if (!ci->found) {
		snprintf(err, errlen, "%s: no SMTP session with id %llu", file, (unsigned long long)want_id);
		return 1;
	}
	return 0;
}

void case_info_free(struct case_info *ci)
{
	free(ci->json);
	ci->json = NULL;
}
