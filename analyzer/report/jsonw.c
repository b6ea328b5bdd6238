/*
 * jsonw.c - the appenders of jsonw.h that need more than a few lines.
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
 * is kept (per thread: the reporter may run in an analysis thread).
 */
#include "jsonw.h"

#include <time.h>

void jw_sec6(FILE *f, int64_t ns)
{
	if (ns < 0 || ns % 1000) {
		fprintf(f, "%.6f", (double)ns / NS_PER_SEC);
		return;
	}
	uint64_t us = (uint64_t)ns / 1000;
	jw_u64(f, us / 1000000);
	char b[8];
	uint64_t frac = us % 1000000;
	b[0] = '.';
	for (int i = 6; i >= 1; i--) {
		b[i] = (char)('0' + frac % 10);
		frac /= 10;
	}
	fwrite_unlocked(b, 1, 7, f);
}

static _Thread_local struct {
	bool valid;
	int64_t sec;
	char day[24];           /* "YYYY-MM-DDTHH:MM:SS" */
	size_t len;
} last;

void jw_time(FILE *f, sl_time t)
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
		if (!gmtime_r(&ts, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
			/* sl_time_str()'s own output, whatever it is, quoted */
			char b[64];
			sl_time_str(t, b, sizeof(b));
			putc_unlocked('"', f);
			jw_lit(f, b);
			putc_unlocked('"', f);
			return;
		}
		int n = snprintf(last.day, sizeof(last.day), "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
				 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		if (n <= 0 || (size_t)n >= sizeof(last.day)) {
			char b[64];
			sl_time_str(t, b, sizeof(b));
			putc_unlocked('"', f);
			jw_lit(f, b);
			putc_unlocked('"', f);
			last.valid = false;
			return;
		}
		last.len = (size_t)n;
		last.sec = sec;
		last.valid = true;
	}
	char b[9];
	b[0] = '.';
	for (int i = 6; i >= 1; i--) {
		b[i] = (char)('0' + usec % 10);
		usec /= 10;
	}
	b[7] = 'Z';
	b[8] = '"';
	putc_unlocked('"', f);
	fwrite_unlocked(last.day, 1, last.len, f);
	fwrite_unlocked(b, 1, 9, f);
}
