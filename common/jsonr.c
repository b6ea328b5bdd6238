/*
 * jsonr.c - the bounded JSON reader (see jsonr.h). A recursive-descent
 * parser over a cursor (pos < len checked before every byte read), with the
 * nesting depth capped so recursion is bounded too. Nodes and strings grow
 * by doubling up to their caps; a cap hit is an error naming it.
 */
#include "jsonr.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jp {
	const char *s;
	size_t len, pos;
	struct jsonr *j;
	char *err;
	size_t errlen;
	bool failed;
};

static int fail(struct jp *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct jp *p, const char *fmt, ...)
{
	if (p->failed)
		return -1;
	p->failed = true;
	unsigned line = 1, col = 1;
	for (size_t i = 0; i < p->pos && i < p->len; i++) {
		if (p->s[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	char what[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "line %u col %u: %s", line, col, what);
	return -1;
}

static void skip_ws(struct jp *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
	                           p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

static int new_node(struct jp *p, enum jsonr_type t)
{
	struct jsonr *j = p->j;
	if (j->count >= JSONR_MAX_NODES)
		return fail(p, "more than %d values (JSONR_MAX_NODES)", JSONR_MAX_NODES);
	if (j->count == j->cap) {
		int want = j->cap ? j->cap * 2 : 16;
		if (want > JSONR_MAX_NODES)
			want = JSONR_MAX_NODES;
		struct jsonr_node *nn = realloc(j->n, (size_t)want * sizeof(*nn));
		if (!nn)
			return fail(p, "out of memory");
		j->n = nn;
		j->cap = want;
	}
	int i = j->count++;
	j->n[i] = (struct jsonr_node){ .type = t, .key = -1, .child = -1, .next = -1, .str = -1 };
	return i;
}

static bool str_put(struct jp *p, const char *b, size_t n)
{
	struct jsonr *j = p->j;
	if (j->strs_cap - j->strs_len < n) {
		size_t want = j->strs_cap ? j->strs_cap : 256;
		while (want - j->strs_len < n)
			want *= 2;
		char *ns = realloc(j->strs, want);
		if (!ns)
			return fail(p, "out of memory"), false;
		j->strs = ns;
		j->strs_cap = want;
	}
	memcpy(j->strs + j->strs_len, b, n);
	j->strs_len += n;
	return true;
}

static int hex4(struct jp *p, unsigned *out)
{
	if (p->len - p->pos < 4)
		return fail(p, "short \\u escape");
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p->s[p->pos++];
		v <<= 4;
		if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
		else return fail(p, "bad hex digit in \\u escape");
	}
	*out = v;
	return 0;
}

/* Parses a string at the opening quote; returns its offset in strs. */
static int parse_string(struct jp *p)
{
	p->pos++;   /* the quote */
	char buf[JSONR_MAX_STRING + 4];
	size_t n = 0;
	for (;;) {
		if (p->pos >= p->len)
			return fail(p, "unterminated string");
		unsigned char c = (unsigned char)p->s[p->pos++];
		if (c == '"')
			break;
		if (c < 0x20)
			return fail(p, "control character in a string (write it as \\n, \\t or \\u00XX)");
		unsigned cp = c;
		if (c == '\\') {
			if (p->pos >= p->len)
				return fail(p, "unterminated escape");
			char e = p->s[p->pos++];
			switch (e) {
			case '"': cp = '"'; break;
			case '\\': cp = '\\'; break;
			case '/': cp = '/'; break;
			case 'b': cp = '\b'; break;
			case 'f': cp = '\f'; break;
			case 'n': cp = '\n'; break;
			case 'r': cp = '\r'; break;
			case 't': cp = '\t'; break;
			case 'u':
				if (hex4(p, &cp))
					return -1;
				if (cp >= 0xD800 && cp <= 0xDBFF) {
					unsigned lo;
					if (p->len - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
						return fail(p, "lone high surrogate");
					p->pos += 2;
					if (hex4(p, &lo))
						return -1;
					if (lo < 0xDC00 || lo > 0xDFFF)
						return fail(p, "bad low surrogate");
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				} else if (cp >= 0xDC00 && cp <= 0xDFFF) {
					return fail(p, "lone low surrogate");
				}
				if (cp == 0)
					return fail(p, "\\u0000 is not allowed");
				break;
			default:
				return fail(p, "unknown escape \\%c", e);
			}
			if (n + 4 > JSONR_MAX_STRING)
				return fail(p, "string longer than %d bytes (JSONR_MAX_STRING)", JSONR_MAX_STRING);
			if (cp < 0x80) {
				buf[n++] = (char)cp;
			} else if (cp < 0x800) {
				buf[n++] = (char)(0xC0 | (cp >> 6));
				buf[n++] = (char)(0x80 | (cp & 0x3F));
			} else if (cp < 0x10000) {
				buf[n++] = (char)(0xE0 | (cp >> 12));
				buf[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
				buf[n++] = (char)(0x80 | (cp & 0x3F));
			} else {
				buf[n++] = (char)(0xF0 | (cp >> 18));
				buf[n++] = (char)(0x80 | ((cp >> 12) & 0x3F));
				buf[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
				buf[n++] = (char)(0x80 | (cp & 0x3F));
			}
			continue;
		}
		if (n + 1 > JSONR_MAX_STRING)
			return fail(p, "string longer than %d bytes (JSONR_MAX_STRING)", JSONR_MAX_STRING);
		buf[n++] = (char)c;
	}
	size_t off = p->j->strs_len;
	buf[n] = 0;
	if (!str_put(p, buf, n + 1))
		return -1;
	return (int)off;
}

static int parse_value(struct jp *p, int depth);

static int parse_number(struct jp *p)
{
	size_t start = p->pos;
	if (p->pos < p->len && p->s[p->pos] == '-')
		p->pos++;
	while (p->pos < p->len && ((p->s[p->pos] >= '0' && p->s[p->pos] <= '9') || p->s[p->pos] == '.' ||
	                           p->s[p->pos] == 'e' || p->s[p->pos] == 'E' || p->s[p->pos] == '+' ||
	                           p->s[p->pos] == '-'))
		p->pos++;
	char digits[64];
	size_t n = p->pos - start;
	if (n == 0 || n >= sizeof(digits))
		return fail(p, "bad number");
	memcpy(digits, p->s + start, n);
	digits[n] = 0;
	const char *d0 = digits[0] == '-' ? digits + 1 : digits;
	if (!(*d0 >= '0' && *d0 <= '9') || (d0[0] == '0' && d0[1] >= '0' && d0[1] <= '9'))
		return fail(p, "bad number '%s' (no leading zeros; a digit first)", digits);
	char *end;
	errno = 0;
	double v = strtod(digits, &end);
	if (*end || errno == ERANGE || !isfinite(v))
		return fail(p, "bad number '%s'", digits);
	int i = new_node(p, JR_NUMBER);
	if (i >= 0)
		p->j->n[i].num = v;
	return i;
}

static bool literal(struct jp *p, const char *w)
{
	size_t k = strlen(w);
	if (p->len - p->pos >= k && memcmp(p->s + p->pos, w, k) == 0) {
		p->pos += k;
		return true;
	}
	return false;
}

static int parse_container(struct jp *p, int depth, bool object)
{
	if (depth >= JSONR_MAX_DEPTH)
		return fail(p, "nested deeper than %d (JSONR_MAX_DEPTH)", JSONR_MAX_DEPTH);
	int me = new_node(p, object ? JR_OBJECT : JR_ARRAY);
	if (me < 0)
		return -1;
	p->pos++;
	skip_ws(p);
	char close = object ? '}' : ']';
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		return me;
	}
	int prev = -1;
	for (;;) {
		skip_ws(p);
		int key = -1;
		if (object) {
			if (p->pos >= p->len || p->s[p->pos] != '"')
				return fail(p, "expected a member name in double quotes");
			key = parse_string(p);
			if (key < 0)
				return -1;
			skip_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':')
				return fail(p, "expected ':' after the member name");
			p->pos++;
		}
		int v = parse_value(p, depth + 1);
		if (v < 0)
			return -1;
		p->j->n[v].key = key;
		if (prev < 0)
			p->j->n[me].child = v;
		else
			p->j->n[prev].next = v;
		prev = v;
		skip_ws(p);
		if (p->pos >= p->len)
			return fail(p, "unterminated %s", object ? "object" : "array");
		char c = p->s[p->pos++];
		if (c == close)
			return me;
		if (c != ',')
			return fail(p, "expected ',' or '%c'", close);
	}
}

static int parse_value(struct jp *p, int depth)
{
	skip_ws(p);
	if (p->pos >= p->len)
		return fail(p, "expected a value");
	char c = p->s[p->pos];
	if (c == '{' || c == '[')
		return parse_container(p, depth, c == '{');
	if (c == '"') {
		int off = parse_string(p);
		if (off < 0)
			return -1;
		int i = new_node(p, JR_STRING);
		if (i >= 0)
			p->j->n[i].str = off;
		return i;
	}
	if (c == '-' || (c >= '0' && c <= '9'))
		return parse_number(p);
	if (literal(p, "true"))
		return new_node(p, JR_TRUE);
	if (literal(p, "false"))
		return new_node(p, JR_FALSE);
	if (literal(p, "null"))
		return new_node(p, JR_NULL);
	return fail(p, "unexpected character '%c'", c >= 0x20 && c < 0x7f ? c : '?');
}

int jsonr_parse(struct jsonr *j, const char *text, size_t len, char *err, size_t errlen)
{
	memset(j, 0, sizeof(*j));
	struct jp p = { .s = text, .len = len, .j = j, .err = err, .errlen = errlen };
	if (len > JSONR_MAX_TEXT)
		return fail(&p, "text longer than %u bytes (JSONR_MAX_TEXT)", JSONR_MAX_TEXT);
	if (parse_value(&p, 0) < 0)
		return -1;
	skip_ws(&p);
	if (p.pos != p.len)
		return fail(&p, "text after the end of the value");
	return 0;
}

int jsonr_parse_file(struct jsonr *j, const char *path, char *err, size_t errlen)
{
	memset(j, 0, sizeof(*j));
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char *buf = malloc(JSONR_MAX_TEXT + 1);
	size_t n = buf ? fread(buf, 1, JSONR_MAX_TEXT + 1, f) : 0;
	bool ioerr = ferror(f);
	fclose(f);
	if (!buf || ioerr) {
		free(buf);
		snprintf(err, errlen, "%s: cannot read", path);
		return -1;
	}
	char e[256];
	int rc = jsonr_parse(j, buf, n, e, sizeof(e));
	free(buf);
	if (rc)
		snprintf(err, errlen, "%s: %s", path, e);
	return rc;
}

void jsonr_free(struct jsonr *j)
{
	free(j->n);
	free(j->strs);
	memset(j, 0, sizeof(*j));
}

int jsonr_get(const struct jsonr *j, int obj, const char *key)
{
	if (obj < 0 || obj >= j->count || j->n[obj].type != JR_OBJECT)
		return -1;
	int found = -1;
	/* the last of duplicate names wins, as in most readers */
	for (int c = j->n[obj].child; c >= 0; c = j->n[c].next)
		if (j->n[c].key >= 0 && strcmp(j->strs + j->n[c].key, key) == 0)
			found = c;
	return found;
}

bool jsonr_is(const struct jsonr *j, int node, enum jsonr_type t)
{
	return node >= 0 && node < j->count && j->n[node].type == t;
}

bool jsonr_num(const struct jsonr *j, int node, double *out)
{
	if (!jsonr_is(j, node, JR_NUMBER))
		return false;
	*out = j->n[node].num;
	return true;
}

bool jsonr_u64(const struct jsonr *j, int node, uint64_t *out)
{
	double v;
	if (!jsonr_num(j, node, &v) || v < 0 || v > 9.0e15 || v != floor(v))
		return false;
	*out = (uint64_t)v;
	return true;
}

bool jsonr_bool(const struct jsonr *j, int node, bool *out)
{
	if (jsonr_is(j, node, JR_TRUE)) { *out = true; return true; }
	if (jsonr_is(j, node, JR_FALSE)) { *out = false; return true; }
	return false;
}

const char *jsonr_str(const struct jsonr *j, int node)
{
	return jsonr_is(j, node, JR_STRING) ? j->strs + j->n[node].str : NULL;
}

const char *jsonr_key(const struct jsonr *j, int node)
{
	return node >= 0 && node < j->count && j->n[node].key >= 0 ? j->strs + j->n[node].key : NULL;
}

int jsonr_first(const struct jsonr *j, int node)
{
	return node >= 0 && node < j->count ? j->n[node].child : -1;
}

int jsonr_next(const struct jsonr *j, int node)
{
	return node >= 0 && node < j->count ? j->n[node].next : -1;
}
