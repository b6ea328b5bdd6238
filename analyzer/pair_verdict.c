/*
 * pair_verdict.c - two-point analysis (see pair.h): the verdict that only
 * both views prove, written over the client side's single-end verdict of a
 * joined session. The rules, tried in order:
 *   1. a RST received at one end that the other end never sent (its
 *      capture covers the time) and that ended that end's side (a forged
 *      RST the receiver ignored, because real data beat it, does not):
 *      middlebox_reset, closed by the middlebox, high confidence; the
 *      evidence names the RST's frame and file and the other capture that
 *      lacks it;
 *   2. segments dropped in one direction that are all larger than every
 *      packet delivered in that direction, on a session that did not
 *      complete, while the other direction still works: a path MTU black
 *      hole, network_failure, high;
 *   3. a direction in which nothing was delivered after the first packet
 *      the path dropped, on a session that failed without a word from the
 *      server (network_failure, unanswered, idle_timeout, client_abort,
 *      unknown, capture_incomplete): network_failure, high; SYN-ACKs that
 *      never reached the client and a path that went dead after a silence
 *      (a stateful firewall forgetting an idle connection) are said so;
 *   4. on such a session, one segment dropped every time it was sent while
 *      other packets passed: a filter on the path, network_failure, high.
 * Random loss that TCP repaired changes nothing: the path object shows it.
 * Evidence from the server-side capture has frame 0 (the session's frames
 * are the client side's); its text names the file and the frame.
 */
#include "pair_int.h"

#include <inttypes.h>
#include <string.h>

/* A silence before the path went dead that points at an expired state. */
#define PAIR_IDLE_HINT (1 * NS_PER_SEC)

/* Puts an evidence item first (the pair's proof leads). */
static void ev_front(struct verdict *vd, uint64_t frame, sl_time ts, const char *text)
{
	uint32_t n = SL_MIN(vd->n_ev, VERDICT_MAX_EVIDENCE - 1);
	memmove(&vd->ev[1], &vd->ev[0], n * sizeof(vd->ev[0]));
	vd->ev[0].frame = frame;
	vd->ev[0].ts = ts;
	snprintf(vd->ev[0].text, sizeof(vd->ev[0].text), "%s", text);
	vd->n_ev = n + 1;
}

/* Rule 1: forged RSTs, toward the client (s2c) and/or the server (c2s). */
static bool rule_forged_rst(const struct pair *p, const struct pflow *c, struct verdict *vd)
{
	const struct path_dir *c2s = &c->dir[DIR_C2S], *s2c = &c->dir[DIR_S2C];
	if (!c2s->injected_rst && !s2c->injected_rst)
		return false;
	const struct pside *cs = &p->s[PAIR_CLIENT], *ss = &p->s[PAIR_SERVER];
	char ex[512] = "", part[384], ev[EVIDENCE_TEXT_MAX];
	size_t o = 0;
	const char *ttl = c->caddr.v == 6 ? "hop limit" : "TTL";
	/* server-side evidence first, so the client-side frame ends up first */
	for (int d = DIR_C2S; d <= DIR_S2C; d++) {
		const struct path_dir *pd = &c->dir[d];
		if (!pd->injected_rst)
			continue;
		enum pair_side rcv = d == DIR_C2S ? PAIR_SERVER : PAIR_CLIENT;
		const struct pside *rs = rcv == PAIR_CLIENT ? cs : ss;
		const struct ppkt *r = &rs->pk[pd->rst_idx];
		const char *snd = d == DIR_C2S ? "client" : "server";
		const char *rcvn = pair_side_name(rcv);
		char ttl_note[64] = "";
		if (pd->ttl_recv >= 0)
			snprintf(ttl_note, sizeof(ttl_note), "; the %s's packets arrive with %s %d", snd, ttl,
				 pd->ttl_recv);
		snprintf(part, sizeof(part),
			 "%sThe %s received a RST in the %s's name (%s frame %" PRIu64 ", %s %u%s) that the %s "
			 "never sent: the %s-side capture %s has no such RST.",
			 o ? " " : "", rcvn, snd, pair_pfile(p, rcv, r), r->frame, ttl, r->ttl, ttl_note, snd, snd,
			 p->s[!rcv].n_files ? pair_base_name(p->s[!rcv].files[0]) : "?");
		size_t w = strlen(part);
		if (o + w < sizeof(ex)) {
			memcpy(ex + o, part, w + 1);
			o += w;
		}
		snprintf(ev, sizeof(ev), "%s side, %s frame %" PRIu64 ": RST from \"%s\" with %s %u; "
			 "not in the %s's capture (%u %s packets sent, %u received here)",
			 rcvn, pair_pfile(p, rcv, r), r->frame, snd, ttl, r->ttl, snd, pd->sent, snd, pd->received);
		ev_front(vd, rcv == PAIR_CLIENT ? r->frame : 0, rcv == PAIR_CLIENT ? r->ts : 0, ev);
	}
	const char *both = c2s->injected_rst && s2c->injected_rst ? "both ends" :
			   s2c->injected_rst ? "the client" : "the server";
	snprintf(vd->explanation, sizeof(vd->explanation),
		 "%s A device on the path (a firewall or IPS) forged the reset toward %s; the captures at both "
		 "ends prove it.", ex, both);
	snprintf(vd->advice, sizeof(vd->advice),
		 "Find the firewall, IPS or SMTP proxy between the two capture points (hops: %d toward the "
		 "server, %d toward the client) and read its log for this connection; the servers are not at "
		 "fault.",
		 c2s->ttl_sent >= 0 && c2s->ttl_recv >= 0 ? c2s->ttl_sent - c2s->ttl_recv : -1,
		 s2c->ttl_sent >= 0 && s2c->ttl_recv >= 0 ? s2c->ttl_sent - s2c->ttl_recv : -1);
	vd->cause = CAUSE_MIDDLEBOX_RESET;
	vd->closed_by = BY_MIDDLEBOX;
	vd->close = CLOSE_RST;
	vd->confidence = CONF_HIGH;
	return true;
}

/* Rule 2: the PMTU black hole. */
static bool rule_blackhole(const struct pair *p, const struct pflow *c, struct verdict *vd)
{
	if (vd->cause == CAUSE_COMPLETED)
		return false;
	for (int d = DIR_C2S; d <= DIR_S2C; d++) {
		const struct path_dir *pd = &c->dir[d];
		/* a path dead both ways is not a matter of size */
		if (!pd->blackhole || c->dir[!d].tail_loss)
			continue;
		enum pair_side snd = d == DIR_C2S ? PAIR_CLIENT : PAIR_SERVER;
		const struct ppkt *k = &p->s[snd].pk[pd->drop_idx[0]];
		const char *sn = pair_side_name(snd), *rn = pair_side_name(!snd);
		char mss[96] = "";
		if (pd->mss_sent)
			snprintf(mss, sizeof(mss), " The %s's SYN offered MSS %u%s.", sn, pd->mss_sent,
				 pd->mss_recv && pd->mss_recv != pd->mss_sent ? " (clamped on the way)" : "");
		snprintf(vd->explanation, sizeof(vd->explanation),
			 "Path MTU black hole: the %s sent %u packets of %u bytes or more (IP) that never reached "
			 "the %s, while every packet of up to %u bytes got through. The %s kept sending full-sized "
			 "segments, so no ICMP \"fragmentation needed\" reached it: a link on the path has a "
			 "smaller MTU and its ICMP is filtered.%s",
			 sn, pd->dropped, pd->smallest_dropped, rn, pd->largest_delivered, sn, mss);
		snprintf(vd->advice, sizeof(vd->advice),
			 "Let ICMP type 3 code 4 (IPv6: packet too big) through on the path, or clamp the TCP MSS "
			 "on the router to the smaller link (e.g. nft 'tcp flags syn tcp option maxseg size set "
			 "rt mtu'), or lower the %s's interface MTU.", sn);
		char ev[EVIDENCE_TEXT_MAX];
		snprintf(ev, sizeof(ev), "%s side, %s frame %" PRIu64 ": %u-byte packet sent, never received "
			 "(%u such; largest delivered %u bytes)", sn, pair_pfile(p, snd, k), k->frame, k->ip_len,
			 pd->dropped, pd->largest_delivered);
		ev_front(vd, snd == PAIR_CLIENT ? k->frame : 0, snd == PAIR_CLIENT ? k->ts : 0, ev);
		vd->cause = CAUSE_NETWORK_FAILURE;
		vd->confidence = CONF_HIGH;
		return true;
	}
	return false;
}

/* The silence before time t (client clock) in a client-side flow. */
static sl_time silence_before(const struct pair *p, const struct pflow *c, sl_time t)
{
	const struct pside *cs = &p->s[PAIR_CLIENT];
	sl_time prev = 0;
	for (uint32_t i = 0; i < c->n_pk; i++) {
		const struct ppkt *k = &cs->pk[c->pk[i]];
		if (k->ts < t && k->ts > prev)
			prev = k->ts;
	}
	return prev ? t - prev : 0;
}

/* Single-end causes of a session that failed without a word from the
 * server, which the path's losses may explain. */
static bool failed_quietly(enum cause c)
{
	switch (c) {
	case CAUSE_NETWORK_FAILURE: case CAUSE_UNANSWERED: case CAUSE_IDLE_TIMEOUT:
	case CAUSE_CLIENT_ABORT: case CAUSE_UNKNOWN: case CAUSE_CAPTURE_INCOMPLETE:
		return true;
	default:
		return false;
	}
}

/* The path lost packet k that side snd sent: a network failure, not a
 * closer's act (the drop is proved, the closing device is not). */
static void path_lost(struct verdict *vd, enum pair_side snd, const struct ppkt *k, const char *ev)
{
	ev_front(vd, snd == PAIR_CLIENT ? k->frame : 0, snd == PAIR_CLIENT ? k->ts : 0, ev);
	vd->cause = CAUSE_NETWORK_FAILURE;
	vd->confidence = CONF_HIGH;
	if (vd->closed_by == BY_MIDDLEBOX)
		vd->closed_by = BY_NOBODY;
}

/* Rule 3: the path went dead (in one direction or both). */
static bool rule_path_dead(const struct pair *p, const struct pflow *c, struct verdict *vd)
{
	if (!failed_quietly(vd->cause))
		return false;
	const struct path_dir *c2s = &c->dir[DIR_C2S], *s2c = &c->dir[DIR_S2C];
	if (!c2s->tail_loss && !s2c->tail_loss)
		return false;
	char ev[EVIDENCE_TEXT_MAX];
	/* SYN-ACKs lost on the way back */
	if (s2c->tail_loss && s2c->dropped_syn && !c->has_isn[DIR_S2C]) {
		const struct ppkt *k = &p->s[PAIR_SERVER].pk[s2c->drop_idx[0]];
		snprintf(vd->explanation, sizeof(vd->explanation),
			 "The server answered the client's SYNs with %u SYN-ACKs and none reached the client: the "
			 "path from the server back to the client drops them (a firewall on the way back, or an "
			 "asymmetric route). The client saw no answer at all.", s2c->dropped_syn);
		snprintf(vd->advice, sizeof(vd->advice),
			 "Check the return path: firewall rules for traffic from the server's port %u, and the "
			 "route from the server to the client.", c->sport);
		snprintf(ev, sizeof(ev), "server side, %s frame %" PRIu64 ": SYN-ACK sent, never received (%u "
			 "SYN-ACKs sent, %u received)", pair_pfile(p, PAIR_SERVER, k), k->frame, s2c->sent,
			 s2c->received);
		ev_front(vd, 0, 0, ev);
		vd->cause = CAUSE_NETWORK_FAILURE;
		vd->closed_by = BY_NOBODY;
		vd->close = CLOSE_NONE;
		vd->confidence = CONF_HIGH;
		return true;
	}
	/* the first packet the path swallowed, in the client's clock */
	sl_time t0 = 0;
	int d0 = -1;
	for (int d = DIR_C2S; d <= DIR_S2C; d++) {
		const struct path_dir *pd = &c->dir[d];
		if (!pd->tail_loss)
			continue;
		enum pair_side snd = d == DIR_C2S ? PAIR_CLIENT : PAIR_SERVER;
		const struct ppkt *k = &p->s[snd].pk[pd->drop_idx[0]];
		sl_time t = snd == PAIR_CLIENT ? k->ts : k->ts - p->offset;
		if (d0 < 0 || t < t0) {
			t0 = t;
			d0 = d;
		}
	}
	sl_time quiet = silence_before(p, c, t0);
	char both[160];
	if (c2s->tail_loss && s2c->tail_loss)
		snprintf(both, sizeof(both), "in both directions (%u client and %u server packets sent, never "
			 "received)", c2s->dropped, s2c->dropped);
	else
		snprintf(both, sizeof(both), "from the %s to the %s (%u packets sent, never received)",
			 c2s->tail_loss ? "client" : "server", c2s->tail_loss ? "server" : "client",
			 c2s->tail_loss ? c2s->dropped : s2c->dropped);
	if (quiet >= PAIR_IDLE_HINT)
		snprintf(vd->explanation, sizeof(vd->explanation),
			 "After %.1f s without a packet, the path stopped delivering %s: a stateful firewall or "
			 "NAT on the path forgot the idle connection and drops what follows. Neither end closed "
			 "it; both captures prove the packets left and never arrived.",
			 (double)quiet / NS_PER_SEC, both);
	else
		snprintf(vd->explanation, sizeof(vd->explanation),
			 "The path stopped delivering %s; both captures prove the packets left and never arrived.",
			 both);
	snprintf(vd->advice, sizeof(vd->advice), "%s",
		 quiet >= PAIR_IDLE_HINT ?
		 "Raise the idle (established-state) timeout of the firewall or NAT between the ends above the "
		 "SMTP timeouts, or enable TCP keep-alives on the client." :
		 "Check the links and devices between the two capture points at that time.");
	enum pair_side snd = d0 == DIR_C2S ? PAIR_CLIENT : PAIR_SERVER;
	const struct ppkt *k = &p->s[snd].pk[c->dir[d0].drop_idx[0]];
	snprintf(ev, sizeof(ev), "%s side, %s frame %" PRIu64 ": first packet sent and never received "
		 "(after %.1f s of silence)", pair_side_name(snd), pair_pfile(p, snd, k), k->frame,
		 (double)quiet / NS_PER_SEC);
	path_lost(vd, snd, k, ev);
	return true;
}

/* Rule 4: one segment discarded every time it was sent while other packets
 * of the session passed: a filter on the path. */
static bool rule_stuck_segment(const struct pair *p, const struct pflow *c, struct verdict *vd)
{
	if (!failed_quietly(vd->cause))
		return false;
	for (int d = DIR_C2S; d <= DIR_S2C; d++) {
		const struct path_dir *pd = &c->dir[d];
		if (pd->stuck_copies < 2)
			continue;
		enum pair_side snd = d == DIR_C2S ? PAIR_CLIENT : PAIR_SERVER;
		const struct ppkt *k = &p->s[snd].pk[pd->stuck_idx];
		const char *sn = pair_side_name(snd);
		snprintf(vd->explanation, sizeof(vd->explanation),
			 "The path discarded the %s's %u-byte segment (%s frame %" PRIu64 ", sequence %u) every one "
			 "of the %u times it was sent, while other packets of the session got through (%u of %u "
			 "%s packets arrived): a filter on the path (an IPS, or a rule matching its content or "
			 "size) drops it.",
			 sn, k->ip_len, pair_pfile(p, snd, k), k->frame, pair_rel_seq(c, k), pd->stuck_copies,
			 pd->matched, pd->sent, sn);
		snprintf(vd->advice, sizeof(vd->advice),
			 "Find the device between the two capture points that drops this segment (%u bytes of IP) "
			 "and read its rules or its log for this connection.", k->ip_len);
		char ev[EVIDENCE_TEXT_MAX];
		snprintf(ev, sizeof(ev), "%s side, %s frame %" PRIu64 ": segment sent %u times, never received",
			 sn, pair_pfile(p, snd, k), k->frame, pd->stuck_copies);
		path_lost(vd, snd, k, ev);
		return true;
	}
	return false;
}

/* Forged RSTs the ends ignored are evidence of a device on the path
 * whatever the verdict. */
static void note_ignored_rsts(const struct pflow *c, struct verdict *vd)
{
	uint32_t tc = c->dir[DIR_S2C].injected_rst_ignored, ts = c->dir[DIR_C2S].injected_rst_ignored;
	if (!tc && !ts)
		return;
	size_t o = strlen(vd->explanation);
	snprintf(vd->explanation + o, sizeof(vd->explanation) - o,
		 " A device on the path also forged RSTs (%u toward the client, %u toward the server) that "
		 "the ends ignored: real data had already moved the sequence numbers on.", tc, ts);
}

void pair_adjust_verdict(const struct pair *p, const struct pflow *c, struct verdict *vd)
{
	if (rule_forged_rst(p, c, vd))
		return;
	if (rule_blackhole(p, c, vd))
		return;
	if (!rule_path_dead(p, c, vd))
		rule_stuck_segment(p, c, vd);
	note_ignored_rsts(c, vd);
}
