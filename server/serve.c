/*
 * serve.c - the server's event loop and `smtpsleuth serve`.
 *
 * One process, one epoll instance, non-blocking sockets, level-triggered.
 * Timers are not per session: a periodic sweep (every sweep_every seconds,
 * CLOCK_MONOTONIC) walks the session list for idle timeouts, delayed
 * greetings and drains, O(sessions) per sweep, which at thousands of sessions
 * costs well under a millisecond.
 *
 * Invariants: a session is freed only here, after the call that made it
 * SS_DEAD returned, and its log line is written just before. When the file
 * table is full, a reserved descriptor is given up to accept and close the
 * pending connection, so a flood cannot make the listener spin.
 */
#define _GNU_SOURCE
#include "srv.h"
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>

void srv_update_events(struct session *ss)
{
	if (ss->fd < 0)
		return;
	uint32_t want = 0;
	if (sess_wants_read(ss))
		want |= EPOLLIN;
	if (sess_wants_write(ss))
		want |= EPOLLOUT;
	if (want == ss->epoll_mask)
		return;
	struct epoll_event ev = { .events = want, .data.ptr = ss };
	epoll_ctl(ss->srv->epfd, EPOLL_CTL_MOD, ss->fd, &ev);
	ss->epoll_mask = want;
}

int srv_listen(const struct policy *p, char *err, size_t errlen)
{
	int fd = socket(p->listen.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&p->listen, p->listen_len) < 0 || listen(fd, 4096) < 0) {
		snprintf(err, errlen, "cannot listen: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void unlink_session(struct server *s, struct session *ss)
{
	if (ss->prev)
		ss->prev->next = ss->next;
	else
		s->sessions = ss->next;
	if (ss->next)
		ss->next->prev = ss->prev;
	s->n_sessions--;
}

/* Logs and frees a session that has ended. */
static void reap(struct server *s, struct session *ss)
{
	srv_log_session(s, ss);
	unlink_session(s, ss);
	sess_free(ss);
	s->ended++;
}

static void accept_all(struct server *s, int *spare_fd)
{
	for (int i = 0; i < 256; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int fd = accept4(s->lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if ((errno == EMFILE || errno == ENFILE) && *spare_fd >= 0) {
				close(*spare_fd);
				fd = accept(s->lfd, NULL, NULL);
				if (fd >= 0)
					close(fd);
				*spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
				continue;
			}
			return;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct session *ss = sess_new(s, fd, &peer);
		if (!ss) {
			close(fd);
			continue;
		}
		ss->next = s->sessions;
		if (s->sessions)
			s->sessions->prev = ss;
		s->sessions = ss;
		s->n_sessions++;
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = ss };
		ss->epoll_mask = EPOLLIN;
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			ss->fd = -1;
			sess_enter(ss, SS_DEAD, ss->phase);
		} else {
			sess_on_accept(ss);
		}
		if (ss->state == SS_DEAD)
			reap(s, ss);
	}
}

static double sweep_interval(const struct policy *p)
{
	double iv = 1.0;
	if (p->idle_timeout / 4 < iv)
		iv = p->idle_timeout / 4;
	if (p->greeting_delay > 0 && p->greeting_delay / 4 < iv)
		iv = p->greeting_delay / 4;
	if (iv < 0.01)
		iv = 0.01;
	return iv;
}

static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int srv_run(struct policy *p, int lfd, int log_fd, volatile int *stop, char *err, size_t errlen)
{
	struct server *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return 1;
	}
	int rc = 1;
	s->pol = p;
	s->lfd = lfd;
	s->log_fd = log_fd;
	s->maildir_fd = -1;
	s->stop = stop;
	s->epfd = -1;
	s->sweep_every = sweep_interval(p);
	raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	int spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (p->maildir[0]) {
		s->maildir_fd = maildir_open(p->maildir, err, errlen);
		if (s->maildir_fd < 0)
			goto out;
	}
	if (!p->no_tls && p->tls_fail != TLSF_REFUSE) {
		s->tls = tls_server_ctx(p, err, errlen);
		if (!s->tls)
			goto out;
	}
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		goto out;
	}
	struct epoll_event lev = { .events = EPOLLIN, .data.ptr = NULL };
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, lfd, &lev) < 0) {
		snprintf(err, errlen, "epoll_ctl: %s", strerror(errno));
		goto out;
	}
	double next_sweep = sl_mono_sec() + s->sweep_every;
	struct epoll_event evs[256];
	while (!*stop) {
		if (p->max_sessions && s->ended >= p->max_sessions && !s->n_sessions)
			break;
		double now = sl_mono_sec();
		int timeout_ms = (int)((next_sweep - now) * 1000) + 1;
		if (timeout_ms < 0)
			timeout_ms = 0;
		int n = epoll_wait(s->epfd, evs, (int)(sizeof(evs) / sizeof(evs[0])), timeout_ms);
		if (n < 0 && errno != EINTR) {
			snprintf(err, errlen, "epoll_wait: %s", strerror(errno));
			goto out;
		}
		for (int i = 0; i < n; i++) {
			struct session *ss = evs[i].data.ptr;
			if (!ss) {
				if (!p->max_sessions || s->next_id < p->max_sessions)
					accept_all(s, &spare);
				continue;
			}
			if (ss->state == SS_DEAD)
				continue;
			sess_on_io(ss, evs[i].events);
		}
		/* Reap after the batch: a session freed mid-batch could still be
		 * named by a later event of the same batch. */
		for (struct session *ss = s->sessions, *nx; ss; ss = nx) {
			nx = ss->next;
			if (ss->state == SS_DEAD)
				reap(s, ss);
		}
		now = sl_mono_sec();
		if (now >= next_sweep) {
			for (struct session *ss = s->sessions, *nx; ss; ss = nx) {
				nx = ss->next;
				sess_sweep(ss, now);
				if (ss->state == SS_DEAD)
					reap(s, ss);
			}
			next_sweep = now + s->sweep_every;
		}
	}
	rc = 0;
	/* Stopped by a signal: the sessions still open are told why. */
	for (struct session *ss = s->sessions; ss; ss = ss->next) {
		sess_shutdown(ss);
		if (ss->shutdown_said)
			srv_log_text(s, "session=%llu shutdown: answered 421 4.3.2 before closing\n",
			             (unsigned long long)ss->id);
	}
out:
	while (s->sessions) {
		struct session *ss = s->sessions;
		if (ss->closed_by == BY_NONE) {
			ss->closed_by = BY_SRV;
			ss->close_how = CL_FIN;
			if (ss->cause == CAUSE_COMPLETED && !ss->quit_seen) {
				ss->cause = CAUSE_SERVER_UNAVAILABLE;
				ss->cause_phase = ss->phase;
			}
		}
		reap(s, ss);
	}
	if (spare >= 0)
		close(spare);
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->maildir_fd >= 0)
		close(s->maildir_fd);
	tls_ctx_free(s->tls);
	free(s);
	return rc;
}

static volatile int g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

int serve_main(int argc, char **argv)
{
	struct policy *p = calloc(1, sizeof(*p));
	char err[2048];
	if (!p) {
		fprintf(stderr, "serve: out of memory\n");
		return 1;
	}
	policy_defaults(p);
	int rc = policy_parse(p, argc, argv, err, sizeof(err));
	if (rc < 0) {
		fputs(policy_usage(), stdout);
		policy_free(p);
		free(p);
		return 0;
	}
	if (rc) {
		if (rc == 2)
			fprintf(stderr, "smtpsleuth: serve: %s; see 'smtpsleuth serve --help'\n", err);
		else
			fprintf(stderr, "smtpsleuth: serve: %s\n", err);
		policy_free(p);
		free(p);
		return rc;
	}
	int log_fd = 2;
	if (p->log_path[0]) {
		log_fd = open(p->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (log_fd < 0) {
			fprintf(stderr, "serve: cannot open --log %s: %s\n", p->log_path, strerror(errno));
			policy_free(p);
			free(p);
			return 1;
		}
	}
	int lfd = srv_listen(p, err, sizeof(err));
	if (lfd < 0) {
		fprintf(stderr, "serve: %s\n", err);
		if (log_fd != 2)
			close(log_fd);
		policy_free(p);
		free(p);
		return 1;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (!p->quiet) {
		char host[64];
		unsigned port;
		struct sockaddr_storage bound;
		socklen_t bl = sizeof(bound);
		getsockname(lfd, (struct sockaddr *)&bound, &bl);
		if (bound.ss_family == AF_INET6) {
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&bound)->sin6_addr, host, sizeof(host));
			port = ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
			fprintf(stderr, "smtpsleuth serve: listening on [%s]:%u\n", host, port);
		} else {
			inet_ntop(AF_INET, &((struct sockaddr_in *)&bound)->sin_addr, host, sizeof(host));
			port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
			fprintf(stderr, "smtpsleuth serve: listening on %s:%u\n", host, port);
		}
	}
	rc = srv_run(p, lfd, log_fd, &g_stop, err, sizeof(err));
	if (rc)
		fprintf(stderr, "serve: %s\n", err);
	close(lfd);
	if (log_fd != 2)
		close(log_fd);
	policy_free(p);
	free(p);
	return rc;
}
