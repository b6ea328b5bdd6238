/*
 * report_json.c - JSON Lines per the output contract in DESIGN.md: one
 * {"type":"session"} object per session, one {"type":"summary"} at the end.
 *
 * Invariant: the output is valid JSON (RFC 8259) whatever bytes the session
 * carried: every string goes through jw_string() (jsonw.c), which escapes
 * quotes, backslashes and control characters and replaces invalid UTF-8
 * with U+FFFD. Passwords never reach here (smtp_facts holds none).
 *
 * A session record is built in a struct jw buffer on the stack (jsonw.h)
 * and handed to the output FILE in one fwrite at its end (more for a long
 * transcript); the reporter then flushes the FILE, as it always did.
 */
#include <inttypes.h>
#include <string.h>

#include "jsonw.h"
#include "report_int.h"

/* The FILE face of jw_string, for writers that do not keep a buffer (the
 * HTML page, --pair, the lab): a small one on the stack. */
static void json_write_string_file(FILE *f, const char *str, size_t n, bool html)
{
	char buf[512];
	struct jw w;
	jw_init(&w, f, buf, sizeof(buf));
	jw_string(&w, str, n, html);
	jw_flush(&w);
}

void json_write_string(FILE *f, const char *str, size_t n)
{
	json_write_string_file(f, str, n, false);
}

void json_write_string_html(FILE *f, const char *str, size_t n)
{
	json_write_string_file(f, str, n, true);
}

static void jstr(struct jw *w, const char *s)
{
	jw_string(w, s ? s : "", s ? strlen(s) : 0, false);
}

void report_json_str(struct jw *w, const char *s)
{
	jstr(w, s);
}

void report_json_time(struct jw *w, sl_time t)
{
	if (!t) {
		jw_lit(w, "null");
		return;
	}
	jw_time(w, t);
}

static void jreply(struct jw *w, const struct smtp_reply *r)
{
	if (!r->code && !r->text[0]) {
		jw_lit(w, "null");
		return;
	}
	jw_lit(w, "{\"code\":");
	jw_u64_or_null(w, r->code, r->code);
	jw_lit(w, ",\"enhanced\":");
	if (r->enhanced[0])
		report_json_str(w, r->enhanced);
	else
		jw_lit(w, "null");
	jw_lit(w, ",\"text\":");
	report_json_str(w, r->text);
	jw_putc(w, '}');
}

/* sep-separated items as a JSON array. */
static void jlist(struct jw *w, const char *s, const char *sep)
{
	jw_putc(w, '[');
	bool first = true;
	while (s && *s) {
		while (*s && strchr(sep, *s))
			s++;
		size_t n = strcspn(s, sep);
		if (!n)
			break;
		if (!first)
			jw_putc(w, ',');
		jw_string(w, s, n, false);
		first = false;
		s += n;
	}
	jw_putc(w, ']');
}

static void jaddr(struct jw *w, const struct sl_addr *a, uint16_t port)
{
	char b[SL_ADDRSTRLEN];
	jw_lit(w, "{\"ip\":");
	report_json_str(w, sl_addr_str(a, b, sizeof(b)));
	jw_lit(w, ",\"port\":");
	jw_u64(w, port);
	jw_putc(w, '}');
}

const char *report_auth_result_name(enum smtp_auth_result r)
{
	switch (r) {
	case AUTH_NONE: return "none";
	case AUTH_PENDING: return "pending";
	case AUTH_ACCEPTED: return "accepted";
	case AUTH_REFUSED: return "refused";
	case AUTH_ABORTED: return "aborted";
	}
	return "?";
}

static const char *starttls_name(enum smtp_starttls_state s)
{
	switch (s) {
	case STLS_NONE: return "none";
	case STLS_REQUESTED: return "requested";
	case STLS_ACCEPTED: return "accepted";
	case STLS_REFUSED: return "refused";
	}
	return "?";
}

static void jmessage(struct jw *w, const struct smtp_message *m)
{
	jw_lit(w, "{\"mail_from\":");
	report_json_str(w, m->mail_from);
	jw_lit(w, ",\"rcpt_to\":[");
	for (uint32_t i = 0; i < SL_MIN(m->rcpts, SMTP_MAX_RCPTS); i++) {
		if (i)
			jw_putc(w, ',');
		report_json_str(w, m->rcpt_to[i]);
	}
	jw_lit(w, "],\"rcpt_codes\":[");
	for (uint32_t i = 0; i < SL_MIN(m->rcpts, SMTP_MAX_RCPTS); i++) {
		if (i)
			jw_putc(w, ',');
		jw_u64(w, m->rcpt_codes[i]);
	}
	jw_lit(w, "],\"rcpts\":");
	jw_u64(w, m->rcpts);
	jw_lit(w, ",\"rcpts_accepted\":");
	jw_u64(w, m->rcpts_accepted);
	jw_lit(w, ",\"size\":");
	jw_u64_or_null(w, m->has_declared_size, m->declared_size);
	jw_lit(w, ",\"bytes\":");
	jw_u64(w, m->wire_bytes);
	jw_lit(w, ",\"body_bytes\":");
	jw_u64(w, m->body_bytes);
	jw_lit(w, ",\"gap_bytes\":");
	jw_u64(w, m->gap_bytes);
	jw_lit(w, ",\"bdat\":");
	jw_bool(w, m->bdat);
	jw_lit(w, ",\"complete\":");
	jw_bool(w, m->data_complete);
	jw_lit(w, ",\"reply\":");
	const struct smtp_reply *r = m->final_reply.code ? &m->final_reply
				     : m->data_reply.code >= 400 ? &m->data_reply : &m->mail_reply;
	if (r->code >= 400 || r == &m->final_reply)
		jreply(w, r);
	else
		jw_lit(w, "null");
	jw_lit(w, ",\"subject\":");
	report_json_str(w, m->subject);
	jw_lit(w, ",\"message_id\":");
	report_json_str(w, m->message_id);
	jw_lit(w, ",\"from\":");
	report_json_str(w, m->from);
	jw_lit(w, ",\"to\":");
	report_json_str(w, m->to);
	jw_lit(w, ",\"date\":");
	report_json_str(w, m->date);
	jw_putc(w, '}');
}

/* The key log's work on a TLS session (present with a key log only). */
static void jtls_dec(struct jw *w, const struct session_tls *d)
{
	jw_lit(w, ",\"decrypted\":");
	jw_bool(w, d->decrypted);
	jw_lit(w, ",\"keys\":[");
	for (uint32_t i = 0; i < SL_MIN(d->n_keys, SESSION_TLS_KEYS_MAX); i++) {
		if (i)
			jw_putc(w, ',');
		jstr(w, d->keys[i]);
	}
	jw_lit(w, "],\"decryption\":{\"client\":");
	jstr(w, d->status[DIR_C2S]);
	jw_lit(w, ",\"server\":");
	jstr(w, d->status[DIR_S2C]);
	jw_lit(w, ",\"plaintext_bytes\":{\"client\":");
	jw_u64(w, d->app_bytes[DIR_C2S]);
	jw_lit(w, ",\"server\":");
	jw_u64(w, d->app_bytes[DIR_S2C]);
	jw_lit(w, "},\"cipher\":");
	if (d->cipher)
		jstr(w, d->cipher);
	else
		jw_lit(w, "null");
	jw_lit(w, ",\"wanted_line\":");
	if (d->wanted[0])
		jstr(w, d->wanted);
	else
		jw_lit(w, "null");
	jw_putc(w, '}');
}

static void jsmtp(const struct reporter *r, struct jw *w, const struct smtp_facts *s, const char *file,
		  const struct session_tls *dec)
{
	jw_lit(w, "{\"banner\":");
	if (s->greeting.code || s->greeting.text[0])
		report_json_str(w, s->greeting.text);
	else
		jw_lit(w, "null");
	jw_lit(w, ",\"greeting\":");
	jreply(w, &s->greeting);
	jw_lit(w, ",\"helo\":");
	report_json_str(w, s->helo_arg);
	jw_lit(w, ",\"helo_verb\":");
	report_json_str(w, s->helo_verb);
	jw_lit(w, ",\"extensions\":");
	jlist(w, s->extensions, "\n");
	jw_lit(w, ",\"size_limit\":");
	jw_u64_or_null(w, s->has_size_limit, s->size_limit);
	jw_lit(w, ",\"auth\":");
	if (s->auth_attempts || s->auth_mech[0]) {
		jw_lit(w, "{\"mechanism\":");
		report_json_str(w, s->auth_mech);
		jw_lit(w, ",\"user\":");
		report_json_str(w, s->auth_user);
		jw_lit(w, ",\"result\":");
		jstr(w, report_auth_result_name(s->auth_result));
		jw_lit(w, ",\"code\":");
		jw_u64_or_null(w, s->auth_code, s->auth_code);
		jw_lit(w, ",\"attempts\":");
		jw_u64(w, s->auth_attempts);
		jw_lit(w, ",\"failures\":");
		jw_u64(w, s->auth_failures);
		jw_putc(w, '}');
	} else {
		jw_lit(w, "null");
	}
	jw_lit(w, ",\"starttls\":");
	report_json_str(w, starttls_name(s->starttls));
	jw_lit(w, ",\"tls\":");
	const struct tls_facts *t = &s->tls;
	if (s->starttls == STLS_ACCEPTED || s->implicit_tls || t->client_hello) {
		jw_lit(w, "{\"implicit\":");
		jw_bool(w, s->implicit_tls);
		jw_lit(w, ",\"client_hello\":");
		jw_bool(w, t->client_hello);
		jw_lit(w, ",\"server_hello\":");
		jw_bool(w, t->server_hello);
		jw_lit(w, ",\"sni\":");
		report_json_str(w, t->sni);
		jw_lit(w, ",\"version\":");
		jw_u64(w, t->version);
		jw_lit(w, ",\"handshake_done\":");
		jw_bool(w, t->handshake_done);
		jw_lit(w, ",\"alert\":");
		if (t->alert) {
			jw_lit(w, "{\"level\":");
			jw_u64(w, t->alert_level);
			jw_lit(w, ",\"description\":");
			jw_u64(w, t->alert_desc);
			jw_lit(w, t->alert_dir == DIR_C2S ? ",\"from\":\"client\",\"file\":" : ",\"from\":\"server\",\"file\":");
			jstr(w, report_file(r, t->alert_frame, file));
			jw_lit(w, ",\"frame\":");
			jw_u64(w, frame_no(t->alert_frame));
			jw_putc(w, '}');
		} else {
			jw_lit(w, "null");
		}
		jw_lit(w, ",\"appdata_bytes\":{\"client\":");
		jw_u64(w, t->appdata_bytes[0]);
		jw_lit(w, ",\"server\":");
		jw_u64(w, t->appdata_bytes[1]);
		jw_lit(w, "},\"plaintext_after_tls\":");
		jw_bool(w, t->plaintext_after_tls);
		if (dec)
			jtls_dec(w, dec);
		jw_putc(w, '}');
	} else {
		jw_lit(w, "null");
	}
	jw_lit(w, ",\"messages\":[");
	for (uint32_t i = 0; i < smtp_msgs_kept(s); i++) {
		if (i)
			jw_putc(w, ',');
		jmessage(w, &s->msgs[i]);
	}
	jw_lit(w, "],\"messages_total\":");
	jw_u64(w, s->n_msgs);
	jw_lit(w, ",\"commands\":");
	jw_u64(w, s->commands);
	jw_lit(w, ",\"replies\":");
	jw_u64(w, s->replies);
	jw_lit(w, ",\"replies_4xx\":");
	jw_u64(w, s->replies_4xx);
	jw_lit(w, ",\"replies_5xx\":");
	jw_u64(w, s->replies_5xx);
	jw_lit(w, ",\"quit\":");
	jw_bool(w, s->quit_sent);
	jw_lit(w, ",\"early_talker\":");
	jw_bool(w, s->early_talker);
	jw_putc(w, '}');
}

static void jpair(struct jw *w, const char *k, uint64_t c, uint64_t s)
{
	jw_putc(w, '"');
	jw_lit(w, k);
	jw_lit(w, "\":{\"client\":");
	jw_u64(w, c);
	jw_lit(w, ",\"server\":");
	jw_u64(w, s);
	jw_putc(w, '}');
}

/* The "tcp" object of a session. */
void report_json_tcp(struct jw *w, const struct session_view *s, const struct verdict *v)
{
	const struct flow_info *fi = s->fi;
	const struct tcp_dir_stats *c = &fi->dir[DIR_C2S], *sv = &fi->dir[DIR_S2C];
	jw_putc(w, '{');
	jpair(w, "bytes", c->bytes, sv->bytes);
	jw_putc(w, ',');
	jpair(w, "packets", c->packets, sv->packets);
	jw_putc(w, ',');
	jpair(w, "retransmissions", c->retransmissions, sv->retransmissions);
	jw_putc(w, ',');
	jpair(w, "gaps", c->gaps, sv->gaps);
	jw_putc(w, ',');
	jpair(w, "gap_bytes", c->gap_bytes, sv->gap_bytes);
	jw_lit(w, ",\"syns\":");
	jw_u64(w, c->syns);
	jw_lit(w, ",\"handshake\":");
	jw_bool(w, fi->handshake_done);
	jw_lit(w, ",\"midstream\":");
	jw_bool(w, s->capture_started_midstream);
	/* the names are fixed identifiers: written as they are, as before */
	jw_lit(w, ",\"close\":\"");
	jw_lit(w, close_kind_name(v->close));
	jw_lit(w, "\",\"closed_by\":\"");
	jw_lit(w, closed_by_name(v->closed_by));
	jw_lit(w, "\",\"end\":\"");
	jw_lit(w, flow_end_name(s->end));
	jw_lit(w, "\"}");
}

/* The "verdict" object of a session; each evidence item names its file. */
void report_json_verdict(const struct reporter *r, struct jw *w, const struct session_view *s, const struct verdict *v)
{
	const struct flow_info *fi = s->fi;
	jw_lit(w, "{\"cause\":\"");
	jw_lit(w, cause_name(v->cause));
	jw_lit(w, "\",\"closed_by\":\"");
	jw_lit(w, closed_by_name(v->closed_by));
	jw_lit(w, "\",\"close\":\"");
	jw_lit(w, close_kind_name(v->close));
	jw_lit(w, "\",\"phase\":\"");
	jw_lit(w, verdict_phase_name(v->phase));
	jw_lit(w, "\",\"confidence\":\"");
	jw_lit(w, confidence_name(v->confidence));
	jw_lit(w, "\",\"reply\":");
	if (v->has_reply) {
		jw_lit(w, "{\"code\":");
		jw_u64_or_null(w, v->reply_code, v->reply_code);
		jw_lit(w, ",\"enhanced\":");
		if (v->reply_enhanced[0])
			jstr(w, v->reply_enhanced);
		else
			jw_lit(w, "null");
		jw_lit(w, ",\"text\":");
		jstr(w, v->reply_text);
		jw_putc(w, '}');
	} else {
		jw_lit(w, "null");
	}
	jw_lit(w, ",\"explanation\":");
	jstr(w, v->explanation);
	jw_lit(w, ",\"advice\":");
	jstr(w, v->advice);
	jw_lit(w, ",\"client_view\":");
	jstr(w, v->client_view);
	jw_lit(w, ",\"evidence\":[");
	for (uint32_t i = 0; i < SL_MIN(v->n_ev, VERDICT_MAX_EVIDENCE); i++) {
		if (i)
			jw_putc(w, ',');
		jw_lit(w, "{\"file\":");
		jstr(w, report_file(r, v->ev[i].frame, fi->file));
		jw_lit(w, ",\"frame\":");
		jw_u64(w, frame_no(v->ev[i].frame));
		jw_lit(w, ",\"time\":");
		report_json_time(w, v->ev[i].ts);
		jw_lit(w, ",\"text\":");
		jstr(w, v->ev[i].text);
		jw_putc(w, '}');
	}
	jw_lit(w, "]}");
}

/* The "smtp" object of a session. */
void report_json_smtp(const struct reporter *r, struct jw *w, const struct session_view *s)
{
	jsmtp(r, w, s->smtp, s->fi->file, s->tls_dec);
}

void report_json_session(struct reporter *r, const struct session_view *s, const struct verdict *v)
{
	char buf[JW_CAP];
	struct jw wb, *w = &wb;
	jw_init(w, r->o.out, buf, sizeof(buf));
	const struct flow_info *fi = s->fi;
	jw_lit(w, "{\"type\":\"session\"");
	if (r->o.shard_n) {
		jw_lit(w, ",\"shard\":{\"k\":");
		jw_u64(w, r->o.shard_k);
		jw_lit(w, ",\"n\":");
		jw_u64(w, r->o.shard_n);
		jw_lit(w, ",\"seq\":");
		jw_u64(w, s->seq);
		jw_putc(w, '}');
	}
	jw_lit(w, ",\"id\":");
	jw_u64(w, s->id);
	jw_lit(w, ",\"file\":");
	jstr(w, report_file(r, fi->first_frame, fi->file));
	jw_lit(w, ",\"start\":");
	report_json_time(w, fi->first_ts);
	jw_lit(w, ",\"end\":");
	report_json_time(w, fi->last_ts);
	jw_lit(w, ",\"community_id\":");
	if (s->community_id[0])
		jstr(w, s->community_id);
	else
		jw_lit(w, "null");
	jw_lit(w, ",\"start_ts\":");
	jw_sec6(w, (int64_t)fi->first_ts);
	jw_lit(w, ",\"end_ts\":");
	jw_sec6(w, (int64_t)fi->last_ts);
	jw_lit(w, ",\"duration\":");
	jw_sec6(w, (int64_t)(fi->last_ts - fi->first_ts));
	jw_lit(w, ",\"first_frame\":");
	jw_u64(w, frame_no(fi->first_frame));
	jw_lit(w, ",\"last_file\":");
	jstr(w, report_file(r, fi->last_frame, fi->file));
	jw_lit(w, ",\"last_frame\":");
	jw_u64(w, frame_no(fi->last_frame));
	jw_lit(w, ",\"client\":");
	jaddr(w, &fi->client, fi->client_port);
	jw_lit(w, ",\"server\":");
	jaddr(w, &fi->server, fi->server_port);
	jw_lit(w, ",\"protocol\":");
	jstr(w, s->protocol ? s->protocol : "Unknown");
	jw_lit(w, ",\"protocol_guessed\":");
	jw_bool(w, s->protocol_guessed);
	jw_lit(w, ",\"risks\":[");
	for (uint32_t i = 0; i < SL_MIN(s->n_risks, SESSION_MAX_RISKS); i++) {
		if (i)
			jw_putc(w, ',');
		jstr(w, s->risks[i]);
	}
	jw_lit(w, "],\"risks_ignored\":[");
	for (uint32_t i = 0; i < SL_MIN(s->n_risks_ignored, SESSION_MAX_RISKS); i++) {
		jw_lit(w, i ? ",{\"risk\":" : "{\"risk\":");
		jstr(w, s->risks_ignored[i]);
		jw_lit(w, ",\"why\":");
		jstr(w, s->risks_ignored_why[i]);
		jw_putc(w, '}');
	}
	jw_lit(w, "],\"smtp\":");
	report_json_smtp(r, w, s);
	jw_lit(w, ",\"tcp\":");
	report_json_tcp(w, s, v);
	jw_lit(w, ",\"verdict\":");
	report_json_verdict(r, w, s, v);
	if (r->o.transcript)
		report_transcript_json(r, w, s);
	if (s->extra && s->extra->json) {
		jw_putc(w, ',');
		jstr(w, s->extra->key);
		jw_putc(w, ':');
		jw_flush(w);    /* the module writes to the FILE itself */
		s->extra->json(r->o.out, s->extra->ctx);
	}
	jw_lit(w, "}\n");
	jw_flush(w);
}

void report_json_summary(struct reporter *r, const struct summary *sum)
{
	report_json_summary_to(r, r->o.out, sum, false);
	fputc('\n', r->o.out);
}

void report_json_summary_object(struct reporter *r, const struct summary *sum)
{
	report_json_summary_to(r, r->o.out, sum, false);
}

void report_json_summary_line(FILE *out, const struct summary *sum)
{
	struct reporter r = { .o = { .out = out, .json = true } };
	r.sessions = sum->sessions_reported;
	memcpy(r.causes, sum->causes, sizeof(r.causes));
	report_json_summary(&r, sum);
}

static void json_summary(struct reporter *r, struct jw *w, const struct summary *sum, bool html);

void report_json_summary_to(struct reporter *r, FILE *f, const struct summary *sum, bool html)
{
	char buf[JW_CAP];
	struct jw w;
	jw_init(&w, f, buf, sizeof(buf));
	json_summary(r, &w, sum, html);
	jw_flush(&w);
}

/* Cold (once a run): printf where it reads best. */
static void json_summary(struct reporter *r, struct jw *w, const struct summary *sum, bool html)
{
	jw_lit(w, "{\"type\":\"summary\"");
	if (r->o.shard_n) {
		jw_printf(w, ",\"shard\":{\"k\":%" PRIu32 ",\"n\":%" PRIu32 ",\"protocol_first_seq\":[", r->o.shard_k,
			r->o.shard_n);
		for (uint32_t i = 0; i < SL_MIN(sum->n_protocols, REPORT_MAX_PROTOCOLS); i++)
			jw_printf(w, "%s%" PRIu64, i ? "," : "", sum->protocol_first_seq[i]);
		jw_lit(w, "]}");
	}
	jw_printf(w, ",\"files\":%" PRIu32 ",\"records\":%" PRIu64 ",\"bytes_read\":%" PRIu64 ",\"first\":",
		sum->files, sum->records, sum->bytes_read);
	report_json_time(w, sum->first_ts);
	jw_lit(w, ",\"last\":");
	report_json_time(w, sum->last_ts);
	jw_printf(w, ",\"flows\":%" PRIu64 ",\"smtp_sessions\":%" PRIu64 ",\"other_flows\":%" PRIu64
		   ",\"flows_dropped\":{\"evicted\":%" PRIu64 ",\"untracked\":%" PRIu64 "}"
		   ",\"evicted\":{\"flow_table\":%" PRIu64 ",\"memory_cap\":%" PRIu64 "}"
		   ",\"sessions_reported\":%" PRIu64 ",\"protocols\":{",
		sum->flows, sum->smtp_sessions, sum->other_flows, sum->flows_evicted, sum->flows_untracked,
		sum->evicted_flow_table, sum->evicted_memory, r->sessions);
	for (uint32_t i = 0; i < SL_MIN(sum->n_protocols, REPORT_MAX_PROTOCOLS); i++) {
		if (i)
			jw_putc(w, ',');
		jw_string(w, sum->protocols[i].name, strnlen(sum->protocols[i].name, sizeof(sum->protocols[i].name)), html);
		jw_printf(w, ":%" PRIu64, sum->protocols[i].n);
	}
	if (sum->protocols_other)
		jw_printf(w, "%s\"(other)\":%" PRIu64, sum->n_protocols ? "," : "", sum->protocols_other);
	jw_printf(w, "},\"packets_decoded\":%" PRIu64 ",\"packets_undecodable\":{", sum->decode[DEC_TCP]);
	bool first = true;
	for (int i = 0; i < DEC__COUNT; i++) {
		if (i == DEC_TCP)
			continue;
		jw_printf(w, "%s\"%s\":%" PRIu64, first ? "" : ",", decode_result_name((enum decode_result)i), sum->decode[i]);
		first = false;
	}
	jw_lit(w, "},\"causes\":{");
	bool pipeline_counted = false;
	for (int i = 0; i < CAUSE__COUNT; i++)
		pipeline_counted |= sum->causes[i] != 0;
	for (int i = 0; i < CAUSE__COUNT; i++)
		jw_printf(w, "%s\"%s\":%" PRIu64, i ? "," : "", cause_name((enum cause)i),
			pipeline_counted ? sum->causes[i] : r->causes[i]);
	jw_printf(w, "},\"reassembly_cap_hits\":%" PRIu64 ",\"kernel_drops\":", sum->ooo_cap_hits);
	if (sum->kernel_stats)
		jw_printf(w, "%" PRIu64, sum->kernel_drops);
	else
		jw_lit(w, "null");
	jw_printf(w, ",\"bad_timestamps\":%" PRIu64, sum->bad_timestamps);
	if (sum->extract_on) {
		jw_printf(w, ",\"extract\":{\"errors\":%" PRIu64 ",\"first_error\":", sum->extract_errors);
		if (sum->extract_error[0])
			jw_string(w, sum->extract_error, strnlen(sum->extract_error, sizeof(sum->extract_error)), html);
		else
			jw_lit(w, "null");
		jw_putc(w, '}');
	}
	jw_lit(w, ",\"error\":");
	if (sum->error[0])
		jw_string(w, sum->error, strnlen(sum->error, sizeof(sum->error)), html);
	else
		jw_lit(w, "null");
	jw_lit(w, ",\"errors\":[");
	for (uint32_t i = 0; i < SL_MIN(sum->n_errors, SUMMARY_MAX_ERRORS); i++) {
		if (i)
			jw_putc(w, ',');
		jw_string(w, sum->errors[i], strnlen(sum->errors[i], sizeof(sum->errors[i])), html);
	}
	if (!sum->n_errors && sum->error[0])
		jw_string(w, sum->error, strnlen(sum->error, sizeof(sum->error)), html);
	jw_printf(w, "],\"errors_total\":%" PRIu64,
		sum->errors_total ? sum->errors_total : (uint64_t)(sum->error[0] != 0));
	if (sum->tls_keylog.source[0])
		jw_printf(w, ",\"tls_keylog\":{\"source\":\"%s\",\"entries\":%" PRIu64 ",\"malformed\":%" PRIu64 "}",
			sum->tls_keylog.source, sum->tls_keylog.entries, sum->tls_keylog.malformed);
	jw_lit(w, ",\"interrupted\":");
	if (sum->interrupted[0])
		jw_string(w, sum->interrupted, strnlen(sum->interrupted, sizeof(sum->interrupted)), html);
	else
		jw_lit(w, "null");
	jw_putc(w, '}');
}
