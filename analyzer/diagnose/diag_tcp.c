/*
 * diag_tcp.c - diagnosis rules read from TCP alone: a SYN refused or never
 * answered (also SYN-ACKs lost on the way back), a one-sided capture, a
 * server that accepts and closes before any greeting, an injected RST (TTL
 * far off, or one hop closer than a constant-TTL peer; missing TCP
 * timestamps raise the confidence), a flow that stalls in retransmissions
 * (then a RST, a FIN after the stall, silence or the end of the capture;
 * full-sized stalled segments are named as an MTU black hole).
 * Pure, like the rest of the diagnosis (diagnose.c's table gives their
 * order: T1, T2, T3, G1, M1, N1 in the places docs/RULES.md gives them).
 * Captures from real faulty networks pin these rules:
 * tests/data/netfault/MANIFEST.md.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "diag_int.h"

/* Why a RST does not look like its side's own (rule M1). */
enum rst_oddity {
	RST_FITS,
	RST_TTL_FAR,        /* TTL outside the side's range by more than the tolerance */
	RST_TTL_CLOSER,     /* TTL above a constant TTL: fewer hops than the side */
};

static enum rst_oddity rst_out_of_line(const struct tcp_dir_stats *st, bool *no_ts)
{
	*no_ts = false;
	if (!st->rst_frame || st->packets <= st->rsts || !st->ttl_first)
		return RST_FITS;
	uint64_t own = st->packets - st->rsts;
	/* The side negotiated timestamps and put them on every packet of its
	 * own, but not on the RST. */
	*no_ts = !st->rst_has_ts && st->ts_opt_packets >= DIAG_RST_MIN_TS_PACKETS && st->ts_opt_packets == own;
	if ((int)st->rst_ttl + DIAG_TTL_TOLERANCE < (int)st->ttl_min ||
	    (int)st->rst_ttl > (int)st->ttl_max + DIAG_TTL_TOLERANCE)
		return RST_TTL_FAR;
	/* Routes rarely get shorter within a session: a RST that arrives with
	 * more TTL left than every other packet of a side whose TTL never
	 * varied came from a device closer than that side. */
	if (st->ttl_min == st->ttl_max && st->rst_ttl > st->ttl_max && (own >= DIAG_RST_MIN_PACKETS || *no_ts))
		return RST_TTL_CLOSER;
	return RST_FITS;
}

/* T1: the SYN answered by a RST. */
bool diag_t1_refused(struct dctx *d)
{
	const struct flow_info *fi = d->fi;
	const struct tcp_dir_stats *c = &fi->dir[DIR_C2S], *s = &fi->dir[DIR_S2C];
	char b[32];
	if (!fi->refused)
		return false;
	diag_set_cause(d, CAUSE_CONNECTION_REFUSED, CONF_HIGH);
	d->v->phase = PH_CONNECT;
	d->v->closed_by = BY_SERVER;
	d->v->close = CLOSE_RST;
	EXPLAIN(d, "The server answered the SYN with a RST %s later: nothing listens on port %u of %s, or a firewall rejects the connection.",
		diag_dur(s->rst_ts - c->first_ts, b, sizeof(b)), fi->server_port, "the server");
	diag_evidence(d, c->first_frame, c->first_ts, "SYN from the client");
	diag_evidence(d, s->rst_frame, s->rst_ts, "RST from the server in answer to the SYN");
	diag_advise(d, "Server side: start the SMTP service on this port or open the firewall; client side: check the host name and port.");
	return true;
}

/* T2: nothing from the server, but the client sent payload. */
bool diag_t2_one_sided(struct dctx *d)
{
	const struct flow_info *fi = d->fi;
	const struct tcp_dir_stats *c = &fi->dir[DIR_C2S], *s = &fi->dir[DIR_S2C];
	if (s->packets || !c->bytes)
		return false;
	/* The client spoke, so a handshake happened that the capture did not see. */
	diag_set_cause(d, CAUSE_CAPTURE_INCOMPLETE, CONF_MEDIUM);
	diag_set_closer(d);
	EXPLAIN(d, "Only the client's side of the connection is in the capture (%" PRIu64 " bytes from the client, none from the server): the server's replies and its close cannot be known (asymmetric routing or a one-sided capture).",
		c->bytes);
	if (d->f->last_cmd)
		EXPLAIN(d, " The client's last command was %s.", verdict_cmd_name(d->f->last_cmd));
	diag_say_closer(d);
	diag_close_evidence(d);
	diag_advise(d, "Capture both directions of the traffic (same interface for both routes, or a tap that sees both).");
	return true;
}

/* T3: SYNs and nothing from the server; T3b: SYN-ACKs seen but lost on the
 * way back (the client only retried its SYN). */
bool diag_t3_unanswered(struct dctx *d)
{
	const struct flow_info *fi = d->fi;
	const struct tcp_dir_stats *c = &fi->dir[DIR_C2S], *s = &fi->dir[DIR_S2C];
	char b[32];
	if (s->packets && fi->synack_seen && !fi->handshake_done && c->packets && c->packets == c->syns &&
	    s->packets == s->syns && !c->bytes && (c->syns >= 2 || s->syns >= 2)) {
		/* T3b: the capture sees both, but the client keeps retrying its SYN:
		 * the SYN-ACKs never reach it. */
		diag_set_cause(d, CAUSE_UNANSWERED, CONF_MEDIUM);
		d->v->phase = PH_CONNECT;
		diag_set_closer(d);
		EXPLAIN(d, "The client sent %u SYNs over %s and the server answered with %u SYN-ACKs, but the client never completed the handshake and kept retrying: the SYN-ACKs are lost on the way back (a firewall or an asymmetric route drops them), or the SYNs come from a forged address.",
			c->syns, diag_dur(c->last_ts - c->first_ts, b, sizeof(b)), s->syns);
		diag_evidence(d, c->first_frame, c->first_ts, "SYN from the client");
		diag_evidence(d, s->first_frame, s->first_ts, "SYN-ACK from the server, never acknowledged");
		diag_evidence(d, c->last_frame, c->last_ts, "last SYN from the client (attempt %u)", c->syns);
		diag_advise(d, "Check the return path from the server to the client: firewalls or NAT between them that drop the server's SYN-ACKs, asymmetric routing.");
		return true;
	}
	if (s->packets || c->bytes)
		return false;
	if (!fi->syn_seen && !c->packets)
		return false;
	diag_set_cause(d, CAUSE_UNANSWERED, c->syns >= 2 || d->s->end == END_IDLE ? CONF_HIGH : CONF_MEDIUM);
	d->v->phase = PH_CONNECT;
	diag_set_closer(d);
	EXPLAIN(d, "The client sent %u SYN%s over %s and the server never answered: the host is down, or a firewall drops the traffic.",
		c->syns ? c->syns : 1, c->syns > 1 ? "s" : "", diag_dur(c->last_ts - c->first_ts, b, sizeof(b)));
	if (c->syns <= 1 && d->s->end == END_CAPTURE_END)
		EXPLAIN(d, " Only one SYN was seen before the capture ended, so the capture may also have been cut early.");
	const struct timeline *tl = d->s->tl;
	for (uint32_t i = 0; tl && i < tl_count(tl); i++) {
		const struct event *e = tl_at(tl, i);
		if (e->kind == EV_SYN)
			diag_evidence(d, e->frame, e->ts, "SYN from the client (attempt %" PRIu64 ")", e->num ? e->num : 1);
	}
	if (!d->v->n_ev)
		diag_evidence(d, c->first_frame, c->first_ts, "SYN from the client");
	diag_advise(d, "Check that the server is up and reachable: routing, firewalls (the port may be filtered, often port 25 by the ISP), DNS/MX records pointing at the right host.");
	return true;
}

/* G1: accepted, no byte from the server, and the server closed first. */
bool diag_g1_no_greeting(struct dctx *d)
{
	const struct smtp_facts *f = d->f;
	const struct tcp_dir_stats *s = &d->fi->dir[DIR_S2C];
	char b[32];
	if (f->greeting.code || s->bytes || s->gaps || s->gap_bytes || s->payload_packets ||
	    f->implicit_tls || !d->fi->synack_seen)
		return false;
	if (d->first.dir != DIR_S2C)
		return false;
	sl_time after = d->first.ts - (d->fi->dir[DIR_S2C].first_ts ? d->fi->dir[DIR_S2C].first_ts : d->fi->first_ts);
	diag_set_cause(d, CAUSE_IP_FILTERED, after <= DIAG_QUICK_CLOSE ? CONF_MEDIUM : CONF_LOW);
	diag_set_closer(d);
	d->v->phase = PH_CONNECT;
	EXPLAIN(d, "The server accepted the TCP connection and closed it with %s %s later without sending any greeting: it refuses this client (address filter, blocklist, tarpit or connection limit) before SMTP begins.",
		d->first.rst ? "a RST" : "a FIN", diag_dur(after, b, sizeof(b)));
	if (d->fi->dir[DIR_C2S].bytes)
		EXPLAIN(d, " The client still sent %" PRIu64 " bytes, which the server's stack answered as a closed socket.",
			d->fi->dir[DIR_C2S].bytes);
	diag_evidence(d, s->first_frame, s->first_ts, "SYN-ACK from the server (connection accepted)");
	diag_close_evidence(d);
	diag_advise(d, "Server side: check connection-level filters (firewall rules, postscreen or a DNSBL check at connect, per-address limits); client side: send from an address with a good reputation or through the provider's relay.");
	return true;
}

/* M1: the first close is a RST its side most likely did not send. */
bool diag_m1_middlebox(struct dctx *d)
{
	if (d->first.dir < 0 || !d->first.rst)
		return false;
	const struct tcp_dir_stats *st = &d->fi->dir[d->first.dir];
	bool no_ts;
	enum rst_oddity odd = rst_out_of_line(st, &no_ts);
	if (odd == RST_FITS)
		return false;
	const char *side = diag_side(d->first.dir);
	/* TTL alone one or two hops closer is weak (a route can change); the
	 * missing timestamps make it a different sender. */
	enum confidence conf = odd == RST_TTL_FAR ? (no_ts ? CONF_HIGH : CONF_MEDIUM) : (no_ts ? CONF_MEDIUM : CONF_LOW);
	char range[16];
	if (st->ttl_min == st->ttl_max)
		snprintf(range, sizeof(range), "%u", st->ttl_min);
	else
		snprintf(range, sizeof(range), "%u..%u", st->ttl_min, st->ttl_max);
	diag_set_cause(d, CAUSE_MIDDLEBOX_RESET, conf);
	d->v->closed_by = BY_MIDDLEBOX;
	d->v->close = CLOSE_RST;
	if (odd == RST_TTL_FAR)
		EXPLAIN(d, "A RST claiming to come from the %s ended the connection, but its TTL (%u) is out of line with the %s's other packets (TTL %s): a firewall, IPS or load balancer on the path most likely injected it.",
			side, st->rst_ttl, side, range);
	else
		EXPLAIN(d, "A RST claiming to come from the %s ended the connection, but it arrived with TTL %u while every other packet of the %s had TTL %s: it came from a device fewer hops away than the %s, most likely a firewall, IPS or load balancer that injected it.",
			side, st->rst_ttl, side, range, side);
	if (st->ip_id_zero && st->rst_ip_id)
		EXPLAIN(d, " Its IP ID (%u) also differs from the side's usual 0.", st->rst_ip_id);
	if (no_ts)
		EXPLAIN(d, " It carries no TCP timestamps although the %s put them on all its %" PRIu64 " other packets.",
			side, st->ts_opt_packets);
	diag_where_it_stopped(d);
	diag_evidence(d, st->rst_frame, st->rst_ts, "RST with TTL %u (the %s's packets have TTL %s)%s", st->rst_ttl,
		      side, range, no_ts ? ", without TCP timestamps" : "");
	diag_advise(d, "Check firewalls, IPS/anti-spam appliances and load balancers between the two hosts (SMTP inspection / fixup features often reset sessions).");
	return true;
}

/* The trailing retransmissions all carried full-sized segments while
 * smaller ones of the same side got through before: the shape of a path
 * MTU black hole. Returns the smallest stalled segment size, 0 if not. */
static uint64_t mtu_blackhole_size(const struct dctx *d)
{
	const struct timeline *tl = d->s->tl;
	uint64_t smallest = UINT64_MAX;
	int dir = -1;
	for (uint32_t i = tl_count(tl); i-- > 0;) {
		const struct event *e = tl_at(tl, i);
		if (e->kind != EV_RETRANSMISSION)
			break;
		if ((dir >= 0 && e->dir != dir) || e->num < DIAG_MTU_SEGMENT)
			return 0;
		dir = e->dir;
		smallest = e->num < smallest ? e->num : smallest;
	}
	if (dir < 0 || !d->fi->dir[dir].bytes)
		return 0;
	return smallest;
}

/* N1: a stall of retransmissions at the end of the flow. */
bool diag_n1_network(struct dctx *d)
{
	uint64_t fr = 0;
	sl_time ts = 0;
	char b[32], b2[32];
	uint32_t n = diag_trailing_retransmissions(d, &fr, &ts);
	bool silent_end = d->first.dir < 0 && d->s->end == END_IDLE;
	if (n < DIAG_STALL_RETRANS && !(silent_end && n))
		return false;
	/* A FIN is an orderly decision, not a stall, unless the stall came
	 * first: a side that gave up after 3+ unanswered retransmissions (or
	 * whose peer's data never arrived) closes because of the network. */
	bool fin_after_stall = d->first.dir >= 0 && !d->first.rst && n >= DIAG_STALL_RETRANS && ts < d->first.ts;
	if (d->first.dir >= 0 && !d->first.rst && !fin_after_stall)
		return false;
	diag_set_cause(d, CAUSE_NETWORK_FAILURE, n >= DIAG_STALL_RETRANS ? CONF_MEDIUM : CONF_LOW);
	diag_set_closer(d);
	EXPLAIN(d, "The last %u segments were retransmissions with no progress (over %s), then %s%s: packets stopped getting through.",
		n, diag_dur(d->fi->last_ts - ts, b, sizeof(b)),
		d->first.dir < 0 ? "silence" : d->first.rst ? "a reset" : "a FIN from the ",
		fin_after_stall ? diag_side(d->first.dir) : "");
	if (d->first.dir < 0 && d->s->end != END_IDLE && d->s->capture_end > d->fi->last_ts)
		EXPLAIN(d, " The capture ended %s after the last retransmission without any answer; whether the connection recovered later is not in the capture.",
			diag_dur(d->s->capture_end - d->fi->last_ts, b2, sizeof(b2)));
	for (int i = 0; i < 2; i++) {
		const struct tcp_dir_stats *st = &d->fi->dir[i];
		if (!st->rsts_stale)
			continue;
		EXPLAIN(d, " A RST claiming to come from the %s (TTL %u) arrived behind the receiver's window and was ignored, and the connection stalled after it: a firewall or IPS on the path most likely tried to reset the connection and then dropped its packets.",
			diag_side((enum sl_dir)i), st->stale_rst_ttl);
		diag_evidence(d, st->stale_rst_frame, st->stale_rst_ts, "RST from the %s's address behind the window (TTL %u), ignored by the receiver",
			      diag_side((enum sl_dir)i), st->stale_rst_ttl);
	}
	uint64_t seg = d->s->tl ? mtu_blackhole_size(d) : 0;
	if (seg)
		EXPLAIN(d, " Every segment that stalled was full-sized (%" PRIu64 " bytes or more) while smaller ones got through before: the shape of a path MTU black hole (a link with a smaller MTU whose ICMP \"fragmentation needed\" messages are blocked).",
			seg);
	diag_where_it_stopped(d);
	diag_evidence(d, fr, ts, "first of %u trailing retransmissions", n);
	diag_close_evidence(d);
	if (seg)
		diag_advise(d, "Check the path MTU: let ICMP \"fragmentation needed\" through the firewalls, or clamp the TCP MSS on the router with the smaller MTU (or lower the MTU on the sending host).");
	else
		diag_advise(d, "Check the network path between the hosts: packet loss, MTU/fragmentation problems (try lowering the MTU/MSS), a failing link or a stateful firewall dropping the flow.");
	return true;
}
