/*
 * fuzz_server_session.c - libFuzzer target for the bundled server's session
 * state machine (framing, commands, DATA/BDAT scanning, AUTH, STARTTLS into
 * OpenSSL's handshake), driven over a socketpair without the event loop.
 *
 * Input: byte 0 picks one of a few policies (two of them set every limit
 * to its smallest); the rest is a sequence of
 * chunks, each preceded by a length byte, written to the session one chunk
 * per read so every split of the stream gets explored. A final sweep far in
 * the future exercises the idle path. Everything is freed per input.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fcntl.h>

#include "fuzz_dir.h"
#include "srv.h"

static const char *const policies[] = {
	"",
	"--max-size 100 --size-action close",
	"--max-size 50 --size-action reset --max-errors 3",
	"--users USERS --require-auth --max-auth-failures 2",
	"--relay-domain example.org --greylist --max-rcpts 2 --max-msgs 1",
	"--require-tls --tls-fail refuse",
	"--tls-fail abort --idle-action close",
	"--deny 192.0.2.0/24",
	/* every per-session limit at its smallest, so each limit's path runs */
	"--max-size 1 --max-errors 1 --max-msgs 1 --max-rcpts 1 --max-auth-failures 1 --users USERS",
	"--idle-timeout 1 --idle-action reply --max-conn-per-ip 1 --max-conns 1 --greeting-delay 0 --early-talker",
	"--shutdown",
};

static struct ssl_ctx_st *shared_tls;
/* "USERS" in a policy: a file with the seeds' account (a:b), made once in a
 * scratch directory (--require-auth refuses a file without accounts) */
static char users_path[96];

static void make_users(void)
{
	char dir[64];
	if (!fuzz_scratch_dir(dir, sizeof(dir), "server"))
		abort();
	snprintf(users_path, sizeof(users_path), "%s/users", dir);
	FILE *f = fopen(users_path, "w");
	if (!f || fputs("a:b\n", f) < 0 || fclose(f) != 0)
		abort();
}

static void drain(int fd)
{
	char buf[65536];
	while (recv(fd, buf, sizeof(buf), 0) > 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct policy *pol = calloc(1, sizeof(*pol));
	struct server *srv = calloc(1, sizeof(*srv));
	if (!pol || !srv)
		abort();
	policy_defaults(pol);
	char buf[256], err[512];
	char *argv[32];
	int argc = 0;
	snprintf(buf, sizeof(buf), "serve %s", policies[data[0] % (sizeof(policies) / sizeof(policies[0]))]);
	if (!users_path[0])
		make_users();
	for (char *t = strtok(buf, " "); t && argc < 31; t = strtok(NULL, " "))
		argv[argc++] = strcmp(t, "USERS") ? t : users_path;
	argv[argc] = NULL;
	if (policy_parse(pol, argc, argv, err, sizeof(err)) != 0)
		abort();
	if (!shared_tls)
		shared_tls = tls_server_ctx(pol, err, sizeof(err));
	srv->pol = pol;
	srv->epfd = -1;
	srv->maildir_fd = -1;
	srv->log_fd = open("/dev/null", O_WRONLY);
	srv->tls = pol->tls_fail == TLSF_REFUSE ? NULL : shared_tls;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
		abort();
	struct sockaddr_storage peer;
	memset(&peer, 0, sizeof(peer));
	struct sockaddr_in *in = (struct sockaddr_in *)&peer;
	in->sin_family = AF_INET;
	in->sin_port = htons(40000);
	in->sin_addr.s_addr = htonl(0xc0000201);
	struct session *ss = sess_new(srv, sv[0], &peer);
	sess_on_accept(ss);
	size_t off = 1;
	while (off < size && ss->state != SS_DEAD) {
		size_t n = data[off++];
		if (n > size - off)
			n = size - off;
		if (n && send(sv[1], data + off, n, MSG_NOSIGNAL) < 0)
			break;
		off += n;
		sess_on_io(ss, EPOLLIN | EPOLLOUT);
		drain(sv[1]);
	}
	if (ss->state != SS_DEAD) {
		sess_sweep(ss, sl_mono_sec() + 1e6);
		drain(sv[1]);
	}
	close(sv[1]);
	if (ss->state != SS_DEAD)
		sess_on_io(ss, EPOLLIN);
	srv_log_session(srv, ss);
	sess_free(ss);
	close(srv->log_fd);
	free(srv);
	policy_free(pol);
	free(pol);
	return 0;
}
