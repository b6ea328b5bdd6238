/*
 * log.c - the server's session log: one line per session, key=value or
 * (--json) one JSON object. It states the cause the server itself enforced,
 * with DESIGN.md's names; it is the oracle the analyzer is checked against.
 *
 * Invariants: a line is written with one write() so concurrent writers to the
 * same file do not interleave. Client text (HELO name, user name) was already
 * reduced to printable ASCII without quotes or backslashes when stored
 * (session.c), so it needs no escaping here. Passwords are never stored.
 */
#include "srv.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *close_name(enum close_how c)
{
	return c == CL_FIN ? "fin" : c == CL_RST ? "rst" : "none";
}

static const char *closer_name(enum closer c)
{
	return c == BY_SRV ? "server" : c == BY_CLI ? "client" : "nobody";
}

static void iso_time(double t, char *buf, size_t len)
{
	time_t sec = (time_t)t;
	struct tm tm;
	gmtime_r(&sec, &tm);
	size_t k = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + k, len - k, ".%06ldZ", (long)((t - (double)sec) * 1e6));
}

static void emit(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = write(fd, buf, n);
		if (w <= 0)
			return;
		buf += w;
		n -= (size_t)w;
	}
}

void srv_log_session(struct server *s, const struct session *ss)
{
	char line[2048], start[40];
	iso_time(ss->wall_start, start, sizeof(start));
	double dur = sl_mono_sec() - ss->t_start;
	enum cause cause = ss->cause;
	int n;
	if (s->pol->json) {
		char reply[64] = "null";
		if (ss->reply_code)
			snprintf(reply, sizeof(reply), "{\"code\":%u,\"enhanced\":\"%s\"}",
			         ss->reply_code, ss->reply_enh);
		n = snprintf(line, sizeof(line),
		    "{\"type\":\"server_session\",\"session\":%llu,\"start\":\"%s\","
		    "\"client\":{\"ip\":\"%s\",\"port\":%u},\"cause\":\"%s\",\"phase\":\"%s\","
		    "\"reply\":%s,\"close\":\"%s\",\"closed_by\":\"%s\",\"helo\":\"%s\","
		    "\"tls\":%s,\"auth_user\":\"%s\",\"messages\":%u,\"errors\":%u,"
		    "\"auth_failures\":%u,\"bytes_in\":%llu,\"bytes_out\":%llu,\"duration\":%.6f,"
		    "\"auth_tried\":\"%s\",\"mail_from\":\"%s\",\"rcpt_to\":\"%s\",\"rcpts\":%u,"
		    "\"size\":%llu,\"queue_id\":\"%s\",\"shutdown\":%s}\n",
		    (unsigned long long)ss->id, start, ss->peer_ip, ss->peer_port,
		    cause_name(cause), smtp_phase_name(ss->cause_phase), reply,
		    close_name(ss->close_how), closer_name(ss->closed_by), ss->helo,
		    ss->tls_on ? "true" : "false", ss->authed ? ss->auth_user : "", ss->n_msgs, ss->n_errors,
		    ss->n_auth_fail, (unsigned long long)ss->bytes_in,
		    (unsigned long long)ss->bytes_out, dur, ss->auth_tried, ss->env_from, ss->env_rcpt,
		    ss->env_rcpts, (unsigned long long)ss->env_size, ss->queue_id,
		    ss->shutdown_said ? "true" : "false");
	} else {
		char reply[48] = "reply=-";
		if (ss->reply_code)
			snprintf(reply, sizeof(reply), "reply=%u enhanced=%s", ss->reply_code,
			         ss->reply_enh[0] ? ss->reply_enh : "-");
		n = snprintf(line, sizeof(line),
		    "session=%llu start=%s client=%s%s%s:%u cause=%s phase=%s %s close=%s "
		    "closed_by=%s helo=\"%s\" tls=%s auth=%s msgs=%u errors=%u auth_failures=%u "
		    "bytes_in=%llu bytes_out=%llu duration=%.6f auth_tried=%s mail_from=<%s> rcpt_to=<%s> "
		    "rcpts=%u size=%llu queue_id=%s%s\n",
		    (unsigned long long)ss->id, start,
		    strchr(ss->peer_ip, ':') ? "[" : "", ss->peer_ip,
		    strchr(ss->peer_ip, ':') ? "]" : "", ss->peer_port,
		    cause_name(cause), smtp_phase_name(ss->cause_phase), reply,
		    close_name(ss->close_how), closer_name(ss->closed_by), ss->helo,
		    ss->tls_on ? "yes" : "no", ss->auth_user[0] && ss->authed ? ss->auth_user : "-",
		    ss->n_msgs, ss->n_errors, ss->n_auth_fail,
		    (unsigned long long)ss->bytes_in, (unsigned long long)ss->bytes_out, dur,
		    ss->auth_tried[0] ? ss->auth_tried : "-", ss->env_from, ss->env_rcpt, ss->env_rcpts,
		    (unsigned long long)ss->env_size, ss->queue_id[0] ? ss->queue_id : "-",
		    ss->shutdown_said ? " note=shutdown" : "");
	}
	if (n > 0)
		emit(s->log_fd, line, SRV_MIN((size_t)n, sizeof(line) - 1));
}

void srv_log_text(struct server *s, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		emit(s->log_fd, line, SRV_MIN((size_t)n, sizeof(line) - 1));
}
