/*
 * tu_script.c - see tu_script.h. Each line is one step: its first word
 * names the tu_dialog helper, the rest are its arguments; text arguments
 * (a command line, a reply's text) run to the end of the line.
 */
#include "tu_script.h"

#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define SCRIPT_LINE_MAX 512

/* One line of the script, split as its steps read it. */
struct step {
	char line[SCRIPT_LINE_MAX];
	char *rest;                 /* what the words taken so far leave */
};

static const char *word(struct step *s)
{
	while (*s->rest == ' ')
		s->rest++;
	if (!*s->rest)
		ck_abort_msg("script step \"%s\" lacks an argument", s->line);
	char *w = s->rest;
	char *sp = strchr(w, ' ');
	if (sp) {
		*sp = '\0';
		s->rest = sp + 1;
	} else {
		s->rest = w + strlen(w);
	}
	return w;
}

/* The rest of the line, leading spaces skipped (may be empty). */
static const char *text(struct step *s)
{
	while (*s->rest == ' ')
		s->rest++;
	return s->rest;
}

static bool has_more(struct step *s)
{
	return *text(s) != '\0';
}

static unsigned long long number(struct step *s)
{
	const char *w = word(s);
	char *end;
	unsigned long long n = strtoull(w, &end, 10);
	if (*end)
		ck_abort_msg("script step \"%s\": \"%s\" is not a number", s->line, w);
	return n;
}

static enum sl_dir dir(struct step *s)
{
	const char *w = word(s);
	if (!strcmp(w, "c2s"))
		return DIR_C2S;
	if (!strcmp(w, "s2c"))
		return DIR_S2C;
	ck_abort_msg("script step \"%s\": \"%s\" is not c2s or s2c", s->line, w);
	return DIR_C2S;
}

/* An enhanced code argument: "-" stands for none. */
static const char *enhanced(struct step *s)
{
	const char *w = word(s);
	return strcmp(w, "-") ? w : "";
}

/* Runs one step; returns its frame (0 for steps that send nothing). */
static uint64_t run_step(struct dl *t, struct step *s)
{
	const char *op = word(s);
	if (!strcmp(op, "open")) {
		dl_init(t);
		dl_handshake(t);
		dl_wait(t, 0.05);
		uint64_t g = dl_greet(t, 220, "", "mx.example.net ESMTP");
		dl_wait(t, 0.01);
		return g;
	}
	if (!strcmp(op, "init")) {
		dl_init(t);
		return 0;
	}
	if (!strcmp(op, "handshake")) {
		dl_handshake(t);
		return 0;
	}
	if (!strcmp(op, "ehlo")) {
		dl_ehlo(t, text(s));
		return 0;
	}
	if (!strcmp(op, "C"))
		return dl_cmd(t, text(s));
	if (!strcmp(op, "S"))
		return dl_sline(t, text(s));
	if (!strcmp(op, "R") || !strcmp(op, "greet")) {
		uint16_t code = (uint16_t)number(s);
		const char *enh = enhanced(s);
		return op[0] == 'R' ? dl_reply(t, code, enh, text(s)) : dl_greet(t, code, enh, text(s));
	}
	if (!strcmp(op, "mail")) {
		dl_cmd(t, text(s));
		dl_reply(t, 250, "2.1.0", "Ok");
		dl_cmd(t, "RCPT TO:<bob@example.net>");
		dl_reply(t, 250, "2.1.5", "Ok");
		dl_cmd(t, "DATA");
		return dl_reply(t, 354, "", "End data with <CR><LF>.<CR><LF>");
	}
	if (!strcmp(op, "body")) {
		uint64_t n = number(s);
		bool cut = has_more(s) && !strcmp(word(s), "cut");
		return dl_body(t, n, !cut);
	}
	if (!strcmp(op, "fin"))
		return dl_fin(t, dir(s));
	if (!strcmp(op, "rst")) {
		enum sl_dir d = dir(s);
		return dl_rst(t, d, has_more(s) ? (uint8_t)number(s) : 0);
	}
	if (!strcmp(op, "ack"))
		return dl_ack(t, dir(s));
	if (!strcmp(op, "retrans")) {
		enum sl_dir d = dir(s);
		return dl_retrans(t, d, (size_t)number(s));
	}
	if (!strcmp(op, "syn"))
		return dl_syn(t);
	if (!strcmp(op, "synack"))
		return dl_synack(t);
	if (!strcmp(op, "refuse"))
		return dl_refuse(t);
	if (!strcmp(op, "other")) {
		dl_other_packet(t);
		return 0;
	}
	if (!strcmp(op, "wait")) {
		const char *w = word(s);
		char *end;
		double secs = strtod(w, &end);
		if (*end)
			ck_abort_msg("script step \"%s\": \"%s\" is not a time", s->line, w);
		dl_wait(t, secs);
		return 0;
	}
	if (!strcmp(op, "tls-ch"))
		return dl_tls_client_hello(t);
	if (!strcmp(op, "tls-sh"))
		return dl_tls_server_hello(t);
	if (!strcmp(op, "tls-alert")) {
		enum sl_dir d = dir(s);
		uint8_t level = (uint8_t)number(s);
		return dl_tls_alert(t, d, level, (uint8_t)number(s));
	}
	if (!strcmp(op, "tls-data")) {
		enum sl_dir d = dir(s);
		return dl_tls_appdata(t, d, (size_t)number(s));
	}
	ck_abort_msg("script step \"%s\": unknown step \"%s\"", s->line, op);
	return 0;
}

void dl_script(struct dl *t, const char *script, struct script_marks *marks)
{
	marks->n = 0;
	const char *p = script;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		struct step s;
		if (len >= sizeof(s.line))
			ck_abort_msg("script line too long: %.40s...", p);
		memcpy(s.line, p, len);
		s.line[len] = '\0';
		s.rest = s.line;
		p += len + (nl ? 1 : 0);
		if (!has_more(&s))
			continue;
		bool marked = *text(&s) == '!';
		if (marked)
			s.rest = (char *)text(&s) + 1;
		uint64_t fr = run_step(t, &s);
		if (!marked)
			continue;
		if (!fr)
			ck_abort_msg("script step \"%s\" is marked but sends nothing", s.line);
		if (marks->n == SCRIPT_MAX_MARKS)
			ck_abort_msg("more than %d marked steps in a script", SCRIPT_MAX_MARKS);
		marks->frame[marks->n++] = fr;
	}
}
