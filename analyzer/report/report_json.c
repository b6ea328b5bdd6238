/*
 * report_json.c - JSON Lines per the output contract in DESIGN.md: one
 * {"type":"session"} object per session, one {"type":"summary"} at the end.
 *
 * Invariant: the output is valid JSON (RFC 8259) whatever bytes the session
 * carried: every string goes through json_write_string(), which escapes
 * quotes, backslashes and control characters and replaces invalid UTF-8
 * with U+FFFD. Passwords never reach here (smtp_facts holds none).
 */
#include <inttypes.h>
#include <string.h>

#include "jsonw.h"
#include "report_int.h"

/* Length of a valid UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t need;
	unsigned char lo = 0x80, hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf)
		need = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		if (c == 0xe0)
			lo = 0xa0;
		if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		if (c == 0xf0)
			lo = 0x90;
		if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < need)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < need; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return need;
}

/* Bytes that go out as they are: printable ASCII but the quote and backslash
 * (and, for HTML, the three characters that could end a <script> element). */
/* As a table: bit 0 plain in JSON, bit 1 plain in HTML (for a <script>). */
#define JP(c) ((c) >= 0x20 && (c) < 0x7f && (c) != '"' && (c) != '\\')
#define J2(c) ((JP(c) ? 1 : 0) | (JP(c) && (c) != '<' && (c) != '>' && (c) != '&' ? 2 : 0))
#define J8(c) J2(c), J2((c) + 1), J2((c) + 2), J2((c) + 3), J2((c) + 4), J2((c) + 5), J2((c) + 6), J2((c) + 7)
#define J64(c) J8(c), J8((c) + 8), J8((c) + 16), J8((c) + 24), J8((c) + 32), J8((c) + 40), J8((c) + 48), J8((c) + 56)
static const uint8_t json_plain_tab[256] = { J64(0), J64(64), J64(128), J64(192) };
#undef J64
#undef J8
#undef J2
#undef JP

static inline bool json_plain(unsigned char c, bool html)
{
	return json_plain_tab[c] & (html ? 2 : 1);
}

static void json_write_string_mode(FILE *f, const char *str, size_t n, bool html)
{
	const unsigned char *s = (const unsigned char *)str;
	putc_unlocked('"', f);
	for (size_t i = 0; i < n;) {
		/* Most text is plain ASCII: write it in runs, not byte by byte. */
		size_t j = i;
		while (j < n && json_plain(s[j], html))
			j++;
		if (j > i) {
			fwrite_unlocked(s + i, 1, j - i, f);
			i = j;
			continue;
		}
		unsigned char c = s[i];
		if (c == '"' || c == '\\') {
			putc_unlocked('\\', f);
			putc_unlocked(c, f);
			i++;
		} else if (c == '<' || c == '>' || c == '&') {
			fprintf(f, "\\u%04x", c);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			switch (c) {
			case '\n': fputs("\\n", f); break;
			case '\r': fputs("\\r", f); break;
			case '\t': fputs("\\t", f); break;
			default: fprintf(f, "\\u%04x", c); break;
			}
			i++;
		} else {
			size_t l = utf8_len(s + i, n - i);
			if (l == 3 && html && s[i] == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] == 0xa8 || s[i + 2] == 0xa9)) {
				fputs(s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", f);
				i += l;
			} else if (l) {
				fwrite_unlocked(s + i, 1, l, f);
				i += l;
			} else {
				fputs("\\ufffd", f);
				i++;
			}
		}
	}
	putc_unlocked('"', f);
}

void json_write_string(FILE *f, const char *str, size_t n)
{
	json_write_string_mode(f, str, n, false);
}

void json_write_string_html(FILE *f, const char *str, size_t n)
{
	json_write_string_mode(f, str, n, true);
}

static void jstr(FILE *f, const char *s)
{
	json_write_string(f, s ? s : "", s ? strlen(s) : 0);
}

void report_json_str(FILE *f, const char *s)
{
	jstr(f, s);
}

void report_json_time(FILE *f, sl_time t)
{
	if (!t) {
		fputs("null", f);
		return;
	}
	jw_time(f, t);
}

static void jreply(FILE *f, const struct smtp_reply *r)
{
	if (!r->code && !r->text[0]) {
		fputs("null", f);
		return;
	}
	fputs("{\"code\":", f);
	if (r->code)
		jw_u64(f, r->code);
	else
		fputs("null", f);
	fputs(",\"enhanced\":", f);
	if (r->enhanced[0])
		report_json_str(f, r->enhanced);
	else
		fputs("null", f);
	fputs(",\"text\":", f);
	report_json_str(f, r->text);
	fputc('}', f);
}

/* sep-separated items as a JSON array. */
static void jlist(FILE *f, const char *s, const char *sep)
{
	fputc('[', f);
	bool first = true;
	while (s && *s) {
		while (*s && strchr(sep, *s))
			s++;
		size_t n = strcspn(s, sep);
		if (!n)
			break;
		if (!first)
			fputc(',', f);
		json_write_string(f, s, n);
		first = false;
		s += n;
	}
	fputc(']', f);
}

static void jaddr(FILE *f, const struct sl_addr *a, uint16_t port)
{
	char b[SL_ADDRSTRLEN];
	fputs("{\"ip\":", f);
	report_json_str(f, sl_addr_str(a, b, sizeof(b)));
	jw_lit(f, ",\"port\":");
	jw_u64(f, port);
	putc_unlocked('}', f);
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

static void jmessage(FILE *f, const struct smtp_message *m)
{
	fputs("{\"mail_from\":", f);
	report_json_str(f, m->mail_from);
	fputs(",\"rcpt_to\":[", f);
	for (uint32_t i = 0; i < SL_MIN(m->rcpts, SMTP_MAX_RCPTS); i++) {
		if (i)
			fputc(',', f);
		report_json_str(f, m->rcpt_to[i]);
	}
	fputs("],\"rcpt_codes\":[", f);
	for (uint32_t i = 0; i < SL_MIN(m->rcpts, SMTP_MAX_RCPTS); i++) {
		if (i)
			putc_unlocked(',', f);
		jw_u64(f, m->rcpt_codes[i]);
	}
	jw_lit(f, "],\"rcpts\":");
	jw_u64(f, m->rcpts);
	jw_lit(f, ",\"rcpts_accepted\":");
	jw_u64(f, m->rcpts_accepted);
	jw_lit(f, ",\"size\":");
	if (m->has_declared_size)
		jw_u64(f, m->declared_size);
	else
		fputs("null", f);
	jw_lit(f, ",\"bytes\":");
	jw_u64(f, m->wire_bytes);
	jw_lit(f, ",\"body_bytes\":");
	jw_u64(f, m->body_bytes);
	jw_lit(f, ",\"gap_bytes\":");
	jw_u64(f, m->gap_bytes);
	jw_lit(f, ",\"bdat\":");
	jw_bool(f, m->bdat);
	jw_lit(f, ",\"complete\":");
	jw_bool(f, m->data_complete);
	jw_lit(f, ",\"reply\":");
	const struct smtp_reply *r = m->final_reply.code ? &m->final_reply
				     : m->data_reply.code >= 400 ? &m->data_reply : &m->mail_reply;
	if (r->code >= 400 || r == &m->final_reply)
		jreply(f, r);
	else
		fputs("null", f);
	fputs(",\"subject\":", f);
	report_json_str(f, m->subject);
	fputs(",\"message_id\":", f);
	report_json_str(f, m->message_id);
	fputs(",\"from\":", f);
	report_json_str(f, m->from);
	fputs(",\"to\":", f);
	report_json_str(f, m->to);
	fputs(",\"date\":", f);
	report_json_str(f, m->date);
	fputc('}', f);
}

/* The key log's work on a TLS session (present with a key log only). */
static void jtls_dec(FILE *f, const struct session_tls *d)
{
	fprintf(f, ",\"decrypted\":%s,\"keys\":[", d->decrypted ? "true" : "false");
	for (uint32_t i = 0; i < SL_MIN(d->n_keys, SESSION_TLS_KEYS_MAX); i++) {
		if (i)
			fputc(',', f);
		jstr(f, d->keys[i]);
	}
	fputs("],\"decryption\":{\"client\":", f);
	jstr(f, d->status[DIR_C2S]);
	fputs(",\"server\":", f);
	jstr(f, d->status[DIR_S2C]);
	fprintf(f, ",\"plaintext_bytes\":{\"client\":%" PRIu64 ",\"server\":%" PRIu64 "},\"cipher\":",
		d->app_bytes[DIR_C2S], d->app_bytes[DIR_S2C]);
	if (d->cipher)
		jstr(f, d->cipher);
	else
		fputs("null", f);
	fputs(",\"wanted_line\":", f);
	if (d->wanted[0])
		jstr(f, d->wanted);
	else
		fputs("null", f);
	fputc('}', f);
}

static void jsmtp(const struct reporter *r, FILE *f, const struct smtp_facts *s, const char *file,
		  const struct session_tls *dec)
{
	fputs("{\"banner\":", f);
	if (s->greeting.code || s->greeting.text[0])
		report_json_str(f, s->greeting.text);
	else
		fputs("null", f);
	fputs(",\"greeting\":", f);
	jreply(f, &s->greeting);
	fputs(",\"helo\":", f);
	report_json_str(f, s->helo_arg);
	fputs(",\"helo_verb\":", f);
	report_json_str(f, s->helo_verb);
	fputs(",\"extensions\":", f);
	jlist(f, s->extensions, "\n");
	fputs(",\"size_limit\":", f);
	if (s->has_size_limit)
		jw_u64(f, s->size_limit);
	else
		fputs("null", f);
	fputs(",\"auth\":", f);
	if (s->auth_attempts || s->auth_mech[0]) {
		fputs("{\"mechanism\":", f);
		report_json_str(f, s->auth_mech);
		fputs(",\"user\":", f);
		report_json_str(f, s->auth_user);
		fputs(",\"result\":", f);
		jstr(f, report_auth_result_name(s->auth_result));
		fputs(",\"code\":", f);
		if (s->auth_code)
			fprintf(f, "%u", s->auth_code);
		else
			fputs("null", f);
		fprintf(f, ",\"attempts\":%" PRIu32 ",\"failures\":%" PRIu32 "}", s->auth_attempts, s->auth_failures);
	} else {
		fputs("null", f);
	}
	fputs(",\"starttls\":", f);
	report_json_str(f, starttls_name(s->starttls));
	fputs(",\"tls\":", f);
	const struct tls_facts *t = &s->tls;
	if (s->starttls == STLS_ACCEPTED || s->implicit_tls || t->client_hello) {
		fprintf(f, "{\"implicit\":%s,\"client_hello\":%s,\"server_hello\":%s,\"sni\":",
			s->implicit_tls ? "true" : "false", t->client_hello ? "true" : "false",
			t->server_hello ? "true" : "false");
		report_json_str(f, t->sni);
		fprintf(f, ",\"version\":%u,\"handshake_done\":%s,\"alert\":", t->version,
			t->handshake_done ? "true" : "false");
		if (t->alert)
		{
			fprintf(f, "{\"level\":%u,\"description\":%u,\"from\":\"%s\",\"file\":",
				t->alert_level, t->alert_desc, t->alert_dir == DIR_C2S ? "client" : "server");
			jstr(f, report_file(r, t->alert_frame, file));
			fprintf(f, ",\"frame\":%" PRIu64 "}", frame_no(t->alert_frame));
		}
		else
			fputs("null", f);
		fprintf(f, ",\"appdata_bytes\":{\"client\":%" PRIu64 ",\"server\":%" PRIu64 "}"
			   ",\"plaintext_after_tls\":%s",
			t->appdata_bytes[0], t->appdata_bytes[1], t->plaintext_after_tls ? "true" : "false");
		if (dec)
			jtls_dec(f, dec);
		fputc('}', f);
	} else {
		fputs("null", f);
	}
	fputs(",\"messages\":[", f);
	for (uint32_t i = 0; i < smtp_msgs_kept(s); i++) {
		if (i)
			fputc(',', f);
		jmessage(f, &s->msgs[i]);
	}
	jw_lit(f, "],\"messages_total\":");
	jw_u64(f, s->n_msgs);
	jw_lit(f, ",\"commands\":");
	jw_u64(f, s->commands);
	jw_lit(f, ",\"replies\":");
	jw_u64(f, s->replies);
	jw_lit(f, ",\"replies_4xx\":");
	jw_u64(f, s->replies_4xx);
	jw_lit(f, ",\"replies_5xx\":");
	jw_u64(f, s->replies_5xx);
	jw_lit(f, ",\"quit\":");
	jw_bool(f, s->quit_sent);
	jw_lit(f, ",\"early_talker\":");
	jw_bool(f, s->early_talker);
	putc_unlocked('}', f);
}

static void jpair(FILE *f, const char *k, uint64_t c, uint64_t s)
{
	putc_unlocked('"', f);
	jw_lit(f, k);
	jw_lit(f, "\":{\"client\":");
	jw_u64(f, c);
	jw_lit(f, ",\"server\":");
	jw_u64(f, s);
	putc_unlocked('}', f);
}

/* The "tcp" object of a session. */
void report_json_tcp(FILE *f, const struct session_view *s, const struct verdict *v)
{
	const struct flow_info *fi = s->fi;
	const struct tcp_dir_stats *c = &fi->dir[DIR_C2S], *sv = &fi->dir[DIR_S2C];
	fputc('{', f);
	jpair(f, "bytes", c->bytes, sv->bytes);
	fputc(',', f);
	jpair(f, "packets", c->packets, sv->packets);
	fputc(',', f);
	jpair(f, "retransmissions", c->retransmissions, sv->retransmissions);
	fputc(',', f);
	jpair(f, "gaps", c->gaps, sv->gaps);
	fputc(',', f);
	jpair(f, "gap_bytes", c->gap_bytes, sv->gap_bytes);
	jw_lit(f, ",\"syns\":");
	jw_u64(f, c->syns);
	jw_lit(f, ",\"handshake\":");
	jw_bool(f, fi->handshake_done);
	jw_lit(f, ",\"midstream\":");
	jw_bool(f, s->capture_started_midstream);
	/* the names are fixed identifiers: written as they are, as before */
	jw_lit(f, ",\"close\":\"");
	jw_lit(f, close_kind_name(v->close));
	jw_lit(f, "\",\"closed_by\":\"");
	jw_lit(f, closed_by_name(v->closed_by));
	jw_lit(f, "\",\"end\":\"");
	jw_lit(f, flow_end_name(s->end));
	jw_lit(f, "\"}");
}

/* The "verdict" object of a session; each evidence item names its file. */
void report_json_verdict(const struct reporter *r, FILE *f, const struct session_view *s, const struct verdict *v)
{
	const struct flow_info *fi = s->fi;
	jw_lit(f, "{\"cause\":\"");
	jw_lit(f, cause_name(v->cause));
	jw_lit(f, "\",\"closed_by\":\"");
	jw_lit(f, closed_by_name(v->closed_by));
	jw_lit(f, "\",\"close\":\"");
	jw_lit(f, close_kind_name(v->close));
	jw_lit(f, "\",\"phase\":\"");
	jw_lit(f, verdict_phase_name(v->phase));
	jw_lit(f, "\",\"confidence\":\"");
	jw_lit(f, confidence_name(v->confidence));
	jw_lit(f, "\",\"reply\":");
	if (v->has_reply) {
		fputs("{\"code\":", f);
		if (v->reply_code)
			jw_u64(f, v->reply_code);
		else
			fputs("null", f);
		fputs(",\"enhanced\":", f);
		if (v->reply_enhanced[0])
			jstr(f, v->reply_enhanced);
		else
			fputs("null", f);
		fputs(",\"text\":", f);
		jstr(f, v->reply_text);
		fputc('}', f);
	} else {
		fputs("null", f);
	}
	fputs(",\"explanation\":", f);
	jstr(f, v->explanation);
	fputs(",\"advice\":", f);
	jstr(f, v->advice);
	fputs(",\"client_view\":", f);
	jstr(f, v->client_view);
	fputs(",\"evidence\":[", f);
	for (uint32_t i = 0; i < SL_MIN(v->n_ev, VERDICT_MAX_EVIDENCE); i++) {
		if (i)
			fputc(',', f);
		fputs("{\"file\":", f);
		jstr(f, report_file(r, v->ev[i].frame, fi->file));
		jw_lit(f, ",\"frame\":");
		jw_u64(f, frame_no(v->ev[i].frame));
		jw_lit(f, ",\"time\":");
		report_json_time(f, v->ev[i].ts);
		fputs(",\"text\":", f);
		jstr(f, v->ev[i].text);
		fputc('}', f);
	}
	fputs("]}", f);
}

/* The "smtp" object of a session. */
void report_json_smtp(const struct reporter *r, FILE *f, const struct session_view *s)
{
	jsmtp(r, f, s->smtp, s->fi->file, s->tls_dec);
}

void report_json_session(struct reporter *r, const struct session_view *s, const struct verdict *v)
{
	FILE *f = r->o.out;
	const struct flow_info *fi = s->fi;
	jw_lit(f, "{\"type\":\"session\"");
	if (r->o.shard_n) {
		jw_lit(f, ",\"shard\":{\"k\":");
		jw_u64(f, r->o.shard_k);
		jw_lit(f, ",\"n\":");
		jw_u64(f, r->o.shard_n);
		jw_lit(f, ",\"seq\":");
		jw_u64(f, s->seq);
		putc_unlocked('}', f);
	}
	jw_lit(f, ",\"id\":");
	jw_u64(f, s->id);
	jw_lit(f, ",\"file\":");
	jstr(f, report_file(r, fi->first_frame, fi->file));
	fputs(",\"start\":", f);
	report_json_time(f, fi->first_ts);
	fputs(",\"end\":", f);
	report_json_time(f, fi->last_ts);
	jw_lit(f, ",\"community_id\":");
	if (s->community_id[0])
		jstr(f, s->community_id);
	else
		jw_lit(f, "null");
	jw_lit(f, ",\"start_ts\":");
	jw_sec6(f, (int64_t)fi->first_ts);
	jw_lit(f, ",\"end_ts\":");
	jw_sec6(f, (int64_t)fi->last_ts);
	jw_lit(f, ",\"duration\":");
	jw_sec6(f, (int64_t)(fi->last_ts - fi->first_ts));
	jw_lit(f, ",\"first_frame\":");
	jw_u64(f, frame_no(fi->first_frame));
	jw_lit(f, ",\"last_file\":");
	jstr(f, report_file(r, fi->last_frame, fi->file));
	jw_lit(f, ",\"last_frame\":");
	jw_u64(f, frame_no(fi->last_frame));
	jw_lit(f, ",\"client\":");
	jaddr(f, &fi->client, fi->client_port);
	fputs(",\"server\":", f);
	jaddr(f, &fi->server, fi->server_port);
	fputs(",\"protocol\":", f);
	jstr(f, s->protocol ? s->protocol : "Unknown");
	jw_lit(f, ",\"protocol_guessed\":");
	jw_bool(f, s->protocol_guessed);
	jw_lit(f, ",\"risks\":[");
	for (uint32_t i = 0; i < SL_MIN(s->n_risks, SESSION_MAX_RISKS); i++) {
		if (i)
			fputc(',', f);
		jstr(f, s->risks[i]);
	}
	fputs("],\"risks_ignored\":[", f);
	for (uint32_t i = 0; i < SL_MIN(s->n_risks_ignored, SESSION_MAX_RISKS); i++) {
		fputs(i ? ",{\"risk\":" : "{\"risk\":", f);
		jstr(f, s->risks_ignored[i]);
		fputs(",\"why\":", f);
		jstr(f, s->risks_ignored_why[i]);
		fputc('}', f);
	}
	fputs("],\"smtp\":", f);
	report_json_smtp(r, f, s);
	fputs(",\"tcp\":", f);
	report_json_tcp(f, s, v);
	fputs(",\"verdict\":", f);
	report_json_verdict(r, f, s, v);
	if (r->o.transcript)
		report_transcript_json(r, s);
	if (s->extra && s->extra->json) {
		fputc(',', f);
		jstr(f, s->extra->key);
		fputc(':', f);
		s->extra->json(f, s->extra->ctx);
	}
	fputs("}\n", f);
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

void report_json_summary_to(struct reporter *r, FILE *f, const struct summary *sum, bool html)
{
	fputs("{\"type\":\"summary\"", f);
	if (r->o.shard_n) {
		fprintf(f, ",\"shard\":{\"k\":%" PRIu32 ",\"n\":%" PRIu32 ",\"protocol_first_seq\":[", r->o.shard_k,
			r->o.shard_n);
		for (uint32_t i = 0; i < SL_MIN(sum->n_protocols, REPORT_MAX_PROTOCOLS); i++)
			fprintf(f, "%s%" PRIu64, i ? "," : "", sum->protocol_first_seq[i]);
		fputs("]}", f);
	}
	fprintf(f, ",\"files\":%" PRIu32 ",\"records\":%" PRIu64 ",\"bytes_read\":%" PRIu64 ",\"first\":",
		sum->files, sum->records, sum->bytes_read);
	report_json_time(f, sum->first_ts);
	fputs(",\"last\":", f);
	report_json_time(f, sum->last_ts);
	fprintf(f, ",\"flows\":%" PRIu64 ",\"smtp_sessions\":%" PRIu64 ",\"other_flows\":%" PRIu64
		   ",\"flows_dropped\":{\"evicted\":%" PRIu64 ",\"untracked\":%" PRIu64 "}"
		   ",\"evicted\":{\"flow_table\":%" PRIu64 ",\"memory_cap\":%" PRIu64 "}"
		   ",\"sessions_reported\":%" PRIu64 ",\"protocols\":{",
		sum->flows, sum->smtp_sessions, sum->other_flows, sum->flows_evicted, sum->flows_untracked,
		sum->evicted_flow_table, sum->evicted_memory, r->sessions);
	for (uint32_t i = 0; i < SL_MIN(sum->n_protocols, REPORT_MAX_PROTOCOLS); i++) {
		if (i)
			fputc(',', f);
		json_write_string_mode(f, sum->protocols[i].name, strnlen(sum->protocols[i].name, sizeof(sum->protocols[i].name)), html);
		fprintf(f, ":%" PRIu64, sum->protocols[i].n);
	}
	if (sum->protocols_other)
		fprintf(f, "%s\"(other)\":%" PRIu64, sum->n_protocols ? "," : "", sum->protocols_other);
	fprintf(f, "},\"packets_decoded\":%" PRIu64 ",\"packets_undecodable\":{", sum->decode[DEC_TCP]);
	bool first = true;
	for (int i = 0; i < DEC__COUNT; i++) {
		if (i == DEC_TCP)
			continue;
		fprintf(f, "%s\"%s\":%" PRIu64, first ? "" : ",", decode_result_name((enum decode_result)i), sum->decode[i]);
		first = false;
	}
	fputs("},\"causes\":{", f);
	bool pipeline_counted = false;
	for (int i = 0; i < CAUSE__COUNT; i++)
		pipeline_counted |= sum->causes[i] != 0;
	for (int i = 0; i < CAUSE__COUNT; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", cause_name((enum cause)i),
			pipeline_counted ? sum->causes[i] : r->causes[i]);
	fprintf(f, "},\"reassembly_cap_hits\":%" PRIu64 ",\"kernel_drops\":", sum->ooo_cap_hits);
	if (sum->kernel_stats)
		fprintf(f, "%" PRIu64, sum->kernel_drops);
	else
		fputs("null", f);
	fprintf(f, ",\"bad_timestamps\":%" PRIu64, sum->bad_timestamps);
	if (sum->extract_on) {
		fprintf(f, ",\"extract\":{\"errors\":%" PRIu64 ",\"first_error\":", sum->extract_errors);
		if (sum->extract_error[0])
			json_write_string_mode(f, sum->extract_error, strnlen(sum->extract_error, sizeof(sum->extract_error)), html);
		else
			fputs("null", f);
		fputc('}', f);
	}
	fputs(",\"error\":", f);
	if (sum->error[0])
		json_write_string_mode(f, sum->error, strnlen(sum->error, sizeof(sum->error)), html);
	else
		fputs("null", f);
	fputs(",\"errors\":[", f);
	for (uint32_t i = 0; i < SL_MIN(sum->n_errors, SUMMARY_MAX_ERRORS); i++) {
		if (i)
			fputc(',', f);
		json_write_string_mode(f, sum->errors[i], strnlen(sum->errors[i], sizeof(sum->errors[i])), html);
	}
	if (!sum->n_errors && sum->error[0])
		json_write_string_mode(f, sum->error, strnlen(sum->error, sizeof(sum->error)), html);
	fprintf(f, "],\"errors_total\":%" PRIu64,
		sum->errors_total ? sum->errors_total : (uint64_t)(sum->error[0] != 0));
	if (sum->tls_keylog.source[0])
		fprintf(f, ",\"tls_keylog\":{\"source\":\"%s\",\"entries\":%" PRIu64 ",\"malformed\":%" PRIu64 "}",
			sum->tls_keylog.source, sum->tls_keylog.entries, sum->tls_keylog.malformed);
	fputs(",\"interrupted\":", f);
	if (sum->interrupted[0])
		json_write_string_mode(f, sum->interrupted, strnlen(sum->interrupted, sizeof(sum->interrupted)), html);
	else
		fputs("null", f);
	fputc('}', f);
}
