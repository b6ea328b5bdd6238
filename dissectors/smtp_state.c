/*
 * smtp_state.c - the SMTP dissector's two reading modes (how the client's and
 * the server's bytes are read now) and their transition functions: every
 * change goes through smtp_client_enter()/smtp_server_enter(), which can
 * trace it (smtp_trace_states); and the mid-session start (smtp_set_midstream).
 */
#include <stdio.h>

#include "smtp_int.h"

#define X(e, n) n,
static const char *const cmode_names[] = { SMTP_CMODES(X) };
static const char *const smode_names[] = { SMTP_SMODES(X) };
#undef X

static void trace_mode(struct smtp *s, enum sl_dir d, const char *from, const char *to,
		       const struct seg_meta *m)
{
	char t[64];
	int n = snprintf(t, sizeof(t), "%s: %s -> %s", d == DIR_C2S ? "client" : "server", from, to);
	tl_add(s->tl, EV_STATE, d, m ? m->ts : 0, m ? m->frame : 0, t, (size_t)n);
}

void smtp_client_enter(struct smtp *s, enum cmode to, const struct seg_meta *m)
{
	if (s->trace && to != s->cm)
		trace_mode(s, DIR_C2S, cmode_names[s->cm], cmode_names[to], m);
	s->cm = to;
}

void smtp_server_enter(struct smtp *s, enum smode to, const struct seg_meta *m)
{
	if (s->trace && to != s->sm)
		trace_mode(s, DIR_S2C, smode_names[s->sm], smode_names[to], m);
	s->sm = to;
}

void smtp_trace_states(struct smtp *s, bool on)
{
	s->trace = on;
}

void smtp_set_midstream(struct smtp *s)
{
	s->midstream = s->sync_c = s->sync_s = true;
}
