/*
 * smtp_words.c - names of the SMTP vocabulary, and the one reader of
 * enhanced status codes (RFC 3463) that the dissector, the diagnosis and the
 * server share.
 */
#include <string.h>

#include "smtp_words.h"

#define X(e, s) s,
static const char *const cmd_names[] = { SMTP_COMMANDS(X) };
static const char *const phase_names[] = { SMTP_PHASES(X) };
#undef X

const char *smtp_cmd_name(enum smtp_cmd c)
{
	return (unsigned)c < CMD__COUNT ? cmd_names[c] : "?";
}

const char *smtp_phase_name(enum smtp_phase p)
{
	return (unsigned)p < PH__COUNT ? phase_names[p] : "?";
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

size_t smtp_parse_enhanced(const uint8_t *t, size_t n, bool word_end, char *out, size_t outlen)
{
	if (n < 5 || (t[0] != '2' && t[0] != '4' && t[0] != '5') || t[1] != '.')
		return 0;
	size_t i = 2;
	for (int part = 0; part < 2; part++) {
		size_t d = 0;
		/* Up to three digits; a strict reader also refuses a fourth. */
		while (i < n && is_digit(t[i]) && d < (word_end ? 4u : 3u)) {
			i++;
			d++;
		}
		if (d == 0 || d > 3)
			return 0;
		if (part == 0) {
			if (i >= n || t[i] != '.')
				return 0;
			i++;
		}
	}
	if (word_end && i < n && t[i] != ' ')
		return 0;
	if (i + 1 > outlen)
		return 0;
	memcpy(out, t, i);
	out[i] = '\0';
	return i;
}
