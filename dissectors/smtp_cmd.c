/*
 * smtp_cmd.c - reading command lines and EHLO keywords.
 *
 * Verbs are matched case-insensitively against the SMTP_COMMANDS table.
 * Arguments are parsed from the kept head of the line with bounds checks;
 * numbers are copied into a small local buffer before conversion, never
 * parsed in place. Addresses are copied printable (sl_text_copy).
 */
#include <string.h>

#include "smtp_int.h"

#define X(e, s) s,
static const char *const cmd_verbs[] = { SMTP_COMMANDS(X) };
#undef X

static uint8_t up(uint8_t c)
{
	return (c >= 'a' && c <= 'z') ? (uint8_t)(c - 32) : c;
}

bool smtp_ascii_ieq(const uint8_t *a, size_t n, const char *lit)
{
	size_t k = strlen(lit);
	if (n != k)
		return false;
	for (size_t i = 0; i < n; i++)
		if (up(a[i]) != (uint8_t)lit[i])
			return false;
	return true;
}

/* Case-insensitive prefix test. */
static bool iprefix(const uint8_t *a, size_t n, const char *lit)
{
	size_t k = strlen(lit);
	if (n < k)
		return false;
	for (size_t i = 0; i < k; i++)
		if (up(a[i]) != (uint8_t)lit[i])
			return false;
	return true;
}

enum smtp_cmd smtp_cmd_parse(const uint8_t *line, size_t n, size_t *argoff)
{
	size_t i = 0;
	while (i < n && line[i] != ' ' && line[i] != '\t')
		i++;
	size_t vlen = i;
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	*argoff = i;
	if (vlen == 0 || vlen > 8)
		return CMD_UNKNOWN;
	for (int c = CMD_HELO; c < CMD_AUTH_DATA; c++)
		if (smtp_ascii_ieq(line, vlen, cmd_verbs[c]))
			return (enum smtp_cmd)c;
	return CMD_UNKNOWN;
}

/* Parses "FROM:<addr> params" / "TO:<addr> params": copies the address and
 * returns the offset where parameters start. */
static size_t parse_path(const uint8_t *a, size_t n, const char *kw, char *dst, size_t dstlen)
{
	size_t i = 0;
	memset(dst, 0, dstlen);
	if (!iprefix(a, n, kw))
		return n;
	i = strlen(kw);
	while (i < n && a[i] == ' ')
		i++;
	size_t start, end;
	if (i < n && a[i] == '<') {
		start = ++i;
		while (i < n && a[i] != '>')
			i++;
		end = i;
		if (i < n)
			i++;
	} else {
		start = i;
		while (i < n && a[i] != ' ')
			i++;
		end = i;
	}
	sl_text_copy(dst, dstlen, a + start, end - start);
	return i;
}

/* Decimal of at most 19 digits; false otherwise. */
static bool parse_u64(const uint8_t *a, size_t n, uint64_t *v)
{
	char buf[24];
	if (n == 0 || n > 19)
		return false;
	uint64_t x = 0;
	for (size_t i = 0; i < n; i++) {
		if (a[i] < '0' || a[i] > '9')
			return false;
		buf[i] = (char)a[i];
		x = x * 10 + (uint64_t)(buf[i] - '0');
	}
	*v = x;
	return true;
}

/* Calls fn for each space-separated "KEY[=VALUE]" parameter. */
static void each_param(struct smtp_message *msg, const uint8_t *a, size_t n)
{
	size_t i = 0;
	while (i < n) {
		while (i < n && a[i] == ' ')
			i++;
		size_t k = i;
		while (i < n && a[i] != ' ' && a[i] != '=')
			i++;
		size_t klen = i - k, v = i, vlen = 0;
		if (i < n && a[i] == '=') {
			v = ++i;
			while (i < n && a[i] != ' ')
				i++;
			vlen = i - v;
		}
		if (klen == 0)
			continue;
		if (!msg)
			continue;
		const uint8_t *key = a + k, *val = a + v;
		if (smtp_ascii_ieq(key, klen, "SIZE")) {
			uint64_t sz;
			if (parse_u64(val, vlen, &sz)) {
				msg->declared_size = sz;
				msg->has_declared_size = true;
			}
		} else if (smtp_ascii_ieq(key, klen, "BODY")) {
			sl_text_copy(msg->body_type, sizeof(msg->body_type), val, vlen);
		} else if (smtp_ascii_ieq(key, klen, "SMTPUTF8")) {
			msg->smtputf8 = true;
		} else if (smtp_ascii_ieq(key, klen, "RET")) {
			sl_text_copy(msg->dsn_ret, sizeof(msg->dsn_ret), val, vlen);
		} else if (smtp_ascii_ieq(key, klen, "ENVID")) {
			msg->dsn_envid = true;
		} else if (smtp_ascii_ieq(key, klen, "AUTH")) {
			sl_text_copy(msg->mail_auth, sizeof(msg->mail_auth), val, vlen);
		} else if (smtp_ascii_ieq(key, klen, "NOTIFY") || smtp_ascii_ieq(key, klen, "ORCPT")) {
			msg->dsn_notify = true;
		}
	}
}

void smtp_cmd_mail(struct smtp *s, const uint8_t *arg, size_t n)
{
	struct smtp_message *msg = smtp_cur_msg(s);
	char addr[SMTP_ADDR_MAX];
	size_t p = parse_path(arg, n, "FROM:", addr, sizeof(addr));
	if (!msg)
		return;
	memcpy(msg->mail_from, addr, sizeof(addr));
	each_param(msg, arg + p, n - p);
}

void smtp_cmd_rcpt(struct smtp *s, const uint8_t *arg, size_t n)
{
	struct smtp_message *msg = smtp_cur_msg(s);
	char addr[SMTP_ADDR_MAX];
	size_t p = parse_path(arg, n, "TO:", addr, sizeof(addr));
	if (!msg)
		return;
	if (msg->rcpts < SMTP_MAX_RCPTS)
		memcpy(msg->rcpt_to[msg->rcpts], addr, sizeof(addr));
	msg->rcpts++;
	each_param(msg, arg + p, n - p);
}

bool smtp_cmd_bdat(const uint8_t *arg, size_t n, uint64_t *size, bool *last)
{
	size_t i = 0;
	while (i < n && arg[i] >= '0' && arg[i] <= '9')
		i++;
	if (!parse_u64(arg, i, size))
		return false;
	*last = false;
	while (i < n && arg[i] == ' ')
		i++;
	if (i < n) {
		size_t k = i;
		while (i < n && arg[i] != ' ')
			i++;
		if (!smtp_ascii_ieq(arg + k, i - k, "LAST"))
			return false;
		*last = true;
	}
	return true;
}

static void append_word(char *dst, size_t dstlen, const uint8_t *w, size_t n)
{
	size_t have = strlen(dst);
	if (have + 1 + n + 1 > dstlen)
		return;         /* full: keep what fits, drop whole words only */
	if (have)
		dst[have++] = ' ';
	sl_text_copy(dst + have, dstlen - have, w, n);
}

/* Appends one EHLO capability line (keyword and parameters, runs of spaces
 * collapsed) to a '\n'-separated list; a line that does not fit is dropped
 * whole, the lines before it stay. */
static void append_line(char *dst, size_t dstlen, const uint8_t *w, size_t n)
{
	char line[SMTP_EXT_LINE_MAX];
	size_t k = 0;
	for (size_t i = 0; i < n && k + 1 < sizeof(line); i++) {
		if (w[i] == ' ' && (k == 0 || line[k - 1] == ' '))
			continue;
		line[k++] = (char)w[i];
	}
	while (k && line[k - 1] == ' ')
		k--;
	size_t have = strlen(dst);
	if (!k || have + 1 + k + 1 > dstlen)
		return;
	if (have)
		dst[have++] = '\n';
	sl_text_copy(dst + have, dstlen - have, (const uint8_t *)line, k);
}

/* One line of a 250 answer to EHLO/LHLO (after the first), text after "250-". */
void smtp_ehlo_line(struct smtp *s, const uint8_t *kw, size_t n)
{
	struct smtp_facts *f = &s->f;
	size_t i = 0;
	while (i < n && kw[i] != ' ' && kw[i] != '=')
		i++;
	size_t klen = i;
	if (klen == 0)
		return;
	bool legacy_auth = klen == 4 && i < n && kw[i] == '=' && smtp_ascii_ieq(kw, 4, "AUTH");
	append_line(f->extensions, sizeof(f->extensions), kw, n);
	const uint8_t *rest = kw + i + (i < n ? 1 : 0);
	size_t rlen = n - (size_t)(rest - kw);
	while (rlen && rest[rlen - 1] == ' ')
		rlen--;
	if (smtp_ascii_ieq(kw, klen, "SIZE")) {
		f->ext |= SMTP_EXT_SIZE;
		f->has_size_limit = true;
		uint64_t v = 0;
		size_t d = 0;
		while (d < rlen && rest[d] >= '0' && rest[d] <= '9')
			d++;
		f->size_limit = parse_u64(rest, d, &v) ? v : 0;
	} else if (smtp_ascii_ieq(kw, klen, "AUTH") || legacy_auth) {
		f->ext |= SMTP_EXT_AUTH;
		/* mechanisms, once (the legacy AUTH= line usually repeats them) */
		size_t j = 0;
		while (j < rlen) {
			while (j < rlen && rest[j] == ' ')
				j++;
			size_t k = j;
			while (j < rlen && rest[j] != ' ')
				j++;
			if (j == k)
				break;
			char word[40];
			sl_text_copy(word, sizeof(word), rest + k, j - k);
			for (char *c = word; *c; c++)
				if (*c >= 'a' && *c <= 'z')
					*c = (char)(*c - 32);
			/* skip a word already listed */
			const char *hay = f->auth_mechs;
			size_t wl = strlen(word);
			bool dup = false;
			while (*hay) {
				const char *sp = strchr(hay, ' ');
				size_t hl = sp ? (size_t)(sp - hay) : strlen(hay);
				if (hl == wl && memcmp(hay, word, wl) == 0)
					dup = true;
				hay += hl + (sp ? 1 : 0);
			}
			if (!dup)
				append_word(f->auth_mechs, sizeof(f->auth_mechs), (const uint8_t *)word, wl);
		}
	} else if (smtp_ascii_ieq(kw, klen, "STARTTLS")) {
		f->ext |= SMTP_EXT_STARTTLS;
	} else if (smtp_ascii_ieq(kw, klen, "PIPELINING")) {
		f->ext |= SMTP_EXT_PIPELINING;
	} else if (smtp_ascii_ieq(kw, klen, "8BITMIME")) {
		f->ext |= SMTP_EXT_8BITMIME;
	} else if (smtp_ascii_ieq(kw, klen, "CHUNKING")) {
		f->ext |= SMTP_EXT_CHUNKING;
	} else if (smtp_ascii_ieq(kw, klen, "SMTPUTF8")) {
		f->ext |= SMTP_EXT_SMTPUTF8;
	} else if (smtp_ascii_ieq(kw, klen, "ENHANCEDSTATUSCODES")) {
		f->ext |= SMTP_EXT_ENHANCEDSTATUSCODES;
	} else if (smtp_ascii_ieq(kw, klen, "DSN")) {
		f->ext |= SMTP_EXT_DSN;
	} else if (smtp_ascii_ieq(kw, klen, "BINARYMIME")) {
		f->ext |= SMTP_EXT_BINARYMIME;
	}
}
