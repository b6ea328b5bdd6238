/*
 * diag_fmt.c - the diagnosis's texts (explanation, evidence, advice,
 * durations) formatted without printf's general machinery: every session
 * gets a verdict, and vsnprintf was a tenth of the diagnosis's cost.
 *
 * diag_vfmt() writes exactly what vsnprintf(buf, cap, fmt, ap) would: it
 * knows the conversions the rules use - %s and %.Ns / %.*s, %c, %d/%i and
 * %u with the l, ll and z modifiers, %% - and hands any other format
 * (widths, flags, %x, %f, a NULL string...) to vsnprintf whole, from the
 * start. Truncation is vsnprintf's: at most cap - 1 bytes, then NUL.
 *
 * diag_dur() writes "%.1f s" and the like of a double by hand: the double
 * is the one printf would print (the same division), and its decimal
 * rounding is done exactly on its binary value, ties to even, as glibc's
 * printf does in the default rounding mode; tests/check_diag_fmt.c holds
 * both to the printf forms.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "diag_int.h"

struct fout {
	char *p;
	size_t left;            /* bytes that may still be written (the NUL excluded) */
};

static void put(struct fout *o, const char *s, size_t n)
{
	if (n > o->left)
		n = o->left;
	memcpy(o->p, s, n);
	o->p += n;
	o->left -= n;
}

static void put_u64(struct fout *o, uint64_t v)
{
	char b[24];
	char *e = b + sizeof(b), *p = e;
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(o, p, (size_t)(e - p));
}

void diag_vfmt(char *buf, size_t cap, const char *fmt, va_list ap)
{
	if (!cap)
		return;
	va_list aq;
	va_copy(aq, ap);
	struct fout o = { buf, cap - 1 };
	const char *f = fmt;
	for (;;) {
		const char *q = f;
		while (*q && *q != '%')
			q++;
		put(&o, f, (size_t)(q - f));
		if (!*q)
			break;
		f = q + 1;
		if (*f == '%') {
			put(&o, "%", 1);
			f++;
			continue;
		}
		long prec = -1;
		if (*f == '.') {
			f++;
			if (*f == '*') {
				int p = va_arg(ap, int);
				prec = p < 0 ? -1 : p;  /* a negative precision is as if omitted */
				f++;
			} else {
				prec = 0;
				while (*f >= '0' && *f <= '9') {
					prec = prec * 10 + (*f++ - '0');
					if (prec > 1000000)
						goto fallback;
				}
			}
		}
		int len = 0;                    /* 0 int, 1 long, 2 long long, 3 size_t */
		if (*f == 'l') {
			len = *++f == 'l' ? (f++, 2) : 1;
		} else if (*f == 'z') {
			len = 3;
			f++;
		}
		switch (*f) {
		case 's': {
			if (len)
				goto fallback;
			const char *s = va_arg(ap, const char *);
			if (!s)
				goto fallback;  /* glibc's "(null)" rules: its own business */
			put(&o, s, prec < 0 ? strlen(s) : strnlen(s, (size_t)prec));
			break;
		}
		case 'u': {
			if (prec >= 0)
				goto fallback;
			uint64_t v = len == 0   ? va_arg(ap, unsigned)
				     : len == 1 ? va_arg(ap, unsigned long)
				     : len == 2 ? va_arg(ap, unsigned long long)
						: va_arg(ap, size_t);
			put_u64(&o, v);
			break;
		}
		case 'd':
		case 'i': {
			if (prec >= 0 || len == 3)
				goto fallback;
			int64_t v = len == 0 ? va_arg(ap, int) : len == 1 ? va_arg(ap, long) : va_arg(ap, long long);
			if (v < 0) {
				put(&o, "-", 1);
				put_u64(&o, (uint64_t)(-(v + 1)) + 1);
			} else {
				put_u64(&o, (uint64_t)v);
			}
			break;
		}
		case 'c': {
			if (prec >= 0 || len)
				goto fallback;
			char c = (char)va_arg(ap, int);
			put(&o, &c, 1);
			break;
		}
		default:
			goto fallback;
		}
		f++;
	}
	*o.p = '\0';
	va_end(aq);
	return;
fallback:
	vsnprintf(buf, cap, fmt, aq);
	va_end(aq);
}

void diag_fmt(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vfmt(buf, cap, fmt, ap);
	va_end(ap);
}

/* x (finite, >= 1, below 2^63 / 100) times 10^k (k <= 2) rounded to an
 * integer as printf rounds it: exactly, ties to even. */
static uint64_t round_scaled(double x, int k)
{
	uint64_t bits;
	memcpy(&bits, &x, sizeof(bits));
	int e = (int)((bits >> 52) & 0x7ff) - 1075;    /* x = m * 2^e */
	uint64_t m = (bits & ((1ull << 52) - 1)) | (1ull << 52);
	uint64_t scale = k == 0 ? 1 : k == 1 ? 10 : 100;
	if (e >= 0)
		return (m << e) * scale;        /* an integer: nothing to round */
	/* m * scale < 2^53 * 100 < 2^60; e >= -52 as x >= 1 */
	uint64_t v = m * scale;
	int sh = -e;
	uint64_t q = v >> sh, rem = v & ((1ull << sh) - 1), half = 1ull << (sh - 1);
	if (rem > half || (rem == half && (q & 1)))
		q++;
	return q;
}

/* "%.<k>f<unit>" of x (x >= 1) into buf. */
static void fixed(char *buf, size_t len, double x, int k, const char *unit)
{
	uint64_t q = round_scaled(x, k);
	uint64_t scale = k == 0 ? 1 : k == 1 ? 10 : 100;
	char b[48];
	struct fout o = { b, sizeof(b) - 1 };
	put_u64(&o, q / scale);
	if (k) {
		char frac[3] = { '.', 0, 0 };
		uint64_t r = q % scale;
		if (k == 1) {
			frac[1] = (char)('0' + r);
		} else {
			frac[1] = (char)('0' + r / 10);
			frac[2] = (char)('0' + r % 10);
		}
		put(&o, frac, (size_t)k + 1);
	}
	put(&o, unit, strlen(unit));
	*o.p = '\0';
	diag_fmt(buf, len, "%s", b);
}

/* "30.0 s", "2.50 s", "250 ms", "1.2 ms", "200 µs", "under 1 µs" (the
 * capture's own resolution: two packets in one microsecond show as 0) */
const char *diag_dur(sl_time ns, char *buf, size_t len)
{
	if (ns < 0)
		ns = 0;
	/* x >= 1 in every branch, and at most 2^63 / 1e9 */
	if (ns >= 10 * NS_PER_SEC)
		fixed(buf, len, (double)ns / NS_PER_SEC, 1, " s");
	else if (ns >= NS_PER_SEC)
		fixed(buf, len, (double)ns / NS_PER_SEC, 2, " s");
	else if (ns >= 10 * NS_PER_MS)
		fixed(buf, len, (double)ns / NS_PER_MS, 0, " ms");
	else if (ns >= NS_PER_MS)
		fixed(buf, len, (double)ns / NS_PER_MS, 1, " ms");
	else if (ns >= NS_PER_USEC)
		fixed(buf, len, (double)ns / NS_PER_USEC, 0, " \u00b5s");
	else
		diag_fmt(buf, len, "under 1 \u00b5s");
	return buf;
}
