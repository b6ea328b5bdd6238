/*
 * report_ecs.c - `--json-format ecs`: the session and summary objects of
 * --json with Elastic Common Schema field names, one document per line, for
 * Filebeat's ndjson input, Logstash's json_lines codec or any pipeline that
 * speaks ECS.
 *
 * Where ECS has a field for a fact, the fact goes there: the session's start
 * is @timestamp and event.start, the client is source.*, the server is
 * destination.*, the Community ID is network.community_id, the TLS handshake
 * is tls.*. The verdict's cause is event.action and event.outcome says
 * success / failure / unknown. What ECS has no name for stays in our own
 * names, under two custom top-level objects that are not ECS field sets:
 * smtp.* (the SMTP facts, exactly as in the native JSON) and smtpsleuth.*
 * (session id, file, frames, nDPI's name and risks, the TCP facts and the
 * whole verdict). Field names and types are checked by a test against the
 * published ECS field list (tests/data/ecs_fields.tsv).
 *
 * The summary goes out as one document with event.kind "metric" and the
 * native summary object under smtpsleuth.summary.
 */
#include <inttypes.h>
#include <pthread.h>
#include <string.h>

#include <openssl/ssl.h>

#include "jsonw.h"
#include "report_int.h"

/* The ECS release whose field list tests/data/ecs_fields.tsv was taken from. */
#define ECS_VERSION "9.4.0"

/* event.outcome: did the session do what its client wanted? */
static const char *ecs_outcome(enum cause c)
{
	switch (c) {
	case CAUSE_COMPLETED:
		return "success";
	case CAUSE_ENCRYPTED:
	case CAUSE_CAPTURE_INCOMPLETE:
	case CAUSE_UNKNOWN:
		return "unknown";
	default:
		return "failure";
	}
}

/* tls.version and tls.version_protocol from the wire version. */
static void ecs_tls_version(uint16_t v, const char **proto, char *buf, size_t len)
{
	*proto = "tls";
	if (v == 0x0300) {
		*proto = "ssl";
		snprintf(buf, len, "3.0");
	} else if (v >= 0x0301 && v <= 0x0304) {
		snprintf(buf, len, "1.%u", (unsigned)(v - 0x0301));
	} else {
		buf[0] = '\0';
	}
}

/* tls.cipher: the IANA name of the suite the server chose
 * ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"), as OpenSSL's table knows it;
 * "0x1234" for a suite it does not know. OpenSSL looks suites up through an
 * SSL object, made once (under pthread_once: the report may run on the
 * analysis stage thread, stage.h) when the first TLS session is reported,
 * and kept to the end (still reachable). Only one thread reports at a time. */
static SSL_CTX *cipher_ctx;
static SSL *cipher_ssl;
static pthread_once_t cipher_once = PTHREAD_ONCE_INIT;

static void cipher_init(void)
{
	cipher_ctx = SSL_CTX_new(TLS_method());
	if (cipher_ctx)
		cipher_ssl = SSL_new(cipher_ctx);
}

static void ecs_cipher_name(uint16_t id, char *buf, size_t len)
{
	const unsigned char b[2] = { (unsigned char)(id >> 8), (unsigned char)id };
	pthread_once(&cipher_once, cipher_init);
	const SSL_CIPHER *c = cipher_ssl ? SSL_CIPHER_find(cipher_ssl, b) : NULL;
	const char *name = c ? SSL_CIPHER_standard_name(c) : NULL;
	if (name && strcmp(name, "(NONE)"))
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "0x%04X", (unsigned)id);
}

static void ecs_endpoint(struct jw *w, const struct sl_addr *a, uint16_t port, const struct tcp_dir_stats *d)
{
	char b[SL_ADDRSTRLEN];
	jw_lit(w, "{\"ip\":");
	report_json_str(w, sl_addr_str(a, b, sizeof(b)));
	jw_lit(w, ",\"port\":");
	jw_u64(w, port);
	jw_lit(w, ",\"bytes\":");
	jw_u64(w, d->bytes);
	jw_lit(w, ",\"packets\":");
	jw_u64(w, d->packets);
	jw_putc(w, '}');
}

static void ecs_tls(struct jw *w, const struct smtp_facts *s)
{
	const struct tls_facts *t = &s->tls;
	char ver[8];
	const char *proto;
	ecs_tls_version(t->version, &proto, ver, sizeof(ver));
	jw_lit(w, ",\"tls\":{\"established\":");
	jw_bool(w, t->handshake_done);
	if (ver[0]) {
		jw_lit(w, ",\"version\":");
		report_json_str(w, ver);
		jw_lit(w, ",\"version_protocol\":");
		report_json_str(w, proto);
	}
	if (t->server_hello) {
		char cipher[128];
		ecs_cipher_name(t->cipher, cipher, sizeof(cipher));
		jw_lit(w, ",\"cipher\":");
		report_json_str(w, cipher);
	}
	if (t->sni[0]) {
		jw_lit(w, ",\"client\":{\"server_name\":");
		report_json_str(w, t->sni);
		jw_putc(w, '}');
	}
	jw_putc(w, '}');
}

void report_ecs_session(struct reporter *r, const struct session_view *s, const struct verdict *v)
{
	char buf[JW_CAP];
	struct jw wb, *w = &wb;
	jw_init(w, r->o.out, buf, sizeof(buf));
	const struct flow_info *fi = s->fi;
	const struct tcp_dir_stats *c = &fi->dir[DIR_C2S], *sv = &fi->dir[DIR_S2C];
	char ca[SL_ADDRSTRLEN], sa[SL_ADDRSTRLEN], msg[256];

	sl_addr_str(&fi->client, ca, sizeof(ca));
	sl_addr_str(&fi->server, sa, sizeof(sa));
	jw_lit(w, "{\"@timestamp\":");
	report_json_time(w, fi->first_ts);
	snprintf(msg, sizeof(msg), "SMTP session %" PRIu64 " %s port %u to %s port %u: %s (%s confidence)", s->id, ca,
		 fi->client_port, sa, fi->server_port, cause_name(v->cause), confidence_name(v->confidence));
	jw_lit(w, ",\"message\":");
	report_json_str(w, msg);
	jw_lit(w, ",\"ecs\":{\"version\":\"" ECS_VERSION "\"}");

	jw_lit(w, ",\"event\":{\"kind\":\"event\",\"category\":[\"email\",\"network\"],\"type\":[\"info\",\"connection\",\"end\"]"
	      ",\"module\":\"smtpsleuth\",\"dataset\":\"smtpsleuth.session\",\"action\":");
	report_json_str(w, cause_name(v->cause));
	jw_lit(w, ",\"outcome\":");
	report_json_str(w, ecs_outcome(v->cause));
	jw_lit(w, ",\"reason\":");
	report_json_str(w, v->explanation);
	jw_lit(w, ",\"start\":");
	report_json_time(w, fi->first_ts);
	jw_lit(w, ",\"end\":");
	report_json_time(w, fi->last_ts);
	jw_lit(w, ",\"duration\":");
	jw_i64(w, (int64_t)(fi->last_ts - fi->first_ts));
	jw_putc(w, '}');

	jw_lit(w, ",\"source\":");
	ecs_endpoint(w, &fi->client, fi->client_port, c);
	jw_lit(w, ",\"destination\":");
	ecs_endpoint(w, &fi->server, fi->server_port, sv);
	jw_lit(w, ",\"related\":{\"ip\":[");
	report_json_str(w, ca);
	if (strcmp(ca, sa)) {
		jw_putc(w, ',');
		report_json_str(w, sa);
	}
	jw_lit(w, "]}");

	jw_lit(w, ",\"network\":{\"transport\":\"tcp\",\"protocol\":\"smtp\",\"type\":");
	report_json_str(w, fi->client.v == 6 ? "ipv6" : "ipv4");
	jw_lit(w, ",\"iana_number\":\"6\"");
	if (s->community_id[0]) {
		jw_lit(w, ",\"community_id\":");
		report_json_str(w, s->community_id);
	}
	jw_lit(w, ",\"bytes\":");
	jw_u64(w, c->bytes + sv->bytes);
	jw_lit(w, ",\"packets\":");
	jw_u64(w, c->packets + sv->packets);
	jw_putc(w, '}');

	const struct smtp_facts *sm = s->smtp;
	if (sm->starttls == STLS_ACCEPTED || sm->implicit_tls || sm->tls.client_hello)
		ecs_tls(w, sm);

	jw_lit(w, ",\"smtp\":");
	report_json_smtp(r, w, s);

	jw_lit(w, ",\"smtpsleuth\":{\"id\":");
	jw_u64(w, s->id);
	jw_lit(w, ",\"file\":");
	report_json_str(w, fi->file);
	jw_lit(w, ",\"first_frame\":");
	jw_u64(w, fi->first_frame);
	jw_lit(w, ",\"last_frame\":");
	jw_u64(w, fi->last_frame);
	jw_lit(w, ",\"protocol\":");
	report_json_str(w, s->protocol ? s->protocol : "Unknown");
	jw_lit(w, ",\"risks\":[");
	for (uint32_t i = 0; i < SL_MIN(s->n_risks, SESSION_MAX_RISKS); i++) {
		if (i)
			jw_putc(w, ',');
		report_json_str(w, s->risks[i]);
	}
	jw_lit(w, "],\"tcp\":");
	report_json_tcp(w, s, v);
	jw_lit(w, ",\"verdict\":");
	report_json_verdict(r, w, s, v);
	jw_lit(w, "}}\n");
	jw_flush(w);
}

void report_ecs_summary(struct reporter *r, const struct summary *sum)
{
	char buf[1024];
	struct jw wb, *w = &wb;
	jw_init(w, r->o.out, buf, sizeof(buf));
	jw_lit(w, "{\"@timestamp\":");
	report_json_time(w, sum->last_ts);
	jw_printf(w, ",\"message\":\"smtpsleuth summary: %" PRIu64 " SMTP sessions, %" PRIu64 " flows\"", sum->smtp_sessions,
		sum->flows);
	jw_lit(w, ",\"ecs\":{\"version\":\"" ECS_VERSION "\"}"
	      ",\"event\":{\"kind\":\"metric\",\"category\":[\"network\"],\"type\":[\"info\"]"
	      ",\"module\":\"smtpsleuth\",\"dataset\":\"smtpsleuth.summary\",\"start\":");
	report_json_time(w, sum->first_ts);
	jw_lit(w, ",\"end\":");
	report_json_time(w, sum->last_ts);
	jw_lit(w, "},\"smtpsleuth\":{\"summary\":");
	/* The native summary object, its trailing newline dropped; it writes
	 * to the FILE, so what is held goes first. */
	jw_flush(w);
	report_json_summary_object(r, sum);
	jw_lit(w, "}}\n");
	jw_flush(w);
}
