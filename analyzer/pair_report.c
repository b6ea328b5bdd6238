/*
 * pair_report.c - two-point analysis (see pair.h): the pipeline's session
 * hook (a joined server-side session is held back and its verdict kept; a
 * joined client-side session gets the two-view verdict), the `path` object
 * in JSON and text (every key is described in docs/pair.md), and the pair
 * summary line.
 */
#include "pair_int.h"
#include "pkt.h"

#include <inttypes.h>
#include <string.h>

#include "report.h"

const char *pair_side_name(enum pair_side s)
{
	return s == PAIR_CLIENT ? "client" : "server";
}

const char *pair_base_name(const char *path)
{
	const char *b = strrchr(path, '/');
	return b ? b + 1 : path;
}

const char *pair_pfile(const struct pair *p, enum pair_side s, const struct ppkt *k)
{
	return k->file < p->s[s].n_files ? pair_base_name(p->s[s].files[k->file]) : "?";
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
		pair_adjust_verdict(p, c, vd);
	}
	p->ectx.p = p;
	p->ectx.side = p->pass;
	p->ectx.f = f;
	p->extra.key = "path";
	p->extra.json = path_json;
	p->extra.text = path_text;
	p->extra.ctx = &p->ectx;
	p->extra.seen_only_at = p->pass == PAIR_SERVER ? "server" : NULL;
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
		jstr(f, pair_pfile(p, s, k));
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
	fprintf(f, ",\"mtu_blackhole\":%s,\"dead_after_drop\":%s,\"forged_rst\":%u,\"forged_rst_ignored\":%u,"
		   "\"discarded_segment_copies\":%u,\"dropped_packets\":",
		pd->blackhole ? "true" : "false", pd->tail_loss ? "true" : "false", pd->injected_rst,
		pd->injected_rst_ignored, pd->stuck_copies);
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
		fprintf(f, "{\"seen_at\":\"%s\",\"clock_offset\":", pair_side_name(e->side));
		if (p->has_offset)
			fprintf(f, "%.6f", (double)p->offset / NS_PER_SEC);
		else
			fputs("null", f);
		if (fl) {
			fprintf(f, ",\"%s_side\":", pair_side_name(e->side));
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
		const char *ttl = c->caddr.v == 6 ? "hop limit" : "TTL";
		fprintf(f, "         injected: %s frame %" PRIu64 " %s %s %u (the %s's packets: %d)\n",
			pair_pfile(p, !snd, k), k->frame, fl_s, ttl, k->ttl, pair_side_name(snd), pd->ttl_recv);
	}
	if (pd->n_drop_idx) {
		fprintf(f, "         dropped: %s frames", pair_pfile(p, snd, &p->s[snd].pk[pd->drop_idx[0]]));
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
		fprintf(f, "  path      seen at the %s only", pair_side_name(e->side));
		if (fl)
			fprintf(f, " (%s)", pair_pfile(p, e->side, &p->s[e->side].pk[fl->first_pkt]));
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
				p->s[s].pk_over_cap, pair_side_name((enum pair_side)s), PAIR_MAX_PACKETS);
}
