/*
 * reproduce.c - `smtpsleuth reproduce CAUSE -w OUT.pcap`: rebuilds one
 * verdict in the lab. It captures on the loopback interface with libpcap
 * (immediate mode, filter "tcp port P"), forks the bundled server with the
 * policy that causes CAUSE on a free loopback port, plays a scripted client
 * against it, waits until the server has logged the session(s), keeps
 * capturing a short tail so the last ACK/FIN/RST are in the file, and prints
 * the server's log line(s): the oracle for the analyzer's verdict.
 *
 * Invariants: bounded in time (client waits are bounded, the server child is
 * told to exit after the expected sessions and is killed after
 * REPRO_SERVER_WAIT seconds); the server child never touches the capture
 * (it leaves with _exit so the dump's stdio buffer is flushed once, by us).
 */
#include "server.h"
#include "srv.h"
#include "client.h"
#include "labcap.h"
#include "replay.h"
#include "netfault.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>

#define REPRO_TAIL_SECONDS   0.3
#define REPRO_SERVER_WAIT    10.0
#define REPRO_MAX_ARGS       64
#define REPRO_RING_BYTES     (64 << 20)

enum variant { V_DEFAULT, V_MAIL, V_GREYLIST, V_MSGS, V_RST };

struct scenario {
	const char *cause;
	const char *serve_args;       /* space-separated serve options; @USERS = a users file */
	unsigned sessions;            /* sessions the server will log */
};

static const struct scenario scenarios[] = {
	{ "completed",          "",                                   1 },
	{ "size_limit",         "--max-size 2000",                    1 },
	{ "auth_failed",        "--users @USERS",                     1 },
	{ "auth_required",      "--users @USERS --require-auth",      1 },
	{ "ip_filtered",        "--deny 127.0.0.0/8",                 1 },
	{ "relay_denied",       "--relay-domain example.org",         1 },
	{ "idle_timeout",       "--idle-timeout 1",                   1 },
	{ "too_many_errors",    "--max-errors 3",                     1 },
	{ "rate_limited",       "--max-conn-per-ip 1",                2 },
	{ "server_unavailable", "--shutdown",                         1 },
	{ "tls_required",       "--require-tls",                      1 },
	{ "tls_failed",         "--tls-fail refuse",                  1 },
	{ "client_abort",       "",                                   1 },
	{ "sender_rejected",    "--reject-sender client.example.test", 1 },
	{ "recipient_rejected", "--reject-rcpt bob@example.org",      1 },
	{ "content_rejected",   "--reject-content dot-stuffed",       1 },
	{ "connection_refused", NULL,                                 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
	"usage: smtpsleuth reproduce CAUSE -w OUT.pcap [--log FILE] [--json] [--variant V]\n"
	"       smtpsleuth reproduce --from FILE [--session ID] -w OUT.pcap [--profile-out P.json] [--speed X]\n"
	"       smtpsleuth reproduce --profile P.json -w OUT.pcap [--speed X]\n"
	"                            [--iface IF] [--tls] [serve policy options...]\n"
	"causes:");
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		fprintf(f, " %s", scenarios[i].cause);
	fprintf(f, "\n"
	"variants: size_limit: data (default) | mail (SIZE= refused at MAIL);\n"
	"          rate_limited: conn (default) | greylist | msgs;  client_abort: fin | rst\n"
	"serve options are passed to the server, e.g. --size-action reset, --deny-action close,\n"
	"--idle-action close, --tls-fail abort\n"
	"--tls: after EHLO, STARTTLS and the rest inside TLS; the server's key log is\n"
	"written to OUT.keys beside OUT.pcap (analyze --tls-keylog OUT.keys OUT.pcap)\n");
}

/* The causes reproduce knows, comma-separated, for messages. */
static const char *cause_list(void)
{
	static char buf[512];
	size_t k = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]) && k + 1 < sizeof(buf); i++)
		k += (size_t)snprintf(buf + k, sizeof(buf) - k, "%s%s", i ? ", " : "", scenarios[i].cause);
	return buf;
}

/* A usage error, said once and concisely; exit status 2. */
static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "smtpsleuth: reproduce: %s; see 'smtpsleuth reproduce --help'\n", msg);
	return 2;
}

/* ---- capture ---- */

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct capture *c = (struct capture *)user;
	pcap_dump((u_char *)c->d, h, bytes);
	c->packets++;
}

void *capture_loop(void *arg)
{
	struct capture *c = arg;
	int fd = pcap_get_selectable_fd(c->p);
	while (!c->stop) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		poll(&pf, 1, 20);
		pcap_dispatch(c->p, -1, on_packet, (u_char *)c);
	}
	/* What the kernel still holds. */
	for (int i = 0; i < 5; i++)
		if (pcap_dispatch(c->p, -1, on_packet, (u_char *)c) <= 0)
			break;
	return NULL;
}

int capture_open(struct capture *c, const char *iface, unsigned port, const char *out)
{
	char eb[PCAP_ERRBUF_SIZE] = "";
	c->p = pcap_create(iface, eb);
	if (!c->p) {
		fprintf(stderr, "reproduce: cannot open %s: %s\n", iface, eb);
		return 1;
	}
	pcap_set_snaplen(c->p, 65535);
	/* In immediate mode each ring frame holds a full snaplen; the default
	 * 2 MB ring would hold ~30 of them and drop a DATA burst. */
	pcap_set_buffer_size(c->p, REPRO_RING_BYTES);
	pcap_set_immediate_mode(c->p, 1);
	pcap_set_timeout(c->p, 20);
	int rc = pcap_activate(c->p);
	if (rc < 0) {
		if (rc == PCAP_ERROR_PERM_DENIED || geteuid() != 0)
			fprintf(stderr, "reproduce: capturing on %s is not permitted (%s); "
			        "run as root or give the binary CAP_NET_RAW "
			        "(setcap cap_net_raw,cap_net_admin+ep smtpsleuth)\n",
			        iface, pcap_geterr(c->p));
		else
			fprintf(stderr, "reproduce: cannot capture on %s: %s\n", iface, pcap_geterr(c->p));
		pcap_close(c->p);
		c->p = NULL;
		return 1;
	}
	char filter[64];
	struct bpf_program prog;
	snprintf(filter, sizeof(filter), "tcp port %u", port);
	if (pcap_compile(c->p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0 ||
	    pcap_setfilter(c->p, &prog) < 0) {
		fprintf(stderr, "reproduce: filter '%s': %s\n", filter, pcap_geterr(c->p));
		pcap_close(c->p);
		c->p = NULL;
		return 1;
	}
	pcap_freecode(&prog);
	pcap_setnonblock(c->p, 1, eb);
	c->d = pcap_dump_open(c->p, out);
	if (!c->d) {
		fprintf(stderr, "reproduce: cannot write %s: %s\n", out, pcap_geterr(c->p));
		pcap_close(c->p);
		c->p = NULL;
		return 1;
	}
	return 0;
}

/* ---- scripted client ---- */

struct target {
	struct sockaddr_storage ss;
	socklen_t sl;
};

void sleep_s(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9) };
	nanosleep(&ts, NULL);
}

bool server_drain(pid_t pid, int fd, double wait, char *buf, size_t cap, FILE *echo)
{
	double end = sl_mono_sec() + wait;
	bool killed = false;
	size_t len = 0;
	char chunk[4096];
	for (;;) {
		double left = end - sl_mono_sec();
		if (left <= 0 && !killed) {
			kill(pid, SIGTERM);
			killed = true;
			end = sl_mono_sec() + 2;
			continue;
		}
		if (left <= 0)
			break;
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		if (poll(&pf, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		ssize_t r = read(fd, chunk, sizeof(chunk));
		if (r <= 0)
			break;
		if (echo)
			fwrite(chunk, 1, (size_t)r, echo);
		if (buf && cap > len + 1) {
			size_t keep = (size_t)r < cap - 1 - len ? (size_t)r : cap - 1 - len;
			memcpy(buf + len, chunk, keep);
			len += keep;
		}
	}
	if (buf && cap)
		buf[len] = 0;
	int st = 0;
	if (waitpid(pid, &st, WNOHANG) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	close(fd);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Ends a dialog: QUIT when the server still answers, then close. */
static void quit_close(struct cl *c)
{
	if (c->fd >= 0) {
		int code = cl_cmd(c, "QUIT");
		if (code > 0)
			cl_reply(c, 2.0);   /* wait for the server's FIN (returns 0) */
	}
	cl_close(c, false);
}

/* Reads until the server closes (or the timeout), then closes. */
static void wait_close(struct cl *c, double timeout)
{
	while (c->fd >= 0) {
		int r = cl_reply(c, timeout);
		if (r <= 0)
			break;
	}
	cl_close(c, false);
}

/* --tls: the dialog after EHLO goes on inside STARTTLS (the server writes
 * its keys to OUT.keys). */
static bool use_tls;

static bool hello(struct cl *c)
{
	if (cl_reply(c, 5.0) != 220)
		return false;
	if (cl_cmd(c, "EHLO client.example.test") != 250)
		return false;
	return !use_tls || cl_starttls(c, "EHLO client.example.test");
}

static const char message[] =
	"From: Alice <alice@client.example.test>\r\n"
	"To: Bob <bob@example.org>\r\n"
	"Subject: smtpsleuth reproduce\r\n"
	"Message-ID: <reproduce@client.example.test>\r\n"
	"\r\n"
	"Hello Bob,\r\n"
	"..this line was dot-stuffed.\r\n"
	"Bye.\r\n";

static int play(const char *cause, enum variant v, const struct target *t, unsigned *cport)
{
	struct cl c;
	int e = cl_connect(&c, &t->ss, t->sl, 5.0);
	*cport = c.local_port;
	if (!strcmp(cause, "connection_refused"))
		return e == ECONNREFUSED ? 0 : (cl_close(&c, false), 1);
	if (e) {
		fprintf(stderr, "reproduce: connect: %s\n", strerror(e));
		return 1;
	}
	if (!strcmp(cause, "ip_filtered") || !strcmp(cause, "server_unavailable")) {
		int code = cl_reply(&c, 5.0);
		if (code == 554)
			quit_close(&c);
		else
			wait_close(&c, 5.0);
		return 0;
	}
	if (!strcmp(cause, "rate_limited") && v == V_DEFAULT) {
		if (!hello(&c)) {
			cl_close(&c, false);
			return 1;
		}
		struct cl c2;
		if (cl_connect(&c2, &t->ss, t->sl, 5.0) == 0) {
			cl_reply(&c2, 5.0);     /* 421 4.7.0 too many connections */
			wait_close(&c2, 5.0);
		}
		quit_close(&c);
		return 0;
	}
	if (!hello(&c)) {
		wait_close(&c, 2.0);
		return 0;
	}
	if (!strcmp(cause, "auth_failed")) {
		/* \0alice\0wrong-password */
		cl_cmd(&c, "AUTH PLAIN AGFsaWNlAHdyb25nLXBhc3N3b3Jk");
		quit_close(&c);
	} else if (!strcmp(cause, "idle_timeout")) {
		cl_reply(&c, 10.0);             /* the server's 421, or its FIN */
		wait_close(&c, 3.0);
	} else if (!strcmp(cause, "too_many_errors")) {
		const char *bad[] = { "HELLO?", "MAIL", "GET / HTTP/1.0", "XYZZY" };
		for (size_t i = 0; i < 4 && c.fd >= 0; i++) {
			int code = cl_cmd(&c, bad[i]);
			if (code == 421 || code <= 0)
				break;
		}
		wait_close(&c, 3.0);
	} else if (!strcmp(cause, "tls_failed")) {
		int code = cl_cmd(&c, "STARTTLS");
		if (code == 220) {
			cl_tls_handshake(&c);
			cl_close(&c, false);
		} else {
			quit_close(&c);
		}
	} else if (!strcmp(cause, "size_limit") && v == V_MAIL) {
		cl_cmd(&c, "MAIL FROM:<alice@client.example.test> SIZE=50000");
		quit_close(&c);
	} else {
		/* A transaction; the policy decides where it stops. */
		int code = cl_cmd(&c, "MAIL FROM:<alice@client.example.test>");
		const char *rcpt = !strcmp(cause, "relay_denied") ? "RCPT TO:<bob@elsewhere.test>"
		                                                  : "RCPT TO:<bob@example.org>";
		if (code == 250)
			code = cl_cmd(&c, rcpt);
		if (!strcmp(cause, "client_abort")) {
			sleep_s(0.05);
			cl_close(&c, v == V_RST);
			return 0;
		}
		if (code == 250)
			code = cl_cmd(&c, "DATA");
		if (code == 354) {
			bool ok = cl_send(&c, message, sizeof(message) - 1);
			if (!strcmp(cause, "size_limit")) {
				/* 20 KB in 2 KB writes of 80-byte lines */
				char chunk[2000];   /* 25 lines */
				for (size_t k = 0; k + 80 <= sizeof(chunk); k += 80) {
					memset(chunk + k, 'x', 78);
					chunk[k + 78] = '\r';
					chunk[k + 79] = '\n';
				}
				for (int i = 0; i < 10 && ok; i++) {
					ok = cl_send(&c, chunk, sizeof(chunk));
					sleep_s(0.002);
				}
			}
			if (ok)
				ok = cl_send(&c, ".\r\n", 3);
			code = ok ? cl_reply(&c, 5.0) : -1;
		}
		if (!strcmp(cause, "rate_limited") && v == V_MSGS && code == 250) {
			code = cl_cmd(&c, "MAIL FROM:<alice@client.example.test>");
			if (code == 421) {
				wait_close(&c, 3.0);
				return 0;
			}
		}
		if (code > 0)
			quit_close(&c);
		else
			wait_close(&c, 2.0);
	}
	return 0;
}

/* ---- the server child ---- */

static int write_users(char *path, size_t n)
{
	snprintf(path, n, "/tmp/smtpsleuth-users-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	static const char users[] = "alice:correct-horse\n";
	bool ok = write(fd, users, sizeof(users) - 1) == (ssize_t)(sizeof(users) - 1);
	close(fd);
	return ok ? 0 : -1;
}

static volatile int child_stop;

static void child_term(int sig)
{
	(void)sig;
	child_stop = 1;
}

static void run_server_child(char **argv, int argc, int lfd, int log_fd)
{
	struct policy *p = calloc(1, sizeof(*p));
	char err[1024];
	if (!p)
		_exit(1);
	policy_defaults(p);
	if (policy_parse(p, argc, argv, err, sizeof(err)) > 0) {
		fprintf(stderr, "reproduce: server options: %s\n", err);
		_exit(2);
	}
	signal(SIGTERM, child_term);
	int rc = srv_run(p, lfd, log_fd, &child_stop, err, sizeof(err));
	if (rc)
		fprintf(stderr, "reproduce: server: %s\n", err);
	_exit(rc);
}

/* A loopback socket on a free port (want = 0: any). It listens unless this
 * is connection_refused, where a bound socket that never listens reserves a
 * port on which the kernel answers SYN with RST. */
bool loopback_port(int *fd_out, unsigned *port, bool listening, unsigned want)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (listening ? SOCK_NONBLOCK : 0), 0);
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	                          .sin_port = htons((uint16_t)want) };
	socklen_t l = sizeof(in);
	int one = 1;
	if (fd >= 0 && listening)   /* a mail port may still hold TIME_WAITs of the last run */
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&in, sizeof(in)) < 0 ||
	    (listening && listen(fd, 64) < 0) || getsockname(fd, (struct sockaddr *)&in, &l) < 0) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	*fd_out = fd;
	*port = ntohs(in.sin_port);
	return true;
}

int reproduce_main(int argc, char **argv)
{
	const char *cause = NULL, *out = NULL, *log_path = NULL, *iface = "lo", *vname = NULL;
	bool json = false;
	char *extra[REPRO_MAX_ARGS];
	int n_extra = 0;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--from") || !strcmp(argv[i], "--profile"))
			return replay_main(argc, argv);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if ((!strcmp(a, "-w") || !strcmp(a, "--write")) && i + 1 < argc) out = argv[++i];
		else if (!strcmp(a, "--log") && i + 1 < argc) log_path = argv[++i];
		else if (!strcmp(a, "--iface") && i + 1 < argc) iface = argv[++i];
		else if (!strcmp(a, "--variant") && i + 1 < argc) vname = argv[++i];
		else if (!strcmp(a, "--json")) json = true;
		else if (!strcmp(a, "--tls")) use_tls = true;
		else if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
		else if (a[0] != '-' && !cause) cause = a;
		else if (a[0] == '-' && n_extra + 2 < REPRO_MAX_ARGS) {
			extra[n_extra++] = argv[i];
			if (i + 1 < argc && argv[i + 1][0] != '-')
				extra[n_extra++] = argv[++i];
		} else {
			return usage_error("unexpected argument '%s'", a);
		}
	}
	if (cause && netfault_cause(cause)) {
		if (!out) {
			fprintf(stderr, "smtpsleuth: reproduce: missing -w OUT.pcap\n");
			return 2;
		}
		return netfault_main(cause, out, log_path);
	}
	const struct scenario *sc = NULL;
	for (size_t i = 0; cause && i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (!strcasecmp(scenarios[i].cause, cause))
			sc = &scenarios[i];
	if (!cause)
		return usage_error("missing CAUSE (one of: %s)", cause_list());
	if (!sc)
		return usage_error("unknown cause '%s' (one of: %s)", cause, cause_list());
	cause = sc->cause;
	if (!out)
		return usage_error("missing -w OUT.pcap");
	/* --tls: the server's key log OUT.keys beside OUT.pcap, made afresh */
	char keys[4096] = "";
	if (use_tls) {
		static const char *const plain_only[] = { "connection_refused", "ip_filtered", "server_unavailable",
							   "tls_required", "tls_failed", "rate_limited" };
		for (size_t i = 0; i < sizeof(plain_only) / sizeof(plain_only[0]); i++)
			if (!strcmp(cause, plain_only[i]))
				return usage_error("--tls: %s is not played inside TLS", cause);
		size_t ol = strlen(out);
		int kl = ol > 5 && !strcmp(out + ol - 5, ".pcap") ? (int)(ol - 5) : (int)ol;
		if (snprintf(keys, sizeof(keys), "%.*s.keys", kl, out) >= (int)sizeof(keys))
			return usage_error("-w: name too long");
		unlink(keys);
		signal(SIGPIPE, SIG_IGN);       /* SSL_write to a server that closed */
	}
	enum variant v = V_DEFAULT;
	if (vname) {
		if (!strcmp(vname, "mail") && !strcmp(cause, "size_limit")) v = V_MAIL;
		else if (!strcmp(vname, "greylist") && !strcmp(cause, "rate_limited")) v = V_GREYLIST;
		else if (!strcmp(vname, "msgs") && !strcmp(cause, "rate_limited")) v = V_MSGS;
		else if (!strcmp(vname, "rst") && !strcmp(cause, "client_abort")) v = V_RST;
		else if (strcmp(vname, "data") && strcmp(vname, "conn") && strcmp(vname, "fin")) {
			fprintf(stderr, "reproduce: no variant '%s' for %s\n", vname, cause);
			return 2;
		}
	}

	/* The port first (the filter needs it): a listener, or for
	 * connection_refused a bound socket that never listens. */
	int lfd;
	unsigned port;
	bool refused = sc->serve_args == NULL;
	/* A mail port when one is free: the capture then looks like real mail
	 * traffic, and sessions without payload (a refused SYN, an accept-then-
	 * close) are recognisable as SMTP only by their port. */
	static const unsigned mail_ports[] = { 25, 587, 2525, 10025 };
	bool have = false;
	for (size_t i = 0; !have && i < sizeof(mail_ports) / sizeof(mail_ports[0]); i++)
		have = loopback_port(&lfd, &port, !refused, mail_ports[i]);
	if (!have && !loopback_port(&lfd, &port, !refused, 0)) {
		fprintf(stderr, "reproduce: cannot bind a loopback port: %s\n", strerror(errno));
		return 1;
	}
	struct capture cap = {0};
	if (capture_open(&cap, iface, port, out)) {
		close(lfd);
		return 1;
	}

	/* Server argv: scenario options, variant options, then the user's. */
	char users[64] = "";
	char argbuf[512];
	char *sargv[REPRO_MAX_ARGS * 2];
	int sargc = 0;
	sargv[sargc++] = "serve";
	if (!refused) {
		snprintf(argbuf, sizeof(argbuf), "%s%s%s", sc->serve_args,
		         v == V_GREYLIST ? " --greylist" : v == V_MSGS ? " --max-msgs 1" : "",
		         " --quiet");
		if (v == V_GREYLIST || v == V_MSGS) {
			/* these variants replace the connection limit */
			char *cl = strstr(argbuf, "--max-conn-per-ip 1");
			if (cl)
				memset(cl, ' ', strlen("--max-conn-per-ip 1"));
		}
		for (char *tok = strtok(argbuf, " "); tok && sargc < REPRO_MAX_ARGS; tok = strtok(NULL, " ")) {
			if (!strcmp(tok, "@USERS")) {
				if (write_users(users, sizeof(users)) < 0) {
					fprintf(stderr, "reproduce: cannot write a users file\n");
					return 1;
				}
				tok = users;
			}
			sargv[sargc++] = tok;
		}
		for (int i = 0; i < n_extra; i++)
			sargv[sargc++] = extra[i];
		if (json)
			sargv[sargc++] = "--json";
		if (use_tls) {
			sargv[sargc++] = "--tls-keylog";
			sargv[sargc++] = keys;
		}
	}
	sargv[sargc] = NULL;
	unsigned expect = (v == V_GREYLIST || v == V_MSGS) ? 1 : sc->sessions;
	char maxs[16];
	snprintf(maxs, sizeof(maxs), "%u", expect);
	if (!refused) {
		sargv[sargc++] = "--max-sessions";
		sargv[sargc++] = maxs;
		sargv[sargc] = NULL;
	}

	int logp[2] = { -1, -1 };
	pid_t pid = -1;
	if (!refused) {
		if (pipe(logp) < 0) {
			fprintf(stderr, "reproduce: pipe: %s\n", strerror(errno));
			return 1;
		}
		fflush(NULL);
		pid = fork();
		if (pid == 0) {
			close(logp[0]);
			run_server_child(sargv, sargc, lfd, logp[1]);
		}
		close(logp[1]);
		if (pid < 0) {
			fprintf(stderr, "reproduce: fork: %s\n", strerror(errno));
			return 1;
		}
	}

	/* The thread starts after fork() so the child never inherits a thread
	 * that might hold a lock; the kernel buffers packets meanwhile. */
	pthread_t th;
	if (pthread_create(&th, NULL, capture_loop, &cap) != 0) {
		fprintf(stderr, "reproduce: cannot start the capture thread\n");
		if (pid > 0)
			kill(pid, SIGKILL);
		return 1;
	}

	struct target t = {0};
	struct sockaddr_in *in = (struct sockaddr_in *)&t.ss;
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	in->sin_port = htons((uint16_t)port);
	t.sl = sizeof(*in);
	unsigned cport = 0;
	int rc = play(cause, v, &t, &cport);

	/* The server's log: read until the child exits (it stops after the
	 * expected sessions), bounded by REPRO_SERVER_WAIT. */
	char logbuf[8192] = "";
	if (pid > 0 && !server_drain(pid, logp[0], REPRO_SERVER_WAIT, logbuf, sizeof(logbuf), NULL))
		rc = 1;
	sleep_s(REPRO_TAIL_SECONDS);
	cap.stop = 1;
	pthread_join(th, NULL);
	struct pcap_stat ps;
	if (pcap_stats(cap.p, &ps) == 0 && ps.ps_drop > 0) {
		fprintf(stderr, "reproduce: the capture dropped %u packets; %s is incomplete\n",
		        ps.ps_drop, out);
		rc = 1;
	}
	pcap_dump_close(cap.d);
	pcap_close(cap.p);
	/* The port is released only now: another reproduce run that took it
	 * during our tail would land in our capture. */
	close(lfd);
	if (users[0])
		unlink(users);

	if (refused) {
		/* No server process: the kernel's RST is the whole story. */
		if (json)
			snprintf(logbuf, sizeof(logbuf),
			         "{\"type\":\"server_session\",\"session\":0,\"client\":{\"ip\":\"127.0.0.1\",\"port\":%u},"
			         "\"cause\":\"connection_refused\",\"phase\":\"connect\",\"reply\":null,"
			         "\"close\":\"rst\",\"closed_by\":\"server\"}\n", cport);
		else
			snprintf(logbuf, sizeof(logbuf),
			         "session=0 client=127.0.0.1:%u cause=connection_refused phase=connect reply=- "
			         "close=rst closed_by=server note=\"no listener on port %u\"\n", cport, port);
	}
	FILE *lf = stdout;
	if (log_path) {
		lf = fopen(log_path, "w");
		if (!lf) {
			fprintf(stderr, "reproduce: cannot write %s: %s\n", log_path, strerror(errno));
			return 1;
		}
	}
	fputs(logbuf, lf);
	if (lf != stdout)
		fclose(lf);
	if (rc)
		fprintf(stderr, "reproduce: scenario %s did not play as expected\n", cause);
	else if (cap.packets == 0) {
		fprintf(stderr, "reproduce: no packets captured on %s\n", iface);
		rc = 1;
	}
	return rc;
}
