/*
 * shard_merge.h - `smtpsleuth merge`: joins the JSON of `analyze --shard K/N` runs.
 */
#ifndef SLEUTH_SHARD_MERGE_H
#define SLEUTH_SHARD_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

int merge_main(int argc, char **argv);

/* Adds up native --json summary lines of parts of one capture (the workers
 * of `live --fanout`: every count is summed, first/last are the extremes)
 * and writes one summary line to out. False (message in err) when a line is
 * not a summary. */
bool merge_add_summaries(const char *const *lines, const size_t *lens, int n, FILE *out, char *err, size_t errlen);

#endif
