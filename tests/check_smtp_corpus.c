/*
 * check_smtp_corpus.c - differential test against tshark on every capture of
 * the public corpus (SLEUTH_CORPUS): for each TCP stream tshark dissects as
 * SMTP, the commands and the reply codes, in order, must equal what tshark
 * reports (`tshark -Y smtp -T fields -e tcp.stream -e smtp.req.command
 * -e smtp.response.code`, port 2525 decoded as SMTP too).
 *
 * The stream bytes come from tshark as well (`-z follow,tcp,raw,N`; server
 * chunks are tab-indented hex) and are fed to the dissector chunk by chunk
 * in the order tshark prints them, so this test checks the dissector, not
 * our reassembly. Verbs are compared upper-case, and tshark's "STAR" is
 * STARTTLS. Where tshark 4.0 is wrong (see corpus/MANIFEST.md) the stream is
 * listed in `exceptions` with the reason and what the dialog really shows,
 * and that is asserted instead. Skips (passes with a message) when tshark
 * or the corpus is absent.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "smtp.h"

#define MAX_STREAMS 64
#define SEQ_MAX 8192

struct seq {
	char s[SEQ_MAX];        /* space-separated items */
};

struct stream_ref {
	int id;
	struct seq cmds, codes;
};

/* What the dialog really shows where tshark 4.0 is wrong. NULL = tshark is right. */
struct exception {
	const char *file;
	int stream;
	const char *why;
	const char *cmds;
	const char *codes;
};

#define SEQ_AFTER_BODY "a command in the same segment as the end of the message body is not dissected"

static const struct exception exceptions[] = {
	{ "arkime-smtp-decrypted.pcap", 0,
	  "plaintext SMTP after the STARTTLS 220 (decrypted by the capture tool) is partly labelled SSL "
	  "by tshark; and " SEQ_AFTER_BODY " (\\r\\n.\\r\\nQUIT)",
	  "EHLO STARTTLS EHLO MAIL RCPT DATA QUIT", NULL },
	{ "arkime-smtp-decrypted.pcap", 1, "plaintext after STARTTLS labelled SSL: BDAT and QUIT are lost",
	  "EHLO STARTTLS EHLO MAIL RCPT BDAT QUIT", "220 250 220 250 250 250 250 221" },
	{ "arkime-smtp-decrypted.pcap", 2, "plaintext after STARTTLS labelled SSL: BDAT, QUIT and the 221 are lost",
	  "EHLO STARTTLS EHLO MAIL RCPT BDAT QUIT", "220 250 220 250 250 250 250 221" },
	{ "arkime-smtp-decrypted.pcap", 3, "plaintext after STARTTLS labelled SSL; " SEQ_AFTER_BODY,
	  "EHLO STARTTLS EHLO MAIL RCPT DATA QUIT", NULL },
	{ "arkime-smtp-subject-windows.pcap", 0,
	  "early talker: EHLO, MAIL, RCPT, DATA, body, '.', an empty line all come before the banner; "
	  "tshark dissects only the replies, and counts the 220- banner split over two segments twice. "
	  "The empty line is answered 500",
	  "EHLO MAIL RCPT DATA (UNKNOWN)", "220 250 250 250 354 250 500" },
	{ "chrissanders-mail-relay-two-hops.pcapng", 1, SEQ_AFTER_BODY, "EHLO MAIL RCPT DATA QUIT", NULL },
	{ "suricata-smtp-bdat-bad-tail-next-mail.pcap", 0,
	  "after `BDAT 5 X` (521) the client pipelines `BDAT 221 LAST` + 221 bytes, then MAIL/RCPT/DATA "
	  "and a body in one segment; tshark dissects none of it (the server had closed and sends RST)",
	  "EHLO MAIL RCPT BDAT BDAT MAIL RCPT DATA", NULL },
	{ "suricata-smtp-data-rejected.pcap", 0,
	  "tshark stays in data mode after the pipelined DATA is rejected (553/503/503) and misses the "
	  "client's RSET, MAIL, RCPT, DATA that the server answers 250 250 250 354",
	  "EHLO MAIL RCPT DATA RSET MAIL RCPT DATA", NULL },
	{ "suricata-smtp-errors.pcap", 0,
	  "1 KB of binary before the banner: 4 lines and a tail, each answered `500 Command unrecognized`; "
	  "tshark reports no command", "(UNKNOWN) (UNKNOWN) (UNKNOWN) (UNKNOWN) (UNKNOWN)", NULL },
	{ "suricata-smtp-errors.pcap", 1,
	  "the client's last bytes are `QUIT` without CRLF; tshark needs a complete line",
	  "HELO MAIL RCPT DATA QUIT", NULL },
	{ "suricata-smtp-large-exchange.pcap", 0,
	  "capture order is broken (ACKs before the data they acknowledge): tshark loses the 250s that "
	  "answer MAIL and RCPT", NULL, "220 250 250 250 354 250 250" },
	{ "suricata-smtp-out-of-order.pcap", 0,
	  "tshark stays in data mode after DATA is rejected with 503 and misses MAIL, RCPT, DATA",
	  "HELO RCPT DATA MAIL RCPT DATA QUIT", NULL },
	{ "suricata-smtp-pipelining-loopback.pcap", 0,
	  "MAIL, RCPT, DATA, body and '.' in one segment (blind pipelining): tshark reports no command",
	  "EHLO MAIL RCPT DATA", NULL },
	{ "suricata-smtp-to-comma-corrupt.pcap", 0, "an edited copy of suricata-smtp-data-rejected (same quirk)",
	  "EHLO MAIL RCPT DATA RSET MAIL RCPT DATA", NULL },
	{ "suricata-smtp-yahoo-pipelined.pcap", 0, SEQ_AFTER_BODY, "EHLO MAIL RCPT DATA QUIT", NULL },
	{ "zeek-http-connect-with-smtp.pcap", 0,
	  "SMTP inside an HTTP CONNECT tunnel: tshark shows no command or reply fields",
	  "HELO MAIL RCPT DATA QUIT", "220 250 250 250 354 250 221" },
	{ "zeek-smtp-bdat-cmd-invalid.pcapng", 0,
	  "tshark reads the line after the invalid `BDAT` (no size, 521) as chunk data and misses QUIT",
	  "EHLO MAIL RCPT BDAT QUIT", NULL },
	{ "zeek-smtp-bdat-cmd-invalid.pcapng", 1, "as stream 0", "EHLO MAIL RCPT BDAT QUIT", NULL },
	{ "zeek-smtp-bdat-gap.pcap", 0,
	  "`BDAT 200` loses 1000 bytes to a capture gap (the chunk's end and whatever followed); tshark "
	  "stays in BDAT mode and misses DATA and QUIT after the gap",
	  "EHLO MAIL RCPT BDAT DATA QUIT", NULL },
	{ "zeek-smtp-bdat-pipeline-8bitmime.pcap", 0,
	  "MAIL, RCPT and `BDAT n LAST` + chunk pipelined in one segment: tshark reports none of them",
	  "EHLO MAIL RCPT BDAT MAIL RCPT BDAT QUIT", NULL },
	{ "zeek-smtp-mail-transactions-invalid.pcap", 0,
	  "after DATA is refused (503) the client sends a body anyway; its lines `Hello,` and `.` are "
	  "answered 500 as unknown commands (three times); tshark treats them as message data",
	  "EHLO MAIL RCPT DATA RCPT DATA (UNKNOWN) (UNKNOWN) MAIL DATA (UNKNOWN) (UNKNOWN) DATA (UNKNOWN) "
	  "(UNKNOWN) MAIL RCPT DATA QUIT", NULL },
	{ NULL, 0, NULL, NULL, NULL }
};

static void seq_add(struct seq *q, const char *item)
{
	size_t have = strlen(q->s);
	if (have + strlen(item) + 2 >= sizeof(q->s))
		return;
	if (have)
		q->s[have++] = ' ';
	strcpy(q->s + have, item);
}

/* Upper case; tshark's "STAR" is STARTTLS; a verb that is not an SMTP
 * command (binary junk, "HELLO,", ".", an empty line) is "(UNKNOWN)". */
static void norm_verb(char *v)
{
	static const char *const known[] = { "HELO", "EHLO", "LHLO", "MAIL", "RCPT", "DATA", "BDAT", "RSET",
					     "NOOP", "QUIT", "VRFY", "EXPN", "HELP", "AUTH", "STARTTLS",
					     "XCLIENT", "ETRN", NULL };
	for (char *c = v; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	if (strcmp(v, "STAR") == 0)
		strcpy(v, "STARTTLS");
	for (size_t i = 0; known[i]; i++)
		if (strcmp(v, known[i]) == 0)
			return;
	strcpy(v, "(UNKNOWN)");
}

static bool have_tshark(void)
{
	return system("tshark --version >/dev/null 2>&1") == 0;
}

/* tshark's commands and codes per stream. */
static int tshark_fields(const char *path, struct stream_ref *refs, int max)
{
	char cmd[8192];
	snprintf(cmd, sizeof(cmd),
		 "tshark -r '%s' -d tcp.port==2525,smtp -Y smtp -T fields -e tcp.stream -e smtp.req.command "
		 "-e smtp.response.code 2>/dev/null", path);
	FILE *p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	static char line[1 << 16];
	int n = 0;
	while (fgets(line, sizeof(line), p)) {
		line[strcspn(line, "\r\n")] = '\0';
		char *f1 = strchr(line, '\t');
		if (!f1)
			continue;
		*f1++ = '\0';
		char *f2 = strchr(f1, '\t');
		if (!f2)
			continue;
		*f2++ = '\0';
		int id = atoi(line);
		struct stream_ref *r = NULL;
		for (int i = 0; i < n; i++)
			if (refs[i].id == id)
				r = &refs[i];
		if (!r) {
			if (n == max)
				continue;
			r = &refs[n++];
			memset(r, 0, sizeof(*r));
			r->id = id;
		}
		for (char *t = strtok(f1, ","); t; t = strtok(NULL, ",")) {
			char v[64];
			snprintf(v, sizeof(v), "%s", t);
			norm_verb(v);
			seq_add(&r->cmds, v);
		}
		for (char *t = strtok(f2, ","); t; t = strtok(NULL, ","))
			seq_add(&r->codes, t);
	}
	pclose(p);
	return n;
}

static int hexv(int c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* Feeds stream `id` to a dissector as tshark follows it; fills cmds/codes. */
static void dissect_stream(const char *path, int id, struct seq *cmds, struct seq *codes, struct smtp_facts *out)
{
	char cmd[8192];
	snprintf(cmd, sizeof(cmd), "tshark -r '%s' -q -z follow,tcp,raw,%d 2>/dev/null", path, id);
	FILE *p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	struct timeline tl;
	tl_init(&tl);
	struct smtp *s = smtp_new(&tl);
	static char line[1 << 20];
	static uint8_t buf[1 << 19];
	int seps = 0;
	uint64_t frame = 0;
	struct seg_meta m;
	memset(&m, 0, sizeof(m));
	while (fgets(line, sizeof(line), p)) {
		if (strncmp(line, "=====", 5) == 0) {
			seps++;
			continue;
		}
		if (seps != 1 || strncmp(line, "Follow:", 7) == 0 || strncmp(line, "Filter:", 7) == 0 ||
		    strncmp(line, "Node ", 5) == 0)
			continue;
		bool server = line[0] == '\t';
		char *h = line + (server ? 1 : 0);
		size_t hl = strcspn(h, "\r\n");
		size_t n = 0;
		for (size_t i = 0; i + 1 < hl && n < sizeof(buf); i += 2)
			buf[n++] = (uint8_t)(hexv(h[i]) * 16 + hexv(h[i + 1]));
		if (!n)
			continue;
		/* tshark writes a capture gap as hex of "[N bytes missing in capture file]" */
		unsigned long missing;
		char txt[64];
		snprintf(txt, sizeof(txt), "%.*s", (int)SL_MIN(n, sizeof(txt) - 1), (const char *)buf);
		if (n < 60 && sscanf(txt, "[%lu bytes missing in capture file]", &missing) == 1) {
			m.frame = ++frame;
			smtp_gap(s, server ? DIR_S2C : DIR_C2S, missing, &m);
			continue;
		}
		m.frame = ++frame;
		m.ts = (sl_time)frame * NS_PER_MS;
		uint8_t *copy = malloc(n);
		memcpy(copy, buf, n);
		smtp_data(s, server ? DIR_S2C : DIR_C2S, copy, n, &m);
		free(copy);
	}
	pclose(p);
	m.frame = ++frame;
	smtp_end(s, DIR_C2S, &m);
	smtp_end(s, DIR_S2C, &m);
	for (uint32_t i = 0; i < tl_count(&tl); i++) {
		const struct event *e = tl_at(&tl, i);
		if (e->kind == EV_COMMAND) {
			char v[64];
			size_t k = 0;
			while (e->text[k] && e->text[k] != ' ' && k < sizeof(v) - 1) {
				v[k] = e->text[k];
				k++;
			}
			v[k] = '\0';
			if (strcmp(e->text, "[credentials hidden]") == 0 || strcmp(e->text, "*") == 0)
				continue;   /* AUTH data: tshark does not call it a command */
			norm_verb(v);
			seq_add(cmds, v);
		} else if (e->kind == EV_REPLY || e->kind == EV_GREETING || e->kind == EV_REPLY_UNPAIRED) {
			char c[8];
			snprintf(c, sizeof(c), "%u", e->code);
			seq_add(codes, c);
		}
	}
	const char *dump = getenv("SLEUTH_CORPUS_DUMP");   /* "file:stream" prints its events; "all": a summary per stream */
	char me[4200];
	snprintf(me, sizeof(me), "%s:%d", strrchr(path, '/') ? strrchr(path, '/') + 1 : path, id);
	if (dump && strcmp(dump, me) == 0)
		for (uint32_t i = 0; i < tl_count(&tl); i++) {
			const struct event *e = tl_at(&tl, i);
			fprintf(stderr, "%llu %s %d %u %s\n", (unsigned long long)e->frame,
				ev_kind_name((enum ev_kind)e->kind), e->dir, e->code, e->text);
		}
	if (dump && strcmp(dump, "all") == 0) {
		const struct smtp_facts *f = smtp_facts(s);
		fprintf(stderr, "%-45s phase=%-8s last=%u/%s pending=%u msgs=%u auth=%d tls=%d/%d early=%d\n", me,
			smtp_phase_name(f->phase), f->last_reply.code, smtp_cmd_name(f->last_reply.answers),
			f->pending, f->n_msgs, f->auth_result, f->starttls, f->tls.handshake_done, f->early_talker);
	}
	/* The facts outlive the dissector: keep their messages in storage of
	 * our own (one stream's facts are in use at a time). */
	static struct smtp_message msgs_store[SMTP_MAX_MESSAGES];
	*out = *smtp_facts(s);
	if (smtp_msgs_kept(out))
		memcpy(msgs_store, out->msgs, smtp_msgs_kept(out) * sizeof(*out->msgs));
	out->msgs = msgs_store;
	out->msgs_cap = smtp_msgs_kept(out);
	smtp_free(s);
	tl_free(&tl);
}

static const struct exception *find_exception(const char *file, int stream)
{
	for (const struct exception *x = exceptions; x->file; x++)
		if (strcmp(x->file, file) == 0 && x->stream == stream)
			return x;
	return NULL;
}

static int is_capture(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return (n > 5 && strcmp(d->d_name + n - 5, ".pcap") == 0) ||
	       (n > 7 && strcmp(d->d_name + n - 7, ".pcapng") == 0);
}

START_TEST(test_corpus_vs_tshark)
{
	const char *dir = tu_corpus_dir();   /* present: main() added this test only then */
	struct dirent **names;
	int nf = scandir(dir, &names, is_capture, alphasort);
	ck_assert_int_gt(nf, 0);
	static struct stream_ref refs[MAX_STREAMS];
	int streams = 0, failures = 0;
	for (int i = 0; i < nf; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		int n = tshark_fields(path, refs, MAX_STREAMS);
		for (int k = 0; k < n; k++) {
			struct seq cmds = { { 0 } }, codes = { { 0 } };
			struct smtp_facts f;
			dissect_stream(path, refs[k].id, &cmds, &codes, &f);
			const struct exception *x = find_exception(names[i]->d_name, refs[k].id);
			const char *want_cmds = x && x->cmds ? x->cmds : refs[k].cmds.s;
			const char *want_codes = x && x->codes ? x->codes : refs[k].codes.s;
			bool skip = x && !x->cmds && !x->codes;
			streams++;
			if (skip)
				continue;
			if (strcmp(want_cmds, cmds.s) || strcmp(want_codes, codes.s)) {
				failures++;
				fprintf(stderr, "%s stream %d:\n  cmds  want %s\n        got  %s\n  codes want %s\n        got  %s\n",
					names[i]->d_name, refs[k].id, want_cmds, cmds.s, want_codes, codes.s);
			}
		}
		free(names[i]);
	}
	free(names);
	ck_assert_int_gt(streams, 30);
	ck_assert_msg(failures == 0, "%d streams differ from tshark (details on stderr)", failures);
}
END_TEST

/* What some captures really show, beyond commands and codes. */
START_TEST(test_corpus_facts)
{
	const char *dir = tu_corpus_dir();   /* present: main() added this test only then */
	static struct seq c, k;
	struct smtp_facts f;
	char path[4096];
#define DISSECT(name, id) \
	do { \
		snprintf(path, sizeof(path), "%s/%s", dir, name); \
		memset(&c, 0, sizeof(c)); \
		memset(&k, 0, sizeof(k)); \
		dissect_stream(path, id, &c, &k, &f); \
	} while (0)
	/* TLS client at a plaintext server: ClientHello first, then a 220 */
	DISSECT("ndpi-smtps.pcapng", 0);
	ck_assert(f.implicit_tls && f.tls_client_to_plain && f.tls.plaintext_after_tls);
	ck_assert(f.tls.client_hello);
	ck_assert_uint_eq(f.greeting.code, 220);
	/* and the other way round: the banner first, then a ClientHello */
	DISSECT("suricata-smtp-errors.pcap", 3);
	ck_assert(f.tls_client_to_plain && f.tls.plaintext_after_tls);
	ck_assert_uint_eq(f.tls.plaintext_dir, DIR_S2C);
	/* a real STARTTLS: TLS 1.2 or 1.3 hellos seen, data both ways */
	DISSECT("ndpi-smtp-starttls.pcap", 0);
	ck_assert_int_eq(f.starttls, STLS_ACCEPTED);
	ck_assert(f.tls.client_hello && f.tls.server_hello);
	ck_assert(f.tls.handshake_done);
	ck_assert_int_eq(f.phase, PH_TLS);
	/* decrypted by the capture tool: plaintext SMTP goes on after STARTTLS */
	DISSECT("arkime-smtp-decrypted.pcap", 0);
	ck_assert(f.plaintext_smtp_after_tls);
	ck_assert_uint_eq(f.quit_reply.code, 221);
	/* tunnels */
	DISSECT("zeek-http-connect-with-smtp.pcap", 0);
	ck_assert_str_eq(f.tunnel, "http-connect");
	ck_assert(f.msgs[0].data_complete);
	DISSECT("arkime-socks5-smtp-503.pcap", 0);
	ck_assert_str_eq(f.tunnel, "socks5");
	ck_assert_uint_eq(f.last_error.code, 503);
	/* early talker: the whole message before the banner, accepted */
	DISSECT("arkime-smtp-subject-windows.pcap", 0);
	ck_assert(f.early_talker);
	ck_assert(f.msgs[0].data_complete);
	ck_assert_uint_eq(f.msgs[0].final_reply.code, 250);
	/* the pipelined DATA refused, then a second transaction gets 354 */
	DISSECT("suricata-smtp-data-rejected.pcap", 0);
	ck_assert_uint_eq(f.msgs[0].mail_reply.code, 553);
	ck_assert_uint_eq(f.msgs[1].data_reply.code, 354);
	/* a 1000-byte capture gap inside a BDAT chunk */
	DISSECT("zeek-smtp-bdat-gap.pcap", 0);
	ck_assert_uint_eq(f.gaps_data, 1);
	ck_assert_uint_eq(f.msgs[0].gap_bytes, 100);
	ck_assert_uint_eq(f.gaps_cmd, 1);
	/* one side only: both messages still read */
	DISSECT("zeek-smtp-one-side-only.pcap", 0);
	ck_assert_uint_eq(f.n_msgs, 2);
	ck_assert(f.msgs[1].data_complete);
	/* AUTH CRAM-MD5 in a real capture */
	DISSECT("bruteshark-smtp-auth-cram-md5.pcap", 0);
	ck_assert_str_eq(f.auth_mech, "CRAM-MD5");
	ck_assert(f.auth_user[0] != '\0');
#undef DISSECT
}
END_TEST

static Suite *corpus_suite(void)
{
	Suite *s = suite_create("smtp_corpus");
	TCase *t = tcase_create("tshark");
	tcase_set_timeout(t, 500);
	const char *why = !tu_corpus_dir() ? "no corpus (SLEUTH_CORPUS)" : !have_tshark() ? "tshark not found" : NULL;
	if (why) {
		tu_skip("test_corpus_vs_tshark", why);
		tu_skip("test_corpus_facts", why);
	} else {
		tcase_add_test(t, test_corpus_vs_tshark);
		tcase_add_test(t, test_corpus_facts);
	}
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return tu_run(corpus_suite());
}
