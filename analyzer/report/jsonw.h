/*
 * jsonw.h - the JSON reporters' output buffer and its appenders, without
 * printf on the hot path: literal text, single characters, unsigned
 * integers, seconds with six decimals, the ISO 8601 time of a session's
 * start and end, and escaped strings. The text report's session block uses
 * the same buffer (report.c).
 *
 * A struct jw is a buffer the caller owns (its storage too, usually on the
 * stack) in front of a FILE. Appenders copy into it inline; when it is full
 * it goes to the FILE with one fwrite, and the writer of a record calls
 * jw_flush() at the record's end, so a reader at the other end of a pipe
 * gets each record whole as soon as it is written (the reporter then
 * fflush()es the FILE as before). Write errors are the FILE's: fwrite sets
 * its error indicator, which the commands check with ferror() at the end as
 * they always did; jw.err also records that a flush fell short.
 *
 * Every appender writes exactly what the printf format it replaces wrote
 * ("%u"/"%" PRIu64, "%.6f" of ns / 1e9, sl_time_str()); jsonw.c says how
 * that holds for "%.6f", and falls back to printf where it cannot. Not
 * thread-safe: one struct jw per writer.
 */
#ifndef SLEUTH_JSONW_H
#define SLEUTH_JSONW_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

/* The reporters' buffer: a session record (about 2.5 KB) fits whole, so it
 * reaches the FILE in one fwrite; a longer one (a transcript) goes in a few. */
#define JW_CAP 8192

struct jw {
	char *b;        /* the caller's storage, cap bytes */
	size_t len;     /* bytes held, not yet handed to f */
	size_t cap;
	FILE *f;
	bool err;       /* a flush handed over fewer bytes than it held */
};

/* buf (cap >= 16 bytes) must outlive w; nothing is written until a flush. */
void jw_init(struct jw *w, FILE *f, char *buf, size_t cap);
/* Hands what is held to the FILE with one fwrite (not fflush). False when
 * the write fell short (then w->err and ferror(f) are set). */
bool jw_flush(struct jw *w);
/* jw_mem's path when p does not fit in what is left of the buffer. */
void jw_mem_slow(struct jw *w, const void *p, size_t n);

static inline void jw_mem(struct jw *w, const void *p, size_t n)
{
	if (n <= w->cap - w->len) {
		memcpy(w->b + w->len, p, n);
		w->len += n;
		return;
	}
	jw_mem_slow(w, p, n);
}

static inline void jw_putc(struct jw *w, char c)
{
	if (w->len == w->cap)
		jw_flush(w);
	w->b[w->len++] = c;
}

/* A NUL-terminated text written as it is (for literals the length is known
 * at compile time). */
static inline void jw_lit(struct jw *w, const char *s)
{
	jw_mem(w, s, strlen(s));
}

static inline void jw_u64(struct jw *w, uint64_t v)
{
	char b[24];
	char *p = b + sizeof(b);
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	jw_mem(w, p, (size_t)(b + sizeof(b) - p));
}

/* As "%" PRId64. */
static inline void jw_i64(struct jw *w, int64_t v)
{
	if (v < 0) {
		jw_putc(w, '-');
		jw_u64(w, (uint64_t)(-(v + 1)) + 1);
	} else {
		jw_u64(w, (uint64_t)v);
	}
}

/* v, or null when there is none. */
static inline void jw_u64_or_null(struct jw *w, bool have, uint64_t v)
{
	if (have)
		jw_u64(w, v);
	else
		jw_mem(w, "null", 4);
}

static inline void jw_bool(struct jw *w, bool v)
{
	if (v)
		jw_mem(w, "true", 4);
	else
		jw_mem(w, "false", 5);
}

/* printf into the buffer: for the cold parts (summary, rare objects). */
void jw_printf(struct jw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* As fprintf(f, "%.6f", (double)ns / NS_PER_SEC). */
void jw_sec6(struct jw *w, int64_t ns);

/* As sl_time_str() (t != 0), quoted: "2026-11-23T07:33:01.123456Z". */
void jw_time(struct jw *w, sl_time t);
/* The same, quoted or not (the text report). */
void jw_time_text(struct jw *w, sl_time t, bool quoted);

/* n bytes of s padded with spaces to width: as "%-*s" (left) or "%*s". */
void jw_pad(struct jw *w, const char *s, size_t n, size_t width, bool left);

/* n bytes of s as a JSON string, quoted: quotes, backslashes and control
 * characters escaped, invalid UTF-8 replaced with U+FFFD. With html, also
 * '<', '>', '&', U+2028 and U+2029 as \u escapes, so that no text can end a
 * <script> element. */
void jw_string(struct jw *w, const char *s, size_t n, bool html);

#endif
