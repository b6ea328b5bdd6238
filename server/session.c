/*
 * session.c - one SMTP connection of the bundled server: reading, line
 * framing, the SMTP state machine (RFC 5321 + PIPELINING, SIZE, 8BITMIME,
 * ENHANCEDSTATUSCODES, AUTH PLAIN/LOGIN, STARTTLS, CHUNKING), the policies
 * that refuse, and how the connection is closed (FIN after a drain, or RST).
 *
 * Invariants:
 * - Every change of state or phase goes through sess_enter(); states are
 *   listed in srv.h; commands are dispatched by the table in commands.c.
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
#define _GNU_SOURCE     /* memmem */
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

const char *sess_state_name(enum sess_state st)
{
#define X(e, s) s,
	static const char *const names[] = { SESS_STATES(X) };
#undef X
	return (unsigned)st < SS__COUNT ? names[st] : "?";
}

void sess_enter(struct session *ss, enum sess_state st, enum smtp_phase ph)
{
#ifdef SLEUTH_TRACE_STATES
	if (st != ss->state || ph != ss->phase)
		srv_log_text(ss->srv, "session %llu: %s/%s -> %s/%s", (unsigned long long)ss->id,
			     sess_state_name(ss->state), smtp_phase_name(ss->phase),
			     sess_state_name(st), smtp_phase_name(ph));
#endif
	ss->state = st;
	ss->phase = ph;
	if (st == SS_DRAIN || st == SS_DEAD)
		slot_release(ss);   /* a closing connection no longer holds a slot */
}

void sess_cause(struct session *ss, enum cause c, unsigned code, const char *enh)
{
	if (ss->cause != CAUSE_COMPLETED)
		return;
	ss->cause = c;
	ss->cause_phase = ss->phase;
	ss->reply_code = code;
	/* the log says what was sent: a profile's words for the policy's reply */
	if (ss->prof_said && ss->prof_said->code == code)
		enh = ss->prof_said->enh;
	snprintf(ss->reply_enh, sizeof(ss->reply_enh), "%s", enh ? enh : "");
}

/* Appends one reply line; returns false when the output buffer is full (the
 * reserve makes this a broken invariant in practice, handled by closing). */
bool sess_out_raw(struct session *ss, const char *s, size_t n)
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
	size_t plen;
	if (profile_reply_line(ss, code, line, sizeof(line), &plen)) {
		sess_out_raw(ss, line, plen);
		return;
	}
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
	sess_out_raw(ss, line, len);
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
	sess_enter(ss, SS_DEAD, ss->phase);
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
	sess_enter(ss, SS_DRAIN, ss->phase);
	ss->t_drain_end = sl_mono_sec() + SRV_DRAIN_SECONDS;
	ss->in_len = 0;
}


void sess_shutdown(struct session *ss)
{
	if (ss->fd < 0 || ss->state == SS_DEAD)
		return;
	if (ss->state != SS_DRAIN && ss->state != SS_TLS_HS) {
		ss->prof_ovr = NULL;
		sess_reply(ss, 421, "4.3.2", "%s Service shutting down, closing transmission channel",
		           ss->srv->pol->hostname);
		if (!ss->quit_seen)   /* sess_cause keeps an earlier refusal */
			sess_cause(ss, CAUSE_SERVER_UNAVAILABLE, 421, "4.3.2");
		ss->shutdown_said = true;
		sess_server_close(ss, CL_FIN);
	}
	sess_flush(ss);   /* best effort: the socket does not block */
}

static void client_closed(struct session *ss, enum close_how how)
{
	if (ss->closed_by == BY_NONE) {
		ss->closed_by = BY_CLI;
		ss->close_how = how;
	}
	if (ss->cause == CAUSE_COMPLETED && !ss->quit_seen) {
		ss->cause = CAUSE_CLIENT_ABORT;
		ss->cause_phase = ss->phase;
	}
	close_now(ss, CL_FIN);
}

/* ---- writing ---- */

/* Writes queued replies. Returns false when the session died. */
bool sess_flush(struct session *ss)
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

void txn_reset(struct session *ss)
{
	if (ss->msg_fd >= 0) {
		maildir_abort(ss->srv->maildir_fd, ss->msg_fd, ss->msg_name);
		ss->msg_fd = -1;
	}
	ss->in_mail = false;
	ss->n_rcpt = 0;
	ss->body_bytes = 0;
	ss->body_over = false;
	ss->content_hit = false;
	ss->content_tail_len = 0;
	ss->mail_from[0] = ss->rcpt0[0] = 0;
	ss->bdat_mode = false;
}

static void greet(struct session *ss)
{
	if (profile_greet(ss))
		return;
	sess_reply(ss, 220, NULL, "%s ESMTP smtpsleuth", ss->srv->pol->hostname);
	sess_enter(ss, SS_CMD, PH_GREETING);
}

/* A protocol error; true when the error limit ended the session. */
bool sess_proto_error(struct session *ss)
{
	ss->n_errors++;
	if (ss->n_errors >= ss->srv->pol->max_errors) {
		sess_reply(ss, 421, "4.7.0", "%s Error: too many errors", ss->srv->pol->hostname);
		sess_cause(ss, CAUSE_TOO_MANY_ERRORS, 421, "4.7.0");
		sess_server_close(ss, CL_FIN);
		return true;
	}
	return false;
}

/* ---- message body ---- */

/* Looks for the --reject-content patterns in the body as it streams: each
 * read is searched together with the tail of the previous ones, so a pattern
 * split across reads is found; nothing else of the body is kept. */
static void content_scan(struct session *ss, const char *p, size_t n)
{
	const struct policy *pol = ss->srv->pol;
	if (!pol->n_reject_content || ss->content_hit)
		return;
	char joint[2 * SRV_PATTERN_MAX];
	size_t head = SRV_MIN(n, (size_t)SRV_PATTERN_MAX - 1);
	memcpy(joint, ss->content_tail, ss->content_tail_len);
	memcpy(joint + ss->content_tail_len, p, head);
	size_t jl = ss->content_tail_len + head;
	for (unsigned i = 0; i < pol->n_reject_content && !ss->content_hit; i++) {
		const char *pat = pol->reject_content[i];
		size_t pl = strlen(pat);
		if (memmem(joint, jl, pat, pl) || memmem(p, n, pat, pl))
			ss->content_hit = true;
	}
	/* keep the last SRV_PATTERN_MAX - 1 bytes seen */
	if (n >= SRV_PATTERN_MAX - 1) {
		memcpy(ss->content_tail, p + n - (SRV_PATTERN_MAX - 1), SRV_PATTERN_MAX - 1);
		ss->content_tail_len = SRV_PATTERN_MAX - 1;
	} else {
		size_t keep = SRV_MIN(ss->content_tail_len, (size_t)SRV_PATTERN_MAX - 1 - n);
		memmove(ss->content_tail, ss->content_tail + ss->content_tail_len - keep, keep);
		memcpy(ss->content_tail + keep, p, n);
		ss->content_tail_len = keep + n;
	}
}

static void body_bytes(struct session *ss, const char *p, size_t n)
{
	if (!n || ss->body_over)
		return;
	const struct policy *pol = ss->srv->pol;
	content_scan(ss, p, n);
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
	if (profile_body_cut(ss))
		return true;
	if (!ss->body_over || pol->size_action == SIZE_REPLY)
		return false;
	sess_cause(ss, CAUSE_SIZE_LIMIT, 0, "");
	sess_server_close(ss, pol->size_action == SIZE_RESET ? CL_RST : CL_FIN);
	return true;
}

static void message_done_reply(struct session *ss);

/* The end of a message is answered like a command (profile step "."). */
static void message_done(struct session *ss)
{
	uint64_t size = ss->body_bytes;
	unsigned before = ss->n_msgs;
	profile_before(ss, ".", 1);
	message_done_reply(ss);
	profile_after(ss);
	env_message_end(ss, size, ss->n_msgs > before);
}

static void message_done_reply(struct session *ss)
{
	const struct policy *pol = ss->srv->pol;
	if (ss->body_over) {
		sess_reply(ss, 552, "5.3.4", "Error: message file too big");
		sess_cause(ss, CAUSE_SIZE_LIMIT, 552, "5.3.4");
	} else if (ss->content_hit) {
		if (ss->msg_fd >= 0) {
			maildir_abort(ss->srv->maildir_fd, ss->msg_fd, ss->msg_name);
			ss->msg_fd = -1;
		}
		sess_reply(ss, 554, "5.7.1", "Message content rejected");
		sess_cause(ss, CAUSE_CONTENT_REJECTED, 554, "5.7.1");
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
			if (ss->cause != CAUSE_CLIENT_ABORT) {
				ss->cause = CAUSE_COMPLETED;
				ss->reply_code = 0;
			}
		} else {
			sess_reply(ss, 451, "4.3.0", "Error: queue file write error");
			sess_cause(ss, CAUSE_SERVER_UNAVAILABLE, 451, "4.3.0");
		}
	}
	txn_reset(ss);
	sess_enter(ss, SS_CMD, PH_HELO);
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

size_t sess_bdat_consume(struct session *ss, const char *p, size_t n)
{
	size_t take = (size_t)SRV_MIN((uint64_t)n, ss->bdat_left);
	if (!ss->bdat_bad)
		body_bytes(ss, p, take);
	ss->bdat_left -= take;
	if (!ss->bdat_bad && size_cut(ss))
		return take;
	if (ss->bdat_left == 0) {
		profile_bdat_end(ss);
		sess_enter(ss, SS_CMD, ss->phase);
		if (ss->bdat_bad) {
			sess_reply(ss, 503, "5.5.1", "Error: need RCPT command");
			sess_proto_error(ss);
		} else if (ss->bdat_last || ss->body_over) {
			message_done(ss);
		} else {
			sess_reply(ss, 250, "2.0.0", "Ok: %llu bytes", (unsigned long long)ss->body_bytes);
		}
		profile_after(ss);
	}
	return take;
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
			pos += sess_bdat_consume(ss, p, n);
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
		sess_command(ss, p, ln);
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
			ss->t_partial = sl_mono_sec();
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
	ss->t_start = ss->t_last = sl_mono_sec();
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
	sess_enter(ss, SS_PREGREET, PH_CONNECT);
	return ss;
}

void sess_on_accept(struct session *ss)
{
	const struct policy *pol = ss->srv->pol;
	enum slot_verdict slot;
	if (pol->shutdown) {
		sess_reply(ss, 421, "4.3.2", "%s Service shutting down, closing transmission channel", pol->hostname);
		sess_enter(ss, ss->state, PH_GREETING);
		sess_cause(ss, CAUSE_SERVER_UNAVAILABLE, 421, "4.3.2");
		sess_server_close(ss, CL_FIN);
	} else if (!policy_addr_allowed(pol, &ss->peer)) {
		if (pol->deny_action == DENY_GREETING) {
			sess_enter(ss, ss->state, PH_GREETING);
			sess_reply(ss, 554, "5.7.1", "%s Client host [%s] rejected: Access denied",
			      pol->hostname, ss->peer_ip);
			sess_cause(ss, CAUSE_IP_FILTERED, 554, "5.7.1");
			sess_enter(ss, SS_DENIED, ss->phase);
		} else {
			sess_cause(ss, CAUSE_IP_FILTERED, 0, "");
			sess_server_close(ss, pol->deny_action == DENY_RESET ? CL_RST : CL_FIN);
		}
	} else if ((slot = slot_take(ss)) != SLOT_OK) {
		sess_enter(ss, ss->state, PH_GREETING);
		if (slot == SLOT_IP_FULL)
			sess_reply(ss, 421, "4.7.0", "%s Error: too many connections from %s", pol->hostname,
				   ss->peer_ip);
		else
			sess_reply(ss, 421, "4.7.0", "%s Error: too many connections", pol->hostname);
		sess_cause(ss, CAUSE_RATE_LIMITED, 421, "4.7.0");
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
		sess_cause(ss, CAUSE_TLS_FAILED, 0, "");
		ss->cause_phase = PH_TLS;
		sess_server_close(ss, CL_FIN);
		return;
	}
	ss->tls_on = true;
	ss->helo_seen = ss->esmtp = false;
	sess_enter(ss, SS_CMD, PH_TLS);
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
		ss->t_last = sl_mono_sec();
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
					sess_cause(ss, CAUSE_TLS_FAILED, 0, "");
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
				sess_enter(ss, ss->state, PH_GREETING);
				sess_cause(ss, CAUSE_TOO_MANY_ERRORS, 554, "5.5.0");
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
			/* The idle clock times the client's silence on its turn; while
			 * the greeting was held back the turn was the server's (a client
			 * that talked early would otherwise be timed out as soon as it
			 * is greeted). */
			ss->t_last = now;
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
	sess_enter(ss, ss->state, PH_IDLE);
	uint16_t code;
	const char *enh;
	if (pol->idle_action == IDLE_REPLY && ss->state != SS_TLS_HS && profile_idle_reply(ss, &code, &enh)) {
		sess_cause(ss, CAUSE_IDLE_TIMEOUT, code, enh);
	} else if (pol->idle_action == IDLE_REPLY && ss->state != SS_TLS_HS) {
		sess_reply(ss, 421, "4.4.2", "%s Error: timeout exceeded", pol->hostname);
		sess_cause(ss, CAUSE_IDLE_TIMEOUT, 421, "4.4.2");
	} else {
		sess_cause(ss, CAUSE_IDLE_TIMEOUT, 0, "");
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
