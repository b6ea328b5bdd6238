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

static void ecs_endpoint(FILE *f, const struct sl_addr *a, uint16_t port, const struct tcp_dir_stats *d)
{
	char b[SL_ADDRSTRLEN];
	fputs("{\"ip\":", f);
	report_json_str(f, sl_addr_str(a, b, sizeof(b)));
	fprintf(f, ",\"port\":%u,\"bytes\":%" PRIu64 ",\"packets\":%" PRIu64 "}", port, d->bytes, d->packets);
}

static void ecs_tls(FILE *f, const struct smtp_facts *s)
{
	const struct tls_facts *t = &s->tls;
	char ver[8];
	const char *proto;
	ecs_tls_version(t->version, &proto, ver, sizeof(ver));
	fprintf(f, ",\"tls\":{\"established\":%s", t->handshake_done ? "true" : "false");
	if (ver[0]) {
		fputs(",\"version\":", f);
		report_json_str(f, ver);
		fputs(",\"version_protocol\":", f);
		report_json_str(f, proto);
	}
	if (t->server_hello) {
		char cipher[128];
		ecs_cipher_name(t->cipher, cipher, sizeof(cipher));
		fputs(",\"cipher\":", f);
		report_json_str(f, cipher);
	}
	if (t->sni[0]) {
		fputs(",\"client\":{\"server_name\":", f);
		report_json_str(f, t->sni);
		fputc('}', f);
	}
	fputc('}', f);
}

void report_ecs_session(struct reporter *r, const struct session_view *s, const struct verdict *v)
{
	FILE *f = r->o.out;
	const struct flow_info *fi = s->fi;
	const struct tcp_dir_stats *c = &fi->dir[DIR_C2S], *sv = &fi->dir[DIR_S2C];
	char ca[SL_ADDRSTRLEN], sa[SL_ADDRSTRLEN], msg[256];

	sl_addr_str(&fi->client, ca, sizeof(ca));
	sl_addr_str(&fi->server, sa, sizeof(sa));
	fputs("{\"@timestamp\":", f);
	report_json_time(f, fi->first_ts);
	snprintf(msg, sizeof(msg), "SMTP session %" PRIu64 " %s port %u to %s port %u: %s (%s confidence)", s->id, ca,
		 fi->client_port, sa, fi->server_port, cause_name(v->cause), confidence_name(v->confidence));
	fputs(",\"message\":", f);
	report_json_str(f, msg);
	fputs(",\"ecs\":{\"version\":\"" ECS_VERSION "\"}", f);

	fputs(",\"event\":{\"kind\":\"event\",\"category\":[\"email\",\"network\"],\"type\":[\"info\",\"connection\",\"end\"]"
	      ",\"module\":\"smtpsleuth\",\"dataset\":\"smtpsleuth.session\",\"action\":", f);
	report_json_str(f, cause_name(v->cause));
	fputs(",\"outcome\":", f);
	report_json_str(f, ecs_outcome(v->cause));
	fputs(",\"reason\":", f);
	report_json_str(f, v->explanation);
	fputs(",\"start\":", f);
	report_json_time(f, fi->first_ts);
	fputs(",\"end\":", f);
	report_json_time(f, fi->last_ts);
	fprintf(f, ",\"duration\":%" PRId64 "}", (int64_t)(fi->last_ts - fi->first_ts));

	fputs(",\"source\":", f);
	ecs_endpoint(f, &fi->client, fi->client_port, c);
	fputs(",\"destination\":", f);
	ecs_endpoint(f, &fi->server, fi->server_port, sv);
	fputs(",\"related\":{\"ip\":[", f);
	report_json_str(f, ca);
	if (strcmp(ca, sa)) {
		fputc(',', f);
		report_json_str(f, sa);
	}
	fputs("]}", f);

	fputs(",\"network\":{\"transport\":\"tcp\",\"protocol\":\"smtp\",\"type\":", f);
	report_json_str(f, fi->client.v == 6 ? "ipv6" : "ipv4");
	fputs(",\"iana_number\":\"6\"", f);
	if (s->community_id[0]) {
		fputs(",\"community_id\":", f);
		report_json_str(f, s->community_id);
	}
	fprintf(f, ",\"bytes\":%" PRIu64 ",\"packets\":%" PRIu64 "}", c->bytes + sv->bytes, c->packets + sv->packets);

	const struct smtp_facts *sm = s->smtp;
	if (sm->starttls == STLS_ACCEPTED || sm->implicit_tls || sm->tls.client_hello)
		ecs_tls(f, sm);

	fputs(",\"smtp\":", f);
	report_json_smtp(r, f, s);

	fprintf(f, ",\"smtpsleuth\":{\"id\":%" PRIu64 ",\"file\":", s->id);
	report_json_str(f, fi->file);
	fprintf(f, ",\"first_frame\":%" PRIu64 ",\"last_frame\":%" PRIu64 ",\"protocol\":", fi->first_frame,
		fi->last_frame);
	report_json_str(f, s->protocol ? s->protocol : "Unknown");
	fputs(",\"risks\":[", f);
	for (uint32_t i = 0; i < SL_MIN(s->n_risks, SESSION_MAX_RISKS); i++) {
		if (i)
			fputc(',', f);
		report_json_str(f, s->risks[i]);
	}
	fputs("],\"tcp\":", f);
	report_json_tcp(f, s, v);
	fputs(",\"verdict\":", f);
	report_json_verdict(r, f, s, v);
	fputs("}}\n", f);
}

void report_ecs_summary(struct reporter *r, const struct summary *sum)
{
	FILE *f = r->o.out;
	fputs("{\"@timestamp\":", f);
	report_json_time(f, sum->last_ts);
	fprintf(f, ",\"message\":\"smtpsleuth summary: %" PRIu64 " SMTP sessions, %" PRIu64 " flows\"", sum->smtp_sessions,
		sum->flows);
	fputs(",\"ecs\":{\"version\":\"" ECS_VERSION "\"}"
	      ",\"event\":{\"kind\":\"metric\",\"category\":[\"network\"],\"type\":[\"info\"]"
	      ",\"module\":\"smtpsleuth\",\"dataset\":\"smtpsleuth.summary\",\"start\":", f);
	report_json_time(f, sum->first_ts);
	fputs(",\"end\":", f);
	report_json_time(f, sum->last_ts);
	fputs("},\"smtpsleuth\":{\"summary\":", f);
	/* The native summary object, its trailing newline dropped. */
	report_json_summary_object(r, sum);
	fputs("}}\n", f);
}
