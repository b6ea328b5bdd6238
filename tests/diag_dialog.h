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
