/*
 * netfault.c - `reproduce middlebox_reset|network_failure|unanswered|
 * capture_incomplete -w OUT.pcap` (root): the causes a network makes, on a
 * network of three namespaces this run creates and deletes:
 *
 *   client ns  192.0.2.2/24     c0 ==== r0  192.0.2.1/24     router ns (forwards,
 *   router ns  198.51.100.1/24  r1 ==== s0  198.51.100.2/24  server ns  nftables)
 *
 * Documentation ranges only (RFC 5737), nothing configured in the root
 * namespace: the veth pairs are created directly inside the namespaces.
 * The bundled server listens on 198.51.100.2:25 in the server ns; the
 * scripted client and the capture (on c0) run in the client ns; the fault
 * is an nftables rule on the router:
 *
 *   unanswered          SYNs to port 25 dropped
 *   middlebox_reset     the router answers the client's 4th packet with a
 *                       forged RST (reject with tcp reset: the router's TTL,
 *                       not the server's, which is one hop lower)
 *   network_failure     after the greeting every packet dropped both ways;
 *                       the client retransmits, then gives up
 *   capture_incomplete  no fault: the capture stops while the dialog goes on
 *
 * Bounded: every command has a timeout, SYN and data retries are lowered in
 * the namespaces, the server child is killed at the end. The namespaces are
 * deleted on every exit path (return, error, SIGINT/SIGTERM/SIGHUP).
 */
#define _GNU_SOURCE
#include "client.h"
#include "labcap.h"
#include "netfault.h"
#include "srv.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>

#define NF_CMD_TIMEOUT   10.0    /* seconds for one ip/nft command */
#define NF_SERVER_ADDR   "198.51.100.2"
#define NF_PORT          25

static char ns_c[32], ns_r[32], ns_s[32];
static volatile sig_atomic_t ns_made;

/* Runs argv (no shell) and waits, bounded; the exit status or -1. */
static int run(char *const argv[])
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int nul = open("/dev/null", O_WRONLY);
		if (nul >= 0) {
			dup2(nul, 1);
			if (!getenv("SLEUTH_NETFAULT_DEBUG"))
				dup2(nul, 2);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	double end = sl_mono_sec() + NF_CMD_TIMEOUT;
	for (;;) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		if (r < 0 || sl_mono_sec() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		sleep_s(0.01);
	}
}

#define RUN(...) run((char *const[]){ __VA_ARGS__, NULL })

static void cleanup(void)
{
	if (!ns_made)
		return;
	ns_made = 0;
	RUN("ip", "netns", "del", ns_c);
	RUN("ip", "netns", "del", ns_r);
	RUN("ip", "netns", "del", ns_s);
}

static void on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Enters a namespace (this thread). */
static bool enter_ns(const char *name)
{
	char path[96];
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool ok = setns(fd, CLONE_NEWNET) == 0;
	close(fd);
	return ok;
}

/* Writes a sysctl of the current namespace. */
static void sysctl_w(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	/* best effort: a knob that cannot be set only makes the run slower */
	ssize_t w = write(fd, val, strlen(val));
	(void)w;
	close(fd);
}

static bool build(void)
{
	ns_made = 1;
	bool ok = !RUN("ip", "netns", "add", ns_c) && !RUN("ip", "netns", "add", ns_r) &&
	          !RUN("ip", "netns", "add", ns_s) &&
	          !RUN("ip", "link", "add", "c0", "netns", ns_c, "type", "veth", "peer", "name", "r0", "netns", ns_r) &&
	          !RUN("ip", "link", "add", "r1", "netns", ns_r, "type", "veth", "peer", "name", "s0", "netns", ns_s) &&
	          !RUN("ip", "-n", ns_c, "addr", "add", "192.0.2.2/24", "dev", "c0") &&
	          !RUN("ip", "-n", ns_r, "addr", "add", "192.0.2.1/24", "dev", "r0") &&
	          !RUN("ip", "-n", ns_r, "addr", "add", "198.51.100.1/24", "dev", "r1") &&
	          !RUN("ip", "-n", ns_s, "addr", "add", NF_SERVER_ADDR "/24", "dev", "s0") &&
	          !RUN("ip", "-n", ns_c, "link", "set", "lo", "up") && !RUN("ip", "-n", ns_s, "link", "set", "lo", "up") &&
	          !RUN("ip", "-n", ns_r, "link", "set", "lo", "up") &&
	          !RUN("ip", "-n", ns_c, "link", "set", "c0", "up") && !RUN("ip", "-n", ns_r, "link", "set", "r0", "up") &&
	          !RUN("ip", "-n", ns_r, "link", "set", "r1", "up") && !RUN("ip", "-n", ns_s, "link", "set", "s0", "up") &&
	          !RUN("ip", "-n", ns_c, "route", "add", "default", "via", "192.0.2.1") &&
	          !RUN("ip", "-n", ns_s, "route", "add", "default", "via", "198.51.100.1") &&
	          !RUN("ip", "netns", "exec", ns_r, "sysctl", "-qw", "net.ipv4.ip_forward=1");
	if (!ok)
		return false;
	/* wire-sized segments in the capture */
	RUN("ip", "netns", "exec", ns_c, "ethtool", "-K", "c0", "tso", "off", "gso", "off", "gro", "off");
	RUN("ip", "netns", "exec", ns_s, "ethtool", "-K", "s0", "tso", "off", "gso", "off", "gro", "off");
	return true;
}

/* The fault, as one nftables table on the router. */
static bool fault(const char *cause)
{
	if (RUN("ip", "netns", "exec", ns_r, "nft", "add", "table", "inet", "fault") ||
	    RUN("ip", "netns", "exec", ns_r, "nft", "add", "chain", "inet", "fault", "cut",
	        "{ type filter hook forward priority 0 ; policy accept ; }"))
		return false;
	if (!strcmp(cause, "unanswered"))
		return !RUN("ip", "netns", "exec", ns_r, "nft", "add", "rule", "inet", "fault", "cut",
		            "tcp", "dport", "25", "tcp", "flags", "syn", "drop");
	if (!strcmp(cause, "middlebox_reset"))
		return !RUN("ip", "netns", "exec", ns_r, "nft", "add", "rule", "inet", "fault", "cut",
		            "ip", "saddr", "192.0.2.2", "tcp", "dport", "25", "ct", "original", "packets", "ge", "4",
		            "reject", "with", "tcp", "reset");
	if (!strcmp(cause, "network_failure"))
		return !RUN("ip", "netns", "exec", ns_r, "nft", "add", "rule", "inet", "fault", "cut",
		            "ct", "original", "packets", "ge", "4", "drop");
	return true;
}

static volatile int child_stop;

static void child_term(int sig)
{
	(void)sig;
	child_stop = 1;
}

/* The server child: in the server ns, listening on NF_SERVER_ADDR:25. */
static pid_t start_server(void)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);   /* never outlives the run */
	if (!enter_ns(ns_s))
		_exit(1);
	sysctl_w("/proc/sys/net/ipv4/tcp_retries2", "3");
	struct policy *p = calloc(1, sizeof(*p));
	if (!p)
		_exit(1);
	policy_defaults(p);
	p->quiet = true;
	p->idle_timeout = 30;
	struct sockaddr_in *in = (struct sockaddr_in *)&p->listen;
	in->sin_family = AF_INET;
	in->sin_port = htons(NF_PORT);
	inet_pton(AF_INET, NF_SERVER_ADDR, &in->sin_addr);
	p->listen_len = sizeof(*in);
	char err[256];
	int lfd = srv_listen(p, err, sizeof(err));
	if (lfd < 0)
		_exit(1);
	signal(SIGTERM, child_term);
	int nul = open("/dev/null", O_WRONLY);
	_exit(srv_run(p, lfd, nul >= 0 ? nul : 2, &child_stop, err, sizeof(err)));
}

/* The client side, in the client ns (this process, after setns). */
static int play(const char *cause, const char *out, unsigned *cport)
{
	sysctl_w("/proc/sys/net/ipv4/tcp_syn_retries", "1");
	sysctl_w("/proc/sys/net/ipv4/tcp_retries2", "3");
	struct capture cap = {0};
	if (capture_open(&cap, "c0", NF_PORT, out))
		return 1;
	pthread_t th;
	if (pthread_create(&th, NULL, capture_loop, &cap)) {
		pcap_close(cap.p);
		return 1;
	}
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	in->sin_family = AF_INET;
	in->sin_port = htons(NF_PORT);
	inet_pton(AF_INET, NF_SERVER_ADDR, &in->sin_addr);
	struct cl c;
	int rc = 0;
	int e = cl_connect(&c, &ss, sizeof(*in), 5.0);
	*cport = c.local_port;
	if (!strcmp(cause, "unanswered")) {
		rc = e ? 0 : 1;   /* the SYNs must go unanswered */
		cl_close(&c, false);
	} else if (e) {
		fprintf(stderr, "reproduce: connect to the server namespace: %s\n", strerror(e));
		rc = 1;
	} else {
		int code = cl_reply(&c, 5.0);
		if (code == 220)
			code = cl_cmd(&c, "EHLO client.example.test");
		if (!strcmp(cause, "capture_incomplete")) {
			cl_cmd(&c, "MAIL FROM:<alice@client.example.test>");
			sleep_s(0.2);
			cap.stop = 1;            /* the capture ends; the session goes on */
			pthread_join(th, NULL);
			cl_cmd(&c, "QUIT");
			cl_close(&c, false);
			goto done;
		}
		if (!strcmp(cause, "middlebox_reset")) {
			if (code > 0)
				cl_cmd(&c, "MAIL FROM:<alice@client.example.test>");
			cl_close(&c, false);
		} else {   /* network_failure: the EHLO is never answered */
			if (code > 0)
				rc = 1;
			/* the kernel retransmits, then gives up (tcp_retries2 = 3) */
			char b;
			double end = sl_mono_sec() + 8.0;
			while (sl_mono_sec() < end && recv(c.fd, &b, 1, MSG_DONTWAIT) < 0 &&
			       (errno == EAGAIN || errno == EWOULDBLOCK))
				sleep_s(0.1);
			cl_close(&c, false);
		}
	}
	sleep_s(0.5);
	cap.stop = 1;
	pthread_join(th, NULL);
done:
	pcap_dump_close(cap.d);
	pcap_close(cap.p);
	return rc;
}

bool netfault_cause(const char *cause)
{
	return !strcmp(cause, "middlebox_reset") || !strcmp(cause, "network_failure") ||
	       !strcmp(cause, "unanswered") || !strcmp(cause, "capture_incomplete");
}

/* What the scenario made, in the server log's key=value form (the
 * MANIFEST of captures/ is written from it): the network, not the server,
 * decided, so these are the expected verdict's fields. */
static const struct {
	const char *cause, *phase, *close, *closed_by;
} expect[] = {
	{ "unanswered",         "connect", "none", "nobody" },
	{ "middlebox_reset",    "helo",    "rst",  "middlebox" },
	{ "network_failure",    "helo",    "none", "nobody" },
	{ "capture_incomplete", "mail",    "none", "nobody" },
};

int netfault_main(const char *cause, const char *out, const char *log_path)
{
	if (geteuid() != 0) {
		fprintf(stderr, "smtpsleuth: reproduce %s: needs root (it builds network namespaces)\n", cause);
		return 1;
	}
	snprintf(ns_c, sizeof(ns_c), "sleuth-c-%d", (int)getpid());
	snprintf(ns_r, sizeof(ns_r), "sleuth-r-%d", (int)getpid());
	snprintf(ns_s, sizeof(ns_s), "sleuth-s-%d", (int)getpid());
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	int rc = 1;
	pid_t srv = -1;
	if (!build() || !fault(cause)) {
		fprintf(stderr, "smtpsleuth: reproduce %s: cannot build the namespaces "
		        "(needs ip from iproute2 and nft; SLEUTH_NETFAULT_DEBUG=1 shows their errors)\n", cause);
		goto out;
	}
	srv = start_server();
	if (srv < 0)
		goto out;
	sleep_s(0.3);   /* the listener is up */
	/* The client side runs in a child in the client ns, so this process
	 * stays in its own namespace (and can delete the others). */
	fflush(NULL);
	int pp[2];
	if (pipe(pp) < 0)
		goto out;
	pid_t cli = fork();
	if (cli == 0) {
		unsigned cport = 0;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(pp[0]);
		int r = enter_ns(ns_c) ? play(cause, out, &cport) : 1;
		if (write(pp[1], &cport, sizeof(cport)) < 0)
			r = 1;
		_exit(r);
	}
	close(pp[1]);
	if (cli < 0)
		goto out;
	double end = sl_mono_sec() + 40.0;
	int st = 0;
	while (waitpid(cli, &st, WNOHANG) == 0) {
		if (sl_mono_sec() > end) {
			kill(cli, SIGKILL);
			waitpid(cli, &st, 0);
			break;
		}
		sleep_s(0.05);
	}
	rc = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
	unsigned cport = 0;
	if (read(pp[0], &cport, sizeof(cport)) != (ssize_t)sizeof(cport))
		cport = 0;
	close(pp[0]);
	for (size_t i = 0; !rc && i < SL_ARRAY_LEN(expect); i++) {
		if (strcmp(expect[i].cause, cause))
			continue;
		FILE *lf = log_path ? fopen(log_path, "w") : stdout;
		if (!lf) {
			fprintf(stderr, "smtpsleuth: reproduce: cannot write %s: %s\n", log_path, strerror(errno));
			rc = 1;
			break;
		}
		fprintf(lf, "session=0 client=192.0.2.2:%u cause=%s phase=%s reply=- close=%s closed_by=%s "
		        "note=\"made by an nftables rule on the router, in network namespaces\"\n",
		        cport, cause, expect[i].phase, expect[i].close, expect[i].closed_by);
		if (lf != stdout)
			fclose(lf);
	}
	if (rc)
		fprintf(stderr, "smtpsleuth: reproduce: scenario %s did not play as expected\n", cause);
out:
	if (srv > 0) {
		kill(srv, SIGKILL);
		waitpid(srv, NULL, 0);
	}
	cleanup();
	return rc;
}
