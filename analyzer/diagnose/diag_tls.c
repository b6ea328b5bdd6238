/*
 * diag_tls.c - diagnosis rules for TLS: implicit TLS against a plaintext
 * server (or plaintext where TLS was due), a handshake alert, a handshake cut
 * short, and sessions that went into TLS and ended there (`encrypted`, with
 * what timing and sizes still show). Pure.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "diag_int.h"
#include "tls_words.h"

static bool tls_mismatch(const struct dctx *d)
{
	const struct smtp_facts *f = d->f;
	if (f->plaintext_smtp_after_tls)
		return false;   /* both sides went on in plaintext SMTP: a decrypted capture */
	if (f->tls_client_to_plain || f->tls.plaintext_after_tls)
		return true;
	if (d->s->tl && tl_last(d->s->tl, EV_TLS_MISMATCH, -1))
		return true;
	return (f->implicit_tls || f->tls.client_hello) && f->starttls == STLS_NONE && f->greeting.code;
}

/* S1: TLS against plaintext (or plaintext where TLS was due). */
bool diag_s1_tls_mismatch(struct dctx *d)
{
	const struct smtp_facts *f = d->f;
	const struct tls_facts *t = &f->tls;
	if (!tls_mismatch(d) || diag_quit_answer(f))
		return false;
	diag_set_cause(d, CAUSE_TLS_FAILED, d->first.dir >= 0 ? CONF_HIGH : CONF_MEDIUM);
	diag_set_closer(d);
	d->v->phase = PH_TLS;   /* the handshake (or what stood for it) is the TLS phase */
	if (f->starttls == STLS_NONE && f->greeting.code) {
		EXPLAIN(d, "TLS/plaintext mismatch: the client started TLS at once (implicit TLS, as on port 465) but the server on port %u speaks plaintext SMTP and sent a %u greeting.",
			d->fi->server_port, f->greeting.code);
		diag_reply_evidence(d, &f->greeting, "plaintext greeting");
	} else {
		EXPLAIN(d, "TLS/plaintext mismatch: the %s sent plaintext where TLS was due.",
			t->plaintext_after_tls ? diag_side(t->plaintext_dir) : "one side");
	}
	if (t->client_hello_frame)
		diag_evidence(d, t->client_hello_frame, 0, "TLS ClientHello from the client");
	if (t->plaintext_frame && t->plaintext_frame != f->greeting.frame)
		diag_evidence(d, t->plaintext_frame, 0, "plaintext from the %s where TLS was due", diag_side(t->plaintext_dir));
	diag_say_closer(d);
	diag_close_evidence(d);
	diag_advise(d, "Use implicit TLS only against a port that expects it (465), or STARTTLS on 25/587; fix the client's security setting (SSL/TLS vs STARTTLS) to match the port.");
	return true;
}

/* With a key log that did not open the session: why not. No secret is
 * named, only a label and the public client random. */
static void diag_tls_keylog_say(struct dctx *d)
{
	const struct session_tls *k = d->s->tls_dec;
	if (!k)
		return;
	bool mismatch = false, no_key = false, gap = false;
	for (int i = 0; i < 2; i++) {
		mismatch |= !strcmp(k->status[i], "keys_mismatch");
		no_key |= !strcmp(k->status[i], "no_key");
		gap |= !strcmp(k->status[i], "gap");
	}
	if (mismatch)
		EXPLAIN(d, " The key log has a line for this session but its keys did not match (keys did not match).");
	else if (no_key && k->wanted[0])
		EXPLAIN(d, " The key log has no line for this session; the line that would decrypt it: %s <secret>.", k->wanted);
	else if (no_key)
		EXPLAIN(d, " The key log has no line for this session.");
	else if (gap)
		EXPLAIN(d, " Bytes missing from the capture ended decryption before any SMTP could be read.");
	else
		EXPLAIN(d, " The key log could not decrypt it (client %s, server %s).", k->status[DIR_C2S], k->status[DIR_S2C]);
}

/* The TLS rules (S2-S4) apply after STARTTLS 220 or on implicit TLS,
 * unless both sides went on in plaintext; the phase is then tls, also for
 * the rules after them when none of these decides. */
static bool tls_started(struct dctx *d)
{
	const struct smtp_facts *f = d->f;
	if ((f->starttls != STLS_ACCEPTED && !f->implicit_tls) || f->plaintext_smtp_after_tls)
		return false;
	/* Decrypted with a key log: the dialog inside TLS is read like
	 * plaintext and the other rules judge it. */
	if (d->s->tls_dec && d->s->tls_dec->decrypted)
		return false;
	d->v->phase = PH_TLS;
	return true;
}

static bool in_tls(const struct tls_facts *t)
{
	return t->handshake_done || (t->appdata_records[0] && t->appdata_records[1]);
}

/* S2: an alert in clear before the handshake completed. */
bool diag_s2_tls_alert(struct dctx *d)
{
	const struct tls_facts *t = &d->f->tls;
	if (!tls_started(d) || !t->alert || t->handshake_done)
		return false;
	diag_set_cause(d, CAUSE_TLS_FAILED, CONF_HIGH);
	diag_set_closer(d);
	d->v->phase = PH_TLS;
	EXPLAIN(d, "The TLS handshake failed: the %s sent alert %u (%s, level %s).", diag_side(t->alert_dir),
		t->alert_desc, tls_alert_name(t->alert_desc), t->alert_level == 2 ? "fatal" : "warning");
	diag_evidence(d, t->alert_frame, 0, "TLS alert %u from the %s", t->alert_desc, diag_side(t->alert_dir));
	diag_say_closer(d);
	diag_close_evidence(d);
	diag_advise(d, "Check TLS on both sides: the alert names the problem (certificate unknown or expired, no shared cipher or protocol version).");
	return true;
}

/* S3: application data both ways (or a completed handshake) and a close. */
bool diag_s3_encrypted(struct dctx *d)
{
	const struct smtp_facts *f = d->f;
	const struct tls_facts *t = &f->tls;
	char b[32], b2[32];
	if (!tls_started(d) || !in_tls(t))
		return false;
	if (d->first.dir < 0 && d->s->end == END_CAPTURE_END)
		return false;   /* capture_incomplete says more */
	diag_set_cause(d, CAUSE_ENCRYPTED, CONF_MEDIUM);
	diag_set_closer(d);
	const struct tcp_dir_stats *c = &d->fi->dir[DIR_C2S], *s = &d->fi->dir[DIR_S2C];
	EXPLAIN(d, "The session went into TLS%s and ended there, so the reason is hidden by encryption. Application data: %" PRIu64 " bytes from the client, %" PRIu64 " from the server; the session lasted %s.",
		f->starttls == STLS_ACCEPTED ? " after STARTTLS" : "", t->appdata_bytes[0], t->appdata_bytes[1],
		diag_dur(d->fi->last_ts - d->fi->first_ts, b, sizeof(b)));
	if (t->appdata_bytes[0] > 4096)
		EXPLAIN(d, " The client sent enough encrypted data to have submitted a message.");
	diag_tls_keylog_say(d);
	if (d->first.dir >= 0) {
		sl_time last = SL_MAX(c->last_payload_ts, s->last_payload_ts);
		EXPLAIN(d, " The %s closed first with %s, %s after the last data.", diag_side(d->first.dir),
			d->first.rst ? "a RST" : "a FIN", diag_dur(d->first.ts - last, b2, sizeof(b2)));
		if (d->first.dir == DIR_S2C && !d->first.rst && s->last_payload_ts >= c->last_payload_ts &&
		    d->first.ts - s->last_payload_ts < NS_PER_SEC)
			EXPLAIN(d, " The server spoke last and closed at once, the pattern of a server answering QUIT with 221.");
	}
	if (f->starttls_reply.frame)
		diag_reply_evidence(d, &f->starttls_reply, "STARTTLS accepted");
	if (t->first_appdata_frame[0])
		diag_evidence(d, t->first_appdata_frame[0], 0, "first encrypted data from the client");
	diag_close_evidence(d);
	diag_advise(d, "To see the reason, capture with the TLS keys (SSLKEYLOGFILE) or read the server's log for this session.");
	return true;
}

/* S4: TLS started but the connection closed before the handshake completed. */
bool diag_s4_tls_cut(struct dctx *d)
{
	const struct tls_facts *t = &d->f->tls;
	if (!tls_started(d) || in_tls(t) || (t->alert && !t->handshake_done) || d->first.dir < 0)
		return false;
	/* A capture that started inside TLS shows no handshake to have failed. */
	if (d->s->capture_started_midstream && !t->client_hello)
		return false;
	diag_set_cause(d, CAUSE_TLS_FAILED, CONF_MEDIUM);
	diag_set_closer(d);
	d->v->phase = PH_TLS;
	EXPLAIN(d, "The connection closed during the TLS handshake%s, before any encrypted data flowed both ways.",
		t->client_hello ? (t->server_hello ? " (hellos exchanged)" : " (ClientHello sent, no ServerHello)") : " (no ClientHello)");
	if (t->client_hello_frame)
		diag_evidence(d, t->client_hello_frame, 0, "TLS ClientHello");
	diag_say_closer(d);
	diag_close_evidence(d);
	diag_advise(d, "Check TLS on both sides (certificates, versions, cipher suites); the side that closed rejected the handshake.");
	return true;
}

