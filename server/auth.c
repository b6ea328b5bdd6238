/*
 * auth.c - SMTP AUTH in the bundled server (RFC 4954): the PLAIN and LOGIN
 * mechanisms, their base64 continuation lines, the check against --users,
 * and the failure limit.
 *
 * Invariants: a password lives only in a stack buffer for the time of the
 * check and is wiped after it; it is never stored in the session, logged or
 * echoed. Decoding writes into fixed buffers and fails rather than truncates.
 */
#include "srv.h"
#include "common.h"

#include <string.h>
#include <strings.h>

/* ---- base64 (AUTH) ---- */

/* Decodes into out (cap outlen); returns length or -1 on bad or oversized input. */
static long b64dec(const char *s, size_t n, char *out, size_t outlen)
{
	bool ok;
	size_t k = sl_b64_decode((const uint8_t *)s, n, (uint8_t *)out, outlen, &ok);
	return ok ? (long)k : -1;
}

/* ---- AUTH ---- */

static void auth_result(struct session *ss, const char *user, size_t ulen, const char *pass, size_t plen)
{
	const struct policy *pol = ss->srv->pol;
	char u[SRV_USER_MAX], pw[SRV_USER_MAX];
	bool ok = ulen < sizeof(u) && plen < sizeof(pw) &&
	          !memchr(user, 0, ulen) && !memchr(pass, 0, plen);
	if (ok) {
		memcpy(u, user, ulen); u[ulen] = 0;
		memcpy(pw, pass, plen); pw[plen] = 0;
		ok = policy_check_user(pol, u, pw);
		memset(pw, 0, sizeof(pw));
	}
	sess_enter(ss, SS_CMD, ss->phase);
	/* the user name tried, for the log (never the password) */
	sess_safe_copy(ss->auth_tried, sizeof(ss->auth_tried), user, ulen < sizeof(u) ? ulen : sizeof(u) - 1);
	if (ok) {
		ss->authed = true;
		sess_safe_copy(ss->auth_user, sizeof(ss->auth_user), u, ulen);
		sess_reply(ss, 235, "2.7.0", "Authentication successful");
		return;
	}
	ss->n_auth_fail++;
	sess_reply(ss, 535, "5.7.8", "Error: authentication failed: authentication failure");
	sess_cause(ss, CAUSE_AUTH_FAILED, 535, "5.7.8");
	if (pol->max_auth_failures && ss->n_auth_fail >= pol->max_auth_failures) {
		sess_reply(ss, 421, "4.7.0", "%s Error: too many authentication failures", pol->hostname);
		sess_server_close(ss, CL_FIN);
	}
}

static void auth_plain(struct session *ss, const char *b64, size_t n)
{
	char buf[3 * SRV_USER_MAX + 8];
	long m = b64dec(b64, n, buf, sizeof(buf));
	if (m < 0) {
		sess_enter(ss, SS_CMD, ss->phase);
		sess_reply(ss, 501, "5.5.2", "Cannot decode response");
		sess_cause(ss, CAUSE_AUTH_FAILED, 501, "5.5.2");
		return;
	}
	/* authzid NUL authcid NUL password */
	char *z1 = memchr(buf, 0, (size_t)m);
	char *z2 = z1 ? memchr(z1 + 1, 0, (size_t)(m - (z1 + 1 - buf))) : NULL;
	if (!z2) {
		auth_result(ss, "", 0, "", 1);   /* malformed: a failure like any other */
		return;
	}
	auth_result(ss, z1 + 1, (size_t)(z2 - z1 - 1), z2 + 1, (size_t)(m - (z2 + 1 - buf)));
	memset(buf, 0, sizeof(buf));
}

/* The AUTH LOGIN user name (base64), on the AUTH line or after the first
 * 334: kept for the password check, then the password prompt. An
 * undecodable name ends the exchange. */
static void login_user(struct session *ss, const char *b64, size_t n)
{
	long m = b64dec(b64, n, ss->auth_user, sizeof(ss->auth_user) - 1);
	if (m < 0) {
		sess_enter(ss, SS_CMD, ss->phase);
		sess_reply(ss, 501, "5.5.2", "Cannot decode response");
		return;
	}
	ss->auth_user[m] = 0;
	sess_enter(ss, SS_AUTH_PASS, ss->phase);
	sess_reply(ss, 334, NULL, "UGFzc3dvcmQ6");
}

void auth_line(struct session *ss, const char *l, size_t n)
{
	if (n == 1 && l[0] == '*') {
		sess_enter(ss, SS_CMD, ss->phase);
		sess_reply(ss, 501, "5.7.0", "Authentication aborted");
		return;
	}
	if (ss->state == SS_AUTH_PLAIN) {
		auth_plain(ss, l, n);
	} else if (ss->state == SS_AUTH_USER) {
		login_user(ss, l, n);
	} else {
		char pw[SRV_USER_MAX];
		long m = b64dec(l, n, pw, sizeof(pw) - 1);
		char user[SRV_USER_MAX];
		size_t ulen = strnlen(ss->auth_user, sizeof(ss->auth_user));
		memcpy(user, ss->auth_user, ulen);
		ss->auth_user[0] = 0;
		if (m < 0) {
			sess_enter(ss, SS_CMD, ss->phase);
			sess_reply(ss, 501, "5.5.2", "Cannot decode response");
			return;
		}
		auth_result(ss, user, ulen, pw, (size_t)m);
		memset(pw, 0, sizeof(pw));
	}
}

void auth_cmd(struct session *ss, const char *a, size_t n)
{
	const struct policy *pol = ss->srv->pol;
	sess_enter(ss, ss->state, PH_AUTH);
	if (!pol->n_users && !pol->require_auth) {
		sess_reply(ss, 503, "5.5.1", "Error: authentication not enabled");
		sess_proto_error(ss);
		return;
	}
	if (sess_need_tls(ss))
		return;
	if (!ss->helo_seen || !ss->esmtp) {
		sess_reply(ss, 503, "5.5.1", "Error: send EHLO first");
		sess_proto_error(ss);
		return;
	}
	if (ss->authed) {
		sess_reply(ss, 503, "5.5.1", "Error: already authenticated");
		sess_proto_error(ss);
		return;
	}
	if (ss->in_mail) {
		sess_reply(ss, 503, "5.5.1", "Error: MAIL transaction in progress");
		sess_proto_error(ss);
		return;
	}
	const char *sp = memchr(a, ' ', n);
	size_t mlen = sp ? (size_t)(sp - a) : n;
	const char *ir = sp ? sp + 1 : NULL;
	size_t irlen = sp ? n - mlen - 1 : 0;
	if (mlen == 5 && strncasecmp(a, "PLAIN", 5) == 0) {
		if (ir && !(irlen == 1 && ir[0] == '=')) {
			sess_enter(ss, SS_AUTH_PLAIN, ss->phase);
			auth_plain(ss, ir, irlen);
		} else {
			sess_enter(ss, SS_AUTH_PLAIN, ss->phase);
			sess_reply(ss, 334, NULL, " ");
		}
	} else if (mlen == 5 && strncasecmp(a, "LOGIN", 5) == 0) {
		if (ir) {
			login_user(ss, ir, irlen);
		} else {
			sess_enter(ss, SS_AUTH_USER, ss->phase);
			sess_reply(ss, 334, NULL, "VXNlcm5hbWU6");
		}
	} else {
		sess_reply(ss, 504, "5.5.4", "Unsupported authentication mechanism");
		sess_proto_error(ss);
	}
}

