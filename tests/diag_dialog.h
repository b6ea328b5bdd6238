/*
 * diag_dialog.h - shared by the diagnosis runners that drive the real
 * pipeline (tu_dialog): run a scripted session, then assert on its verdict.
 * Header-only so each runner stays self-contained.
 */
#ifndef SLEUTH_DIAG_DIALOG_H
#define SLEUTH_DIAG_DIALOG_H

#include <stdio.h>
#include <string.h>

#include "diagnose.h"
#include "testutil.h"
#include "tu_dialog.h"
#include "tu_script.h"

static struct verdict V;

/* Ends the capture, diagnoses the flow and keeps its verdict in V. */
static inline void run(struct dl *t)
{
	dl_run(t);
	ck_assert_msg(t->sessions == 1, "the glue reported %u sessions for the flow", t->sessions);
	V = t->v;
}

/* The same, after the flow's idle timeout. */
static inline void run_idle(struct dl *t)
{
	dl_run_idle(t);
	ck_assert_msg(t->sessions == 1, "the glue reported %u sessions for the flow", t->sessions);
	V = t->v;
}

static inline bool cites(uint64_t frame)
{
	for (uint32_t i = 0; i < V.n_ev; i++)
		if (V.ev[i].frame == frame)
			return true;
	return false;
}

#define EXPECT(cause_, by_, close_, phase_, conf_) do { \
	ck_assert_msg(V.cause == (cause_), "cause %s, want %s: %s", cause_name(V.cause), cause_name(cause_), V.explanation); \
	ck_assert_msg(V.closed_by == (by_), "closed_by %s", closed_by_name(V.closed_by)); \
	ck_assert_msg(V.close == (close_), "close %s", close_kind_name(V.close)); \
	ck_assert_msg(V.phase == (phase_), "phase %s, want %s", verdict_phase_name(V.phase), verdict_phase_name(phase_)); \
	ck_assert_msg(V.confidence == (conf_), "confidence %s", confidence_name(V.confidence)); \
	ck_assert(V.explanation[0] && V.advice[0]); \
} while (0)

/* A case as a row: the wire as a tu_script and the verdict it must get.
 * Every field below what is checked; zero/NULL fields are not. */
#define NO_REPLY 1                  /* .code: the verdict has no decisive reply */
#define CASE_SAYS_MAX 3
struct dcase {
	const char *name;
	const char *script;         /* starts with "open" or "init" */
	enum cause cause;
	enum closed_by by;
	enum close_kind close;
	enum smtp_phase phase;
	enum confidence conf;
	uint16_t code;              /* the decisive reply's code, NO_REPLY, or 0 */
	const char *enhanced;       /* the decisive reply's enhanced code */
	const char *says[CASE_SAYS_MAX];    /* in the explanation */
	bool idle;                  /* the flow times out instead of the capture ending */
};

/* Runs the row's script and checks the verdict against it: cause, who
 * closed and how, phase, confidence, an explanation and advice, the
 * decisive reply, the words and every marked frame cited. */
static inline void run_case(const struct dcase *c)
{
	struct dl t;
	struct script_marks m;
	dl_script(&t, c->script, &m);
	if (c->idle)
		run_idle(&t);
	else
		run(&t);
	ck_assert_msg(V.cause == c->cause, "%s: cause %s, want %s: %s", c->name,
		      cause_name(V.cause), cause_name(c->cause), V.explanation);
	ck_assert_msg(V.closed_by == c->by, "%s: closed_by %s", c->name, closed_by_name(V.closed_by));
	ck_assert_msg(V.close == c->close, "%s: close %s", c->name, close_kind_name(V.close));
	ck_assert_msg(V.phase == c->phase, "%s: phase %s, want %s", c->name,
		      verdict_phase_name(V.phase), verdict_phase_name(c->phase));
	ck_assert_msg(V.confidence == c->conf, "%s: confidence %s", c->name, confidence_name(V.confidence));
	ck_assert_msg(V.explanation[0] && V.advice[0], "%s: no explanation or advice", c->name);
	if (c->code == NO_REPLY)
		ck_assert_msg(!V.has_reply, "%s: a decisive reply %u", c->name, V.reply_code);
	else if (c->code)
		ck_assert_msg(V.has_reply && V.reply_code == c->code, "%s: decisive reply %u, want %u",
			      c->name, V.has_reply ? V.reply_code : 0, c->code);
	if (c->enhanced)
		ck_assert_msg(!strcmp(V.reply_enhanced, c->enhanced), "%s: enhanced \"%s\", want \"%s\"",
			      c->name, V.reply_enhanced, c->enhanced);
	for (int i = 0; i < CASE_SAYS_MAX && c->says[i]; i++)
		ck_assert_msg(strstr(V.explanation, c->says[i]), "%s: the explanation lacks \"%s\": %s",
			      c->name, c->says[i], V.explanation);
	for (unsigned i = 0; i < m.n; i++)
		ck_assert_msg(cites(m.frame[i]), "%s: evidence does not cite frame %llu (marked step %u)",
			      c->name, (unsigned long long)m.frame[i], i + 1);
	dl_free(&t);
}

#define CITES(fr) ck_assert_msg(cites(fr), "evidence does not cite frame %llu", (unsigned long long)(fr))

/* Handshake, a 220 greeting and, with exts, EHLO and its reply. */
static inline void start(struct dl *t, const char *exts)
{
	dl_init(t);
	dl_handshake(t);
	dl_wait(t, 0.05);
	dl_greet(t, 220, "", "mx.example.net ESMTP");
	dl_wait(t, 0.01);
	if (exts)
		dl_ehlo(t, exts);
}

/* MAIL (the given line), RCPT, DATA, each accepted, up to the 354. */
static inline void send_mail(struct dl *t, const char *mail)
{
	dl_cmd(t, mail);
	dl_reply(t, 250, "2.1.0", "Ok");
	dl_cmd(t, "RCPT TO:<bob@example.net>");
	dl_reply(t, 250, "2.1.5", "Ok");
	dl_cmd(t, "DATA");
	dl_reply(t, 354, "", "End data with <CR><LF>.<CR><LF>");
}

#endif
