/*
 * jsonw.c - the output buffer of jsonw.h and the appenders that need more
 * than a few lines.
 *
 * jw_sec6: "%.6f" of (double)ns / 1e9. When ns is a whole number of
 * microseconds (every classic pcap timestamp), the double is within 2^-53
 * relative of the exact value: for any time up to the year 2262 that is
 * under 0.25 us, so "%.6f" prints the exact microseconds, which we write
 * with integers. Other values (nanosecond captures) go through printf, so
 * the output is the same byte for byte either way.
 *
 * jw_time: sl_time_str() formats "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ" from
 * gmtime_r(); the calendar part only changes once a second, so the last one
 * is kept (per thread: the reporter may run in an analysis thread). Years
 * outside 0..9999 (where %04d would differ from four digits) and a failed
 * gmtime_r go through sl_time_str() itself.
 *
 * jw_string: bytes that need no escaping are found sixteen (SSE2) or eight
 * at a time for JSON, through a 256-entry table for the last few and for
 * HTML, and copied in runs; the others are escaped one by one.
 */
#include "jsonw.h"

#include <stdarg.h>
#include <time.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

void jw_init(struct jw *w, FILE *f, char *buf, size_t cap)
{
	w->b = buf;
	w->len = 0;
	w->cap = cap;
	w->f = f;
	w->err = false;
}

bool jw_flush(struct jw *w)
{
	if (w->len && fwrite(w->b, 1, w->len, w->f) != w->len)
		w->err = true;
	w->len = 0;
	return !w->err;
}

void jw_mem_slow(struct jw *w, const void *p, size_t n)
{
	const char *s = p;
	size_t room = w->cap - w->len;
	memcpy(w->b + w->len, s, room);
	w->len += room;
	s += room;
	n -= room;
	jw_flush(w);
	if (n >= w->cap) {
		/* longer than the whole buffer: straight to the FILE, in order */
		if (fwrite(s, 1, n, w->f) != n)
			w->err = true;
		return;
	}
	memcpy(w->b, s, n);
	w->len = n;
}

void jw_printf(struct jw *w, const char *fmt, ...)
{
	va_list ap, aq;
	va_start(ap, fmt);
	va_copy(aq, ap);
	size_t room = w->cap - w->len;
	int n = vsnprintf(w->b + w->len, room, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < room) {
		w->len += (size_t)n;
	} else {
		/* did not fit (what vsnprintf wrote past len is ignored) */
		jw_flush(w);
		if (n >= 0 && (size_t)n < w->cap) {
			vsnprintf(w->b, w->cap, fmt, aq);
			w->len = (size_t)n;
		} else if (vfprintf(w->f, fmt, aq) < 0) {
			w->err = true;
		}
	}
	va_end(aq);
}

void jw_sec6(struct jw *w, int64_t ns)
{
	if (ns < 0 || ns % 1000) {
		jw_printf(w, "%.6f", (double)ns / NS_PER_SEC);
		return;
	}
	uint64_t us = (uint64_t)ns / 1000;
	jw_u64(w, us / 1000000);
	char b[8];
	uint64_t frac = us % 1000000;
	b[0] = '.';
	for (int i = 6; i >= 1; i--) {
		b[i] = (char)('0' + frac % 10);
		frac /= 10;
	}
	jw_mem(w, b, 7);
}

static _Thread_local struct {
	bool valid;
	int64_t sec;
	char day[20];           /* "YYYY-MM-DDTHH:MM:SS" */
} last;

static void two(char *p, int v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
}

void jw_time(struct jw *w, sl_time t)
{
	jw_time_text(w, t, true);
}

void jw_time_text(struct jw *w, sl_time t, bool quoted)
{
	int64_t sec = (int64_t)(t / NS_PER_SEC);
	long usec = (long)((t % NS_PER_SEC) / NS_PER_USEC);
	if (usec < 0) {
		usec += 1000000;
		sec -= 1;
	}
	if (!last.valid || last.sec != sec) {
		time_t ts = (time_t)sec;
		struct tm tm;
		int year;
		if (!gmtime_r(&ts, &tm) || (year = tm.tm_year + 1900) < 0 || year > 9999) {
			/* sl_time_str()'s own output, whatever it is, quoted */
			char b[64];
			sl_time_str(t, b, sizeof(b));
			if (quoted)
				jw_putc(w, '"');
			jw_lit(w, b);
			if (quoted)
				jw_putc(w, '"');
			return;
		}
		char *d = last.day;
		two(d, year / 100);
		two(d + 2, year % 100);
		d[4] = '-';
		two(d + 5, tm.tm_mon + 1);
		d[7] = '-';
		two(d + 8, tm.tm_mday);
		d[10] = 'T';
		two(d + 11, tm.tm_hour);
		d[13] = ':';
		two(d + 14, tm.tm_min);
		d[16] = ':';
		two(d + 17, tm.tm_sec);
		last.sec = sec;
		last.valid = true;
	}
	char b[29];
	b[0] = '"';
	memcpy(b + 1, last.day, 19);
	b[20] = '.';
	for (int i = 26; i >= 21; i--) {
		b[i] = (char)('0' + usec % 10);
		usec /= 10;
	}
	b[27] = 'Z';
	b[28] = '"';
	if (quoted)
		jw_mem(w, b, sizeof(b));
	else
		jw_mem(w, b + 1, sizeof(b) - 2);
}

void jw_pad(struct jw *w, const char *s, size_t n, size_t width, bool left)
{
	static const char spaces[16] = "                ";
	size_t pad = n < width ? width - n : 0;
	if (left)
		jw_mem(w, s, n);
	while (pad) {
		size_t k = pad < sizeof(spaces) ? pad : sizeof(spaces);
		jw_mem(w, spaces, k);
		pad -= k;
	}
	if (!left)
		jw_mem(w, s, n);
}

/* Length of a valid UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t need;
	unsigned char lo = 0x80, hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf)
		need = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		if (c == 0xe0)
			lo = 0xa0;
		if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		if (c == 0xf0)
			lo = 0x90;
		if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < need)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < need; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return need;
}

/* Bytes that go out as they are: printable ASCII but the quote and backslash
 * (and, for HTML, the three characters that could end a <script> element).
 * As a table: bit 0 plain in JSON, bit 1 plain in HTML. */
#define JP(c) ((c) >= 0x20 && (c) < 0x7f && (c) != '"' && (c) != '\\')
#define J2(c) ((JP(c) ? 1 : 0) | (JP(c) && (c) != '<' && (c) != '>' && (c) != '&' ? 2 : 0))
#define J8(c) J2(c), J2((c) + 1), J2((c) + 2), J2((c) + 3), J2((c) + 4), J2((c) + 5), J2((c) + 6), J2((c) + 7)
#define J64(c) J8(c), J8((c) + 8), J8((c) + 16), J8((c) + 24), J8((c) + 32), J8((c) + 40), J8((c) + 48), J8((c) + 56)
static const uint8_t json_plain_tab[256] = { J64(0), J64(64), J64(128), J64(192) };
#undef J64
#undef J8
#undef J2
#undef JP

/* Eight bytes at once: true when none needs escaping in JSON (all within
 * 0x20..0x7e, none '"' or '\\'). Each test is exact as a yes/no (the bit
 * tricks of "Determine if a word has a byte less than n" and friends: a
 * borrow or carry only ever spills above a byte that is itself caught). */
#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
static inline bool plain8(uint64_t x)
{
	uint64_t below20 = (x - ONES * 0x20) & ~x;      /* a byte < 0x20 */
	uint64_t above7e = (x + ONES) | x;              /* a byte > 0x7e */
	uint64_t q = x ^ (ONES * '"'), b = x ^ (ONES * '\\');
	uint64_t quote = (q - ONES) & ~q, bslash = (b - ONES) & ~b;
	return !((below20 | above7e | quote | bslash) & HIGHS);
}

/* How many of the n bytes at s need no escaping in JSON, counted sixteen at
 * a time where SSE2 is there (every x86-64), else eight at a time; stops
 * short of the last few, which the table does. */
static size_t plain_prefix(const unsigned char *s, size_t n)
{
	size_t j = 0;
#ifdef __SSE2__
	const __m128i lo = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f);
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
	while (n - j >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + j));
		/* signed: bytes from 0x80 up are negative, so below 0x20 too */
		__m128i bad = _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(x, lo), _mm_cmpeq_epi8(x, del)),
					   _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)));
		unsigned m = (unsigned)_mm_movemask_epi8(bad);
		if (m)
			return j + (size_t)__builtin_ctz(m);
		j += 16;
	}
#endif
	uint64_t x;
	while (n - j >= 8 && (memcpy(&x, s + j, 8), plain8(x)))
		j += 8;
	return j;
}

/* "\u00XX" for a byte below 0x80. */
static void jw_u00(struct jw *w, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char b[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
	jw_mem(w, b, 6);
}

void jw_string(struct jw *w, const char *str, size_t n, bool html)
{
	const unsigned char *s = (const unsigned char *)str;
	const uint8_t mask = html ? 2 : 1;
	jw_putc(w, '"');
	for (size_t i = 0; i < n;) {
		/* Most text is plain ASCII: copy it in runs, not byte by byte. */
		size_t j = html ? i : i + plain_prefix(s + i, n - i);
		while (j < n && (json_plain_tab[s[j]] & mask))
			j++;
		if (j > i) {
			jw_mem(w, s + i, j - i);
			i = j;
			if (i == n)
				break;
		}
		unsigned char c = s[i];
		if (c == '"' || c == '\\') {
			char b[2] = { '\\', (char)c };
			jw_mem(w, b, 2);
			i++;
		} else if (c == '<' || c == '>' || c == '&') {
			jw_u00(w, c);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			switch (c) {
			case '\n': jw_mem(w, "\\n", 2); break;
			case '\r': jw_mem(w, "\\r", 2); break;
			case '\t': jw_mem(w, "\\t", 2); break;
			default: jw_u00(w, c); break;
			}
			i++;
		} else {
			size_t l = utf8_len(s + i, n - i);
			if (l == 3 && html && s[i] == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] == 0xa8 || s[i + 2] == 0xa9)) {
				jw_mem(w, s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
				i += l;
			} else if (l) {
				jw_mem(w, s + i, l);
				i += l;
			} else {
				jw_mem(w, "\\ufffd", 6);
				i++;
			}
		}
	}
	jw_putc(w, '"');
}
