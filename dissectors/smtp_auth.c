/*
 * smtp_auth.c - AUTH: mechanism, user name, outcome. Never the secret.
 *
 * Credentials are base64-decoded into a stack buffer only long enough to
 * take the user name out, then that buffer is wiped. The password, the
 * CRAM-MD5 digest and OAuth tokens are never copied anywhere: event texts
 * for continuation lines are "[credentials hidden]" and the AUTH command's
 * event keeps only the mechanism (smtp.c writes them).
 *
 * Where the user name is, per mechanism:
 *  PLAIN     initial response or the first line after 334: authzid NUL authcid NUL passwd
 *  LOGIN     optional initial response = user; else the first line after 334,
 *            when no byte was lost since the AUTH command, the 334 it answers
 *            does not ask for a password ("UGFzc3dvcmQ6", "Password:", the
 *            mechanism's usual prompt, as in the corpus's LOGIN captures), and
 *            only once a further 334 answers that line: the line that the final
 *            reply answers is the password, whatever step the dissector
 *            counted (a lost or resynchronised prompt shifts the count).
 *  CRAM-MD5  the line after the 334 challenge: "user hexdigest"
 *  XOAUTH2   "user=NAME\x01auth=Bearer TOKEN\x01\x01", initial response or after 334
 *  others    the mechanism is recorded, no user.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "smtp_int.h"

#define AUTH_DECODE_MAX 1024

static void wipe(void *p, size_t n)
{
	volatile uint8_t *v = p;
	while (n--)
		*v++ = 0;
}

static void set_user(struct smtp *s, const uint8_t *u, size_t n)
{
	if (n)
		sl_text_copy(s->f.auth_user, sizeof(s->f.auth_user), u, n);
}

/* Takes the user name out of one decoded credential line for the mechanism.
 * LOGIN's user name on a data line is only a candidate (settle_user). */
static void take_user(struct smtp *s, const uint8_t *b64, size_t n, uint32_t step, bool on_command)
{
	uint8_t dec[AUTH_DECODE_MAX];
	bool ok;
	size_t d = sl_b64_decode(b64, n, dec, sizeof(dec), &ok);
	const char *mech = s->f.auth_mech;
	if (!strcmp(mech, "PLAIN") && step == 0) {
		/* authzid NUL authcid NUL passwd: the authcid */
		uint8_t *z1 = memchr(dec, 0, d);
		if (z1) {
			size_t off = (size_t)(z1 - dec) + 1;
			uint8_t *z2 = memchr(dec + off, 0, d - off);
			size_t ulen = z2 ? (size_t)(z2 - (dec + off)) : 0;
			set_user(s, dec + off, ulen);
		}
	} else if (!strcmp(mech, "LOGIN") && step == 0 && on_command) {
		set_user(s, dec, d);
	} else if (!strcmp(mech, "LOGIN") && step == 0) {
		wipe(s->auth_user_cand, sizeof(s->auth_user_cand));
		if (d && !s->auth_unsure && !s->auth_pw_prompt)
			sl_text_copy(s->auth_user_cand, sizeof(s->auth_user_cand), dec, d);
	} else if (!strcmp(mech, "CRAM-MD5") && step == 0) {
		uint8_t *sp = memchr(dec, ' ', d);
		if (sp)
			set_user(s, dec, (size_t)(sp - dec));
	} else if (!strcmp(mech, "XOAUTH2") && step == 0) {
		if (d > 5 && memcmp(dec, "user=", 5) == 0) {
			uint8_t *end = memchr(dec + 5, 0x01, d - 5);
			set_user(s, dec + 5, end ? (size_t)(end - dec - 5) : d - 5);
		}
	}
	wipe(dec, sizeof(dec));
}

void smtp_auth_cmd(struct smtp *s, const uint8_t *arg, size_t n, char *out, size_t outlen)
{
	struct smtp_facts *f = &s->f;
	size_t i = 0;
	while (i < n && arg[i] != ' ')
		i++;
	char mech[32] = { 0 };
	sl_text_copy(mech, sizeof(mech), arg, i);
	for (char *c = mech; *c; c++)
		if (*c >= 'a' && *c <= 'z')
			*c = (char)(*c - 32);
	memcpy(f->auth_mech, mech, sizeof(f->auth_mech));
	f->auth_user[0] = '\0';
	wipe(s->auth_user_cand, sizeof(s->auth_user_cand));
	s->auth_unsure = false;
	s->auth_pw_prompt = false;
	f->auth_result = AUTH_PENDING;
	f->auth_code = 0;
	f->auth_attempts++;
	s->auth_active = true;
	s->auth_step = 0;
	s->auth_ir = false;
	while (i < n && arg[i] == ' ')
		i++;
	if (i < n) {
		s->auth_ir = true;
		/* "=" is an empty initial response */
		if (!(n - i == 1 && arg[i] == '='))
			take_user(s, arg + i, n - i, 0, true);
		s->auth_step = 1;
		/* LOGIN's initial response is the user; the password still follows */
		if (!strcmp(mech, "LOGIN"))
			s->auth_step = 1;
	}
	snprintf(out, outlen, "AUTH %s%s", mech, s->auth_ir ? " [credentials hidden]" : "");
}

bool smtp_auth_data(struct smtp *s, const uint8_t *line, size_t n)
{
	if (n == 1 && line[0] == '*')
		return true;
	uint32_t step = s->auth_step;
	/* PLAIN/XOAUTH2 with an empty initial response, or CRAM-MD5: the
	 * first data line is the one that carries the user. */
	const char *mech = s->f.auth_mech;
	if (!strcmp(mech, "LOGIN"))
		step = s->auth_step;    /* step 0 = user, 1 = password */
	else if (s->auth_ir)
		step = 1;               /* the user came with the command */
	if (step == 0)
		take_user(s, line, n, 0, false);
	s->auth_step++;
	return false;
}

static void result_ev(struct smtp *s, const struct seg_meta *m, uint16_t code, const char *what)
{
	char t[256];
	snprintf(t, sizeof(t), "%s %s%s%s", what, s->f.auth_mech, s->f.auth_user[0] ? " user=" : "",
		 s->f.auth_user);
	struct event *e = smtp_ev(s, EV_AUTH_RESULT, DIR_S2C, m, t, strlen(t));
	if (e)
		e->code = code;
}

/* LOGIN's candidate user name becomes the user when the server asks for
 * another line (334); any other reply answered the last line sent, which
 * in LOGIN is the password, so the candidate is dropped unseen. */
static void settle_user(struct smtp *s, bool asked_more)
{
	if (!s->auth_user_cand[0])
		return;
	if (asked_more)
		memcpy(s->f.auth_user, s->auth_user_cand, sizeof(s->f.auth_user));
	wipe(s->auth_user_cand, sizeof(s->auth_user_cand));
}

/* Whether a 334's text, base64-decoded, asks for a password. */
static bool asks_password(const char *text)
{
	size_t n = strcspn(text, " ");
	uint8_t dec[64];
	bool ok;
	size_t d = sl_b64_decode((const uint8_t *)text, n, dec, sizeof(dec), &ok);
	bool pw = false;
	for (size_t i = 0; ok && !pw && i + 4 <= d; i++)
		pw = strncasecmp((const char *)dec + i, "pass", 4) == 0;
	wipe(dec, sizeof(dec));
	return pw;
}

void smtp_auth_reply(struct smtp *s, const struct smtp_reply *r, const struct seg_meta *m)
{
	struct smtp_facts *f = &s->f;
	settle_user(s, r->code == 334 && !s->auth_unsure);
	if (r->code == 334) {
		s->auth_pw_prompt = asks_password(r->text);
		return;
	}
	s->auth_active = false;
	f->auth_code = r->code;
	if (r->code >= 200 && r->code < 300) {
		f->auth_result = AUTH_ACCEPTED;
		result_ev(s, m, r->code, "accepted");
	} else if (f->auth_result == AUTH_ABORTED) {
		/* the client's '*' is answered with 501: stays aborted */
		struct event *e = smtp_ev(s, EV_AUTH_RESULT, DIR_S2C, m, "aborted", 7);
		if (e)
			e->code = r->code;
	} else {
		f->auth_result = AUTH_REFUSED;
		f->auth_failures++;
		result_ev(s, m, r->code, "refused");
	}
}

void smtp_auth_gap(struct smtp *s)
{
	if (!s->auth_active)
		return;
	s->auth_unsure = true;
	wipe(s->auth_user_cand, sizeof(s->auth_user_cand));
}

void smtp_auth_forget(struct smtp *s)
{
	wipe(s->auth_user_cand, sizeof(s->auth_user_cand));
}

void smtp_auth_abort(struct smtp *s, const struct seg_meta *m, const char *why)
{
	if (s->f.auth_result != AUTH_PENDING)
		return;
	settle_user(s, false);
	s->f.auth_result = AUTH_ABORTED;
	s->auth_active = false;
	char t[120];
	snprintf(t, sizeof(t), "aborted %s (%s)", s->f.auth_mech, why);
	smtp_ev(s, EV_AUTH_RESULT, DIR_C2S, m, t, strlen(t));
}

void smtp_auth_blind(struct smtp *s)
{
	struct smtp_facts *f = &s->f;
	if (s->auth_active && f->auth_result == AUTH_PENDING)
		return;                 /* a further step of the same exchange */
	if (!f->auth_mech[0])
		snprintf(f->auth_mech, sizeof(f->auth_mech), "unknown");
	f->auth_result = AUTH_PENDING;
	f->auth_code = 0;
	f->auth_attempts++;
	s->auth_active = true;
	s->auth_step = 1;
	s->auth_unsure = true;
}

size_t smtp_auth_inside(const uint8_t *b, size_t n)
{
	/* Glued to letters before it too ("...UiPAUTH PLAIN <response>", a
	 * fuzzer's line): no server would take that line for AUTH, but the
	 * bytes after it are a credential all the same. */
	for (size_t i = 0; i + 5 <= n; i++) {
		/* the first letter checked inline: no call at every byte of
		 * every line (c | 0x20 is 'a' for 'A' and 'a' only) */
		if ((b[i] | 0x20) != 'a' || b[i + 4] != ' ' || !smtp_ascii_ieq(b + i, 4, "AUTH"))
			continue;
		size_t j = i + 5;
		while (j < n && b[j] == ' ')
			j++;
		while (j < n && b[j] != ' ')    /* the mechanism */
			j++;
		size_t k = j;
		while (k < n && b[k] == ' ')
			k++;
		if (k < n)
			return j;
	}
	return n;
}

/* Capitals, then capitals and digits: a command's shape, not base64's
 * (whose credentials almost always hold small letters). */
bool smtp_upper_word(const uint8_t *b, size_t n)
{
	if (!n || b[0] < 'A' || b[0] > 'Z')
		return false;
	for (size_t i = 1; i < n; i++)
		if ((b[i] < 'A' || b[i] > 'Z') && !smtp_is_digit(b[i]))
			return false;
	return true;
}

bool smtp_looks_base64(const uint8_t *b, size_t n)
{
	if (n < 4)
		return n == 0 ? false : (n == 1 && b[0] == '=');
	for (size_t i = 0; i < n; i++)
		if (!smtp_is_alpha(b[i]) && !smtp_is_digit(b[i]) && b[i] != '+' && b[i] != '/' && b[i] != '=')
			return false;
	return true;
}

bool smtp_all_upper(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] < 'A' || b[i] > 'Z')
			return false;
	return true;
}

/* A word that can only be a credential in base64: 12 characters or more of
 * the base64 alphabet, '=' only as padding at its end, small and capital
 * letters both, and a digit, '+', '/' or padding. Words of replies (and
 * their host names, queue ids and URLs, which carry '.', '-', '_' or '@')
 * are not. */
static bool credential_word(const char *w, size_t n)
{
	if (n < 12)
		return false;
	bool lower = false, upper = false, other = false, pad = false;
	for (size_t i = 0; i < n; i++) {
		char c = w[i];
		if (c == '=') {
			pad = true;
			continue;
		}
		if (pad)
			return false;       /* '=' inside: "key=value", not base64 */
		if (c >= 'a' && c <= 'z')
			lower = true;
		else if (c >= 'A' && c <= 'Z')
			upper = true;
		else if ((c >= '0' && c <= '9') || c == '+' || c == '/')
			other = true;
		else
			return false;
	}
	return lower && upper && (other || pad);
}

static bool word_gap(char c)
{
	return c == ' ' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '(' || c == ')' ||
	       c == '[' || c == ']' || c == ':' || c == ',' || c == ';';
}

size_t smtp_hide_credential_words(char *text)
{
	static const char mark[] = "[hidden]";     /* shorter than any credential word */
	size_t r = 0, w = 0, n = strlen(text);
	while (r < n) {
		if (word_gap(text[r])) {
			text[w++] = text[r++];
			continue;
		}
		size_t e = r;
		while (e < n && !word_gap(text[e]))
			e++;
		if (credential_word(text + r, e - r)) {
			memcpy(text + w, mark, sizeof(mark) - 1);
			w += sizeof(mark) - 1;
		} else {
			memmove(text + w, text + r, e - r);
			w += e - r;
		}
		r = e;
	}
	memset(text + w, 0, n - w + 1);     /* no credential byte left behind the end */
	return w;
}
