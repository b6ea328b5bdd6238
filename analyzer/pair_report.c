/*
 * pair_report.c - two-point analysis, second half: the verdict that only
 * both views prove, the `path` object (JSON and text), the pair summary,
 * and the `analyze --pair` command that drives it all (see pair.h).
 *
 * The verdict rules, tried in order on a joined session whose facts pair.c
 * computed (the single-end verdict of the client side stays otherwise):
 *   1. a RST received at one end that the other end never sent (its
 *      capture covers the time): middlebox_reset, closed by the middlebox,
 *      high confidence; the evidence names the RST's frame and file and the
 *      other capture that lacks it;
 *   2. segments dropped in one direction that are all larger than every
 *      packet delivered in that direction, on a session that did not
 *      complete: a path MTU black hole, network_failure, high;
 *   3. a direction in which nothing was delivered after the first packet
 *      the path dropped, on a session that failed without a word from the
 *      server (network_failure, unanswered, idle_timeout, client_abort,
 *      unknown, capture_incomplete): network_failure, high; SYN-ACKs that
 *      never reached the client and a path that went dead after a silence
 *      (a stateful firewall forgetting an idle connection) are said so.
 * Random loss that TCP repaired changes nothing: the path object shows it.
 */
#include "pair_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"
#include "report.h"
#include "source.h"

/* A silence before the path went dead that points at an expired state. */
#define PAIR_IDLE_HINT (1 * NS_PER_SEC)

static const char *side_name(enum pair_side s)
{
	return s == PAIR_CLIENT ? "client" : "server";
}

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');
	return b ? b + 1 : path;
}

static const char *pfile(const struct pair *p, enum pair_side s, const struct ppkt *k)
{
	return k->file < p->s[s].n_files ? base_name(p->s[s].files[k->file]) : "?";
}

static double ms(sl_time t)
{
	return (double)t / (double)NS_PER_MS;
}

static void flags_str(uint8_t fl, char *b, size_t n)
{
	static const struct { uint8_t bit; const char *name; } names[] = {
		{ TH_SYN, "SYN" }, { TH_FIN, "FIN" }, { TH_RST, "RST" }, { TH_PSH, "PSH" }, { TH_ACK, "ACK" },
	};
	size_t o = 0;
	b[0] = 0;
	for (size_t i = 0; i < SL_ARRAY_LEN(names); i++) {
		if (!(fl & names[i].bit))
			continue;
		int w = snprintf(b + o, n - o, "%s%s", o ? "," : "", names[i].name);
		if (w < 0 || (size_t)w >= n - o)
			break;
		o += (size_t)w;
	}
}

static void keep_view(struct view_verdict *vv, const struct verdict *vd)
{
	vv->set = true;
	vv->cause = vd->cause;
	vv->closed_by = vd->closed_by;
	vv->close = vd->close;
	vv->phase = vd->phase;
	vv->confidence = vd->confidence;
}

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

/* ---- the verdict ---- */

/* Rule 1: forged RSTs, toward the client (s2c) and/or the server (c2s). */
static bool rule_forged_rst(const struct pair *p, const struct pflow *c, struct verdict *vd)
{
	const struct path_dir *c2s = &c->dir[DIR_C2S], *s2c = &c->dir[DIR_S2C];
	if (!c2s->injected_rst && !s2c->injected_rst)
		return false;
	const struct pside *cs = &p->s[PAIR_CLIENT], *ss = &p->s[PAIR_SERVER];
	char ex[512] = "", part[384], ev[EVIDENCE_TEXT_MAX];
	size_t o = 0;
	/* server-side evidence first, so the client-side frame ends up first */
	for (int d = DIR_C2S; d <= DIR_S2C; d++) {
		const struct path_dir *pd = &c->dir[d];
		if (!pd->injected_rst)
			continue;
		enum pair_side rcv = d == DIR_C2S ? PAIR_SERVER : PAIR_CLIENT;
		const struct pside *rs = rcv == PAIR_CLIENT ? cs : ss;
		const struct ppkt *r = NULL;
		for (uint32_t i = 0; i < pd->n_inj_idx; i++)
			if (rs->pk[pd->inj_idx[i]].flags & TH_RST) {
				r = &rs->pk[pd->inj_idx[i]];
				break;
			}
		if (!r)
			continue;
		const char *snd = d == DIR_C2S ? "client" : "server";
		const char *rcvn = side_name(rcv);
		char ttl_note[64] = "";
		if (pd->ttl_recv >= 0)
			snprintf(ttl_note, sizeof(ttl_note), "; the %s's packets arrive with TTL %d", snd,
				 pd->ttl_recv);
		snprintf(part, sizeof(part),
			 "%sThe %s received a RST in the %s's name (%s frame %" PRIu64 ", TTL %u%s) that the %s "
			 "never sent: the %s-side capture %s has no such RST.",
			 o ? " " : "", rcvn, snd, pfile(p, rcv, r), r->frame, r->ttl, ttl_note, snd, snd,
			 p->s[!rcv].n_files ? base_name(p->s[!rcv].files[0]) : "?");
		size_t w = strlen(part);
		if (o + w < sizeof(ex)) {
			memcpy(ex + o, part, w + 1);
			o += w;
		}
		snprintf(ev, sizeof(ev), "%s side, %s frame %" PRIu64 ": RST from \"%s\" with TTL %u; "
			 "not in the %s's capture (%u %s packets sent, %u received here)",
			 rcvn, pfile(p, rcv, r), r->frame, snd, r->ttl, snd, pd->sent, snd, pd->received);
		ev_front(vd, rcv == PAIR_CLIENT ? r->frame : 0, rcv == PAIR_CLIENT ? r->ts : 0, ev);
	}
	const char *both = c2s->injected_rst && s2c->injected_rst ? "both ends" :
			   s2c->injected_rst ? "the client" : "the server";
	snprintf(vd->explanation, sizeof(vd->explanation),
		 "%s A device on the path (a firewall or IPS) forged the reset toward %s; the captures at both "
		 "ends prove it.", ex, both);
	snprintf(vd->advice, sizeof(vd->advice),
		 "Find the firewall, IPS or SMTP proxy between the two capture points (TTL hops: %d toward the "
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
		const char *sn = side_name(snd), *rn = side_name(!snd);
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
			 "(%u such; largest delivered %u bytes)", sn, pfile(p, snd, k), k->frame, k->ip_len,
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

/* Rule 3: the path went dead (in one direction or both). */
static bool rule_path_dead(const struct pair *p, const struct pflow *c, struct verdict *vd)
{
	switch (vd->cause) {
	case CAUSE_NETWORK_FAILURE: case CAUSE_UNANSWERED: case CAUSE_IDLE_TIMEOUT:
	case CAUSE_CLIENT_ABORT: case CAUSE_UNKNOWN: case CAUSE_CAPTURE_INCOMPLETE:
		break;
	default:
		return false;
	}
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
			 "SYN-ACKs sent, %u received)", pfile(p, PAIR_SERVER, k), k->frame, s2c->sent,
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
		 "(after %.1f s of silence)", side_name(snd), pfile(p, snd, k), k->frame,
		 (double)quiet / NS_PER_SEC);
	ev_front(vd, snd == PAIR_CLIENT ? k->frame : 0, snd == PAIR_CLIENT ? k->ts : 0, ev);
	vd->cause = CAUSE_NETWORK_FAILURE;
	vd->confidence = CONF_HIGH;
	if (vd->closed_by == BY_MIDDLEBOX)
		vd->closed_by = BY_NOBODY;
	return true;
}

static void adjust_verdict(const struct pair *p, const struct pflow *c, struct verdict *vd)
{
	if (rule_forged_rst(p, c, vd))
		return;
	if (rule_blackhole(p, c, vd))
		return;
	rule_path_dead(p, c, vd);
}

/* ---- the hook ---- */

static void path_json(FILE *f, const void *ctx);
static void path_text(FILE *f, const void *ctx);

bool pair_session_hook(void *ctx, struct session_view *v, struct verdict *vd)
{
	struct pair *p = ctx;
	struct pflow *f = pair_find_flow(p, p->pass, v->fi);
	struct pflow *c = NULL;
	if (f && f->peer >= 0) {
		if (p->pass == PAIR_SERVER) {
			/* reported once, from the client side */
			keep_view(&p->s[PAIR_CLIENT].fl[f->peer].server_view, vd);
			return false;
		}
		c = f;
		keep_view(&c->client_view, vd);
		adjust_verdict(p, c, vd);
	}
	p->ectx.p = p;
	p->ectx.side = p->pass;
	p->ectx.f = f;
	p->extra.key = "path";
	p->extra.json = path_json;
	p->extra.text = path_text;
	p->extra.ctx = &p->ectx;
	v->extra = &p->extra;
	return true;
}

void pair_set_pass(struct pair *p, enum pair_side side)
{
	p->pass = side;
}

/* ---- JSON ---- */

static void jaddr(FILE *f, const struct sl_addr *a, uint16_t port)
{
	char b[SL_ADDRSTRLEN];
	fputs("{\"ip\":", f);
	sl_addr_str(a, b, sizeof(b));
	json_write_string(f, b, strlen(b));
	fprintf(f, ",\"port\":%u}", port);
}

static void jstr(FILE *f, const char *s)
{
	json_write_string(f, s, strlen(s));
}

static void jview(FILE *f, const struct view_verdict *vv)
{
	if (!vv->set) {
		fputs("null", f);
		return;
	}
	fprintf(f, "{\"cause\":\"%s\",\"closed_by\":\"%s\",\"close\":\"%s\",\"phase\":\"%s\",\"confidence\":\"%s\"}",
		cause_name(vv->cause), closed_by_name(vv->closed_by), close_kind_name(vv->close),
		verdict_phase_name(vv->phase), confidence_name(vv->confidence));
}

static void jend(FILE *f, const struct pair *p, enum pair_side s, const struct pflow *fl)
{
	fputs("{\"file\":", f);
	const struct ppkt *k = &p->s[s].pk[fl->first_pkt];
	jstr(f, p->s[s].files[k->file]);
	fprintf(f, ",\"first_frame\":%" PRIu64 ",\"client\":", k->frame);
	jaddr(f, &fl->caddr, fl->cport);
	fputs(",\"server\":", f);
	jaddr(f, &fl->saddr, fl->sport);
	fputc('}', f);
}

static void jpkts(FILE *f, const struct pair *p, enum pair_side s, const struct pflow *fl,
		  const uint32_t *idx, uint32_t n, bool injected, int sender_ttl)
{
	fputc('[', f);
	for (uint32_t i = 0; i < n; i++) {
		const struct ppkt *k = &p->s[s].pk[idx[i]];
		char fl_s[32], t[40];
		flags_str(k->flags, fl_s, sizeof(fl_s));
		fprintf(f, "%s{\"file\":", i ? "," : "");
		jstr(f, pfile(p, s, k));
		fprintf(f, ",\"frame\":%" PRIu64 ",\"time\":\"%s\",\"seq\":%u,\"len\":%u,\"ip_len\":%u,\"flags\":\"%s\",\"ttl\":%u",
			k->frame, sl_time_str(k->ts, t, sizeof(t)), pair_rel_seq(fl, k), k->len, k->ip_len, fl_s,
			k->ttl);
		if (injected) {
			fputs(",\"sender_ttl\":", f);
			if (sender_ttl >= 0)
				fprintf(f, "%d", sender_ttl);
			else
				fputs("null", f);
			fprintf(f, ",\"ip_id\":%u", k->ip_id);
		}
		fputc('}', f);
	}
	fputc(']', f);
}

static void jdir(FILE *f, const struct pair *p, const struct pflow *c, int d)
{
	const struct path_dir *pd = &c->dir[d];
	enum pair_side snd = d == DIR_C2S ? PAIR_CLIENT : PAIR_SERVER;
	const struct pflow *s = &p->s[PAIR_SERVER].fl[c->peer];
	const struct pflow *sf = snd == PAIR_CLIENT ? c : s, *rf = snd == PAIR_CLIENT ? s : c;
	fprintf(f, "{\"sent\":%u,\"received\":%u,\"dropped\":%u,\"injected\":%u,\"reordered\":%u,\"delay_ms\":",
		pd->sent, pd->received, pd->dropped, pd->injected, pd->reordered);
	if (pd->has_delay)
		fprintf(f, "{\"min\":%.3f,\"median\":%.3f,\"max\":%.3f}", ms(pd->delay_min), ms(pd->delay_med),
			ms(pd->delay_max));
	else
		fputs("null", f);
	if (pd->ttl_sent >= 0 && pd->ttl_recv >= 0)
		fprintf(f, ",\"ttl_sent\":%d,\"ttl_received\":%d,\"hops\":%d", pd->ttl_sent, pd->ttl_recv,
			pd->ttl_sent - pd->ttl_recv);
	else
		fputs(",\"ttl_sent\":null,\"ttl_received\":null,\"hops\":null", f);
	fputs(",\"mss_sent\":", f);
	if (pd->mss_sent)
		fprintf(f, "%u", pd->mss_sent);
	else
		fputs("null", f);
	fputs(",\"mss_received\":", f);
	if (pd->mss_recv)
		fprintf(f, "%u", pd->mss_recv);
	else
		fputs("null", f);
	fprintf(f, ",\"mss_clamped\":%s,\"largest_delivered\":%u,\"smallest_dropped\":",
		pd->mss_sent && pd->mss_recv && pd->mss_recv < pd->mss_sent ? "true" : "false",
		pd->largest_delivered);
	if (pd->smallest_dropped)
		fprintf(f, "%u", pd->smallest_dropped);
	else
		fputs("null", f);
	fprintf(f, ",\"mtu_blackhole\":%s,\"dead_after_drop\":%s,\"dropped_packets\":",
		pd->blackhole ? "true" : "false", pd->tail_loss ? "true" : "false");
	jpkts(f, p, snd, sf, pd->drop_idx, pd->n_drop_idx, false, -1);
	fputs(",\"injected_packets\":", f);
	jpkts(f, p, !snd, rf, pd->inj_idx, pd->n_inj_idx, true, pd->ttl_recv);
	fputc('}', f);
}

static const char *how_name(enum join_how h)
{
	switch (h) {
	case JOIN_TUPLE: return "tuple";
	case JOIN_ISN: return "isn";
	case JOIN_FINGERPRINT: return "fingerprint";
	case JOIN_NONE: break;
	}
	return "none";
}

static void path_json(FILE *f, const void *ctx)
{
	const struct pair_extra_ctx *e = ctx;
	const struct pair *p = e->p;
	const struct pflow *fl = e->f;
	if (!fl || fl->peer < 0 || e->side != PAIR_CLIENT) {
		fprintf(f, "{\"seen_at\":\"%s\",\"clock_offset\":", side_name(e->side));
		if (p->has_offset)
			fprintf(f, "%.6f", (double)p->offset / NS_PER_SEC);
		else
			fputs("null", f);
		if (fl) {
			fprintf(f, ",\"%s_side\":", side_name(e->side));
			jend(f, p, e->side, fl);
		}
		fputc('}', f);
		return;
	}
	const struct pflow *s = &p->s[PAIR_SERVER].fl[fl->peer];
	fprintf(f, "{\"seen_at\":\"both\",\"join\":\"%s\",\"clock_offset\":%.6f,\"client_side\":", how_name(fl->how),
		(double)p->offset / NS_PER_SEC);
	jend(f, p, PAIR_CLIENT, fl);
	fputs(",\"server_side\":", f);
	jend(f, p, PAIR_SERVER, s);
	fputs(",\"client_view\":", f);
	jview(f, &fl->client_view);
	fputs(",\"server_view\":", f);
	jview(f, &fl->server_view);
	bool crw = !sl_addr_eq(&fl->caddr, &s->caddr) || fl->cport != s->cport;
	bool srw = !sl_addr_eq(&fl->saddr, &s->saddr) || fl->sport != s->sport;
	fprintf(f, ",\"nat\":{\"client_rewritten\":%s,\"server_rewritten\":%s,\"seq_rewritten\":%s}",
		crw ? "true" : "false", srw ? "true" : "false",
		fl->seq_delta[0] || fl->seq_delta[1] ? "true" : "false");
	fputs(",\"c2s\":", f);
	jdir(f, p, fl, DIR_C2S);
	fputs(",\"s2c\":", f);
	jdir(f, p, fl, DIR_S2C);
	fputc('}', f);
}

/* ---- text ---- */

static void tdir(FILE *f, const struct pair *p, const struct pflow *c, int d)
{
	const struct path_dir *pd = &c->dir[d];
	fprintf(f, "    %s  sent %u, received %u, dropped %u, injected %u, reordered %u", d == DIR_C2S ? "c2s" : "s2c",
		pd->sent, pd->received, pd->dropped, pd->injected, pd->reordered);
	if (pd->ttl_sent >= 0 && pd->ttl_recv >= 0)
		fprintf(f, ", %d hop%s", pd->ttl_sent - pd->ttl_recv, pd->ttl_sent - pd->ttl_recv == 1 ? "" : "s");
	fputc('\n', f);
	if (pd->has_delay)
		fprintf(f, "         delay %.3f / %.3f / %.3f ms (min / median / max)\n", ms(pd->delay_min),
			ms(pd->delay_med), ms(pd->delay_max));
	if (pd->mss_sent || pd->mss_recv)
		fprintf(f, "         MSS %u sent, %s%.0u received%s\n", pd->mss_sent, pd->mss_recv ? "" : "none",
			pd->mss_recv, pd->mss_sent && pd->mss_recv && pd->mss_recv < pd->mss_sent ? " (clamped)" : "");
	if (pd->blackhole)
		fprintf(f, "         MTU black hole: nothing of %u bytes or more arrived (largest delivered %u)\n",
			pd->smallest_dropped, pd->largest_delivered);
	enum pair_side snd = d == DIR_C2S ? PAIR_CLIENT : PAIR_SERVER;
	for (uint32_t i = 0; i < pd->n_inj_idx; i++) {
		const struct ppkt *k = &p->s[!snd].pk[pd->inj_idx[i]];
		char fl_s[32];
		flags_str(k->flags, fl_s, sizeof(fl_s));
		fprintf(f, "         injected: %s frame %" PRIu64 " %s TTL %u (the %s's packets: TTL %d)\n",
			pfile(p, !snd, k), k->frame, fl_s, k->ttl, side_name(snd), pd->ttl_recv);
	}
	if (pd->n_drop_idx) {
		fprintf(f, "         dropped: %s frames", pfile(p, snd, &p->s[snd].pk[pd->drop_idx[0]]));
		for (uint32_t i = 0; i < pd->n_drop_idx; i++)
			fprintf(f, " %" PRIu64, p->s[snd].pk[pd->drop_idx[i]].frame);
		fprintf(f, "%s\n", pd->dropped > pd->n_drop_idx ? " ..." : "");
	}
}

static void path_text(FILE *f, const void *ctx)
{
	const struct pair_extra_ctx *e = ctx;
	const struct pair *p = e->p;
	const struct pflow *fl = e->f;
	if (!fl || fl->peer < 0 || e->side != PAIR_CLIENT) {
		fprintf(f, "  path      seen at the %s only", side_name(e->side));
		if (fl)
			fprintf(f, " (%s)", pfile(p, e->side, &p->s[e->side].pk[fl->first_pkt]));
		fputc('\n', f);
		return;
	}
	const struct pflow *s = &p->s[PAIR_SERVER].fl[fl->peer];
	char a[SL_ADDRSTRLEN], b[SL_ADDRSTRLEN];
	fprintf(f, "  path      joined by %s, server clock %+.6f s from the client's\n", how_name(fl->how),
		(double)p->offset / NS_PER_SEC);
	if (!sl_addr_eq(&fl->caddr, &s->caddr) || fl->cport != s->cport)
		fprintf(f, "    NAT  client %s:%u is %s:%u at the server\n", sl_addr_str(&fl->caddr, a, sizeof(a)),
			fl->cport, sl_addr_str(&s->caddr, b, sizeof(b)), s->cport);
	if (!sl_addr_eq(&fl->saddr, &s->saddr) || fl->sport != s->sport)
		fprintf(f, "    NAT  server %s:%u is %s:%u at the client\n", sl_addr_str(&s->saddr, a, sizeof(a)),
			s->sport, sl_addr_str(&fl->saddr, b, sizeof(b)), fl->sport);
	if (fl->server_view.set)
		fprintf(f, "    server's view: %s (closed by %s, %s)\n", cause_name(fl->server_view.cause),
			closed_by_name(fl->server_view.closed_by), close_kind_name(fl->server_view.close));
	tdir(f, p, fl, DIR_C2S);
	tdir(f, p, fl, DIR_S2C);
}

/* ---- summary ---- */

void pair_summary(const struct pair *p, FILE *f, bool json)
{
	if (json) {
		fputs("{\"type\":\"pair\",\"client_files\":[", f);
		for (int s = 0; s < 2; s++) {
			if (s)
				fputs("],\"server_files\":[", f);
			for (uint32_t i = 0; i < p->s[s].n_files; i++) {
				if (i)
					fputc(',', f);
				jstr(f, p->s[s].files[i]);
			}
		}
		fputs("],\"clock_offset\":", f);
		if (p->has_offset)
			fprintf(f, "%.6f", (double)p->offset / NS_PER_SEC);
		else
			fputs("null", f);
		fprintf(f, ",\"offset_samples\":%u,\"flows\":{\"client\":%u,\"server\":%u},\"joined\":%u,"
			   "\"joined_by\":{\"tuple\":%u,\"isn\":%u,\"fingerprint\":%u},\"client_only\":%u,\"server_only\":%u,"
			   "\"packets_not_kept\":{\"client\":%" PRIu64 ",\"server\":%" PRIu64 "}}\n",
			p->offset_samples, p->s[0].n_fl, p->s[1].n_fl, p->n_joined, p->by_how[JOIN_TUPLE],
			p->by_how[JOIN_ISN], p->by_how[JOIN_FINGERPRINT], p->n_only[0], p->n_only[1],
			p->s[0].pk_over_cap, p->s[1].pk_over_cap);
		return;
	}
	fprintf(f, "pair: %u TCP flows joined (%u by addresses and ports, %u by ISN through NAT, %u by payload), "
		   "%u at the client only, %u at the server only\n",
		p->n_joined, p->by_how[JOIN_TUPLE], p->by_how[JOIN_ISN], p->by_how[JOIN_FINGERPRINT], p->n_only[0],
		p->n_only[1]);
	if (p->has_offset)
		fprintf(f, "pair: server clock %+.6f s from the client's (%u matched packets)\n",
			(double)p->offset / NS_PER_SEC, p->offset_samples);
	for (int s = 0; s < 2; s++)
		if (p->s[s].pk_over_cap)
			fprintf(f, "pair: %" PRIu64 " %s-side packets past the %u-packet cap were not joined\n",
				p->s[s].pk_over_cap, side_name((enum pair_side)s), PAIR_MAX_PACKETS);
}

/* ---- the command ---- */

struct file_start {
	char *path;
	sl_time first;
};

static int by_first(const void *a, const void *b)
{
	const struct file_start *x = a, *y = b;
	return (x->first > y->first) - (x->first < y->first);
}

/* Splits a comma-separated list and orders the files by their first
 * record's time (rotated files in any order). Returns the count, -1 on
 * error. */
static int side_files(const char *list, struct file_start *out, char *err, size_t errlen)
{
	char *dup = strdup(list);
	int n = 0;
	if (!dup) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (char *save = NULL, *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (n == PAIR_MAX_FILES) {
			snprintf(err, errlen, "more than %d files for one side", PAIR_MAX_FILES);
			goto fail;
		}
		out[n].path = strdup(t);
		if (!out[n].path) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		out[n].first = 0;
		struct source *src = source_open_file(t, err, errlen);
		n++;
		if (!src)
			goto fail;
		struct raw_packet raw;
		char e2[256];
		if (source_next(src, &raw, e2, sizeof(e2)) > 0)
			out[n - 1].first = raw.ts;
		source_close(src);
	}
	free(dup);
	qsort(out, (size_t)n, sizeof(*out), by_first);
	return n;
fail:
	for (int i = 0; i < n; i++)
		free(out[i].path);
	free(dup);
	return -1;
}

/* One pipeline pass over one side's files. */
static bool run_side(const struct pipeline_config *base, struct pair *p, enum pair_side side,
		     struct file_start *files, int n, bool summary)
{
	struct pipeline_config cfg = *base;
	cfg.session_hook = pair_session_hook;
	cfg.hook_ctx = p;
	cfg.no_summary = !summary;
	cfg.extract_dir = NULL;
	char err[512];
	struct pipeline *pl = pipeline_new(&cfg, err, sizeof(err));
	if (!pl) {
		fprintf(stderr, "smtpsleuth: %s\n", err);
		return false;
	}
	pair_set_pass(p, side);
	bool ok = true;
	for (int i = 0; i < n; i++) {
		struct source *src = source_open_file(files[i].path, err, sizeof(err));
		if (!src) {
			fprintf(stderr, "smtpsleuth: %s\n", err);
			pipeline_input_error(pl, err);
			ok = false;
			continue;
		}
		pipeline_set_input(pl, files[i].path);
		struct raw_packet raw;
		int r;
		while ((r = source_next(src, &raw, err, sizeof(err))) > 0)
			pipeline_feed(pl, &raw);
		source_close(src);
		if (r < 0) {
			fprintf(stderr, "smtpsleuth: %s\n", err);
			pipeline_input_error(pl, err);
			ok = false;
		}
	}
	pipeline_finish(pl);
	pipeline_free(pl);
	return ok;
}

int pair_analyze(const struct pipeline_config *cfg, const char *client_side, const char *server_side)
{
	struct file_start files[2][PAIR_MAX_FILES];
	int n[2];
	char err[512];
	const char *lists[2] = { client_side, server_side };
	for (int s = 0; s < 2; s++) {
		n[s] = side_files(lists[s], files[s], err, sizeof(err));
		if (n[s] < 0) {
			fprintf(stderr, "smtpsleuth: %s side: %s\n", side_name((enum pair_side)s), err);
			if (s)
				for (int i = 0; i < n[0]; i++)
					free(files[0][i].path);
			return 1;
		}
	}
	int rc = 0;
	struct pair *p = pair_new();
	if (!p) {
		fprintf(stderr, "smtpsleuth: out of memory\n");
		rc = 1;
		goto out;
	}
	for (int s = 0; s < 2; s++)
		for (int i = 0; i < n[s]; i++)
			if (!pair_read(p, (enum pair_side)s, files[s][i].path, err, sizeof(err))) {
				fprintf(stderr, "smtpsleuth: %s\n", err);
				rc = 1;
			}
	pair_join(p);
	/* the server side first: its joined sessions are held back and
	 * their verdicts kept for the client-side report */
	if (!run_side(cfg, p, PAIR_SERVER, files[1], n[1], false))
		rc = 1;
	if (!run_side(cfg, p, PAIR_CLIENT, files[0], n[0], true))
		rc = 1;
	pair_summary(p, cfg->report.out, cfg->report.json);
	if (fflush(cfg->report.out) != 0 || ferror(cfg->report.out))
		rc = 1;
out:
	pair_free(p);
	for (int s = 0; s < 2; s++)
		for (int i = 0; i < n[s]; i++)
			free(files[s][i].path);
	return rc;
}
