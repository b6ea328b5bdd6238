/*
 * check_diag_reply.c - reading one reply: the same refusal in the words of
 * Postfix, Exim, Exchange, sendmail, Gmail, postscreen and the bundled
 * server maps to the same cause; and the rules stay in bounds on random
 * facts (with the invariants the producers keep).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag_reply.h"
#include "diagnose.h"
#include "testutil.h"

static struct verdict V;

/* Random facts for the robustness test: no producer fills these, on
 * purpose (the rules must stay in bounds on any facts). */
struct rnd_session {
	struct flow_info fi;
	struct smtp_facts f;
	struct smtp_message msgs[SMTP_MAX_MESSAGES];
	struct timeline tl;
	struct session_view v;
};

static void rnd_init(struct rnd_session *t)
{
	memset(t, 0, sizeof(*t));
	tl_init(&t->tl);
	t->v.fi = &t->fi;
	t->v.smtp = &t->f;
	t->v.tl = &t->tl;
	t->v.protocol = "SMTP";
}

static void run(struct rnd_session *t)
{
	struct diag_config cfg;
	diag_config_default(&cfg);
	diagnose(&t->v, &cfg, &V);
}

/* The same refusal in the words of different servers reads alike. */
static const struct {
	uint16_t code;
	const char *enh, *text;
	enum smtp_cmd answers;
	enum cause want;
	enum reply_class cls;
} PHRASES[] = {
	{ 554, "5.7.1", "<x@y.example>: Relay access denied", CMD_RCPT, CAUSE_RELAY_DENIED, RC_CAUSE },
	{ 550, "", "relay not permitted", CMD_RCPT, CAUSE_RELAY_DENIED, RC_CAUSE },
	{ 550, "5.7.1", "<x@y.example>... Relaying denied", CMD_RCPT, CAUSE_RELAY_DENIED, RC_CAUSE },
	{ 550, "5.7.54", "SMTP; Unable to relay recipient in non-accepted domain", CMD_RCPT, CAUSE_RELAY_DENIED, RC_CAUSE },
	{ 421, "4.4.2", "mx.example Error: timeout exceeded", CMD_NONE, CAUSE_IDLE_TIMEOUT, RC_CAUSE },
	{ 421, "", "mx.example SMTP incoming data timeout - closing connection.", CMD_BODY_END, CAUSE_IDLE_TIMEOUT, RC_CAUSE },
	{ 451, "4.4.2", "Timeout - closing connection.", CMD_NONE, CAUSE_IDLE_TIMEOUT, RC_CAUSE },
	{ 421, "4.4.1", "Connection timed out", CMD_BODY_END, CAUSE_IDLE_TIMEOUT, RC_CAUSE },
	{ 421, "4.7.0", "mx.example Error: too many errors", CMD_UNKNOWN, CAUSE_TOO_MANY_ERRORS, RC_CAUSE },
	{ 421, "", "mx.example: too many unrecognized commands", CMD_UNKNOWN, CAUSE_TOO_MANY_ERRORS, RC_CAUSE },
	{ 554, "", "SMTP synchronization error", CMD_EHLO, CAUSE_TOO_MANY_ERRORS, RC_CAUSE },
	{ 550, "5.5.1", "Protocol error", CMD_EHLO, CAUSE_TOO_MANY_ERRORS, RC_CAUSE },
	{ 451, "4.5.0", "SMTP protocol violation, see RFC 2821.", CMD_MAIL, CAUSE_TOO_MANY_ERRORS, RC_CAUSE },
	{ 535, "", "Incorrect authentication data", CMD_AUTH_DATA, CAUSE_AUTH_FAILED, RC_CAUSE },
	{ 535, "5.7.3", "Authentication unsuccessful", CMD_AUTH, CAUSE_AUTH_FAILED, RC_CAUSE },
	{ 454, "4.7.0", "Cannot authenticate due to temporary system problem", CMD_AUTH, CAUSE_AUTH_FAILED, RC_CAUSE },
	{ 530, "5.7.57", "SMTP; Client was not authenticated to send anonymous mail during MAIL FROM", CMD_MAIL, CAUSE_AUTH_REQUIRED, RC_CAUSE },
	{ 530, "5.7.0", "Must issue a STARTTLS command first", CMD_MAIL, CAUSE_TLS_REQUIRED, RC_CAUSE },
	{ 451, "5.7.3", "STARTTLS is required to send mail", CMD_MAIL, CAUSE_TLS_REQUIRED, RC_CAUSE },
	{ 421, "4.7.0", "TLS required for RCPT domain, closing connection.", CMD_RCPT, CAUSE_TLS_REQUIRED, RC_CAUSE },
	{ 552, "5.3.4", "Message size exceeds fixed maximum message size", CMD_BODY_END, CAUSE_SIZE_LIMIT, RC_CAUSE },
	{ 552, "", "Message size exceeds maximum permitted", CMD_MAIL, CAUSE_SIZE_LIMIT, RC_CAUSE },
	{ 552, "5.2.2", "Mailbox full", CMD_RCPT, CAUSE_RECIPIENT_REJECTED, RC_CAUSE },
	{ 452, "4.2.2", "The email account that you tried to reach is over quota.", CMD_RCPT, CAUSE_RECIPIENT_REJECTED, RC_CAUSE },
	{ 452, "4.3.1", "Insufficient system storage", CMD_MAIL, CAUSE_SERVER_UNAVAILABLE, RC_CAUSE },
	{ 421, "4.3.2", "The maximum number of concurrent server connections has exceeded a per-source limit, closing transmission channel", CMD_CONNECT, CAUSE_RATE_LIMITED, RC_CAUSE },
	{ 421, "4.3.2", "Service not available, closing transmission channel", CMD_CONNECT, CAUSE_SERVER_UNAVAILABLE, RC_CAUSE },
	{ 554, "", "mx.example no SMTP service here", CMD_CONNECT, CAUSE_SERVER_UNAVAILABLE, RC_CAUSE },
	{ 554, "5.7.1", "Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org", CMD_CONNECT, CAUSE_IP_FILTERED, RC_CAUSE },
	{ 550, "5.7.1", "Client host rejected: cannot find your reverse hostname", CMD_RCPT, CAUSE_IP_FILTERED, RC_CAUSE },
	{ 450, "4.7.1", "Client host rejected: cannot find your hostname", CMD_RCPT, CAUSE_IP_FILTERED, RC_CAUSE },
	{ 421, "4.7.0", "IP not in whitelist for RCPT domain, closing connection.", CMD_RCPT, CAUSE_IP_FILTERED, RC_CAUSE },
	{ 450, "4.2.0", "<x@y>: Recipient address rejected: Greylisted", CMD_RCPT, CAUSE_RATE_LIMITED, RC_CAUSE },
	{ 451, "4.7.1", "Greylisting in action, please come back later", CMD_RCPT, CAUSE_RATE_LIMITED, RC_CAUSE },
	{ 421, "4.7.0", "Try again later, closing connection.", CMD_EHLO, CAUSE_RATE_LIMITED, RC_CAUSE },
	{ 421, "4.7.0", "Our system has detected an unusual rate of unsolicited mail originating from your IP address.", CMD_MAIL, CAUSE_RATE_LIMITED, RC_CAUSE },
	{ 450, "4.2.1", "The user you are trying to contact is receiving mail too quickly.", CMD_RCPT, CAUSE_RATE_LIMITED, RC_CAUSE },
	{ 452, "4.5.3", "Your message has too many recipients.", CMD_RCPT, CAUSE_RATE_LIMITED, RC_CAUSE },
	{ 421, "4.7.0", "mx.example Error: too much mail from 192.0.2.1", CMD_MAIL, CAUSE_RATE_LIMITED, RC_CAUSE },
	{ 554, "5.5.0", "mx.example Error: SMTP protocol synchronization", CMD_CONNECT, CAUSE_TOO_MANY_ERRORS, RC_CAUSE },
	{ 451, "4.3.0", "Error: queue file write error", CMD_BODY_END, CAUSE_SERVER_UNAVAILABLE, RC_CAUSE },
	{ 501, "5.5.2", "Cannot decode response", CMD_AUTH_DATA, CAUSE_AUTH_FAILED, RC_CAUSE },
	{ 454, "4.7.0", "TLS not available due to local problem", CMD_STARTTLS, CAUSE_TLS_FAILED, RC_CAUSE },
	{ 503, "5.5.1", "Error: authentication not enabled", CMD_AUTH, CAUSE_AUTH_FAILED, RC_CAUSE },
	{ 550, "5.1.1", "<nobody@example.net>: Recipient address rejected: User unknown in local recipient table", CMD_RCPT, CAUSE_RECIPIENT_REJECTED, RC_CAUSE },
	{ 554, "5.7.1", "Message rejected as spam", CMD_BODY_END, CAUSE_CONTENT_REJECTED, RC_CAUSE },
	{ 500, "5.5.2", "Error: command not recognized", CMD_UNKNOWN, CAUSE_TOO_MANY_ERRORS, RC_SYNTAX },
	{ 503, "5.5.1", "Error: need RCPT command", CMD_DATA, CAUSE_RECIPIENT_REJECTED, RC_SYNTAX },
	{ 554, "5.7.1", "<a@b.example>: Sender address rejected: Access denied", CMD_MAIL, CAUSE_SENDER_REJECTED, RC_CAUSE },
	{ 554, "5.7.1", "<c.example[192.0.2.1]>: Client host rejected: Access denied", CMD_RCPT, CAUSE_IP_FILTERED, RC_CAUSE },
	{ 550, "", "STARTTLS is required before sending mail", CMD_MAIL, CAUSE_TLS_REQUIRED, RC_CAUSE },
	{ 421, "", "mx.example: too many syntax or protocol errors", CMD_UNKNOWN, CAUSE_TOO_MANY_ERRORS, RC_CAUSE },
	{ 421, "", "mx.example: SMTP command timeout - closing connection", CMD_NONE, CAUSE_IDLE_TIMEOUT, RC_CAUSE },
	{ 421, "", "mx.example Too many concurrent SMTP connections; please try again later.", CMD_CONNECT, CAUSE_RATE_LIMITED, RC_CAUSE },
	{ 504, "5.5.2", "<x>: Helo command rejected: need fully-qualified hostname", CMD_RCPT, CAUSE_IP_FILTERED, RC_CAUSE },
	{ 250, "2.0.0", "Ok", CMD_MAIL, CAUSE_UNKNOWN, RC_NONE },
	/* Postfix 3.7 in the lab (tests/data/postfix). */
	{ 221, "2.7.0", "Error: I can break rules, too. Goodbye.", CMD_UNKNOWN, CAUSE_TOO_MANY_ERRORS, RC_CAUSE },
	{ 221, "2.0.0", "Bye", CMD_QUIT, CAUSE_UNKNOWN, RC_NONE },
	{ 221, "", "closing", CMD_NONE, CAUSE_UNKNOWN, RC_NONE },
	{ 221, "2.0.0", "mx.example closing connection", CMD_EHLO, CAUSE_UNKNOWN, RC_CAUSE },
	{ 521, "5.5.1", "Protocol error", CMD_EHLO, CAUSE_TOO_MANY_ERRORS, RC_CAUSE },
	{ 503, "5.5.0", "<DATA>: Data command rejected: Improper use of SMTP command pipelining", CMD_DATA, CAUSE_TOO_MANY_ERRORS, RC_CAUSE },
	{ 450, "4.7.1", "Error: too much mail from 127.0.0.1", CMD_MAIL, CAUSE_RATE_LIMITED, RC_CAUSE },
	{ 452, "4.5.3", "Error: too many recipients", CMD_RCPT, CAUSE_RATE_LIMITED, RC_CAUSE },
	{ 552, "5.3.4", "Chunk exceeds message size limit", CMD_BDAT, CAUSE_SIZE_LIMIT, RC_CAUSE },
	{ 421, "4.7.0", "mx.example Error: too many connections from 127.0.0.1", CMD_CONNECT, CAUSE_RATE_LIMITED, RC_CAUSE },
	{ 554, "5.7.1", "<unknown[127.0.0.1]>: Client host rejected: Access denied", CMD_CONNECT, CAUSE_IP_FILTERED, RC_CAUSE },
	{ 501, "5.5.2", "<bad..name>: Helo command rejected: Invalid name", CMD_RCPT, CAUSE_IP_FILTERED, RC_CAUSE },
	{ 451, "4.7.1", "Service unavailable - try again later", CMD_MAIL, CAUSE_SERVER_UNAVAILABLE, RC_CAUSE },
	{ 451, "4.7.1", "Please try again later", CMD_RCPT, CAUSE_RATE_LIMITED, RC_CAUSE },
	{ 450, "4.7.1", "Service temporarily unavailable: greylisted, try again later", CMD_RCPT, CAUSE_RATE_LIMITED, RC_CAUSE },
	{ 452, "4.3.1", "Insufficient system storage", CMD_MAIL, CAUSE_SERVER_UNAVAILABLE, RC_CAUSE },
	{ 450, "4.7.25", "Client host rejected: cannot find your hostname, [127.0.0.1]", CMD_RCPT, CAUSE_IP_FILTERED, RC_CAUSE },
	/* Exim 4 defaults (no enhanced codes unless configured). */
	{ 421, "", "Too many concurrent SMTP connections from this IP address; please try again later.", CMD_CONNECT, CAUSE_RATE_LIMITED, RC_CAUSE },
	{ 554, "", "SMTP service not available", CMD_CONNECT, CAUSE_IP_FILTERED, RC_CAUSE },
	{ 550, "", "Administrative prohibition", CMD_CONNECT, CAUSE_IP_FILTERED, RC_CAUSE },
	{ 454, "", "TLS currently unavailable", CMD_STARTTLS, CAUSE_TLS_FAILED, RC_CAUSE },
	{ 554, "", "Security failure", CMD_STARTTLS, CAUSE_TLS_FAILED, RC_CAUSE },
	{ 550, "", "relay not permitted, authentication required", CMD_RCPT, CAUSE_RELAY_DENIED, RC_CAUSE },
	{ 550, "", "Unrouteable address", CMD_RCPT, CAUSE_RECIPIENT_REJECTED, RC_CAUSE },
	{ 452, "", "too many recipients", CMD_RCPT, CAUSE_RATE_LIMITED, RC_CAUSE },
	{ 421, "", "mx.example: SMTP incoming data timeout - closing connection.", CMD_NONE, CAUSE_IDLE_TIMEOUT, RC_CAUSE },
	{ 451, "", "Temporary local problem - please try later", CMD_BODY_END, CAUSE_SERVER_UNAVAILABLE, RC_CAUSE },
	{ 421, "", "mx.example lost input connection", CMD_NONE, CAUSE_UNKNOWN, RC_NONE },
	/* RFC 7372 sender authentication codes decide without the words: after
	 * the data the message is refused, at MAIL or RCPT its sender; a text
	 * that only says "blocked" is not an address block then. */
	{ 550, "5.7.26", "This mail has been blocked because the sender is unauthenticated.", CMD_BODY_END,
	  CAUSE_CONTENT_REJECTED, RC_CAUSE },
	{ 550, "5.7.20", "Message blocked", CMD_BODY_END, CAUSE_CONTENT_REJECTED, RC_CAUSE },
	{ 550, "5.7.23", "Message blocked", CMD_MAIL, CAUSE_SENDER_REJECTED, RC_CAUSE },
	{ 550, "5.7.26", "Rejected", CMD_RCPT, CAUSE_SENDER_REJECTED, RC_CAUSE },
	/* Bare refusal words (blocked, access denied) are an address block
	 * before the data and a filter's refusal after it; IP words after the
	 * data still name the address. */
	{ 554, "5.7.1", "Rejected by the gateway: Blocked by Intent Analysis", CMD_BODY_END, CAUSE_CONTENT_REJECTED,
	  RC_CAUSE },
	{ 550, "5.7.1", "Access denied", CMD_MAIL, CAUSE_IP_FILTERED, RC_CAUSE },
	{ 554, "", "Access denied", CMD_CONNECT, CAUSE_IP_FILTERED, RC_CAUSE },
	{ 554, "5.7.1", "Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org", CMD_BODY_END,
	  CAUSE_IP_FILTERED, RC_CAUSE },
	{ 550, "", "Mail from 192.0.2.1 refused: listed at dnsbl.example", CMD_BODY_END, CAUSE_IP_FILTERED, RC_CAUSE },
};

START_TEST(test_reply_phrasings)
{
	const struct reply_ctx rc = { 0 };
	struct smtp_reply r;
	memset(&r, 0, sizeof(r));
	r.code = PHRASES[_i].code;
	snprintf(r.enhanced, sizeof(r.enhanced), "%s", PHRASES[_i].enh);
	snprintf(r.text, sizeof(r.text), "%s", PHRASES[_i].text);
	r.answers = PHRASES[_i].answers;
	struct reply_reading rd;
	diag_classify_reply(&r, &rc, &rd);
	ck_assert_msg(rd.cls == PHRASES[_i].cls, "%u %s %s: class %d", r.code, r.enhanced, r.text, rd.cls);
	if (rd.cls != RC_NONE)
		ck_assert_msg(rd.cause == PHRASES[_i].want, "%u %s %s: %s, want %s", r.code, r.enhanced, r.text,
			      cause_name(rd.cause), cause_name(PHRASES[_i].want));
}
END_TEST

/* Random facts (with the invariants the producers keep: valid enums,
 * NUL-terminated strings) never crash the rules, and every verdict field is
 * in range and terminated. Runs under ASan/UBSan. */
/* Bytes of 0 or 1 keep every bool valid; the numbers that matter are set
 * to wide random values afterwards. */
static void fill_random(void *p, size_t n, unsigned *seed)
{
	uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(rand_r(seed) & 1);
}

static sl_time rnd_ts(unsigned *seed)
{
	return (sl_time)1700000000 * NS_PER_SEC + (sl_time)(rand_r(seed) % 4000) * NS_PER_SEC / 7;
}

static void fix_reply(struct smtp_reply *r, unsigned *seed)
{
	static const char *const texts[] = { "timeout", "Relay access denied", "too many errors", "x", "",
					     "Greylisted", "Client host blocked", "Must issue a STARTTLS command first" };
	snprintf(r->text, sizeof(r->text), "%s", texts[rand_r(seed) % 8]);
	snprintf(r->enhanced, sizeof(r->enhanced), "%d.%d.%d", 2 + rand_r(seed) % 4, rand_r(seed) % 8, rand_r(seed) % 9);
	r->ts = rnd_ts(seed);
	r->frame = (uint64_t)(rand_r(seed) % 50);
	r->code = (uint16_t)(rand_r(seed) % 700);
	r->enhanced[sizeof(r->enhanced) - 1] = 0;
	r->text[sizeof(r->text) - 1] = 0;
	r->answers = (enum smtp_cmd)(rand_r(seed) % CMD__COUNT);
}

START_TEST(test_random_facts_robust)
{
	unsigned seed = 4242;
	static struct rnd_session t;
	for (int round = 0; round < 2000; round++) {
		rnd_init(&t);
		fill_random(&t.fi.dir, sizeof(t.fi.dir), &seed);
		fill_random(&t.f, sizeof(t.f), &seed);
		fill_random(t.msgs, sizeof(t.msgs), &seed);
		t.f.msgs = t.msgs;      /* the random bytes hit the pointer too */
		t.f.msgs_cap = SMTP_MAX_MESSAGES;
		for (int d = 0; d < 2; d++) {
			struct tcp_dir_stats *st = &t.fi.dir[d];
			st->fin_frame = rand_r(&seed) % 3 ? 0 : (uint64_t)(rand_r(&seed) % 50);
			st->rst_frame = rand_r(&seed) % 3 ? 0 : (uint64_t)(rand_r(&seed) % 50);
			st->fin_ts = rnd_ts(&seed);
			st->rst_ts = rnd_ts(&seed);
			st->last_payload_ts = rnd_ts(&seed);
			st->first_ts = rnd_ts(&seed);
			st->last_ts = rnd_ts(&seed);
			st->rst_ttl = (uint8_t)rand_r(&seed);
			st->ttl_min = (uint8_t)rand_r(&seed);
			st->ttl_max = (uint8_t)rand_r(&seed);
			st->ttl_first = (uint8_t)rand_r(&seed);
			st->packets = (uint64_t)(rand_r(&seed) % 20);
			st->bytes = (uint64_t)(rand_r(&seed) % 100000);
			st->syns = (uint32_t)(rand_r(&seed) % 4);
		}
		t.f.size_limit = (uint64_t)(rand_r(&seed) % 100000);
		t.f.last_cmd_ts = rnd_ts(&seed);
		t.f.last_s2c_ts = rnd_ts(&seed);
		for (int m = 0; m < SMTP_MAX_MESSAGES; m++) {
			t.f.msgs[m].wire_bytes = (uint64_t)(rand_r(&seed) % 200000);
			t.f.msgs[m].declared_size = (uint64_t)(rand_r(&seed) % 200000);
			t.f.msgs[m].start_ts = rnd_ts(&seed);
			t.f.msgs[m].end_ts = rnd_ts(&seed);
			t.f.msgs[m].mail_from[0] = 0;
		}
		t.fi.refused = rand_r(&seed) % 8 == 0;
		t.fi.syn_seen = rand_r(&seed) & 1;
		t.fi.synack_seen = rand_r(&seed) & 1;
		t.fi.roles_from_syn = rand_r(&seed) & 1;
		t.f.phase = (enum smtp_phase)(rand_r(&seed) % PH__COUNT);
		t.f.last_cmd = (enum smtp_cmd)(rand_r(&seed) % CMD__COUNT);
		t.f.auth_result = (enum smtp_auth_result)(rand_r(&seed) % 5);
		t.f.starttls = (enum smtp_starttls_state)(rand_r(&seed) % 4);
		t.f.n_msgs = (uint32_t)(rand_r(&seed) % (SMTP_MAX_MESSAGES + 3));
		fix_reply(&t.f.greeting, &seed);
		fix_reply(&t.f.last_reply, &seed);
		fix_reply(&t.f.last_error, &seed);
		fix_reply(&t.f.starttls_reply, &seed);
		fix_reply(&t.f.quit_reply, &seed);
		for (int m = 0; m < SMTP_MAX_MESSAGES; m++) {
			fix_reply(&t.f.msgs[m].mail_reply, &seed);
			fix_reply(&t.f.msgs[m].data_reply, &seed);
			fix_reply(&t.f.msgs[m].final_reply, &seed);
		}
		t.f.tls.alert_dir = (uint8_t)(rand_r(&seed) & 1);
		t.f.tls.plaintext_dir = (uint8_t)(rand_r(&seed) & 1);
		for (int e = 0; e < rand_r(&seed) % 40; e++) {
			struct event *ev = tl_add(&t.tl, (enum ev_kind)(rand_r(&seed) % EV__COUNT),
						  (enum sl_dir)(rand_r(&seed) & 1), rand_r(&seed), (uint64_t)rand_r(&seed),
						  "4.7.0 x: 5.5.1 without a reply code", (size_t)(rand_r(&seed) % 36));
			if (ev)
				ev->code = (uint16_t)(rand_r(&seed) % 700);
		}
		t.v.end = (enum flow_end)(rand_r(&seed) % END__COUNT);
		t.v.capture_started_midstream = rand_r(&seed) & 1;
		run(&t);
		ck_assert_int_lt(V.cause, CAUSE__COUNT);
		ck_assert_int_le(V.closed_by, BY_NOBODY);
		ck_assert_int_le(V.close, CLOSE_NONE);
		ck_assert_int_lt(V.phase, PH__COUNT);
		ck_assert_uint_le(V.n_ev, VERDICT_MAX_EVIDENCE);
		ck_assert_uint_lt(strnlen(V.explanation, sizeof(V.explanation)), sizeof(V.explanation));
		ck_assert_uint_lt(strnlen(V.advice, sizeof(V.advice)), sizeof(V.advice));
		ck_assert(V.explanation[0]);
		tl_free(&t.tl);
	}
}
END_TEST

/* Each reply is read once: the cache answers the second time, and keeps
 * replies apart by frame, code and command answered. */
START_TEST(test_reply_cache)
{
	struct reply_cache cache;
	memset(&cache, 0, sizeof(cache));
	const struct reply_ctx rc = { 0 };
	struct smtp_reply a, b;
	memset(&a, 0, sizeof(a));
	a.code = 550;
	snprintf(a.enhanced, sizeof(a.enhanced), "5.1.1");
	snprintf(a.text, sizeof(a.text), "<x@y>: Recipient address rejected: User unknown");
	a.answers = CMD_RCPT;
	a.frame = 12;
	b = a;
	b.frame = 14;
	b.code = 554;
	snprintf(b.text, sizeof(b.text), "<x@y>: Relay access denied");
	struct reply_reading r1, r2, r3;
	diag_reply_cached(&cache, &a, &rc, &r1);
	diag_reply_cached(&cache, &a, &rc, &r2);
	diag_reply_cached(&cache, &b, &rc, &r3);
	ck_assert_uint_eq(cache.misses, 2);
	ck_assert_uint_eq(cache.hits, 1);
	ck_assert_int_eq(r1.cause, CAUSE_RECIPIENT_REJECTED);
	ck_assert_int_eq(r2.cause, CAUSE_RECIPIENT_REJECTED);
	ck_assert_str_eq(r1.rule, r2.rule);
	ck_assert_int_eq(r3.cause, CAUSE_RELAY_DENIED);
}
END_TEST

/* docs/RULES.md carries the reply table and the keyword families exactly as
 * the code has them (regenerate with `make rules-doc`). */
START_TEST(test_rules_doc_matches_tables)
{
	const char *src = getenv("SLEUTH_SOURCE_DIR");
	char path[1024];
	snprintf(path, sizeof(path), "%s/docs/RULES.md", src ? src : "..");
	FILE *f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	char *doc = NULL;
	size_t cap = 0, len = 0;
	char buf[8192];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			doc = realloc(doc, cap);
			ck_assert_ptr_nonnull(doc);
		}
		memcpy(doc + len, buf, n);
		len += n;
	}
	fclose(f);
	ck_assert_ptr_nonnull(doc);
	doc[len] = '\0';
	const char *begin = strstr(doc, "<!-- reply-table:begin -->\n");
	const char *end = strstr(doc, "<!-- reply-table:end -->");
	ck_assert_msg(begin && end && end > begin, "docs/RULES.md lacks the reply-table markers");
	begin += strlen("<!-- reply-table:begin -->\n");

	char *want = NULL;
	size_t wlen = 0;
	FILE *m = open_memstream(&want, &wlen);
	ck_assert_ptr_nonnull(m);
	diag_reply_doc(m);
	fclose(m);
	bool same = (size_t)(end - begin) == wlen && memcmp(begin, want, wlen) == 0;
	ck_assert_msg(same, "docs/RULES.md's reply table differs from the code's tables: run `make rules-doc`");
	free(want);
	free(doc);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("diag_reply");
	TCase *tc = tcase_create("phrasings");
	tcase_add_loop_test(tc, test_reply_phrasings, 0, (int)SL_ARRAY_LEN(PHRASES));
	suite_add_tcase(s, tc);
	tc = tcase_create("robustness");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_random_facts_robust);
	tcase_add_test(tc, test_rules_doc_matches_tables);
	tcase_add_test(tc, test_reply_cache);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
