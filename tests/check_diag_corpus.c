/*
 * check_diag_corpus.c - the diagnosis on real captures: each public corpus
 * capture (shared/corpus, MANIFEST.md) and each bundled reproduce capture
 * (captures/, whose expectations are the bundled server's own log) goes
 * through the real session glue (tu_replay) and every SMTP
 * session's verdict is compared with the reading written in the manifests.
 * A capture that is absent is skipped (SKIP line, not added to the suite).
 *
 * Expected values: cause, closed_by and close come from the manifests'
 * "how each session ended" column (first FIN/RST sender); where a manifest
 * reading is not one of the contract's causes (a content rejection, a
 * reply line with no code), the cause the rules document in docs/RULES.md
 * is used, or the cause is not checked (ANY).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"
#include "session_view.h"
#include "testutil.h"
#include "tu_replay.h"

#define ANY (-1)

struct expect {
	const char *file;       /* corpus name, or "captures/NAME" for the bundled ones */
	uint16_t port;          /* server port of the session (0 = any) */
	int nth;                /* n-th SMTP session with that port */
	int cause, closed_by, close, phase;
	int code;               /* decisive reply code; 0 = none; ANY = not checked */
};

static const struct expect EXP[] = {
	{ "arkime-smtp-data-250.pcap", 587, 0, CAUSE_IDLE_TIMEOUT, BY_SERVER, CLOSE_FIN, ANY, 421 },
	{ "arkime-smtp-data-521.pcap", 587, 0, CAUSE_CONTENT_REJECTED, BY_SERVER, CLOSE_FIN, PH_DATA, 521 },
	{ "arkime-smtp-decrypted.pcap", 0, 0, CAUSE_COMPLETED, BY_SERVER, CLOSE_FIN, PH_QUIT, ANY },
	{ "arkime-smtp-decrypted.pcap", 0, 1, CAUSE_COMPLETED, BY_SERVER, CLOSE_FIN, PH_QUIT, ANY },
	{ "arkime-smtp-decrypted.pcap", 0, 2, CAUSE_COMPLETED, BY_SERVER, CLOSE_FIN, PH_QUIT, ANY },
	{ "arkime-smtp-decrypted.pcap", 0, 3, CAUSE_COMPLETED, BY_SERVER, CLOSE_FIN, PH_QUIT, ANY },
	{ "arkime-smtp-rcpt-553.pcap", 587, 0, CAUSE_AUTH_REQUIRED, BY_CLIENT, CLOSE_FIN, PH_RCPT, 553 },
	{ "arkime-smtp-subject-windows.pcap", 25, 0, CAUSE_COMPLETED, BY_CLIENT, CLOSE_FIN, ANY, 250 },
	{ "arkime-socks5-smtp-503.pcap", 0, 0, CAUSE_AUTH_FAILED, BY_CLIENT, CLOSE_RST, PH_AUTH, 503 },
	{ "bruteshark-smtp-auth-cram-md5.pcap", 25, 0, CAUSE_CLIENT_ABORT, BY_CLIENT, CLOSE_RST, ANY, 0 },
	{ "chrissanders-mail-relay-two-hops.pcapng", 25, 0, CAUSE_COMPLETED, BY_SERVER, CLOSE_FIN, PH_QUIT, ANY },
	{ "chrissanders-mail-relay-two-hops.pcapng", 25, 1, CAUSE_COMPLETED, BY_SERVER, CLOSE_FIN, PH_QUIT, ANY },
	{ "ndpi-emotet.pcap", 587, 0, CAUSE_CAPTURE_INCOMPLETE, BY_NOBODY, CLOSE_NONE, PH_DATA, 0 },
	{ "ndpi-smtp-starttls.pcap", 25, 0, CAUSE_ENCRYPTED, BY_SERVER, CLOSE_FIN, PH_TLS, 0 },
	{ "ndpi-smtp-starttls.pcap", 25, 1, CAUSE_ENCRYPTED, BY_CLIENT, CLOSE_FIN, PH_TLS, 0 },
	{ "ndpi-smtp.pcap", 25, 0, CAUSE_COMPLETED, BY_SERVER, CLOSE_FIN, PH_QUIT, ANY },
	{ "ndpi-smtps.pcapng", 465, 0, CAUSE_TLS_FAILED, BY_NOBODY, CLOSE_NONE, ANY, 0 },
	{ "packetlife-ipv6-smtp.pcapng", 25, 0, CAUSE_CAPTURE_INCOMPLETE, BY_NOBODY, CLOSE_NONE, ANY, 0 },
	{ "suricata-smtp-bdat-bad-tail-next-mail.pcap", 25, 0, CAUSE_TOO_MANY_ERRORS, BY_SERVER, CLOSE_FIN, PH_BDAT, 521 },
	{ "suricata-smtp-data-rejected.pcap", 25, 0, CAUSE_CONTENT_REJECTED, BY_CLIENT, CLOSE_FIN, PH_DATA, 554 },
	{ "suricata-smtp-errors.pcap", 25, 0, CAUSE_CLIENT_ABORT, BY_CLIENT, CLOSE_FIN, ANY, 0 },
	{ "suricata-smtp-errors.pcap", 25, 1, ANY, BY_SERVER, CLOSE_FIN, PH_DATA, ANY },
	{ "suricata-smtp-errors.pcap", 25, 2, ANY, BY_CLIENT, CLOSE_FIN, PH_MAIL, 472 },
	{ "suricata-smtp-errors.pcap", 465, 0, CAUSE_TLS_FAILED, BY_CLIENT, CLOSE_FIN, ANY, 0 },
	{ "suricata-smtp-large-exchange.pcap", 25, 0, CAUSE_COMPLETED, BY_SERVER, CLOSE_FIN, PH_QUIT, ANY },
	{ "suricata-smtp-long-command.pcap", 25, 0, CAUSE_CLIENT_ABORT, BY_CLIENT, CLOSE_FIN, PH_AUTH, 0 },
	{ "suricata-smtp-out-of-order.pcap", 25, 0, CAUSE_COMPLETED, BY_SERVER, CLOSE_FIN, PH_QUIT, ANY },
	{ "suricata-smtp-pipelining-loopback.pcap", 25, 0, CAUSE_COMPLETED, BY_CLIENT, CLOSE_FIN, ANY, 250 },
	{ "suricata-smtp-quit.pcap", 25, 0, CAUSE_IP_FILTERED, BY_SERVER, CLOSE_FIN, PH_CONNECT, 0 },
	{ "suricata-smtp-rfc2231.pcap", 25, 0, CAUSE_COMPLETED, BY_CLIENT, CLOSE_FIN, PH_QUIT, ANY },
	{ "suricata-smtp-rset-bdat-loopback.pcap", 25, 0, CAUSE_COMPLETED, BY_SERVER, CLOSE_FIN, PH_QUIT, ANY },
	{ "suricata-smtp-startssl.pcap", 25, 0, CAUSE_ENCRYPTED, BY_SERVER, CLOSE_FIN, PH_TLS, 0 },
	{ "suricata-smtp-syn-only.pcap", 25, 0, CAUSE_UNANSWERED, BY_NOBODY, CLOSE_NONE, PH_CONNECT, 0 },
	{ "suricata-smtp-tls-protodetect.pcap", 465, 0, CAUSE_TLS_FAILED, BY_CLIENT, CLOSE_RST, ANY, 0 },
	{ "suricata-smtp-to-comma-corrupt.pcap", 25, 0, CAUSE_CAPTURE_INCOMPLETE, BY_NOBODY, CLOSE_NONE, PH_DATA, 0 },
	{ "suricata-smtp-yahoo-pipelined.pcap", 25, 0, CAUSE_COMPLETED, BY_CLIENT, CLOSE_FIN, PH_QUIT, ANY },
	{ "wsnotes-smtp2525-starttls.pcapng", 2525, 0, CAUSE_ENCRYPTED, BY_CLIENT, CLOSE_FIN, PH_TLS, 0 },
	{ "zeek-http-connect-with-smtp.pcap", 0, 0, CAUSE_COMPLETED, BY_SERVER, CLOSE_FIN, PH_QUIT, ANY },
	{ "zeek-smtp-attachment-msg.pcap", 25, 0, CAUSE_CAPTURE_INCOMPLETE, BY_CLIENT, CLOSE_FIN, ANY, 0 },
	{ "zeek-smtp-bdat-cmd-invalid.pcapng", 25, 0, CAUSE_TOO_MANY_ERRORS, BY_SERVER, CLOSE_FIN, PH_BDAT, 521 },
	{ "zeek-smtp-bdat-cmd-invalid.pcapng", 25, 1, CAUSE_TOO_MANY_ERRORS, BY_SERVER, CLOSE_FIN, PH_BDAT, 521 },
	{ "zeek-smtp-bdat-cmd-invalid.pcapng", 25, 2, CAUSE_TOO_MANY_ERRORS, BY_SERVER, CLOSE_FIN, PH_BDAT, 521 },
	{ "zeek-smtp-bdat-gap.pcap", 25, 0, CAUSE_COMPLETED, BY_CLIENT, CLOSE_FIN, PH_QUIT, ANY },
	{ "zeek-smtp-bdat-pipeline-8bitmime.pcap", 25, 0, CAUSE_COMPLETED, BY_CLIENT, CLOSE_FIN, PH_QUIT, ANY },
	{ "zeek-smtp-mail-transactions-invalid.pcap", 25, 0, CAUSE_COMPLETED, BY_SERVER, CLOSE_FIN, PH_QUIT, ANY },
	{ "zeek-smtp-multi-addr.pcap", 25, 0, CAUSE_IDLE_TIMEOUT, BY_SERVER, CLOSE_FIN, ANY, 451 },
	{ "zeek-smtp-one-side-only.pcap", 25, 0, CAUSE_CAPTURE_INCOMPLETE, BY_CLIENT, CLOSE_FIN, ANY, 0 },
	{ "zeek-smtp-starttls.pcap", 25, 0, CAUSE_ENCRYPTED, BY_SERVER, CLOSE_FIN, PH_TLS, 0 },
	{ "zeek-smtp.pcap", 25, 0, CAUSE_COMPLETED, BY_CLIENT, CLOSE_FIN, PH_QUIT, ANY },
	{ "zeek-smtp.pcap", 25, 1, CAUSE_CAPTURE_INCOMPLETE, BY_NOBODY, CLOSE_NONE, ANY, 0 },
	{ "zeek-tcp-truncated-header.pcap", 25, 0, CAUSE_CAPTURE_INCOMPLETE, BY_SERVER, CLOSE_FIN, ANY, 0 },
	/* bundled reproduce captures: expectations from captures/MANIFEST.md */
	{ "captures/completed.pcap", 0, 0, CAUSE_COMPLETED, BY_SERVER, CLOSE_FIN, PH_QUIT, 221 },
	{ "captures/size_limit.pcap", 0, 0, CAUSE_SIZE_LIMIT, BY_SERVER, CLOSE_FIN, PH_DATA, 552 },
	{ "captures/size_limit_mail.pcap", 0, 0, CAUSE_SIZE_LIMIT, BY_SERVER, CLOSE_FIN, PH_MAIL, 552 },
	{ "captures/size_limit_reset.pcap", 0, 0, CAUSE_SIZE_LIMIT, BY_SERVER, CLOSE_RST, PH_DATA, 0 },
	{ "captures/auth_failed.pcap", 0, 0, CAUSE_AUTH_FAILED, BY_SERVER, CLOSE_FIN, PH_AUTH, 535 },
	{ "captures/auth_required.pcap", 0, 0, CAUSE_AUTH_REQUIRED, BY_SERVER, CLOSE_FIN, PH_MAIL, 530 },
	{ "captures/ip_filtered.pcap", 0, 0, CAUSE_IP_FILTERED, BY_SERVER, CLOSE_FIN, PH_GREETING, 554 },
	{ "captures/ip_filtered_reset.pcap", 0, 0, CAUSE_IP_FILTERED, BY_SERVER, CLOSE_RST, PH_CONNECT, 0 },
	{ "captures/relay_denied.pcap", 0, 0, CAUSE_RELAY_DENIED, BY_SERVER, CLOSE_FIN, PH_RCPT, 554 },
	{ "captures/idle_timeout.pcap", 0, 0, CAUSE_IDLE_TIMEOUT, BY_SERVER, CLOSE_FIN, PH_IDLE, 421 },
	{ "captures/idle_timeout_silent.pcap", 0, 0, CAUSE_IDLE_TIMEOUT, BY_SERVER, CLOSE_FIN, PH_IDLE, 0 },
	{ "captures/too_many_errors.pcap", 0, 0, CAUSE_TOO_MANY_ERRORS, BY_SERVER, CLOSE_FIN, PH_MAIL, 421 },
	{ "captures/rate_limited.pcap", 0, 0, CAUSE_COMPLETED, BY_SERVER, CLOSE_FIN, PH_QUIT, 221 },
	{ "captures/rate_limited.pcap", 0, 1, CAUSE_RATE_LIMITED, BY_SERVER, CLOSE_FIN, PH_GREETING, 421 },
	{ "captures/rate_limited_greylist.pcap", 0, 0, CAUSE_RATE_LIMITED, BY_SERVER, CLOSE_FIN, PH_RCPT, 451 },
	{ "captures/server_unavailable.pcap", 0, 0, CAUSE_SERVER_UNAVAILABLE, BY_SERVER, CLOSE_FIN, PH_GREETING, 421 },
	{ "captures/tls_required.pcap", 0, 0, CAUSE_TLS_REQUIRED, BY_SERVER, CLOSE_FIN, PH_MAIL, 530 },
	{ "captures/tls_failed.pcap", 0, 0, CAUSE_TLS_FAILED, BY_SERVER, CLOSE_FIN, PH_STARTTLS, 454 },
	{ "captures/tls_failed_abort.pcap", 0, 0, CAUSE_TLS_FAILED, BY_SERVER, CLOSE_FIN, PH_TLS, 0 },
	{ "captures/client_abort.pcap", 0, 0, CAUSE_CLIENT_ABORT, BY_CLIENT, CLOSE_FIN, PH_RCPT, 0 },
	{ "captures/connection_refused.pcap", 0, 0, CAUSE_CONNECTION_REFUSED, BY_SERVER, CLOSE_RST, PH_CONNECT, 0 },
};

static const char *locate(const char *name)
{
	static char path[4096];
	if (strncmp(name, "captures/", 9) == 0) {
		const char *src = getenv("SLEUTH_SOURCE_DIR");
		snprintf(path, sizeof(path), "%s/%s", src ? src : "..", name);
		return access(path, R_OK) == 0 ? path : NULL;
	}
	return tu_corpus(name);
}

/* The n-th session with the port that carried SMTP or at least a TCP
 * attempt (flows of other protocols in the same file are skipped). */
static const struct tu_replayed *pick(const struct tu_replay *r, uint16_t port, int nth)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct tu_replayed *s = &r->s[i];
		if (port && s->server_port != port)
			continue;
		if (!port && !s->is_smtp && s->v.cause != CAUSE_CONNECTION_REFUSED && s->v.cause != CAUSE_IP_FILTERED)
			continue;
		if (port && !s->is_smtp && r->n > 1 && s->v.cause == CAUSE_UNANSWERED)
			continue;   /* a stray SYN-only flow beside the real session */
		if (!nth--)
			return s;
	}
	return NULL;
}

START_TEST(test_capture)
{
	const struct expect *e = &EXP[_i];
	const char *path = locate(e->file);   /* present: main() added this case only then */
	ck_assert_msg(path != NULL, "%s vanished", e->file);
	static struct tu_replay r;
	ck_assert_msg(tu_replay_file(path, &r), "cannot open %s", path);
	const struct tu_replayed *s = pick(&r, e->port, e->nth);
	ck_assert_msg(s != NULL, "%s: no session %d on port %u", e->file, e->nth, e->port);
	const struct verdict *v = &s->v;
	char what[160];
	snprintf(what, sizeof(what), "%s #%d (%s/%s/%s/%s reply %u)", e->file, e->nth, cause_name(v->cause),
		 closed_by_name(v->closed_by), close_kind_name(v->close), verdict_phase_name(v->phase), v->reply_code);
	if (e->cause != ANY)
		ck_assert_msg(v->cause == (enum cause)e->cause, "%s: cause, want %s: %s", what,
			      cause_name((enum cause)e->cause), v->explanation);
	ck_assert_msg(v->closed_by == (enum closed_by)e->closed_by, "%s: closed_by", what);
	ck_assert_msg(v->close == (enum close_kind)e->close, "%s: close", what);
	if (e->phase != ANY)
		ck_assert_msg(v->phase == (enum smtp_phase)e->phase, "%s: phase, want %s", what,
			      verdict_phase_name((enum smtp_phase)e->phase));
	if (e->code != ANY)
		ck_assert_msg(v->reply_code == e->code, "%s: reply code, want %d", what, e->code);
	ck_assert_msg(v->explanation[0] && v->advice[0] && v->n_ev > 0, "%s: explanation, advice and evidence", what);
}
END_TEST

/* ---- every reporter on every real session ---- */

static FILE *g_json, *g_text;
static struct reporter *g_rj, *g_rt;

static void render_hook(const struct session_view *sv, const struct verdict *v)
{
	reporter_session(g_rj, sv, v);
	reporter_session(g_rt, sv, v);
}

/* JSON lines are checked by jq when present; the transcript must never show
 * an AUTH argument other than the mask. */
static const char *const REPORT_FILES[] = {
	"arkime-smtp-data-250.pcap", "arkime-smtp-data-521.pcap", "bruteshark-smtp-auth-cram-md5.pcap",
	"ndpi-emotet.pcap", "suricata-smtp-errors.pcap", "suricata-smtp-long-command.pcap",
	"zeek-smtp.pcap", "arkime-socks5-smtp-503.pcap", "suricata-smtp-data-rejected.pcap",
};

START_TEST(test_reporters_on_corpus)
{
	const char *const *files = REPORT_FILES;
	char *jbuf = NULL, *tbuf = NULL;
	size_t jlen = 0, tlen = 0;
	g_json = open_memstream(&jbuf, &jlen);
	g_text = open_memstream(&tbuf, &tlen);
	struct report_opts oj = { .out = g_json, .json = true };
	struct report_opts ot = { .out = g_text, .transcript = true };
	g_rj = reporter_new(&oj);
	g_rt = reporter_new(&ot);
	tu_replay_hook = render_hook;
	int seen = 0;
	for (size_t i = 0; i < SL_ARRAY_LEN(REPORT_FILES); i++) {
		const char *path = tu_corpus(files[i]);
		if (!path)
			continue;   /* main() said SKIP for it */
		static struct tu_replay r;
		ck_assert(tu_replay_file(path, &r));
		seen++;
	}
	tu_replay_hook = NULL;
	struct summary sum;
	memset(&sum, 0, sizeof(sum));
	reporter_summary(g_rj, &sum);
	reporter_summary(g_rt, &sum);
	reporter_free(g_rj);
	reporter_free(g_rt);
	fclose(g_json);
	fclose(g_text);
	ck_assert_int_gt(seen, 0);
	{
		ck_assert_uint_gt(jlen, 0);
		if (tu_have_tool("command -v jq")) {
			char path[512], cmd[1024];
			snprintf(path, sizeof(path), "%s/corpus-%d.jsonl", tu_tmpdir(), (int)getpid());
			FILE *f = fopen(path, "w");
			fwrite(jbuf, 1, jlen, f);
			fclose(f);
			snprintf(cmd, sizeof(cmd),
				 "jq -e -s 'all(.[]; .type == \"session\" or .type == \"summary\") and "
				 "all(.[] | select(.type == \"session\"); .verdict.cause and .client.ip and (.verdict.evidence | length > 0))' "
				 "'%s' >/dev/null", path);
			ck_assert_msg(system(cmd) == 0, "jq rejected the JSON of real sessions");
			unlink(path);
		}
		/* AUTH arguments never appear unmasked in the transcript. */
		for (const char *p = tbuf; (p = strstr(p, "C: AUTH ")) != NULL; p++) {
			const char *eol = strchr(p, '\n');
			const char *mech_end = strchr(p + 8, ' ');
			if (mech_end && (!eol || mech_end < eol))
				ck_assert_msg(strncmp(mech_end + 1, "********", 8) == 0, "unmasked: %.60s", p);
		}
		ck_assert_ptr_nonnull(strstr(tbuf, "=== session"));
		ck_assert_ptr_nonnull(strstr(tbuf, "verdict   "));
	}
	free(jbuf);
	free(tbuf);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("diag_corpus");
	TCase *tc = tcase_create("captures");
	tcase_set_timeout(tc, 120);
	for (size_t i = 0; i < SL_ARRAY_LEN(EXP); i++) {
		char what[256];
		snprintf(what, sizeof(what), "test_capture %s #%d", EXP[i].file, EXP[i].nth);
		if (locate(EXP[i].file))
			tcase_add_loop_test(tc, test_capture, (int)i, (int)i + 1);
		else
			tu_skip(what, "capture absent (SLEUTH_CORPUS)");
	}
	size_t present = 0;
	for (size_t i = 0; i < SL_ARRAY_LEN(REPORT_FILES); i++) {
		if (tu_corpus(REPORT_FILES[i]))
			present++;
		else
			tu_skip(REPORT_FILES[i], "absent: test_reporters_on_corpus runs without it");
	}
	if (present)
		tcase_add_test(tc, test_reporters_on_corpus);
	else
		tu_skip("test_reporters_on_corpus", "no corpus (SLEUTH_CORPUS)");
	if (!tu_have_tool("command -v jq"))
		tu_skip("test_reporters_on_corpus: the jq check of the JSON", "jq not found");
	suite_add_tcase(s, tc);
	return tu_run(s);
}
