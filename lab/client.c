/*
 * client.c - see client.h. The scripted client of `reproduce`.
 *
 * Invariants: every wait is bounded (poll with a timeout), SIGPIPE is never
 * raised (MSG_NOSIGNAL), and a reply line longer than CL_BUF is treated as
 * garbage rather than grown into.
 */
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <openssl/ssl.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cl_connect(struct cl *c, const struct sockaddr_storage *ss, socklen_t sl, double timeout)
{
	memset(c, 0, sizeof(*c));
	c->fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return errno;
	struct timeval tv = { .tv_sec = (time_t)timeout, .tv_usec = (long)((timeout - (double)(time_t)timeout) * 1e6) };
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* Bound before connect so the local port is known even for a refused
	 * connection (the log line of connection_refused names it). */
	struct sockaddr_storage me;
	memset(&me, 0, sizeof(me));
	me.ss_family = ss->ss_family;
	socklen_t ml = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	if (bind(c->fd, (struct sockaddr *)&me, ml) == 0 && getsockname(c->fd, (struct sockaddr *)&me, &ml) == 0)
		c->local_port = ntohs(((struct sockaddr_in *)&me)->sin_port);
	if (connect(c->fd, (const struct sockaddr *)ss, sl) < 0) {
		int e = errno;
		close(c->fd);
		c->fd = -1;
		return e;
	}
	return 0;
}

/* Takes one line out of the buffer into line (cap n); false when none. */
static bool take_line(struct cl *c, char *line, size_t n)
{
	char *lf = memchr(c->buf, '\n', c->len);
	if (!lf)
		return false;
	size_t k = (size_t)(lf - c->buf) + 1;
	size_t m = k < n ? k : n - 1;
	memcpy(line, c->buf, m);
	line[m] = 0;
	memmove(c->buf, c->buf + k, c->len - k);
	c->len -= k;
	return true;
}

int cl_reply(struct cl *c, double timeout)
{
	if (c->fd < 0)
		return -1;
	double end = now_s() + timeout;
	char line[CL_BUF];
	for (;;) {
		while (take_line(c, line, sizeof(line))) {
			if (strlen(line) < 3 || line[0] < '1' || line[0] > '5' ||
			    line[1] < '0' || line[1] > '9' || line[2] < '0' || line[2] > '9')
				return -1;
			if (line[3] == '-')
				continue;
			return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
		}
		if (c->len == sizeof(c->buf))
			return -1;
		double left = end - now_s();
		if (left <= 0)
			return -1;
		struct pollfd pf = { .fd = c->fd, .events = POLLIN };
		if (!(c->ssl && SSL_pending(c->ssl) > 0) && poll(&pf, 1, (int)(left * 1000) + 1) <= 0)
			return -1;
		ssize_t r;
		if (c->ssl) {
			int k = SSL_read(c->ssl, c->buf + c->len, (int)(sizeof(c->buf) - c->len));
			if (k <= 0) {
				int e = SSL_get_error(c->ssl, k);
				if (e == SSL_ERROR_WANT_READ)
					continue;       /* a post-handshake message only */
				return e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0) ? 0 : -1;
			}
			r = k;
		} else {
			r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		}
		if (r == 0)
			return 0;
		if (r < 0)
			return errno == EINTR ? -1 : -1;
		c->len += (size_t)r;
	}
}

bool cl_send(struct cl *c, const void *p, size_t n)
{
	const char *s = p;
	while (c->fd >= 0 && n) {
		ssize_t w = c->ssl ? SSL_write(c->ssl, s, (int)(n > (1u << 30) ? 1u << 30 : n))
		                   : send(c->fd, s, n, MSG_NOSIGNAL);
		if (w <= 0)
			return false;
		s += w;
		n -= (size_t)w;
	}
	return c->fd >= 0;
}

int cl_cmd(struct cl *c, const char *line)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "%s\r\n", line);
	if (n < 0 || (size_t)n >= sizeof(buf) || !cl_send(c, buf, (size_t)n))
		return -1;
	return cl_reply(c, 5.0);
}

bool cl_tls_handshake(struct cl *c)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		return false;
	SSL *ssl = SSL_new(ctx);
	bool ok = false;
	if (ssl && SSL_set_fd(ssl, c->fd) == 1) {
		ok = SSL_connect(ssl) == 1;
		if (ok)
			SSL_shutdown(ssl);
	}
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	return ok;
}

bool cl_starttls(struct cl *c, const char *ehlo)
{
	if (cl_cmd(c, "STARTTLS") != 220)
		return false;
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (!c->ctx)
		return false;
	SSL_CTX_set_options(c->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL *ssl = SSL_new(c->ctx);
	if (!ssl || SSL_set_fd(ssl, c->fd) != 1 || SSL_connect(ssl) != 1) {
		SSL_free(ssl);
		return false;
	}
	c->ssl = ssl;
	return cl_cmd(c, ehlo) == 250;
}

void cl_close(struct cl *c, bool rst)
{
	if (c->ssl) {
		if (!rst)
			SSL_shutdown(c->ssl);   /* close_notify, as mail clients mostly do */
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	SSL_CTX_free(c->ctx);
	c->ctx = NULL;
	if (c->fd < 0)
		return;
	if (rst) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	} else {
		/* Linux answers a close with unread bytes in the receive queue
		 * with a RST, not a FIN: a reply the script never waited for (an
		 * early talker's second reply) must not turn the client's FIN
		 * into a RST. Bounded: what is already queued, at most 1 MiB. */
		char sink[4096];
		for (int i = 0; i < 256 && recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT) > 0; i++)
			;
	}
	close(c->fd);
	c->fd = -1;
}
