/*
 * commands.c - the bundled server's answers to each SMTP command, and the
 * table that dispatches a command line to them.
 *
 * Each handler gets the argument text after the verb (trailing spaces cut)
 * and answers through sess_reply(); a refusal that ends the session records
 * its cause with sess_cause() first, so the session log names it. State and
 * phase change only through sess_enter().
 */
#include "srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
	sess_cause(ss, CAUSE_TLS_REQUIRED, 530, "5.7.0");
	return true;
}

static void ehlo_or_helo(struct session *ss, bool esmtp, const char *a, size_t n)
{
	const struct policy *pol = ss->srv->pol;
	sess_enter(ss, ss->state, PH_HELO);
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
	if (profile_ehlo(ss))
		return;
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
	sess_out_raw(ss, buf, (size_t)k);
}

static void cmd_mail(struct session *ss, const char *a, size_t n)
{
	const struct policy *pol = ss->srv->pol;
	sess_enter(ss, ss->state, PH_MAIL);
	if (!ss->helo_seen) {
		sess_reply(ss, 503, "5.5.1", "Error: send HELO/EHLO first");
		sess_proto_error(ss);
		return;
	}
	if (sess_need_tls(ss))
		return;
	if (pol->require_auth && !ss->authed) {
		sess_reply(ss, 530, "5.7.0", "Authentication required");
		sess_cause(ss, CAUSE_AUTH_REQUIRED, 530, "5.7.0");
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
	if (policy_addr_listed(pol->reject_sender, pol->n_reject_sender, path, plen)) {
		char addr[SRV_ADDR_MAX];
		sess_safe_copy(addr, sizeof(addr), path, plen);
		sess_reply(ss, 553, "5.1.8", "<%s>: Sender address rejected: Domain not found", addr);
		sess_cause(ss, CAUSE_SENDER_REJECTED, 553, "5.1.8");
		return;
	}
	if (pol->max_msgs && ss->n_msgs >= pol->max_msgs) {
		sess_reply(ss, 421, "4.7.0", "%s Error: too much mail from %s", pol->hostname, ss->peer_ip);
		sess_cause(ss, CAUSE_RATE_LIMITED, 421, "4.7.0");
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
				sess_cause(ss, CAUSE_SIZE_LIMIT, 552, "5.3.4");
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
	double now = sl_mono_sec();
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
	sess_enter(ss, ss->state, PH_RCPT);
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
		sess_cause(ss, CAUSE_RATE_LIMITED, 452, "4.5.3");
		return;
	}
	if (!ss->authed && !policy_rcpt_local(pol, path, plen)) {
		sess_reply(ss, 554, "5.7.1", "<%s>: Relay access denied", addr);
		sess_cause(ss, CAUSE_RELAY_DENIED, 554, "5.7.1");
		return;
	}
	if (policy_addr_listed(pol->reject_rcpt, pol->n_reject_rcpt, path, plen)) {
		/* After the relay check: a policy refusal wins over the address. */
		sess_reply(ss, 550, "5.1.1", "<%s>: Recipient address rejected: User unknown in local recipient table", addr);
		sess_cause(ss, CAUSE_RECIPIENT_REJECTED, 550, "5.1.1");
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
			sess_cause(ss, CAUSE_RATE_LIMITED, 451, "4.7.1");
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
	ss->content_hit = false;
	ss->content_tail_len = 0;
	ss->msg_fd = -1;
	if (s->maildir_fd >= 0) {
		ss->msg_fd = maildir_begin(s->maildir_fd, ss->id, ss->n_msgs + 1,
		                           ss->msg_name, sizeof(ss->msg_name));
		if (ss->msg_fd < 0) {
			sess_reply(ss, 451, "4.3.0", "Error: queue file write error");
			sess_cause(ss, CAUSE_SERVER_UNAVAILABLE, 451, "4.3.0");
			return false;
		}
	}
	return true;
}

/* A profile answered 354 where the handler refused (the captured server
 * accepted what ours does not, e.g. an address without angle brackets): the
 * body is read as a body, through the same state entry as cmd_data. */
void sess_begin_data(struct session *ss)
{
	if (!start_message(ss))
		return;
	ss->ds = DS_BOL;
	sess_enter(ss, SS_DATA, PH_DATA);
}

static void cmd_data(struct session *ss, const char *a, size_t n)
{
	sess_enter(ss, ss->state, PH_DATA);
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
	sess_enter(ss, SS_DATA, ss->phase);
}

static void cmd_bdat(struct session *ss, const char *a, size_t n)
{
	sess_enter(ss, ss->state, PH_BDAT);
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
	sess_enter(ss, SS_BDAT, ss->phase);
	if (ss->bdat_left == 0)
		sess_bdat_consume(ss, "", 0);
}

static void cmd_starttls(struct session *ss, const char *a, size_t n)
{
	const struct policy *pol = ss->srv->pol;
	sess_enter(ss, ss->state, PH_STARTTLS);
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
		sess_cause(ss, CAUSE_TLS_FAILED, 454, "4.7.0");
		return;
	}
	sess_reply(ss, 220, "2.0.0", "Ready to start TLS");
	if (pol->tls_fail == TLSF_ABORT) {
		/* The client gets a go-ahead and then plaintext + FIN where its
		 * handshake expects a ServerHello. */
		sess_out_raw(ss, "* this is not TLS *\r\n", 21);
		/* TLS never started: the session ends in the STARTTLS exchange. */
		sess_cause(ss, CAUSE_TLS_FAILED, 0, "");
		sess_server_close(ss, CL_FIN);
		return;
	}
	/* Anything pipelined after STARTTLS is plaintext the client must not be
	 * able to inject into the TLS session: dropped. */
	ss->in_len = 0;
	txn_reset(ss);
	sess_enter(ss, SS_TLS_HS, PH_TLS);
}

static void cmd_quit(struct session *ss, const char *a, size_t n)
{
	sess_enter(ss, ss->state, PH_QUIT);
	ss->quit_seen = true;
	sess_reply(ss, 221, "2.0.0", "Bye");
	if (ss->cause == CAUSE_COMPLETED) {
		ss->reply_code = 221;
		snprintf(ss->reply_enh, sizeof(ss->reply_enh), "2.0.0");
		ss->cause_phase = PH_QUIT;
	}
	sess_server_close(ss, CL_FIN);
}

static void cmd_ehlo(struct session *ss, const char *a, size_t n)
{
	ehlo_or_helo(ss, true, a, n);
}

static void cmd_helo(struct session *ss, const char *a, size_t n)
{
	ehlo_or_helo(ss, false, a, n);
}

static void cmd_rset(struct session *ss, const char *a, size_t n)
{
	txn_reset(ss);
	sess_reply(ss, 250, "2.0.0", "Ok");
}

static void cmd_noop(struct session *ss, const char *a, size_t n)
{
	sess_reply(ss, 250, "2.0.0", "Ok");
}

static void cmd_vrfy(struct session *ss, const char *a, size_t n)
{
	sess_reply(ss, 252, "2.0.0", "Cannot VRFY user, but will accept message");
}

static void cmd_help(struct session *ss, const char *a, size_t n)
{
	sess_reply(ss, 214, "2.0.0", "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP AUTH STARTTLS");
}

static void cmd_auth(struct session *ss, const char *a, size_t n)
{
	auth_cmd(ss, a, n);
}

/* The commands the server serves, as in RFC 5321 4.1 plus the extensions it
 * advertises (AUTH: RFC 4954, STARTTLS: RFC 3207, BDAT: RFC 3030). Anything
 * else is answered 502 and counts as a protocol error. */
static const struct {
	const char *verb;
	void (*fn)(struct session *ss, const char *a, size_t n);
} COMMANDS[] = {
	{ "EHLO", cmd_ehlo },
	{ "HELO", cmd_helo },
	{ "MAIL", cmd_mail },
	{ "RCPT", cmd_rcpt },
	{ "DATA", cmd_data },
	{ "BDAT", cmd_bdat },
	{ "QUIT", cmd_quit },
	{ "RSET", cmd_rset },
	{ "NOOP", cmd_noop },
	{ "VRFY", cmd_vrfy },
	{ "HELP", cmd_help },
	{ "AUTH", cmd_auth },
	{ "STARTTLS", cmd_starttls },
};

static void dispatch(struct session *ss, const char *l, size_t n);

/* A profile (profile.h) may replace the reply; the handler still decides
 * the state. */
void sess_command(struct session *ss, const char *l, size_t n)
{
	profile_before(ss, l, n);
	dispatch(ss, l, n);
	profile_after(ss);
	env_after_command(ss);
}

static void dispatch(struct session *ss, const char *l, size_t n)
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
	int found = -1;
	for (size_t i = 0; i < SL_ARRAY_LEN(COMMANDS); i++) {
		if (strlen(COMMANDS[i].verb) == vl && strncasecmp(l, COMMANDS[i].verb, vl) == 0) {
			found = (int)i;
			break;
		}
	}
	if (ss->state == SS_DENIED) {
		/* After a 554 greeting only QUIT is served (RFC 5321 3.1). */
		if (found >= 0 && COMMANDS[found].fn == cmd_quit) {
			cmd_quit(ss, a, an);
		} else {
			sess_reply(ss, 503, "5.5.1", "Error: access denied for %s", ss->peer_ip);
			if (++ss->n_errors >= ss->srv->pol->max_errors)
				sess_server_close(ss, CL_FIN);
		}
		return;
	}
	if (found >= 0) {
		COMMANDS[found].fn(ss, a, an);
	} else {
		sess_reply(ss, 502, "5.5.2", "Error: command not recognized");
		sess_proto_error(ss);
	}
}
