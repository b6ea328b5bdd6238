/*
 * diag_cut.c - sessions the capture cut short: the analysis was interrupted
 * (SIGINT/SIGTERM) or the file they were in is truncated or damaged.
 *
 * Such a session did not end: its last packets are simply missing. A rule
 * reading "no answer to the SYN" or "silence, then nothing" would blame the
 * network or a firewall for what the damage did, so the verdict becomes
 * capture_incomplete, naming the damage and saying what was read before it.
 * Only a cause a server reply read before the cut already proves is kept
 * (a 552, a 535, a 421 ...), with the cut named in its explanation.
 *
 * Flows a cap ended early (--max-flows, --memory-cap) are cut by the
 * analyzer rather than the capture: the same holds for them. And when a
 * later packet of an evicted flow opens a new flow, that flow is the second
 * half of a dialog whose first half was reported on its own: whatever its
 * rules find, the verdict is at most of medium confidence and says so.
 */
#include <inttypes.h>
#include <string.h>

#include "diag_int.h"

/* A cause the part read proves by itself: a server reply decided it. */
static bool proven_by_reply(const struct verdict *v)
{
	return v->has_reply && v->cause != CAUSE_CAPTURE_INCOMPLETE && v->cause != CAUSE_UNKNOWN &&
	       v->cause != CAUSE_COMPLETED;
}

void diag_apply_cut(const struct session_view *s, const struct diag_config *cfg, struct verdict *v)
{
	if (!s->cut)
		return;
	if (proven_by_reply(v)) {
		diag_appendf(v->explanation, sizeof(v->explanation),
			     " (The capture was cut after this, while the connection was still open: %s.)", s->cut);
		return;
	}
	struct dctx d = { .s = s, .fi = s->fi, .f = s->smtp, .cfg = cfg, .v = v };
	const struct tcp_dir_stats *c = &d.fi->dir[DIR_C2S], *sv = &d.fi->dir[DIR_S2C];
	d.first.dir = -1;
	v->cause = CAUSE_CAPTURE_INCOMPLETE;
	v->confidence = CONF_HIGH;
	v->closed_by = BY_NOBODY;
	v->close = CLOSE_NONE;
	v->has_reply = false;
	v->explanation[0] = '\0';
	v->advice[0] = '\0';
	EXPLAIN(&d, "The capture was cut while this connection was open (%s), in phase %s; how the session ended is not in the capture.",
		s->cut, verdict_phase_name(v->phase));
	if (!d.fi->synack_seen && c->syns) {
		EXPLAIN(&d, " Read before the cut: %u SYN%s from the client, no answer yet.", c->syns, c->syns == 1 ? "" : "s");
	} else {
		EXPLAIN(&d, " Read before the cut: %" PRIu64 " bytes from the client and %" PRIu64 " from the server.",
			c->bytes, sv->bytes);
		diag_where_it_stopped(&d);
	}
	diag_evidence(&d, d.fi->last_frame, d.fi->last_ts, "last packet of the flow before the cut");
	diag_advise(&d, "Analyse a complete copy of the capture (or let the analysis run to the end) to see how this session ended.");
}

static const char *evicted_by(enum flow_end e)
{
	return e == END_MEMCAP ? "evicted under memory pressure (--memory-cap)" :
			       "evicted because the flow table was full (--max-flows)";
}

void diag_apply_evicted(const struct session_view *s, const struct diag_config *cfg, struct verdict *v)
{
	if (s->fi->after_eviction) {
		if (v->confidence == CONF_HIGH)
			v->confidence = CONF_MEDIUM;
		diag_appendf(v->explanation, sizeof(v->explanation),
			     " This flow is the rest of a connection the analyzer had evicted earlier (a cap was reached; its first part was reported on its own), so this verdict rests on half a dialog.");
	}
	if ((s->end != END_EVICTED && s->end != END_MEMCAP) || v->cause == CAUSE_CAPTURE_INCOMPLETE)
		return;
	if (s->fi->dir[0].rst_frame || s->fi->dir[1].rst_frame ||
	    (s->fi->dir[0].fin_frame && s->fi->dir[1].fin_frame))
		return;     /* its ending is known */
	if (proven_by_reply(v)) {
		diag_appendf(v->explanation, sizeof(v->explanation),
			     " (The analyzer stopped following the connection after this, still open: %s.)", evicted_by(s->end));
		return;
	}
	struct session_view cut = *s;
	cut.cut = evicted_by(s->end);
	diag_apply_cut(&cut, cfg, v);
}
