/*
 * session.c - one SMTP connection of the bundled server: reading, line
 * framing, the SMTP state machine (RFC 5321 + PIPELINING, SIZE, 8BITMIME,
 * ENHANCEDSTATUSCODES, AUTH PLAIN/LOGIN, STARTTLS, CHUNKING), the policies
 * that refuse, and how the connection is closed (FIN after a drain, or RST).
 *
 * Invariants:
 * - Every state change goes through sess_enter(); states are listed in srv.h.
 * - Input sits in ss->in (fixed size). A command line longer than
 *   SRV_CMD_LINE_MAX is answered 500 5.5.2 and skipped up to its LF without
 *   being stored; DATA bodies are scanned byte by byte (CRLF.CRLF, dot
 *   unstuffing), so no body line, however long, is ever held.
 * - Replies go to ss->out (fixed size); parsing pauses while less than
 *   SRV_OUT_RESERVE bytes are free, so a pipelining client that never reads
 *   stops being read instead of growing memory.
 * - The first refusal the server makes sets ss->cause (the log's oracle); a
 *   message accepted afterwards clears it, since mail then got through.
 * - When the server ends a connection with FIN it half-closes and keeps reading
 *   (SS_DRAIN) until the client closes or SRV_DRAIN_SECONDS pass, because
 *   close() with unread input makes the kernel send RST instead.
 */
#include "srv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <arpa/inet.h>

void sess_enter(struct session *ss, enum sess_state st)
{
	/* Kept as one function so a trace of old -> new can be added in one place. */
	ss->state = st;
	if (st == SS_DRAIN || st == SS_DEAD)
		slot_release(ss);   /* a closing connection no longer holds a slot */
}

void sess_cause(struct session *ss, enum srv_cause c, unsigned code, const char *enh)
{
	if (ss->cause != SC_NONE)
		return;
	ss->cause = c;
	ss->cause_phase = ss->phase;
	ss->reply_code = code;
	snprintf(ss->reply_enh, sizeof(ss->reply_enh), "%s", enh ? enh : "");
}

/* Appends one reply line; returns false when the output buffer is full (the
 * reserve makes this a broken invariant in practice, handled by closing). */
static bool out_raw(struct session *ss, const char *s, size_t n)
{
	if (ss->out_off && ss->out_off == ss->out_len)
		ss->out_off = ss->out_len = 0;
	if (SRV_OUTBUF - ss->out_len < n) {
		if (ss->out_off) {
			memmove(ss->out, ss->out + ss->out_off, ss->out_len - ss->out_off);
			ss->out_len -= ss->out_off;
			ss->out_off = 0;
		}
		if (SRV_OUTBUF - ss->out_len < n)
			return false;
	}
	memcpy(ss->out + ss->out_len, s, n);
	ss->out_len += n;
	return true;
}

void sess_reply(struct session *ss, unsigned code, const char *enh, const char *fmt, ...)
{
	char line[600];
	int n = snprintf(line, sizeof(line), "%03u %s%s", code, enh ? enh : "", enh ? " " : "");
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 2, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	size_t len = SRV_MIN((size_t)n + (size_t)m, sizeof(line) - 3);
	line[len++] = '\r';
	line[len++] = '\n';
	out_raw(ss, line, len);
}

/* Sanitised copy of client text for the log: printable ASCII only, quotes and
 * backslashes replaced, so log lines need no further escaping. */
void sess_safe_copy(char *dst, size_t dlen, const char *src, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n && k + 1 < dlen; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[k++] = (c > 0x20 && c < 0x7f && c != '"' && c != '\\') ? (char)c : '?';
	}
	dst[k] = 0;
}

/* ---- closing ---- */

static void close_now(struct session *ss, enum close_how how)
{
	if (ss->fd < 0)
		return;
	if (how == CL_RST) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };
		setsockopt(ss->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(ss->fd);  /* also removes it from epoll */
	ss->fd = -1;
	sess_enter(ss, SS_DEAD);
}

/* The server ends the connection: with FIN (after flushing what is queued)
 * or with RST (now, queued replies dropped). */
void sess_server_close(struct session *ss, enum close_how how)
{
	if (ss->closed_by == BY_NONE) {
		ss->closed_by = BY_SRV;
		ss->close_how = how;
	}
	if (how == CL_RST) {
		close_now(ss, CL_RST);
		return;
	}
	/* FIN: flushed by sess_flush(), then half-closed and drained. */
	sess_enter(ss, SS_DRAIN);
	ss->t_drain_end = mono_now() + SRV_DRAIN_SECONDS;
	ss->in_len = 0;
}

static void client_closed(struct session *ss, enum close_how how)
{
	if (ss->closed_by == BY_NONE) {
		ss->closed_by = BY_CLI;
		ss->close_how = how;
	}
	if (ss->cause == SC_NONE && !ss->quit_seen) {
		ss->cause = SC_CLIENT_ABORT;
		ss->cause_phase = ss->phase;
	}
	close_now(ss, CL_FIN);
}

/* ---- writing ---- */

/* Writes queued replies. Returns false when the session died. */
static bool sess_flush(struct session *ss)
{
	while (ss->fd >= 0 && ss->out_off < ss->out_len) {
		long n;
		bool ww = false;
		if (ss->ssl)
			n = tls_write(ss->ssl, ss->out + ss->out_off, ss->out_len - ss->out_off, &ww);
		else
			n = send(ss->fd, ss->out + ss->out_off, ss->out_len - ss->out_off, MSG_NOSIGNAL);
		if (n > 0) {
			ss->out_off += (size_t)n;
			ss->bytes_out += (uint64_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			ss->tls_want_write = ww;
			return true;
		}
		/* The peer is gone (EPIPE/ECONNRESET). */
		client_closed(ss, CL_RST);
		return false;
	}
	if (ss->out_off == ss->out_len)
		ss->out_off = ss->out_len = 0;
	if (ss->state == SS_DRAIN && !ss->fin_sent && ss->fd >= 0) {
		shutdown(ss->fd, SHUT_WR);
		ss->fin_sent = true;
	}
	return ss->fd >= 0;
}

/* ---- transactions ---- */

static void txn_reset(struct session *ss)
{
	if (ss->msg_fd >= 0) {
		maildir_abort(ss->srv->maildir_fd, ss->msg_fd, ss->msg_name);
		ss->msg_fd = -1;
	}
	ss->in_mail = false;
	ss->n_rcpt = 0;
	ss->body_bytes = 0;
	ss->body_over = false;
	ss->mail_from[0] = ss->rcpt0[0] = 0;
	ss->bdat_mode = false;
}

static void greet(struct session *ss)
{
	sess_reply(ss, 220, NULL, "%s ESMTP smtpsleuth", ss->srv->pol->hostname);
	ss->phase = PH_GREETING;
	sess_enter(ss, SS_CMD);
}

/* A protocol error; true when the error limit ended the session. */
bool sess_proto_error(struct session *ss)
{
	ss->n_errors++;
	if (ss->n_errors >= ss->srv->pol->max_errors) {
		sess_reply(ss, 421, "4.7.0", "%s Error: too many errors", ss->srv->pol->hostname);
		sess_cause(ss, SC_TOO_MANY_ERRORS, 421, "4.7.0");
		sess_server_close(ss, CL_FIN);
		return true;
	}
	return false;
}

/* ---- message body ---- */

static void body_bytes(struct session *ss, const char *p, size_t n)
{
	if (!n || ss->body_over)
		return;
	const struct policy *pol = ss->srv->pol;
	ss->body_bytes += n;
	if (pol->max_size && ss->body_bytes > pol->max_size) {
		ss->body_over = true;
		if (ss->msg_fd >= 0) {
			maildir_abort(ss->srv->maildir_fd, ss->msg_fd, ss->msg_name);
			ss->msg_fd = -1;
		}
		return;
	}
	if (ss->msg_fd >= 0 && !maildir_write(ss->msg_fd, p, n)) {
		maildir_abort(ss->srv->maildir_fd, ss->msg_fd, ss->msg_name);
		ss->msg_fd = -1;
	}
}

/* Size enforcement mid-body for --size-action close|reset; true when cut. */
static bool size_cut(struct session *ss)
{
	const struct policy *pol = ss->srv->pol;
	if (!ss->body_over || pol->size_action == SIZE_REPLY)
		return false;
	sess_cause(ss, SC_SIZE_LIMIT, 0, "");
	sess_server_close(ss, pol->size_action == SIZE_RESET ? CL_RST : CL_FIN);
	return true;
}

static void message_done(struct session *ss)
{
	const struct policy *pol = ss->srv->pol;
	if (ss->body_over) {
		sess_reply(ss, 552, "5.3.4", "Error: message file too big");
		sess_cause(ss, SC_SIZE_LIMIT, 552, "5.3.4");
	} else {
		bool ok = true;
		if (ss->msg_fd >= 0) {
			ok = maildir_commit(ss->srv->maildir_fd, ss->msg_fd, ss->msg_name);
			ss->msg_fd = -1;
		} else if (pol->maildir[0]) {
			ok = false;
		}
		if (ok) {
			ss->n_msgs++;
			sess_reply(ss, 250, "2.0.0", "Ok: queued as S%lluM%u",
			      (unsigned long long)ss->id, ss->n_msgs);
			/* Mail got through: earlier refusals were not decisive, and
			 * (as Postfix does) the error count starts again. */
			ss->n_errors = 0;
			if (ss->cause != SC_CLIENT_ABORT) {
				ss->cause = SC_NONE;
				ss->reply_code = 0;
			}
		} else {
			sess_reply(ss, 451, "4.3.0", "Error: queue file write error");
			sess_cause(ss, SC_SERVER_UNAVAILABLE, 451, "4.3.0");
		}
	}
	txn_reset(ss);
	ss->phase = PH_HELO;
	sess_enter(ss, SS_CMD);
}

/* Consumes DATA body bytes from p[0..n); returns how many were used. */
static size_t data_consume(struct session *ss, const char *p, size_t n)
{
	char run[SRV_INBUF];   /* unstuffed bytes of this call, written in one go */
	size_t k = 0, i;
	for (i = 0; i < n; i++) {
		char c = p[i];
		switch (ss->ds) {
		case DS_BOL:
			if (c == '.') { ss->ds = DS_DOT; break; }
			run[k++] = c;
			ss->ds = c == '\r' ? DS_CR : DS_MID;
			break;
		case DS_DOT:
			if (c == '\r') { ss->ds = DS_DOTCR; break; }
			run[k++] = c;   /* the leading dot was stuffing */
			ss->ds = DS_MID;
			break;
		case DS_DOTCR:
			if (c == '\n') {
				body_bytes(ss, run, k);
				i++;
				if (!size_cut(ss))
					message_done(ss);
				return i;
			}
			run[k++] = '\r';
			run[k++] = c;
			ss->ds = c == '\r' ? DS_CR : DS_MID;
			break;
		case DS_MID:
			run[k++] = c;
			if (c == '\r')
				ss->ds = DS_CR;
			break;
		case DS_CR:
			run[k++] = c;
			ss->ds = c == '\n' ? DS_BOL : c == '\r' ? DS_CR : DS_MID;
			break;
		}
		if (k >= sizeof(run) - 2) {
			body_bytes(ss, run, k);
			k = 0;
		}
	}
	body_bytes(ss, run, k);
	size_cut(ss);
	return i;
}

static size_t bdat_consume(struct session *ss, const char *p, size_t n)
{
	size_t take = (size_t)SRV_MIN((uint64_t)n, ss->bdat_left);
	if (!ss->bdat_bad)
		body_bytes(ss, p, take);
	ss->bdat_left -= take;
	if (!ss->bdat_bad && size_cut(ss))
		return take;
	if (ss->bdat_left == 0) {
		sess_enter(ss, SS_CMD);
		if (ss->bdat_bad) {
			sess_reply(ss, 503, "5.5.1", "Error: need RCPT command");
			sess_proto_error(ss);
		} else if (ss->bdat_last || ss->body_over) {
			message_done(ss);
		} else {
			sess_reply(ss, 250, "2.0.0", "Ok: %llu bytes", (unsigned long long)ss->body_bytes);
		}
	}
	return take;
}

/* ---- commands ---- */

static bool arg_is(const char *a, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);
	return n >= k && strncasecmp(a, prefix, k) == 0;
}

/* Extracts <path> after "FROM:" / "TO:"; sets *rest to the ESMTP params. */
static bool parse_path(const char *a, size_t n, const char **path, size_t *plen,
                       const char **rest, size_t *rlen)
{
	size_t i = 0;
	while (i < n && a[i] == ' ')
		i++;
	if (i >= n || a[i] != '<')
		return false;
	size_t start = i + 1, j = start;
	while (j < n && a[j] != '>')
		j++;
	if (j >= n)
		return false;
	*path = a + start;
	*plen = j - start;
	*rest = a + j + 1;
	*rlen = n - j - 1;
	return true;
}

bool sess_need_tls(struct session *ss)
{
	if (!ss->srv->pol->require_tls || ss->tls_on)
		return false;
	sess_reply(ss, 530, "5.7.0", "Must issue a STARTTLS command first");
	sess_cause(ss, SC_TLS_REQUIRED, 530, "5.7.0");
	return true;
}

static void cmd_ehlo(struct session *ss, bool esmtp, const char *a, size_t n)
{
	const struct policy *pol = ss->srv->pol;
	ss->phase = PH_HELO;
	if (!n) {
		sess_reply(ss, 501, "5.5.4", "Syntax: %s hostname", esmtp ? "EHLO" : "HELO");
		sess_proto_error(ss);
		return;
	}
	txn_reset(ss);
	sess_safe_copy(ss->helo, sizeof(ss->helo), a, n);
	ss->helo_seen = true;
	ss->esmtp = esmtp;
	if (!esmtp) {
		sess_reply(ss, 250, NULL, "%s", pol->hostname);
		return;
	}
	char buf[512];
	int k = snprintf(buf, sizeof(buf), "250-%s\r\n250-PIPELINING\r\n", pol->hostname);
	if (pol->max_size)
		k += snprintf(buf + k, sizeof(buf) - (size_t)k, "250-SIZE %llu\r\n",
		              (unsigned long long)pol->max_size);
	else
		k += snprintf(buf + k, sizeof(buf) - (size_t)k, "250-SIZE\r\n");
	k += snprintf(buf + k, sizeof(buf) - (size_t)k, "250-VRFY\r\n");
	if (!ss->tls_on && !pol->no_tls)
		k += snprintf(buf + k, sizeof(buf) - (size_t)k, "250-STARTTLS\r\n");
	if (pol->n_users || pol->require_auth)
		k += snprintf(buf + k, sizeof(buf) - (size_t)k, "250-AUTH PLAIN LOGIN\r\n");
	k += snprintf(buf + k, sizeof(buf) - (size_t)k,
	              "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 CHUNKING\r\n");
	out_raw(ss, buf, (size_t)k);
}

static void cmd_mail(struct session *ss, const char *a, size_t n)
{
	const struct policy *pol = ss->srv->pol;
	ss->phase = PH_MAIL;
	if (!ss->helo_seen) {
		sess_reply(ss, 503, "5.5.1", "Error: send HELO/EHLO first");
		sess_proto_error(ss);
		return;
	}
	if (sess_need_tls(ss))
		return;
	if (pol->require_auth && !ss->authed) {
		sess_reply(ss, 530, "5.7.0", "Authentication required");
		sess_cause(ss, SC_AUTH_REQUIRED, 530, "5.7.0");
		return;
	}
	if (ss->in_mail) {
		sess_reply(ss, 503, "5.5.1", "Error: nested MAIL command");
		sess_proto_error(ss);
		return;
	}
	const char *path, *rest;
	size_t plen, rlen;
	if (!arg_is(a, n, "FROM:") || !parse_path(a + 5, n - 5, &path, &plen, &rest, &rlen)) {
		sess_reply(ss, 501, "5.5.4", "Syntax: MAIL FROM:<address>");
		sess_proto_error(ss);
		return;
	}
	if (pol->max_msgs && ss->n_msgs >= pol->max_msgs) {
		sess_reply(ss, 421, "4.7.0", "%s Error: too much mail from %s", pol->hostname, ss->peer_ip);
		sess_cause(ss, SC_RATE_LIMITED, 421, "4.7.0");
		sess_server_close(ss, CL_FIN);
		return;
	}
	/* ESMTP parameters: SIZE=, BODY=, AUTH= ... */
	for (size_t i = 0; i < rlen;) {
		while (i < rlen && rest[i] == ' ')
			i++;
		size_t j = i;
		while (j < rlen && rest[j] != ' ')
			j++;
		if (j - i > 5 && strncasecmp(rest + i, "SIZE=", 5) == 0) {
			char digits[24];
			size_t dl = j - i - 5;
			if (dl == 0 || dl >= sizeof(digits)) {
				sess_reply(ss, 501, "5.5.4", "Bad message size syntax");
				sess_proto_error(ss);
				return;
			}
			memcpy(digits, rest + i + 5, dl);
			digits[dl] = 0;
			char *end;
			unsigned long long sz = strtoull(digits, &end, 10);
			if (*end) {
				sess_reply(ss, 501, "5.5.4", "Bad message size syntax");
				sess_proto_error(ss);
				return;
			}
			if (pol->max_size && sz > pol->max_size) {
				sess_reply(ss, 552, "5.3.4", "Message size exceeds fixed limit");
				sess_cause(ss, SC_SIZE_LIMIT, 552, "5.3.4");
				return;
			}
		}
		i = j;
	}
	ss->in_mail = true;
	ss->n_rcpt = 0;
	sess_safe_copy(ss->mail_from, sizeof(ss->mail_from), path, plen);
	sess_reply(ss, 250, "2.1.0", "Ok");
}

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h * 1099511628211ULL;
}

/* True when greylisting lets this triplet through. */
static bool greylist_pass(struct session *ss)
{
	struct server *s = ss->srv;
	uint64_t h = fnv(fnv(fnv(1469598103934665603ULL, ss->peer_ip), ss->mail_from), ss->rcpt0);
	struct greyslot *g = &s->grey[h % SRV_GREYLIST_SLOTS];
	double now = mono_now();
	if (g->hash == h && now - g->first >= s->pol->greylist_delay)
		return true;
	if (g->hash != h) {
		g->hash = h;
		g->first = now;
	}
	return false;
}

static void cmd_rcpt(struct session *ss, const char *a, size_t n)
{
	const struct policy *pol = ss->srv->pol;
	ss->phase = PH_RCPT;
	if (sess_need_tls(ss))
		return;
	if (!ss->in_mail) {
		sess_reply(ss, 503, "5.5.1", "Error: need MAIL command");
		sess_proto_error(ss);
		return;
	}
	const char *path, *rest;
	size_t plen, rlen;
	if (!arg_is(a, n, "TO:") || !parse_path(a + 3, n - 3, &path, &plen, &rest, &rlen) || !plen) {
		sess_reply(ss, 501, "5.5.4", "Syntax: RCPT TO:<address>");
		sess_proto_error(ss);
		return;
	}
	char addr[SRV_ADDR_MAX];
	sess_safe_copy(addr, sizeof(addr), path, plen);
	unsigned cap = pol->max_rcpts ? pol->max_rcpts : SRV_MAX_RCPT_HARD;
	if (ss->n_rcpt >= cap) {
		sess_reply(ss, 452, "4.5.3", "Error: too many recipients");
		sess_cause(ss, SC_RATE_LIMITED, 452, "4.5.3");
		return;
	}
	if (!ss->authed && !policy_rcpt_local(pol, path, plen)) {
		sess_reply(ss, 554, "5.7.1", "<%s>: Relay access denied", addr);
		sess_cause(ss, SC_RELAY_DENIED, 554, "5.7.1");
		return;
	}
	if (pol->greylist) {
		char save[SRV_ADDR_MAX];
		memcpy(save, ss->rcpt0, sizeof(save));
		memcpy(ss->rcpt0, addr, sizeof(addr));
		bool pass = greylist_pass(ss);
		if (!pass) {
			memcpy(ss->rcpt0, save, sizeof(save));
			sess_reply(ss, 451, "4.7.1", "<%s>: Recipient address rejected: greylisted, try again later", addr);
			sess_cause(ss, SC_RATE_LIMITED, 451, "4.7.1");
			return;
		}
	}
	if (!ss->n_rcpt)
		memcpy(ss->rcpt0, addr, sizeof(addr));
	ss->n_rcpt++;
	sess_reply(ss, 250, "2.1.5", "Ok");
}

static bool start_message(struct session *ss)
{
	struct server *s = ss->srv;
	ss->body_bytes = 0;
	ss->body_over = false;
	ss->msg_fd = -1;
	if (s->maildir_fd >= 0) {
		ss->msg_fd = maildir_begin(s->maildir_fd, ss->id, ss->n_msgs + 1,
		                           ss->msg_name, sizeof(ss->msg_name));
		if (ss->msg_fd < 0) {
			sess_reply(ss, 451, "4.3.0", "Error: queue file write error");
			sess_cause(ss, SC_SERVER_UNAVAILABLE, 451, "4.3.0");
			return false;
		}
	}
	return true;
}

static void cmd_data(struct session *ss, const char *a, size_t n)
{
	ss->phase = PH_DATA;
	if (sess_need_tls(ss))
		return;
	if (!ss->in_mail || !ss->n_rcpt) {
		sess_reply(ss, 503, "5.5.1", "Error: need %s command", ss->in_mail ? "RCPT" : "MAIL");
		sess_proto_error(ss);
		return;
	}
	if (n) {
		sess_reply(ss, 501, "5.5.4", "Syntax: DATA");
		sess_proto_error(ss);
		return;
	}
	if (ss->bdat_mode) {
		sess_reply(ss, 503, "5.5.1", "Error: DATA after BDAT");
		sess_proto_error(ss);
		return;
	}
	if (!start_message(ss))
		return;
	sess_reply(ss, 354, NULL, "End data with <CR><LF>.<CR><LF>");
	ss->ds = DS_BOL;
	sess_enter(ss, SS_DATA);
}

static void cmd_bdat(struct session *ss, const char *a, size_t n)
{
	ss->phase = PH_BDAT;
	char digits[24];
	size_t i = 0;
	while (i < n && i < sizeof(digits) - 1 && a[i] >= '0' && a[i] <= '9') {
		digits[i] = a[i];
		i++;
	}
	digits[i] = 0;
	bool last = false;
	if (i < n) {
		if (n - i == 5 && strncasecmp(a + i, " LAST", 5) == 0)
			last = true;
		else
			i = 0;
	}
	if (!i) {
		/* No reliable size: the chunk cannot be skipped, so this is fatal
		 * for the framing; answer and treat as a protocol error. */
		sess_reply(ss, 501, "5.5.4", "Syntax: BDAT count [LAST]");
		sess_proto_error(ss);
		return;
	}
	ss->bdat_left = strtoull(digits, NULL, 10);
	ss->bdat_last = last;
	ss->bdat_bad = !ss->in_mail || !ss->n_rcpt || (ss->srv->pol->require_tls && !ss->tls_on);
	if (!ss->bdat_bad && !ss->bdat_mode) {
		if (!start_message(ss)) {
			ss->bdat_bad = true;
		} else {
			ss->bdat_mode = true;
		}
	}
	sess_enter(ss, SS_BDAT);
	if (ss->bdat_left == 0)
		bdat_consume(ss, "", 0);
}

static void cmd_starttls(struct session *ss, size_t n)
{
	const struct policy *pol = ss->srv->pol;
	ss->phase = PH_STARTTLS;
	if (pol->no_tls) {
		sess_reply(ss, 502, "5.5.2", "Error: command not recognized");
		sess_proto_error(ss);
		return;
	}
	if (ss->tls_on) {
		sess_reply(ss, 554, "5.5.1", "Error: TLS already active");
		sess_proto_error(ss);
		return;
	}
	if (n) {
		sess_reply(ss, 501, "5.5.4", "Syntax: STARTTLS");
		sess_proto_error(ss);
		return;
	}
	if (pol->tls_fail == TLSF_REFUSE || (!ss->srv->tls && pol->tls_fail != TLSF_ABORT)) {
		sess_reply(ss, 454, "4.7.0", "TLS not available due to local problem");
		sess_cause(ss, SC_TLS_FAILED, 454, "4.7.0");
		return;
	}
	sess_reply(ss, 220, "2.0.0", "Ready to start TLS");
	if (pol->tls_fail == TLSF_ABORT) {
		/* The client gets a go-ahead and then plaintext + FIN where its
		 * handshake expects a ServerHello. */
		out_raw(ss, "* this is not TLS *\r\n", 21);
		/* TLS never started: the session ends in the STARTTLS exchange. */
		sess_cause(ss, SC_TLS_FAILED, 0, "");
		sess_server_close(ss, CL_FIN);
		return;
	}
	/* Anything pipelined after STARTTLS is plaintext the client must not be
	 * able to inject into the TLS session: dropped. */
	ss->in_len = 0;
	txn_reset(ss);
	ss->phase = PH_TLS;
	sess_enter(ss, SS_TLS_HS);
}

static void cmd_quit(struct session *ss)
{
	ss->phase = PH_QUIT;
	ss->quit_seen = true;
	sess_reply(ss, 221, "2.0.0", "Bye");
	if (ss->cause == SC_NONE) {
		ss->reply_code = 221;
		snprintf(ss->reply_enh, sizeof(ss->reply_enh), "2.0.0");
		ss->cause_phase = PH_QUIT;
	}
	sess_server_close(ss, CL_FIN);
}

/* One complete command line (CRLF removed). */
static void command(struct session *ss, const char *l, size_t n)
{
	if (ss->state == SS_AUTH_PLAIN || ss->state == SS_AUTH_USER || ss->state == SS_AUTH_PASS) {
		auth_line(ss, l, n);
		return;
	}
	size_t vl = 0;
	while (vl < n && l[vl] != ' ')
		vl++;
	const char *a = vl < n ? l + vl + 1 : l + n;
	size_t an = vl < n ? n - vl - 1 : 0;
	while (an && a[an - 1] == ' ')
		an--;
#define IS(v) (vl == sizeof(v) - 1 && strncasecmp(l, v, vl) == 0)
	if (ss->state == SS_DENIED) {
		if (IS("QUIT")) {
			cmd_quit(ss);
		} else {
			sess_reply(ss, 503, "5.5.1", "Error: access denied for %s", ss->peer_ip);
			if (++ss->n_errors >= ss->srv->pol->max_errors)
				sess_server_close(ss, CL_FIN);
		}
		return;
	}
	if (IS("EHLO")) cmd_ehlo(ss, true, a, an);
	else if (IS("HELO")) cmd_ehlo(ss, false, a, an);
	else if (IS("MAIL")) cmd_mail(ss, a, an);
	else if (IS("RCPT")) cmd_rcpt(ss, a, an);
	else if (IS("DATA")) cmd_data(ss, a, an);
	else if (IS("BDAT")) cmd_bdat(ss, a, an);
	else if (IS("QUIT")) cmd_quit(ss);
	else if (IS("RSET")) { txn_reset(ss); sess_reply(ss, 250, "2.0.0", "Ok"); }
	else if (IS("NOOP")) sess_reply(ss, 250, "2.0.0", "Ok");
	else if (IS("VRFY")) sess_reply(ss, 252, "2.0.0", "Cannot VRFY user, but will accept message");
	else if (IS("HELP")) sess_reply(ss, 214, "2.0.0", "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP AUTH STARTTLS");
	else if (IS("AUTH")) auth_cmd(ss, a, an);
	else if (IS("STARTTLS")) cmd_starttls(ss, an);
	else {
		sess_reply(ss, 502, "5.5.2", "Error: command not recognized");
		sess_proto_error(ss);
	}
#undef IS
}

/* ---- input ---- */

static bool line_state(enum sess_state st)
{
	return st == SS_CMD || st == SS_DENIED || st == SS_AUTH_PLAIN ||
	       st == SS_AUTH_USER || st == SS_AUTH_PASS;
}

/* Parses what is buffered as far as the state and the output space allow. */
static void process_input(struct session *ss)
{
	size_t pos = 0;
	while (pos < ss->in_len && ss->fd >= 0) {
		if (SRV_OUTBUF - (ss->out_len - ss->out_off) < SRV_OUT_RESERVE)
			break;
		const char *p = ss->in + pos;
		size_t n = ss->in_len - pos;
		if (ss->state == SS_DATA) {
			pos += data_consume(ss, p, n);
			continue;
		}
		if (ss->state == SS_BDAT) {
			pos += bdat_consume(ss, p, n);
			continue;
		}
		if (!line_state(ss->state))
			break;
		const char *lf = memchr(p, '\n', n);
		if (ss->discard_line) {
			/* Rest of an over-long line: skipped without storing. */
			if (!lf) {
				pos = ss->in_len;
				break;
			}
			pos += (size_t)(lf - p) + 1;
			ss->discard_line = false;
			continue;
		}
		if (!lf) {
			if (n >= SRV_CMD_LINE_MAX) {
				sess_reply(ss, 500, "5.5.2", "Error: line too long");
				pos = ss->in_len;
				if (!sess_proto_error(ss))
					ss->discard_line = true;
			}
			break;
		}
		size_t len = (size_t)(lf - p) + 1;
		pos += len;
		if (len > SRV_CMD_LINE_MAX) {
			sess_reply(ss, 500, "5.5.2", "Error: line too long");
			sess_proto_error(ss);
			continue;
		}
		size_t ln = len - 1;
		if (ln && p[ln - 1] == '\r')
			ln--;
		command(ss, p, ln);
	}
	if (ss->state == SS_DRAIN || ss->state == SS_DEAD || ss->state == SS_TLS_HS)
		pos = ss->in_len;
	if (pos) {
		memmove(ss->in, ss->in + pos, ss->in_len - pos);
		ss->in_len -= pos;
	}
	/* A command line that never ends (slowloris) is timed from its first
	 * byte, not from the last one, so dribbling cannot hold a session. */
	if (line_state(ss->state) && (ss->in_len || ss->discard_line)) {
		if (ss->t_partial == 0)
			ss->t_partial = mono_now();
	} else {
		ss->t_partial = 0;
	}
}

/* ---- lifecycle ---- */

struct session *sess_new(struct server *s, int fd, const struct sockaddr_storage *peer)
{
	struct session *ss = calloc(1, sizeof(*ss));
	if (!ss)
		return NULL;
	ss->srv = s;
	ss->fd = fd;
	ss->id = ++s->next_id;
	ss->peer = *peer;
	ss->msg_fd = -1;
	ss->t_start = ss->t_last = mono_now();
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ss->wall_start = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	if (peer->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)peer;
		inet_ntop(AF_INET, &in->sin_addr, ss->peer_ip, sizeof(ss->peer_ip));
		ss->peer_port = ntohs(in->sin_port);
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)peer;
		inet_ntop(AF_INET6, &in6->sin6_addr, ss->peer_ip, sizeof(ss->peer_ip));
		ss->peer_port = ntohs(in6->sin6_port);
	}
	ss->phase = PH_CONNECT;
	sess_enter(ss, SS_PREGREET);
	return ss;
}

void sess_on_accept(struct session *ss)
{
	const struct policy *pol = ss->srv->pol;
	enum slot_verdict slot;
	if (pol->shutdown) {
		sess_reply(ss, 421, "4.3.2", "%s Service shutting down, closing transmission channel", pol->hostname);
		ss->phase = PH_GREETING;
		sess_cause(ss, SC_SERVER_UNAVAILABLE, 421, "4.3.2");
		sess_server_close(ss, CL_FIN);
	} else if (!policy_addr_allowed(pol, &ss->peer)) {
		if (pol->deny_action == DENY_GREETING) {
			ss->phase = PH_GREETING;
			sess_reply(ss, 554, "5.7.1", "%s Client host [%s] rejected: Access denied",
			      pol->hostname, ss->peer_ip);
			sess_cause(ss, SC_IP_FILTERED, 554, "5.7.1");
			sess_enter(ss, SS_DENIED);
		} else {
			sess_cause(ss, SC_IP_FILTERED, 0, "");
			sess_server_close(ss, pol->deny_action == DENY_RESET ? CL_RST : CL_FIN);
		}
	} else if ((slot = slot_take(ss)) != SLOT_OK) {
		ss->phase = PH_GREETING;
		if (slot == SLOT_IP_FULL)
			sess_reply(ss, 421, "4.7.0", "%s Error: too many connections from %s", pol->hostname,
				   ss->peer_ip);
		else
			sess_reply(ss, 421, "4.7.0", "%s Error: too many connections", pol->hostname);
		sess_cause(ss, SC_RATE_LIMITED, 421, "4.7.0");
		sess_server_close(ss, CL_FIN);
	} else if (pol->greeting_delay > 0) {
		ss->t_greet = ss->t_start + pol->greeting_delay;
	} else {
		greet(ss);
	}
	sess_flush(ss);
	if (ss->state != SS_DEAD)
		srv_update_events(ss);
}

static void do_handshake(struct session *ss)
{
	bool ww = false;
	int r = tls_handshake(ss->ssl, &ww);
	ss->tls_want_write = ww;
	if (r == 0)
		return;
	if (r < 0) {
		sess_cause(ss, SC_TLS_FAILED, 0, "");
		ss->cause_phase = PH_TLS;
		sess_server_close(ss, CL_FIN);
		return;
	}
	ss->tls_on = true;
	ss->helo_seen = ss->esmtp = false;
	ss->phase = PH_TLS;
	sess_enter(ss, SS_CMD);
}

/* Reads what the socket has; returns false when nothing more can be done. */
static bool read_some(struct session *ss)
{
	char scratch[4096];
	char *dst;
	size_t room;
	if (ss->state == SS_DRAIN) {
		dst = scratch;
		room = sizeof(scratch);
	} else {
		dst = ss->in + ss->in_len;
		room = SRV_INBUF - ss->in_len;
		if (!room)
			return false;
	}
	long n;
	bool ww = false;
	if (ss->ssl)
		n = tls_read(ss->ssl, dst, room, &ww);
	else
		n = recv(ss->fd, dst, room, 0);
	if (n > 0) {
		ss->bytes_in += (uint64_t)n;
		ss->t_last = mono_now();
		if (ss->state != SS_DRAIN)
			ss->in_len += (size_t)n;
		return true;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
		if (ss->ssl)
			ss->tls_want_write = ww;
		return false;
	}
	if (ss->state == SS_DRAIN) {
		close_now(ss, CL_FIN);
		return false;
	}
	client_closed(ss, n == 0 ? CL_FIN : CL_RST);
	return false;
}

void sess_on_io(struct session *ss, uint32_t events)
{
	if (events & (EPOLLERR)) {
		if (ss->state == SS_DRAIN)
			close_now(ss, CL_FIN);
		else
			client_closed(ss, CL_RST);
		return;
	}
	for (int rounds = 0; rounds < 256 && ss->fd >= 0; rounds++) {
		if (!sess_flush(ss))
			return;
		if (ss->state == SS_TLS_HS) {
			if (ss->out_len)
				break;   /* the 220 goes out in plaintext first */
			if (!ss->ssl) {
				ss->ssl = tls_session_new(ss->srv->tls, ss->fd);
				if (!ss->ssl) {
					sess_cause(ss, SC_TLS_FAILED, 0, "");
					sess_server_close(ss, CL_FIN);
					continue;
				}
			}
			do_handshake(ss);
			if (ss->state == SS_TLS_HS)
				break;
			continue;
		}
		bool got = read_some(ss);
		if (ss->fd < 0)
			return;
		if (ss->state == SS_PREGREET) {
			if (got && ss->srv->pol->early_talker) {
				sess_reply(ss, 554, "5.5.0", "%s Error: SMTP protocol synchronization", ss->srv->pol->hostname);
				ss->phase = PH_GREETING;
				sess_cause(ss, SC_TOO_MANY_ERRORS, 554, "5.5.0");
				sess_server_close(ss, CL_FIN);
				continue;
			}
			if (!got)
				break;
			continue;
		}
		size_t before = ss->in_len;
		enum sess_state st = ss->state;
		process_input(ss);
		bool progressed = got || ss->in_len != before || ss->state != st;
		if (!progressed)
			break;
	}
	if (ss->fd >= 0)
		sess_flush(ss);
	if (ss->state != SS_DEAD)
		srv_update_events(ss);
}

void sess_sweep(struct session *ss, double now)
{
	const struct policy *pol = ss->srv->pol;
	if (ss->state == SS_DEAD)
		return;
	if (ss->state == SS_PREGREET) {
		if (now >= ss->t_greet) {
			greet(ss);
			sess_on_io(ss, 0);   /* pipelined input waiting since before the greeting */
		}
		return;
	}
	if (ss->state == SS_DRAIN) {
		if (now >= ss->t_drain_end)
			close_now(ss, CL_FIN);
		return;
	}
	bool stalled_line = ss->t_partial > 0 && now - ss->t_partial >= pol->idle_timeout;
	if (now - ss->t_last < pol->idle_timeout && !stalled_line)
		return;
	ss->phase = PH_IDLE;
	if (pol->idle_action == IDLE_REPLY && ss->state != SS_TLS_HS) {
		sess_reply(ss, 421, "4.4.2", "%s Error: timeout exceeded", pol->hostname);
		sess_cause(ss, SC_IDLE_TIMEOUT, 421, "4.4.2");
	} else {
		sess_cause(ss, SC_IDLE_TIMEOUT, 0, "");
	}
	sess_server_close(ss, CL_FIN);
	sess_flush(ss);
	if (ss->state != SS_DEAD)
		srv_update_events(ss);
}

/* Called by the loop at server stop for sessions still open. */
void sess_free(struct session *ss)
{
	if (!ss)
		return;
	slot_release(ss);
	if (ss->msg_fd >= 0)
		maildir_abort(ss->srv->maildir_fd, ss->msg_fd, ss->msg_name);
	if (ss->ssl)
		tls_session_free(ss->ssl);
	if (ss->fd >= 0)
		close(ss->fd);
	free(ss);
}

/* For the epoll mask (serve.c). */
bool sess_wants_read(const struct session *ss)
{
	switch (ss->state) {
	case SS_DEAD:
		return false;
	case SS_DRAIN:
		return true;
	case SS_TLS_HS:
		return ss->out_len == 0;
	default:
		return ss->in_len < SRV_INBUF &&
		       SRV_OUTBUF - (ss->out_len - ss->out_off) >= SRV_OUT_RESERVE;
	}
}

bool sess_wants_write(const struct session *ss)
{
	return ss->out_len > ss->out_off || ss->tls_want_write;
}
