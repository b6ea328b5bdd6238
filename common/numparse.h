/*
 * numparse.h - the number readers every command's options use, so that
 * `--max-size 10M`, `--idle-threshold 2.5` and `-W 8` are read alike in
 * analyze, live, serve and reproduce. All refuse signs, spaces, trailing
 * bytes and overflow.
 */
#ifndef SLEUTH_NUMPARSE_H
#define SLEUTH_NUMPARSE_H

#include "common.h"

/* A decimal integer of digits only, at most max. */
bool sl_parse_uint(const char *s, uint64_t max, uint64_t *out);
/* A decimal integer with an optional K, M or G suffix (powers of 1024). */
bool sl_parse_size(const char *s, uint64_t *out);
/* A finite decimal number from 0 to max. */
bool sl_parse_number(const char *s, double max, double *out);
/* Seconds (a number from 0 to 1e9) as nanoseconds. */
bool sl_parse_seconds(const char *s, sl_time *out);

#endif
