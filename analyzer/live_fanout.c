/*
 * live_fanout.c - `smtpsleuth live --fanout N`: N capture processes on one
 * interface, the kernel spreading the packets over them by flow.
 *
 * The command forks N workers. Each opens its own libpcap handle and, once
 * it is activated, joins one PACKET_FANOUT group (Linux packet sockets) in
 * hash mode on the handle's socket (pcap_fileno()): libpcap 1.10 has no
 * fanout API, and the option is a plain setsockopt on that socket. The
 * kernel then hands each packet to one member, chosen by the packet's flow
 * hash, which is symmetric (both directions of a TCP connection reach the
 * same worker); PACKET_FANOUT_FLAG_DEFRAG reassembles IP fragments first so
 * they hash like the rest of their flow. Each worker runs the whole
 * analysis on its share, as a plain `live` would.
 *
 * Output: by default the parent reads the workers' reports through pipes
 * and writes them to its stdout one whole record at a time (a JSON line, or
 * a text block ending with a blank line), so records never interleave. With
 * native --json the workers' summaries are held back and written as one
 * summary at the end, their counts added up (the interface is one input:
 * first and last are the earliest and latest). Text and ECS output keep one
 * summary per worker. With --fanout-split PREFIX each worker writes its own
 * report to PREFIX.K instead (K = 1..N) and the parent only waits.
 *
 * Limits: the group's membership is complete only once every worker has
 * joined (a few milliseconds after start); while it grows, the kernel's
 * choice of member for a flow changes, so a connection already open then may
 * be seen in parts by two workers (each part then gets its honest verdict,
 * typically capture_incomplete). Signals: SIGINT/SIGTERM to the parent are
 * passed on to the workers, which end as `live` does (summary, exit 0); the
 * parent exits with the worst of their exit codes. Workers leave the
 * terminal's process group so a Ctrl-C reaches them once, through the
 * parent (under systemd use KillMode=mixed for the same reason), and die
 * with the parent (PR_SET_PDEATHSIG).
 */
#define _GNU_SOURCE     /* pipe2 */
#include "live.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shard_merge.h"
#include "pipeline.h"

#define FANOUT_READ_CHUNK   65536
#define FANOUT_MAX_PENDING  (32u << 20)  /* a record longer than this is passed on in pieces */

bool live_fanout_join(int fd, unsigned group, char *err, size_t errlen)
{
	int arg = (int)((group & 0xffff) | ((unsigned)(PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16));
	if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) < 0) {
		snprintf(err, errlen, "cannot join packet fanout group %u: %s", group & 0xffff, strerror(errno));
		return false;
	}
	return true;
}

static pid_t fanout_pids[LIVE_MAX_FANOUT];
static int fanout_n;

static void forward_signal(int sig)
{
	for (int i = 0; i < fanout_n; i++)
		if (fanout_pids[i] > 0)
			kill(fanout_pids[i], sig);
}

struct relay {
	int fd;
	char *buf;
	size_t len, cap;
	bool eof;
	char *summary;          /* native JSON: the worker's summary line, held back */
	size_t summary_len;
};

/* Writes the complete records at the start of r->buf (JSON: lines; text:
 * blocks ending with an empty line) and keeps the rest. At EOF everything
 * goes. Native JSON summary lines are kept aside. */
static void relay_emit(struct relay *r, bool json, bool native, bool eof)
{
	size_t done = 0;
	for (;;) {
		char *start = r->buf + done;
		size_t left = r->len - done;
		size_t rec;
		if (json) {
			char *nl = memchr(start, '\n', left);
			if (!nl)
				break;
			rec = (size_t)(nl - start) + 1;
		} else {
			char *p = NULL;
			for (size_t i = 0; i + 1 < left; i++)
				if (start[i] == '\n' && start[i + 1] == '\n') {
					p = start + i;
					break;
				}
			if (!p)
				break;
			rec = (size_t)(p - start) + 2;
		}
		if (json && native && !strncmp(start, "{\"type\":\"summary\"", 17) && !r->summary) {
			r->summary = malloc(rec);
			if (r->summary) {
				memcpy(r->summary, start, rec);
				r->summary_len = rec;
			}
		} else {
			fwrite(start, 1, rec, stdout);
		}
		done += rec;
	}
	if (eof || r->len - done > FANOUT_MAX_PENDING) {
		fwrite(r->buf + done, 1, r->len - done, stdout);
		done = r->len;
	}
	memmove(r->buf, r->buf + done, r->len - done);
	r->len -= done;
	fflush(stdout);
}

static bool relay_read(struct relay *r)
{
	if (r->cap - r->len < FANOUT_READ_CHUNK) {
		size_t nc = r->cap ? r->cap * 2 : 4 * FANOUT_READ_CHUNK;
		char *t = realloc(r->buf, nc);
		if (!t)
			return false;
		r->buf = t;
		r->cap = nc;
	}
	ssize_t n = read(r->fd, r->buf + r->len, r->cap - r->len);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN;
	if (n == 0) {
		r->eof = true;
		return true;
	}
	r->len += (size_t)n;
	return true;
}

static int wait_workers(int n)
{
	int worst = 0;
	for (int i = 0; i < n; i++) {
		int st;
		while (waitpid(fanout_pids[i], &st, 0) < 0 && errno == EINTR)
			;
		int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
		if (rc > worst)
			worst = rc;
		fanout_pids[i] = 0;
	}
	return worst;
}

bool live_fanout_fork(struct live_opts *lo, const struct pipeline_config *cfg, int *rc)
{
	int n = (int)lo->fanout;
	int fds[LIVE_MAX_FANOUT] = { 0 };
	bool split = lo->fanout_split != NULL;
	lo->fanout_group = (unsigned)getpid() & 0xffff;
	fflush(stdout);
	fflush(stderr);
	for (int k = 1; k <= n; k++) {
		int p[2] = { -1, -1 };
		int out = -1;
		if (split) {
			char path[4096];
			snprintf(path, sizeof(path), "%s.%d", lo->fanout_split, k);
			out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
			if (out < 0) {
				fprintf(stderr, "smtpsleuth live: --fanout-split: %s: %s\n", path, strerror(errno));
				goto fail;
			}
		} else if (pipe2(p, O_CLOEXEC) < 0) {
			fprintf(stderr, "smtpsleuth live: pipe: %s\n", strerror(errno));
			goto fail;
		}
		pid_t pid = fork();
		if (pid < 0) {
			fprintf(stderr, "smtpsleuth live: fork: %s\n", strerror(errno));
			if (out >= 0)
				close(out);
			close(p[0]);
			close(p[1]);
			goto fail;
		}
		if (pid == 0) {
			/* The worker: its report goes to the pipe (or its file). */
			for (int i = 0; i < k - 1; i++)
				if (fds[i] > 0)
					close(fds[i]);
			if (dup2(split ? out : p[1], STDOUT_FILENO) < 0)
				_exit(1);
			if (!split)
				close(p[0]);
			lo->worker = (unsigned)k;
			/* Signals come from the parent only: out of the terminal's
			 * process group, a Ctrl-C does not reach the worker twice (its
			 * handler takes one; a second would end it before its summary).
			 * And a worker does not outlive its parent. */
			setpgid(0, 0);
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			if (getppid() == 1)
				_exit(1);
			return false;
		}
		fanout_pids[k - 1] = pid;
		fanout_n = k;
		if (split) {
			close(out);
		} else {
			close(p[1]);
			fds[k - 1] = p[0];
		}
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (split) {
		*rc = wait_workers(n);
		return true;
	}

	bool json = cfg->report.json;
	bool native = json && cfg->report.json_format == JSON_NATIVE;
	struct relay relays[LIVE_MAX_FANOUT];
	memset(relays, 0, sizeof(relays));
	for (int i = 0; i < n; i++)
		relays[i].fd = fds[i];
	int open_pipes = n;
	bool ok = true;
	while (open_pipes > 0) {
		struct pollfd pfd[LIVE_MAX_FANOUT];
		int map[LIVE_MAX_FANOUT], m = 0;
		for (int i = 0; i < n; i++)
			if (!relays[i].eof) {
				pfd[m] = (struct pollfd){ .fd = relays[i].fd, .events = POLLIN };
				map[m++] = i;
			}
		int pr = poll(pfd, (nfds_t)m, -1);
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "smtpsleuth live: poll: %s\n", strerror(errno));
			forward_signal(SIGTERM);
			ok = false;
			break;
		}
		for (int j = 0; j < m; j++) {
			if (!(pfd[j].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			struct relay *r = &relays[map[j]];
			if (!relay_read(r)) {
				fprintf(stderr, "smtpsleuth live: reading a worker's report: %s\n", strerror(errno));
				r->eof = true;
				ok = false;
			}
			relay_emit(r, json, native, r->eof);
			if (r->eof) {
				close(r->fd);
				open_pipes--;
			}
		}
	}
	*rc = wait_workers(n);
	if (native) {
		const char *lines[LIVE_MAX_FANOUT];
		size_t lens[LIVE_MAX_FANOUT];
		int have = 0;
		for (int i = 0; i < n; i++)
			if (relays[i].summary) {
				lines[have] = relays[i].summary;
				lens[have++] = relays[i].summary_len;
			}
		char err[512];
		if (have && !merge_add_summaries(lines, lens, have, stdout, err, sizeof(err))) {
			fprintf(stderr, "smtpsleuth live: the workers' summaries: %s; written as they are\n", err);
			for (int i = 0; i < have; i++)
				fwrite(lines[i], 1, lens[i], stdout);
		}
	}
	for (int i = 0; i < n; i++) {
		free(relays[i].buf);
		free(relays[i].summary);
	}
	if (fflush(stdout) != 0 || !ok)
		*rc = 1;
	return true;

fail:
	for (int i = 0; i < fanout_n; i++)
		kill(fanout_pids[i], SIGTERM);
	for (int i = 0; i < LIVE_MAX_FANOUT; i++)
		if (fds[i] > 0)
			close(fds[i]);
	wait_workers(fanout_n);
	*rc = 1;
	return true;
}
