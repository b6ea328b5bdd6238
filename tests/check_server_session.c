/*
 * check_server_session.c - the server's per-connection SMTP state machine,
 * driven through a socketpair without the event loop: the same dialog fed
 * whole, one byte at a time, and split at every offset must give the same
 * replies and the same message; dot-unstuffing and CRLF.CRLF framing; BDAT;
 * the line cap; AUTH never keeping the password.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "srv.h"
#include "testutil.h"

struct rig {
	struct policy pol;
	struct server *srv;
	struct session *ss;
	int cli;                 /* the test's end of the socketpair */
	char replies[65536];
	size_t rlen;
};

static void rig_open(struct rig *r, const char *args)
{
	memset(r, 0, sizeof(*r));
	policy_defaults(&r->pol);
	char buf[512], err[1024];
	char *argv[32];
	int argc = 0;
	snprintf(buf, sizeof(buf), "serve --no-tls %s", args);
	for (char *t = strtok(buf, " "); t && argc < 31; t = strtok(NULL, " "))
		argv[argc++] = t;
	argv[argc] = NULL;
	ck_assert_int_eq(policy_parse(&r->pol, argc, argv, err, sizeof(err)), 0);
	r->srv = calloc(1, sizeof(*r->srv));
	r->srv->pol = &r->pol;
	r->srv->epfd = -1;       /* epoll_ctl fails harmlessly: we drive by hand */
	r->srv->maildir_fd = -1;
	r->srv->log_fd = open("/dev/null", O_WRONLY);
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	r->cli = sv[1];
	struct sockaddr_storage peer;
	memset(&peer, 0, sizeof(peer));
	struct sockaddr_in *in = (struct sockaddr_in *)&peer;
	in->sin_family = AF_INET;
	in->sin_port = htons(40000);
	in->sin_addr.s_addr = htonl(0xc0000201);   /* 192.0.2.1 */
	r->ss = sess_new(r->srv, sv[0], &peer);
	ck_assert_ptr_nonnull(r->ss);
	sess_on_accept(r->ss);
}

static void rig_pump(struct rig *r)
{
	if (r->ss->state != SS_DEAD)
		sess_on_io(r->ss, EPOLLIN | EPOLLOUT);
	for (;;) {
		ssize_t n = recv(r->cli, r->replies + r->rlen, sizeof(r->replies) - 1 - r->rlen, 0);
		if (n <= 0)
			break;
		r->rlen += (size_t)n;
	}
	r->replies[r->rlen] = 0;
}

static void rig_send(struct rig *r, const char *p, size_t n)
{
	ck_assert_int_eq(send(r->cli, p, n, 0), (ssize_t)n);
	rig_pump(r);
}

static void rig_close(struct rig *r)
{
	close(r->cli);
	if (r->ss->state != SS_DEAD)
		sess_on_io(r->ss, EPOLLIN);
	sess_free(r->ss);
	close(r->srv->log_fd);
	free(r->srv);
	policy_free(&r->pol);
}

/* The reply codes in order, as "220 250 ..." (continuation lines skipped). */
static void codes(const char *replies, char *out, size_t outlen)
{
	size_t k = 0;
	out[0] = 0;
	for (const char *p = replies; *p;) {
		const char *eol = strstr(p, "\r\n");
		if (!eol)
			break;
		if (eol - p >= 4 && p[3] == ' ' && k + 5 < outlen)
			k += (size_t)snprintf(out + k, outlen - k, "%s%.3s", k ? " " : "", p);
		p = eol + 2;
	}
}

static const char dialog[] =
	"EHLO split.test\r\n"
	"MAIL FROM:<a@x.test>\r\n"
	"RCPT TO:<b@x.test>\r\n"
	"DATA\r\n"
	"Subject: t\r\n\r\n..stuffed\r\n.\r.\r\n.x\r\nend\r\n.\r\n"
	"MAIL FROM:<a@x.test>\r\n"
	"RCPT TO:<c@x.test>\r\n"
	"BDAT 7\r\nab\r\n.\r\nBDAT 3 LAST\r\nxyz"
	"NOOP\r\n"
	"QUIT\r\n";
static const char want_codes[] = "220 250 250 250 354 250 250 250 250 250 250 221";
/* unstuffed: "..stuffed" -> ".stuffed", ".\r." -> "\r.", ".x" -> "x" */
static const uint64_t want_body1 = sizeof("Subject: t\r\n\r\n.stuffed\r\n\r.\r\nx\r\nend\r\n") - 1;

START_TEST(same_replies_whole_bytewise_split)
{
	const size_t n = sizeof(dialog) - 1;
	char got[256];
	/* whole */
	struct rig r;
	rig_open(&r, "");
	rig_send(&r, dialog, n);
	codes(r.replies, got, sizeof(got));
	ck_assert_str_eq(got, want_codes);
	ck_assert_uint_eq(r.ss->n_msgs, 2);
	ck_assert(r.ss->quit_seen);
	rig_close(&r);
	/* one byte at a time */
	rig_open(&r, "");
	for (size_t i = 0; i < n; i++)
		rig_send(&r, dialog + i, 1);
	codes(r.replies, got, sizeof(got));
	ck_assert_str_eq(got, want_codes);
	ck_assert_uint_eq(r.ss->n_msgs, 2);
	rig_close(&r);
	/* split at every offset */
	for (size_t cut = 1; cut < n; cut++) {
		rig_open(&r, "");
		rig_send(&r, dialog, cut);
		rig_send(&r, dialog + cut, n - cut);
		codes(r.replies, got, sizeof(got));
		ck_assert_msg(strcmp(got, want_codes) == 0, "cut at %zu: %s", cut, got);
		ck_assert_uint_eq(r.ss->n_msgs, 2);
		rig_close(&r);
	}
}
END_TEST

START_TEST(body_size_counts_unstuffed_bytes)
{
	struct rig r;
	/* A limit exactly the unstuffed size passes; one byte less refuses. */
	char args[64];
	snprintf(args, sizeof(args), "--max-size %llu", (unsigned long long)want_body1);
	rig_open(&r, args);
	rig_send(&r, dialog, strstr(dialog, "end\r\n.\r\n") + 8 - dialog);
	ck_assert_ptr_nonnull(strstr(r.replies, "250 2.0.0 Ok: queued"));
	rig_close(&r);
	snprintf(args, sizeof(args), "--max-size %llu", (unsigned long long)want_body1 - 1);
	rig_open(&r, args);
	rig_send(&r, dialog, strstr(dialog, "end\r\n.\r\n") + 8 - dialog);
	ck_assert_ptr_nonnull(strstr(r.replies, "552 5.3.4"));
	ck_assert_int_eq(r.ss->cause, CAUSE_SIZE_LIMIT);
	ck_assert_int_eq(r.ss->cause_phase, PH_DATA);
	rig_close(&r);
}
END_TEST

START_TEST(bare_lf_dot_does_not_end_data)
{
	struct rig r;
	rig_open(&r, "");
	const char *d = "EHLO a\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nx\n.\nMAIL FROM:<evil@x>\r\n";
	rig_send(&r, d, strlen(d));
	char got[128];
	codes(r.replies, got, sizeof(got));
	ck_assert_str_eq(got, "220 250 250 250 354");   /* still in DATA: no smuggling */
	ck_assert_int_eq(r.ss->state, SS_DATA);
	rig_send(&r, "\r\n.\r\n", 5);
	codes(r.replies, got, sizeof(got));
	ck_assert_str_eq(got, "220 250 250 250 354 250");
	rig_close(&r);
}
END_TEST

START_TEST(long_line_capped)
{
	struct rig r;
	rig_open(&r, "");
	char chunk[4096];
	memset(chunk, 'A', sizeof(chunk));
	for (int i = 0; i < 64; i++)            /* 256 KB without LF */
		rig_send(&r, chunk, sizeof(chunk));
	ck_assert_ptr_nonnull(strstr(r.replies, "500 5.5.2 Error: line too long"));
	ck_assert_uint_le(r.ss->in_len, SRV_INBUF);
	ck_assert_uint_eq(r.ss->n_errors, 1);
	rig_send(&r, "tail\r\nNOOP\r\n", 12);
	char got[128];
	codes(r.replies, got, sizeof(got));
	ck_assert_str_eq(got, "220 500 250");   /* the rest of the long line was skipped */
	rig_close(&r);
}
END_TEST

START_TEST(auth_keeps_no_password)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/users-session", tu_tmpdir());
	FILE *f = fopen(path, "w");
	fputs("alice:Sekrit\n", f);
	fclose(f);
	char args[600];
	snprintf(args, sizeof(args), "--users %s --max-auth-failures 2", path);
	struct rig r;
	rig_open(&r, args);
	/* LOGIN: YWxpY2U= is "alice", V3Jvbmc= is "Wrong", U2Vrcml0 is "Sekrit" */
	const char *d = "EHLO a\r\nAUTH LOGIN\r\nYWxpY2U=\r\nV3Jvbmc=\r\nAUTH LOGIN YWxpY2U=\r\nU2Vrcml0\r\n";
	rig_send(&r, d, strlen(d));
	char got[128];
	codes(r.replies, got, sizeof(got));
	ck_assert_str_eq(got, "220 250 334 334 535 334 235");
	ck_assert(r.ss->authed);
	ck_assert_str_eq(r.ss->auth_user, "alice");
	/* no trace of the password anywhere in the session */
	ck_assert_ptr_null(memmem(r.ss, sizeof(*r.ss), "Sekrit", 6));
	ck_assert_ptr_null(memmem(r.ss, sizeof(*r.ss), "Wrong", 5));
	rig_close(&r);
}
END_TEST

START_TEST(pipelining_backpressure)
{
	/* 4,000 pipelined NOOPs while the client reads nothing: the output
	 * buffer fills, parsing pauses, nothing grows, nothing is lost. */
	struct rig r;
	rig_open(&r, "--max-errors 100000");
	int sndbuf = 4096;
	setsockopt(r.ss->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	size_t sent = 0, answered = 0, max_pending = 0;
	char noops[600];
	for (int i = 0; i < 100; i++)
		memcpy(noops + 6 * i, "NOOP\r\n", 6);
	while (sent < 4000) {
		ssize_t n = send(r.cli, noops, 600, 0);
		if (n == 600)
			sent += 100;
		else if (n > 0)
			ck_abort_msg("partial write in test");
		sess_on_io(r.ss, EPOLLIN | EPOLLOUT);
		ck_assert_uint_le(r.ss->out_len, SRV_OUTBUF);
		if (r.ss->out_len - r.ss->out_off > max_pending)
			max_pending = r.ss->out_len - r.ss->out_off;
		ck_assert_uint_le(r.ss->in_len, SRV_INBUF);
		if (n < 0) {
			/* the socket is full in both directions: now read */
			rig_pump(&r);
		}
	}
	/* the pause was reached: replies were held back for want of space */
	ck_assert_uint_ge(max_pending, SRV_OUTBUF - SRV_OUT_RESERVE);
	for (int i = 0; i < 200; i++)
		rig_pump(&r);
	for (const char *p = r.replies; (p = strstr(p, "250 2.0.0 Ok\r\n")); p++)
		answered++;
	ck_assert_uint_eq(answered, 4000);
	rig_close(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("server_session");
	TCase *t = tcase_create("Framing");
	tcase_set_timeout(t, 120);
	tcase_add_test(t, same_replies_whole_bytewise_split);
	tcase_add_test(t, body_size_counts_unstuffed_bytes);
	tcase_add_test(t, bare_lf_dot_does_not_end_data);
	tcase_add_test(t, long_line_capped);
	suite_add_tcase(s, t);
	t = tcase_create("Limits");
	tcase_add_test(t, auth_keeps_no_password);
	tcase_add_test(t, pipelining_backpressure);
	suite_add_tcase(s, t);
	return tu_run(s);
}
