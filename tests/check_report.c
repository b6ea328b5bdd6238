/*
 * check_report.c - the reporters: JSON string escaping of arbitrary bytes
 * (checked by a small validator here and by jq when installed), the JSON
 * keys of the output contract, the text block, the transcript's masking and
 * abbreviation, and the filters.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diagnose.h"
#include "report.h"
#include "testutil.h"
#include "tu_dialog.h"

/* ---- a strict little JSON validator (RFC 8259) ---- */

struct jp {
	const unsigned char *p, *end;
	int depth;
};

static bool jv(struct jp *j);

static void ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static bool jstring(struct jp *j)
{
	if (j->p >= j->end || *j->p != '"')
		return false;
	j->p++;
	while (j->p < j->end) {
		unsigned char c = *j->p;
		if (c == '"') {
			j->p++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			j->p++;
			if (j->p >= j->end)
				return false;
			c = *j->p;
			if (c == 'u') {
				for (int i = 1; i <= 4; i++)
					if (j->p + i >= j->end || !isxdigit(j->p[i]))
						return false;
				j->p += 5;
				continue;
			}
			if (!strchr("\"\\/bfnrt", c))
				return false;
			j->p++;
			continue;
		}
		if (c >= 0x80) {
			int need = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1 : -1;
			if (need < 0 || c > 0xf4)
				return false;
			for (int i = 1; i <= need; i++)
				if (j->p + i >= j->end || (j->p[i] & 0xc0) != 0x80)
					return false;
			if (c == 0xed && j->p[1] >= 0xa0)
				return false;   /* surrogate */
			if (c == 0xe0 && j->p[1] < 0xa0)
				return false;   /* overlong */
			if (c == 0xf0 && j->p[1] < 0x90)
				return false;
			j->p += need + 1;
			continue;
		}
		j->p++;
	}
	return false;
}

static bool jnumber(struct jp *j)
{
	const unsigned char *s = j->p;
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p >= j->end || !isdigit(*j->p))
		return false;
	while (j->p < j->end && (isdigit(*j->p) || *j->p == '.' || *j->p == 'e' || *j->p == 'E' || *j->p == '+' || *j->p == '-'))
		j->p++;
	return j->p > s;
}

static bool jlit(struct jp *j, const char *w)
{
	size_t n = strlen(w);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n))
		return false;
	j->p += n;
	return true;
}

static bool jv(struct jp *j)
{
	ws(j);
	if (j->p >= j->end || ++j->depth > 64)
		return false;
	bool ok;
	switch (*j->p) {
	case '{':
		j->p++;
		ws(j);
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			ok = true;
			break;
		}
		for (;;) {
			ws(j);
			if (!jstring(j))
				return false;
			ws(j);
			if (j->p >= j->end || *j->p++ != ':')
				return false;
			if (!jv(j))
				return false;
			ws(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				continue;
			}
			if (j->p < j->end && *j->p == '}') {
				j->p++;
				break;
			}
			return false;
		}
		ok = true;
		break;
	case '[':
		j->p++;
		ws(j);
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			ok = true;
			break;
		}
		for (;;) {
			if (!jv(j))
				return false;
			ws(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				continue;
			}
			if (j->p < j->end && *j->p == ']') {
				j->p++;
				break;
			}
			return false;
		}
		ok = true;
		break;
	case '"': ok = jstring(j); break;
	case 't': ok = jlit(j, "true"); break;
	case 'f': ok = jlit(j, "false"); break;
	case 'n': ok = jlit(j, "null"); break;
	default: ok = jnumber(j); break;
	}
	j->depth--;
	return ok;
}

/* Every line of buf is one valid JSON value. */
static bool valid_json_lines(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		struct jp j = { (const unsigned char *)p, (const unsigned char *)le, 0 };
		if (!jv(&j))
			return false;
		ws(&j);
		if (j.p != j.end)
			return false;
		p = nl ? nl + 1 : end;
	}
	return true;
}

static bool have_jq(void)
{
	return system("command -v jq >/dev/null 2>&1") == 0;
}

/* Runs jq -e -s FILTER on the text (all lines slurped into one array);
 * true when jq accepts every line and the filter holds. */
static bool jq_check(const char *text, size_t len, const char *filter)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/jq-%d.json", tu_tmpdir(), (int)getpid());
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fwrite(text, 1, len, f);
	fclose(f);
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "jq -e -s '%s' '%s' >/dev/null 2>&1", filter, path);
	int rc = system(cmd);
	unlink(path);
	return rc == 0;
}

static char *escape(const char *s, size_t n, size_t *outlen)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, outlen);
	json_write_string(f, s, n);
	fclose(f);
	return buf;
}

START_TEST(test_escape_known)
{
	size_t n;
	char *o = escape("a\"b\\c\n\x01\x7f", 8, &n);
	ck_assert_str_eq(o, "\"a\\\"b\\\\c\\n\\u0001\\u007f\"");
	free(o);
	o = escape("caf\xc3\xa9", 5, &n);
	ck_assert_str_eq(o, "\"caf\xc3\xa9\"");
	free(o);
	/* invalid: lone continuation, overlong, surrogate, truncated, > U+10FFFF */
	const char bad[] = "\x80\xc0\x80\xed\xa0\x80\xe2\x82\xf4\x90\x80\x80";
	o = escape(bad, sizeof(bad) - 1, &n);
	ck_assert_ptr_null(strpbrk(o + 1, "\x80\xc0\xed\xe2\xf4"));
	ck_assert_ptr_nonnull(strstr(o, "\\ufffd"));
	free(o);
	o = escape("x\0y", 3, &n);
	ck_assert_str_eq(o, "\"x\\u0000y\"");
	free(o);
}
END_TEST

START_TEST(test_escape_random_bytes)
{
	srand(12345);
	char *all = NULL;
	size_t alllen = 0;
	FILE *lines = open_memstream(&all, &alllen);
	for (int round = 0; round < 2000; round++) {
		char in[200];
		size_t n = (size_t)(rand() % (int)sizeof(in));
		for (size_t i = 0; i < n; i++)
			in[i] = (char)(rand() & 0xff);
		size_t ol;
		char *o = escape(in, n, &ol);
		ck_assert_msg(valid_json_lines(o, ol), "invalid JSON for round %d", round);
		fprintf(lines, "%s\n", o);
		free(o);
	}
	fclose(lines);
	ck_assert(valid_json_lines(all, alllen));
	if (have_jq())
		ck_assert(jq_check(all, alllen, "length == 2000 and all(.[]; type == \"string\")"));
	free(all);
}
END_TEST

/* A whole session through the real pipeline: AUTH PLAIN (its user decoded,
 * its password never shown), one message of 931 bytes with a Subject the
 * JSON must escape, 30 s of silence, then 421 4.4.2 and the server's FIN;
 * the client is still open when the capture ends. */
static void idle_session(struct dl *t)
{
	dl_init(t);
	dl_handshake(t);
	dl_greet(t, 220, "", "mx.example.net ESMTP \"quoted\" \\ back");
	dl_ehlo(t, "PIPELINING SIZE 10240000 AUTH PLAIN LOGIN");
	dl_cmd(t, "AUTH PLAIN dXNlcgB1c2VyAHNlY3JldA==");
	dl_reply(t, 235, "2.7.0", "Authentication successful");
	dl_cmd(t, "MAIL FROM:<a@example.org> SIZE=931");
	dl_reply(t, 250, "2.1.0", "Ok");
	dl_cmd(t, "RCPT TO:<b@example.net>");
	dl_reply(t, 250, "2.1.5", "Ok");
	dl_cmd(t, "DATA");
	dl_reply(t, 354, "", "go ahead");
	dl_message(t, "Subject: Hello \xff\xfe world\r\n\r\n", 931, true);
	dl_reply(t, 250, "2.0.0", "Ok: queued as 1234");
	dl_wait(t, 30);
	dl_reply(t, 421, "4.4.2", "mx.example.net Error: timeout exceeded");
	dl_fin(t, DIR_S2C);
	dl_run(t);
	ck_assert_uint_eq(t->sessions, 1);
	/* nDPI's risk names reach the reporter as labels; one is set on the view
	 * (nDPI gives none to SMTP on its own port) */
	t->view.risks[0] = "Known Proto on Non Std Port";
	t->view.n_risks = 1;
}

static char *render(const struct report_opts *o0, struct dl *t, struct verdict *v, bool summary, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	struct report_opts o = *o0;
	o.out = f;
	struct reporter *r = reporter_new(&o);
	struct diag_config cfg;
	diag_config_default(&cfg);
	diagnose(&t->view, &cfg, v);
	if (reporter_wants(r, &t->view, v))
		reporter_session(r, &t->view, v);
	if (summary) {
		struct summary sum;
		memset(&sum, 0, sizeof(sum));
		sum.files = 1;
		sum.records = 40;
		sum.flows = 3;
		sum.smtp_sessions = 1;
		sum.other_flows = 1;
		sum.flows_evicted = 1;
		snprintf(sum.protocols[0].name, sizeof(sum.protocols[0].name), "HTTP");
		sum.protocols[0].n = 1;
		sum.n_protocols = 1;
		sum.decode[DEC_TCP] = 38;
		sum.decode[DEC_NOT_IP] = 2;
		snprintf(sum.error, sizeof(sum.error), "truncated record \"x\"");
		reporter_summary(r, &sum);
	}
	reporter_free(r);
	fclose(f);
	return buf;
}

START_TEST(test_json_contract_keys)
{
	struct dl t;
	struct verdict v;
	idle_session(&t);
	struct report_opts o = { .json = true };
	size_t len;
	char *out = render(&o, &t, &v, true, &len);
	ck_assert(valid_json_lines(out, len));
	const char *keys[] = {
		"{\"type\":\"session\",\"id\":1,", "\"start\":\"2023-11-14T22:13:20.000000Z\"", "\"end\":",
		"\"client\":{\"ip\":\"192.0.2.10\",\"port\":40000}", "\"server\":{\"ip\":\"198.51.100.25\",\"port\":25}",
		"\"protocol\":\"SMTP\"", "\"risks\":[\"Known Proto on Non Std Port\"]", "\"banner\":",
		"\"helo\":\"client.example\"", "\"extensions\":[\"PIPELINING\",\"SIZE 10240000\",\"AUTH PLAIN LOGIN\"]",
		"\"size_limit\":10240000", "\"auth\":{\"mechanism\":\"PLAIN\",\"user\":\"user\",\"result\":\"accepted\",\"code\":235",
		"\"starttls\":\"none\"", "\"mail_from\":\"a@example.org\"", "\"rcpt_to\":[\"b@example.net\"]",
		"\"size\":931", "\"bytes\":931", "\"reply\":{\"code\":250,\"enhanced\":\"2.0.0\"", "\"subject\":\"Hello ?? world\"",
		"\"message_id\":", "\"tcp\":{\"bytes\":{\"client\":", "\"retransmissions\":{", "\"gaps\":{",
		"\"close\":\"fin\",\"closed_by\":\"server\"", "\"verdict\":{\"cause\":\"idle_timeout\",\"closed_by\":\"server\",\"close\":\"fin\",\"phase\":\"idle\",\"confidence\":\"high\",\"reply\":{\"code\":421,\"enhanced\":\"4.4.2\"",
		"\"explanation\":", "\"advice\":", "\"evidence\":[{\"file\":",
		"{\"type\":\"summary\"", "\"flows\":3", "\"smtp_sessions\":1", "\"other_flows\":1",
		"\"flows_dropped\":{\"evicted\":1", "\"protocols\":{\"HTTP\":1}", "\"packets_undecodable\":{\"not_ip\":2",
		"\"idle_timeout\":1", "\"error\":\"truncated record \\\"x\\\"\"",
	};
	for (size_t i = 0; i < SL_ARRAY_LEN(keys); i++)
		ck_assert_msg(strstr(out, keys[i]), "missing %s in %s", keys[i], out);
	/* The password in the AUTH PLAIN line never reaches the JSON. */
	ck_assert_ptr_null(strstr(out, "dXNlcgB1c2VyAHNlY3JldA"));
	ck_assert_ptr_null(strstr(out, "secret"));
	if (have_jq()) {
		ck_assert(jq_check(out, len, "map(select(.type==\"session\"))[0].verdict.evidence | length > 0"));
		ck_assert(jq_check(out, len, "map(select(.type==\"summary\"))[0] | .flows == .smtp_sessions + .other_flows + .flows_dropped.evicted + .flows_dropped.untracked"));
	}
	free(out);
	dl_free(&t);
}
END_TEST

START_TEST(test_json_hostile_text)
{
	struct dl t;
	struct verdict v;
	dl_init(&t);
	dl_handshake(&t);
	char evil[300];
	for (size_t i = 0; i < sizeof(evil) - 1; i++)
		evil[i] = (char)(1 + (i * 37) % 255);
	evil[sizeof(evil) - 1] = 0;
	dl_greet(&t, 554, "5.7.1", evil);
	dl_cmd(&t, "EHLO \"}]\\\x1b[31m");
	dl_fin(&t, DIR_S2C);
	dl_run(&t);
	ck_assert_uint_eq(t.sessions, 1);
	struct report_opts o = { .json = true };
	size_t len;
	char *out = render(&o, &t, &v, true, &len);
	ck_assert(valid_json_lines(out, len));
	if (have_jq())
		ck_assert(jq_check(out, len, "map(select(.type==\"session\"))[0].verdict.cause == \"ip_filtered\""));
	free(out);
	dl_free(&t);
}
END_TEST

START_TEST(test_text_block)
{
	struct dl t;
	struct verdict v;
	idle_session(&t);
	struct report_opts o = { 0 };
	size_t len;
	char *out = render(&o, &t, &v, true, &len);
	ck_assert_ptr_nonnull(strstr(out, "#1  192.0.2.10:40000 -> 198.51.100.25:25  2023-11-14T22:13:20.000000Z"));
	ck_assert_ptr_nonnull(strstr(out, "verdict   idle_timeout (high) closed by server with FIN in phase idle"));
	ck_assert_ptr_nonnull(strstr(out, "reply     421 4.4.2 mx.example.net Error: timeout exceeded"));
	ck_assert_ptr_nonnull(strstr(out, "evidence"));
	ck_assert_ptr_nonnull(strstr(out, "advice"));
	ck_assert_ptr_nonnull(strstr(out, "idle_timeout                1"));
	ck_assert_ptr_nonnull(strstr(out, "flows: 3 = 1 SMTP session + 1 other flow + 1 dropped"));
	ck_assert_ptr_nonnull(strstr(out, "not_ip 2"));
	ck_assert_ptr_null(strchr(out, '\033'));
	free(out);
	o.color = true;
	out = render(&o, &t, &v, false, &len);
	ck_assert_ptr_nonnull(strchr(out, '\033'));
	free(out);
	o.color = false;
	o.quiet = true;
	out = render(&o, &t, &v, true, &len);
	ck_assert_ptr_null(strstr(out, "verdict "));
	ck_assert_ptr_nonnull(strstr(out, "Summary"));
	free(out);
	dl_free(&t);
}
END_TEST

START_TEST(test_transcript)
{
	struct dl t;
	struct verdict v;
	idle_session(&t);
	struct report_opts o = { .transcript = true };
	size_t len;
	char *out = render(&o, &t, &v, false, &len);
	ck_assert_ptr_nonnull(strstr(out, "=== session 1"));
	ck_assert_ptr_nonnull(strstr(out, "S: 220 mx.example.net ESMTP"));
	ck_assert_ptr_nonnull(strstr(out, "C: EHLO client.example"));
	ck_assert_ptr_nonnull(strstr(out, "C: AUTH PLAIN ********"));
	ck_assert_ptr_null(strstr(out, "dXNlcgB1c2VyAHNlY3JldA"));
	ck_assert_ptr_nonnull(strstr(out, "[body: 931 bytes"));
	ck_assert_ptr_nonnull(strstr(out, "+30."));
	ck_assert_ptr_nonnull(strstr(out, "S: 421 4.4.2"));
	ck_assert_msg(strstr(out, "S: [fin]") != NULL, "%s", out);   /* the server's FIN */
	/* relative times start at +0 */
	ck_assert_ptr_nonnull(strstr(out, "+0.000s"));
	free(out);
	dl_free(&t);
}
END_TEST

/* --json --transcript: the dialog inside the session object, each line with
 * its frame, file, time and side; secrets masked there too. */
START_TEST(test_json_transcript)
{
	struct dl t;
	struct verdict v;
	idle_session(&t);
	struct report_opts o = { .json = true, .transcript = true };
	size_t len;
	char *out = render(&o, &t, &v, false, &len);
	ck_assert_ptr_nonnull(strstr(out, ",\"transcript\":[{\"frame\":1,\"file\":"));
	ck_assert_ptr_nonnull(strstr(out, "\"side\":\"client\",\"line\":\"EHLO client.example\"}"));
	ck_assert_ptr_nonnull(strstr(out, "\"side\":\"server\",\"line\":\"  SIZE 10240000\"}"));
	ck_assert_ptr_nonnull(strstr(out, "\"line\":\"AUTH PLAIN ********\""));
	ck_assert_ptr_null(strstr(out, "dXNlcgB1c2VyAHNlY3JldA"));
	ck_assert_ptr_nonnull(strstr(out, "\"transcript_omitted\":0}"));
	/* without --transcript, no transcript key */
	free(out);
	o.transcript = false;
	out = render(&o, &t, &v, false, &len);
	ck_assert_ptr_null(strstr(out, "\"transcript\""));
	free(out);
	dl_free(&t);
}
END_TEST

START_TEST(test_filters)
{
	struct dl t;
	struct verdict v;
	idle_session(&t);
	struct diag_config cfg;
	diag_config_default(&cfg);
	diagnose(&t.view, &cfg, &v);
	struct report_opts o = { .out = stdout };
	struct reporter *r = reporter_new(&o);
	ck_assert(reporter_wants(r, &t.view, &v));
	reporter_free(r);
	o.cause_mask = 1u << CAUSE_COMPLETED;
	r = reporter_new(&o);
	ck_assert(!reporter_wants(r, &t.view, &v));
	reporter_free(r);
	o.cause_mask = (1u << CAUSE_COMPLETED) | (1u << CAUSE_IDLE_TIMEOUT);
	r = reporter_new(&o);
	ck_assert(reporter_wants(r, &t.view, &v));
	reporter_free(r);
	o.cause_mask = 0;
	o.failures_only = true;
	r = reporter_new(&o);
	ck_assert(reporter_wants(r, &t.view, &v));
	v.cause = CAUSE_COMPLETED;
	ck_assert(!reporter_wants(r, &t.view, &v));
	reporter_free(r);
	o.failures_only = false;
	o.n_hosts = 1;
	ck_assert(sl_cidr_parse("198.51.100.25", &o.hosts[0]));
	r = reporter_new(&o);
	ck_assert(reporter_wants(r, &t.view, &v));
	reporter_free(r);
	ck_assert(sl_cidr_parse("203.0.113.1", &o.hosts[0]));
	r = reporter_new(&o);
	ck_assert(!reporter_wants(r, &t.view, &v));
	reporter_free(r);
	/* Repeated --host: any of them; a block matches its addresses. */
	o.n_hosts = 2;
	ck_assert(sl_cidr_parse("198.51.100.0/24", &o.hosts[1]));
	r = reporter_new(&o);
	ck_assert(reporter_wants(r, &t.view, &v));
	reporter_free(r);
	ck_assert(sl_cidr_parse("198.51.100.0/25", &o.hosts[1]));
	r = reporter_new(&o);
	ck_assert(reporter_wants(r, &t.view, &v));
	reporter_free(r);
	ck_assert(sl_cidr_parse("198.51.100.128/25", &o.hosts[1]));
	r = reporter_new(&o);
	ck_assert(!reporter_wants(r, &t.view, &v));
	reporter_free(r);
	dl_free(&t);
}
END_TEST

/* Every cause reaches the JSON as its contract name and stays valid. */
START_TEST(test_json_every_cause_name)
{
	struct dl t;
	idle_session(&t);
	for (int c = 0; c < CAUSE__COUNT; c++) {
		struct verdict v;
		memset(&v, 0, sizeof(v));
		v.cause = (enum cause)c;
		v.closed_by = BY_MIDDLEBOX;
		v.close = CLOSE_RST;
		v.phase = PH_BDAT;
		char *buf = NULL;
		size_t len;
		FILE *f = open_memstream(&buf, &len);
		struct report_opts o = { .json = true, .out = f };
		struct reporter *r = reporter_new(&o);
		reporter_session(r, &t.view, &v);
		reporter_free(r);
		fclose(f);
		ck_assert(valid_json_lines(buf, len));
		char want[80];
		snprintf(want, sizeof(want), "\"cause\":\"%s\",\"closed_by\":\"middlebox\",\"close\":\"rst\",\"phase\":\"bdat\"", cause_name((enum cause)c));
		ck_assert_msg(strstr(buf, want), "%s", want);
		ck_assert_ptr_nonnull(strstr(buf, "\"reply\":null"));
		free(buf);
	}
	dl_free(&t);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("json");
	tcase_add_test(tc, test_escape_known);
	tcase_add_test(tc, test_escape_random_bytes);
	tcase_add_test(tc, test_json_contract_keys);
	tcase_add_test(tc, test_json_hostile_text);
	tcase_add_test(tc, test_json_every_cause_name);
	suite_add_tcase(s, tc);
	tc = tcase_create("text");
	tcase_add_test(tc, test_text_block);
	tcase_add_test(tc, test_transcript);
	tcase_add_test(tc, test_json_transcript);
	tcase_add_test(tc, test_filters);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	/* The JSON is always checked by valid_json_lines(); jq adds queries. */
	if (!have_jq())
		tu_skip("the jq queries of the JSON tests", "jq not found");
	return tu_run(suite());
}
