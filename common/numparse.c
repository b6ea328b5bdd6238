/*
 * numparse.c - number readers for command-line options.
 */
#include "numparse.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

bool sl_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	if (*s < '0' || *s > '9')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

bool sl_parse_size(const char *s, uint64_t *out)
{
	if (*s < '0' || *s > '9')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return false;
	uint64_t mul = 1;
	if (*end == 'k' || *end == 'K')
		mul = 1024, end++;
	else if (*end == 'm' || *end == 'M')
		mul = 1024 * 1024, end++;
	else if (*end == 'g' || *end == 'G')
		mul = 1024ull * 1024 * 1024, end++;
	if (*end || v > UINT64_MAX / mul)
		return false;
	*out = v * mul;
	return true;
}

bool sl_parse_number(const char *s, double max, double *out)
{
	if ((*s < '0' || *s > '9') && *s != '.')
		return false;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0 || v > max)
		return false;
	*out = v;
	return true;
}

bool sl_parse_seconds(const char *s, sl_time *out)
{
	double v;
	if (!sl_parse_number(s, 1e9, &v))
		return false;
	*out = (sl_time)(v * (double)NS_PER_SEC);
	return true;
}
