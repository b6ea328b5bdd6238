/*
 * common.c - address and time formatting, and the one routine that turns
 * untrusted bytes into printable text.
 */
#include "common.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* IPv4 as inet_ntop writes it ("%u.%u.%u.%u"), without its sprintf: every
 * session's report formats two addresses. */
static bool addr4_str(const uint8_t *a, char *buf, size_t len)
{
	char b[16];
	size_t n = 0;
	for (int i = 0; i < 4; i++) {
		unsigned v = a[i];
		if (i)
			b[n++] = '.';
		if (v >= 100)
			b[n++] = (char)('0' + v / 100);
		if (v >= 10)
			b[n++] = (char)('0' + v / 10 % 10);
		b[n++] = (char)('0' + v % 10);
	}
	if (n >= len)
		return false;           /* inet_ntop's ENOSPC */
	memcpy(buf, b, n);
	buf[n] = '\0';
	return true;
}

const char *sl_addr_str(const struct sl_addr *a, char *buf, size_t len)
{
	if (a->v != 6) {
		if (!addr4_str(a->a, buf, len))
			snprintf(buf, len, "?");
		return buf;
	}
	if (!inet_ntop(AF_INET6, a->a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

bool sl_addr_parse(const char *s, struct sl_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, out->a) == 1) {
		out->v = 4;
		return true;
	}
	if (inet_pton(AF_INET6, s, out->a) == 1) {
		out->v = 6;
		return true;
	}
	return false;
}

bool sl_addr_eq(const struct sl_addr *x, const struct sl_addr *y)
{
	return x->v == y->v && memcmp(x->a, y->a, x->v == 6 ? 16 : 4) == 0;
}

const char *sl_time_str(sl_time t, char *buf, size_t len)
{
	time_t sec = (time_t)(t / NS_PER_SEC);
	long usec = (long)((t % NS_PER_SEC) / NS_PER_USEC);
	if (usec < 0) {
		usec += 1000000;
		sec -= 1;
	}
	struct tm tm;
	if (!gmtime_r(&sec, &tm)) {
		snprintf(buf, len, "?");
		return buf;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec);
	return buf;
}

/* Length of a valid UTF-8 sequence starting at s (at most n bytes), or 0. */
static size_t utf8_seq_len(const uint8_t *s, size_t n)
{
	size_t need;
	uint32_t cp;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		need = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Reject overlongs, surrogates and values past U+10FFFF. */
	if ((need == 3 && cp < 0x800) || (need == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

static int b64_value(uint8_t c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

size_t sl_b64_decode(const uint8_t *in, size_t n, uint8_t *out, size_t outlen, bool *ok)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0, i;
	*ok = true;
	for (i = 0; i < n && in[i] != '='; i++) {
		int v = b64_value(in[i]);
		if (v < 0) {
			*ok = false;
			return o;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o < outlen)
				out[o++] = (uint8_t)(acc >> bits);
			else
				*ok = false;
			acc &= (1u << bits) - 1;
		}
	}
	for (; i < n; i++)
		if (in[i] != '=')
			*ok = false;
	return o;
}

/* 0 makes printable_run go byte by byte: only the tests lower it, to hold
 * both paths to the same output (check_text_copy.c). */
int sl_text_simd = 1;

/* The length of the run of printable ASCII (0x20-0x7e) that starts s[0, n):
 * sixteen bytes at a time where SSE2 is there (x86-64 always has it). Every
 * reply, command and event text goes through here. */
static size_t printable_run(const uint8_t *s, size_t n)
{
	size_t k = 0;
#ifdef __SSE2__
	/* signed compares: bytes from 0x80 on are negative, so not above 0x1f */
	const __m128i below = _mm_set1_epi8(0x1f), del = _mm_set1_epi8(0x7f);
	for (; sl_text_simd && k + 16 <= n; k += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + k));
		__m128i ok = _mm_and_si128(_mm_cmpgt_epi8(v, below), _mm_cmplt_epi8(v, del));
		unsigned m = (unsigned)_mm_movemask_epi8(ok);
		if (m != 0xffffu)
			return k + (size_t)__builtin_ctz(~m);
	}
#endif
	while (k < n && s[k] >= 0x20 && s[k] < 0x7f)
		k++;
	return k;
}

size_t sl_text_copy(char *dst, size_t dstlen, const uint8_t *src, size_t n)
{
	size_t o = 0, i = 0;

	if (dstlen == 0)
		return 0;
	while (i < n && o + 1 < dstlen) {
		/* Most text is printable ASCII: find the run, copy it at once. */
		size_t lim = SL_MIN(n - i, dstlen - 1 - o), k = printable_run(src + i, lim);
		if (k) {
			memcpy(dst + o, src + i, k);
			o += k;
			i += k;
			continue;
		}
		uint8_t c = src[i];
		if (c == '\t') {
			dst[o++] = ' ';
			i++;
			continue;
		}
		size_t l = c >= 0x80 ? utf8_seq_len(src + i, n - i) : 0;
		if (l) {
			if (o + l + 1 > dstlen)
				break;
			memcpy(dst + o, src + i, l);
			o += l;
			i += l;
			continue;
		}
		dst[o++] = '?';
		i++;
	}
	dst[o] = '\0';
	return o;
}

sl_time sl_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (sl_time)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

double sl_mono_sec(void)
{
	return (double)sl_mono_ns() / (double)NS_PER_SEC;
}
