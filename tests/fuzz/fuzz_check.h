/*
 * fuzz_check.h - checks the fuzz targets make on what the analyzer wrote:
 * every line of JSON Lines output is one complete JSON value (a small
 * strict validator: RFC 8259 grammar, nesting capped), and no planted
 * secret shows in any output.
 *
 * Header-only (static functions) so each target includes what it uses.
 * A failed check calls abort(), which libFuzzer reports as a crash with
 * the input that caused it.
 */
#ifndef SLEUTH_FUZZ_CHECK_H
#define SLEUTH_FUZZ_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FJ_MAX_DEPTH 64

struct fj { const char *p, *end; int depth; };

static bool fj_value(struct fj *j);

static void fj_ws(struct fj *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
		j->p++;
}

static bool fj_lit(struct fj *j, const char *w)
{
	size_t n = strlen(w);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
		return false;
	j->p += n;
	return true;
}

static bool fj_string(struct fj *j)
{
	if (j->p >= j->end || *j->p != '"')
		return false;
	j->p++;
	while (j->p < j->end) {
		unsigned char c = (unsigned char)*j->p++;
		if (c == '"')
			return true;
		if (c < 0x20)
			return false;
		if (c == '\\') {
			if (j->p >= j->end)
				return false;
			c = (unsigned char)*j->p++;
			if (c == 'u') {
				for (int i = 0; i < 4; i++, j->p++)
					if (j->p >= j->end || !strchr("0123456789abcdefABCDEF", *j->p) || !*j->p)
						return false;
			} else if (!strchr("\"\\/bfnrt", c) || !c) {
				return false;
			}
		}
	}
	return false;
}

static bool fj_digits(struct fj *j)
{
	const char *s = j->p;
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > s;
}

static bool fj_number(struct fj *j)
{
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (!fj_digits(j))
		return false;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!fj_digits(j))
			return false;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!fj_digits(j))
			return false;
	}
	return true;
}

static bool fj_container(struct fj *j, char close, bool object)
{
	if (++j->depth > FJ_MAX_DEPTH)
		return false;
	j->p++;
	fj_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		j->depth--;
		return true;
	}
	for (;;) {
		if (object) {
			fj_ws(j);
			if (!fj_string(j))
				return false;
			fj_ws(j);
			if (j->p >= j->end || *j->p++ != ':')
				return false;
		}
		if (!fj_value(j))
			return false;
		fj_ws(j);
		if (j->p >= j->end)
			return false;
		char c = *j->p++;
		if (c == close) {
			j->depth--;
			return true;
		}
		if (c != ',')
			return false;
	}
}

static bool fj_value(struct fj *j)
{
	fj_ws(j);
	if (j->p >= j->end)
		return false;
	switch (*j->p) {
	case '{': return fj_container(j, '}', true);
	case '[': return fj_container(j, ']', false);
	case '"': return fj_string(j);
	case 't': return fj_lit(j, "true");
	case 'f': return fj_lit(j, "false");
	case 'n': return fj_lit(j, "null");
	default: return fj_number(j);
	}
}

/* True when [s, s+n) is exactly one JSON value (surrounding blanks allowed). */
static bool fuzz_json_valid(const char *s, size_t n)
{
	struct fj j = { s, s + n, 0 };
	if (!fj_value(&j))
		return false;
	fj_ws(&j);
	return j.p == j.end;
}

/* Aborts unless every non-empty line of buf is a JSON value. */
static void fuzz_check_json_lines(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if (le > p && !fuzz_json_valid(p, (size_t)(le - p))) {
			fprintf(stderr, "fuzz: output line is not JSON: %.*s\n", (int)((le - p) < 300 ? (le - p) : 300), p);
			abort();
		}
		p = nl ? nl + 1 : end;
	}
}

/*
 * The planted secret: the seeds' AUTH exchanges (tests/fuzz/make_pipeline_seeds.py)
 * use this password, sent as base64 in AUTH LOGIN and inside AUTH PLAIN's
 * base64. Neither form (nor the password itself) may appear in an output.
 */
#define FUZZ_SECRET        "Fz-s3cret-pw"
#define FUZZ_SECRET_B64    "RnotczNjcmV0LXB3"              /* base64(FUZZ_SECRET) */
#define FUZZ_SECRET_PLAIN  "AGZ1enplcgBGei1zM2NyZXQtcHc="  /* base64("\0fuzzer\0" FUZZ_SECRET) */

/* Whether the input holds the secret only where a client sends it as a
 * credential: each occurrence at the start of a packet's payload (after a
 * non-printable header byte) or after "AUTH PLAIN ", and followed by CRLF.
 * Mutations that move it into a MAIL FROM or a Subject would make the
 * check cry wolf; such inputs are not checked for it. */
static bool fuzz_secret_only_as_auth(const uint8_t *in, size_t n)
{
	static const char *const forms[] = { FUZZ_SECRET, FUZZ_SECRET_B64, FUZZ_SECRET_PLAIN };
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		size_t fl = strlen(forms[i]);
		const uint8_t *p = in, *end = in + n;
		while ((p = memmem(p, (size_t)(end - p), forms[i], fl)) != NULL) {
			bool at_start = p == in || p[-1] < 0x20 || p[-1] > 0x7e;
			bool after_plain = (size_t)(p - in) >= 11 && !memcmp(p - 11, "AUTH PLAIN ", 11);
			bool crlf = (size_t)(end - p) >= fl + 2 && !memcmp(p + fl, "\r\n", 2);
			if (!crlf || !(at_start || after_plain))
				return false;
			p += fl;
		}
	}
	return true;
}

static void fuzz_check_no_secret(const char *what, const char *buf, size_t len)
{
	static const char *const forms[] = { FUZZ_SECRET, FUZZ_SECRET_B64, FUZZ_SECRET_PLAIN };
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
		if (memmem(buf, len, forms[i], strlen(forms[i]))) {
			fprintf(stderr, "fuzz: the secret (%s) appears in the %s output\n", forms[i], what);
			abort();
		}
}

#endif
