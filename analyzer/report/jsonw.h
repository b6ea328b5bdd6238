/*
 * jsonw.h - the JSON reporter's small appenders, without printf on the hot
 * path: literal text, unsigned integers, seconds with six decimals, and the
 * ISO 8601 time of a session's start and end (the calendar part is cached
 * per second). They write into the FILE's own buffer with the unlocked
 * stdio calls: the reporter runs in one thread.
 *
 * Every appender writes exactly what the printf format it replaces wrote
 * ("%u"/"%" PRIu64, "%.6f" of ns / 1e9, sl_time_str()); jsonw.c says how
 * that holds for "%.6f", and falls back to printf where it cannot.
 */
#ifndef SLEUTH_JSONW_H
#define SLEUTH_JSONW_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

static inline void jw_lit(FILE *f, const char *s)
{
	fwrite_unlocked(s, 1, strlen(s), f);
}

static inline void jw_u64(FILE *f, uint64_t v)
{
	char b[24];
	char *p = b + sizeof(b);
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	fwrite_unlocked(p, 1, (size_t)(b + sizeof(b) - p), f);
}

static inline void jw_bool(FILE *f, bool v)
{
	if (v)
		fwrite_unlocked("true", 1, 4, f);
	else
		fwrite_unlocked("false", 1, 5, f);
}

/* As fprintf(f, "%.6f", (double)ns / NS_PER_SEC). */
void jw_sec6(FILE *f, int64_t ns);

/* As sl_time_str() (t != 0), quoted: "2026-11-23T07:33:01.123456Z". */
void jw_time(FILE *f, sl_time t);

#endif
