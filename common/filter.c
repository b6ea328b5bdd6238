/*
 * filter.c - address blocks and times as the user writes them on the
 * command line. Parsing copies into bounded locals; nothing here allocates.
 */
#include "filter.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bool sl_cidr_parse(const char *s, struct sl_cidr *out)
{
	char buf[64];
	size_t n = strlen(s);
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n + 1);
	char *slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (!sl_addr_parse(buf, &out->net))
		return false;
	unsigned max = out->net.v == 6 ? 128 : 32;
	out->bits = (uint8_t)max;
	if (slash) {
		char *end;
		errno = 0;
		unsigned long b = strtoul(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || b > max || !isdigit((unsigned char)slash[1]))
			return false;
		out->bits = (uint8_t)b;
	}
	/* Clear the host bits so matching compares whole bytes. */
	for (unsigned i = 0; i < max / 8; i++) {
		unsigned lo = i * 8;
		if (lo >= out->bits)
			out->net.a[i] = 0;
		else if (out->bits - lo < 8)
			out->net.a[i] &= (uint8_t)(0xff << (8 - (out->bits - lo)));
	}
	return true;
}

bool sl_cidr_match(const struct sl_cidr *c, const struct sl_addr *a)
{
	if (a->v != c->net.v)
		return false;
	unsigned full = c->bits / 8, rest = c->bits % 8;
	if (memcmp(a->a, c->net.a, full) != 0)
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a->a[full] & mask) == c->net.a[full];
}

/* Epoch seconds with an optional fraction. */
static bool parse_epoch(const char *s, sl_time *out)
{
	char *end;
	errno = 0;
	long long sec = strtoll(s, &end, 10);
	if (errno || end == s || sec < 0 || sec > 4000000000LL || s[0] == '-' || s[0] == '+')
		return false;
	sl_time frac = 0;
	if (*end == '.') {
		sl_time scale = NS_PER_SEC / 10;
		for (end++; isdigit((unsigned char)*end); end++, scale /= 10)
			frac += (*end - '0') * scale;
	}
	if (*end)
		return false;
	*out = (sl_time)sec * NS_PER_SEC + frac;
	return true;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), as timegm would. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

bool time_parse(const char *s, sl_time *out)
{
	if (parse_epoch(s, out))
		return true;
	int y, mo, d, h = 0, mi = 0, sec = 0, used = 0;
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3 || used != 10)
		return false;
	const char *p = s + used;
	sl_time frac = 0;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		int u2 = 0;
		if (sscanf(p + 1, "%2d:%2d%n", &h, &mi, &u2) != 2 || u2 != 5)
			return false;
		p += 1 + u2;
		if (*p == ':') {
			if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]))
				return false;
			sec = (p[1] - '0') * 10 + (p[2] - '0');
			p += 3;
			if (*p == '.' || *p == ',') {
				sl_time scale = NS_PER_SEC / 10;
				for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
					frac += (*p - '0') * scale;
			}
		}
	}
	int64_t off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om = 0, u3 = 0;
		if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &u3) == 2 && u3 == 5)
			;
		else if (sscanf(p + 1, "%2d%2d%n", &oh, &om, &u3) == 2 && u3 == 4)
			;
		else
			return false;
		off = (int64_t)(oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
		p += 1 + u3;
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1970)
		return false;
	int64_t t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec - off;
	if (t < 0)
		return false;
	*out = (sl_time)t * NS_PER_SEC + frac;
	return true;
}
