/*
 * diagnose.c - from a session's facts (TCP per-direction stats, SMTP facts,
 * timeline) to one verdict: why the connection ended.
 *
 * The rules run in the order of RULES[] below, which is the order of
 * docs/RULES.md's table (a test reads the doc and compares); the first
 * rule that applies decides, and U always does. Each rule is one function
 * returning whether it decided: TCP rules in diag_tcp.c, TLS rules in
 * diag_tls.c, dialog rules in diag_smtp.c. What one reply says is read in
 * diag_reply.c, the facts rules share are found in diag_facts.c, and the
 * verdict is written with diag_write.c's helpers.
 *
 * A rule that does not decide may still leave the phase it learnt (the TLS
 * rules set phase tls, K1 phase auth) for the rules after it.
 * `closed_by` and `close` always describe the first FIN or RST of the flow,
 * whatever the cause; a RST the peer answers to data sent after a FIN is an
 * abortive close and never the cause.
 *
 * Invariants: pure (no I/O, no allocation, no global state); every text
 * written into the verdict is bounded by its array.
 */
#include "diagnose.h"

#include <string.h>

#include "diag_int.h"

struct diag_rule {
	const char *id;         /* as in docs/RULES.md */
	const char *name;
	bool (*fn)(struct dctx *d);
};

static const struct diag_rule RULES[] = {
	{ "T1", "SYN answered by RST", diag_t1_refused },
	{ "T2", "only the client's side captured", diag_t2_one_sided },
	{ "T3", "SYNs never answered (T3b: SYN-ACKs lost)", diag_t3_unanswered },
	{ "Q1", "QUIT answered (Q1b: after an oversize SIZE= declaration)", diag_q1_quit_answered },
	{ "S1", "TLS/plaintext mismatch", diag_s1_tls_mismatch },
	{ "R1", "a decisive reply", diag_r1_decisive_reply },
	{ "R2", "a server line without a reply code", diag_r2_codeless_line },
	{ "R3", "syntax error, then the server closed", diag_r3_syntax_then_close },
	{ "R4", "syntax error the transaction never got past", diag_r4_syntax_blocks },
	{ "G1", "accepted, then closed without a greeting", diag_g1_no_greeting },
	{ "S2", "TLS alert in the handshake", diag_s2_tls_alert },
	{ "S3", "ended inside TLS", diag_s3_encrypted },
	{ "S4", "closed during the TLS handshake", diag_s4_tls_cut },
	{ "Z1", "closed past the SIZE limit", diag_z1_size_close },
	{ "C1", "open when the capture ended", diag_c1_open_at_end },
	{ "C2", "dialog unreadable", diag_c2_unreadable },
	{ "M1", "injected RST", diag_m1_middlebox },
	{ "N1", "stalled retransmissions", diag_n1_network },
	{ "I0", "QUIT, then the server closed", diag_i0_quit_then_close },
	{ "I1", "server closed on the client's turn (I1b: inside the body; I1c: too soon for a timeout)", diag_i1_clients_turn },
	{ "I2", "server closed with a command pending", diag_i2_pending },
	{ "K1", "client closed after accepted mail or QUIT", diag_k1_client_done },
	{ "I3", "client gave up on a silent server", diag_i3_server_silent },
	{ "K2", "client closed (K2b: after an oversize SIZE= declaration)", diag_k2_client_abort },
	{ "K3", "capture started mid-session", diag_k3_midstream },
	{ "U", "nothing fits", diag_u_nothing_fits },
};

#define RULE_COUNT (sizeof(RULES) / sizeof(RULES[0]))

size_t diag_rule_count(void)
{
	return RULE_COUNT;
}

const char *diag_rule_id(size_t i)
{
	return i < RULE_COUNT ? RULES[i].id : NULL;
}

const char *diag_rule_name(size_t i)
{
	return i < RULE_COUNT ? RULES[i].name : NULL;
}

void diag_config_default(struct diag_config *cfg)
{
	cfg->idle_threshold = (sl_time)DIAG_DEFAULT_IDLE_THRESHOLD_S * NS_PER_SEC;
}

void diagnose(const struct session_view *s, const struct diag_config *cfg, struct verdict *v)
{
	struct diag_config defcfg;
	if (!cfg) {
		diag_config_default(&defcfg);
		cfg = &defcfg;
	}
	memset(v, 0, sizeof(*v));
	struct reply_cache cache;
	memset(&cache, 0, sizeof(cache));
	struct dctx d = { .s = s, .fi = s->fi, .f = s->smtp, .cfg = cfg, .v = v, .rcache = &cache };
	d.rc.ext = d.f->ext;
	d.rc.starttls = d.f->starttls;
	d.rc.consecutive_errors = d.f->consecutive_errors;
	d.rc.unknown_commands = d.f->unknown_commands;
	d.rc.early_talker = d.f->early_talker;
	v->cause = CAUSE_UNKNOWN;
	v->confidence = CONF_LOW;
	v->phase = d.f->phase;
	if (!d.f->greeting.code && !d.f->s2c_bytes && !d.f->implicit_tls && !d.fi->dir[DIR_S2C].bytes)
		v->phase = PH_CONNECT;
	diag_find_first_close(&d);
	diag_set_closer(&d);

	for (size_t i = 0; i < RULE_COUNT && !RULES[i].fn(&d); i++)
		;
	/* A session the capture cut (a damaged file, a signal) after the rules:
	 * diag_cut.c keeps a cause a server reply proved, else capture_incomplete. */
	diag_apply_cut(s, cfg, v);
	diag_apply_evicted(s, cfg, v);
	diag_relay_hint(&d);
	diag_client_view(v);
	diag_sort_evidence(v);
}
