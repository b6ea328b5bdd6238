/*
 * diag_expect.h - shared by the diagnosis runners: run the diagnosis on a
 * crafted session (tu_session) and assert on the verdict.
 */
#ifndef SLEUTH_DIAG_EXPECT_H
#define SLEUTH_DIAG_EXPECT_H

#include <stdio.h>
#include <string.h>

#include "diagnose.h"
#include "testutil.h"
#include "tu_session.h"

static struct verdict V;

static void run(struct tu_session *t)
{
	struct diag_config cfg;
	diag_config_default(&cfg);
	diagnose(&t->v, &cfg, &V);
}

static bool cites(uint64_t frame)
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

static void start(struct tu_session *t, const char *exts)
{
	tu_sess_init(t);
	tu_handshake(t);
	tu_wait(t, 0.05);
	tu_greet(t, 220, "", "mx.example.net ESMTP");
	tu_wait(t, 0.01);
	if (exts)
		tu_ehlo(t, exts);
}

static void send_mail(struct tu_session *t, const char *mail)
{
	tu_cmd(t, CMD_MAIL, mail);
	tu_reply(t, 250, "2.1.0", "Ok");
	tu_cmd(t, CMD_RCPT, "RCPT TO:<bob@example.net>");
	tu_reply(t, 250, "2.1.5", "Ok");
	tu_cmd(t, CMD_DATA, "DATA");
	tu_reply(t, 354, "", "End data with <CR><LF>.<CR><LF>");
}

#endif
