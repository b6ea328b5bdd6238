/*
 * testutil.h - helpers shared by the Check runners: building packets and
 * pcap files in memory or on disk, locating the corpus.
 */
#ifndef SLEUTH_TESTUTIL_H
#define SLEUTH_TESTUTIL_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Path of a corpus file (../shared/corpus/NAME), or NULL when absent. The
 * returned string is static and overwritten by the next call. */
const char *tu_corpus(const char *name);
/* A temporary directory made for this process (removed by the OS; tests
 * clean what they create). */
const char *tu_tmpdir(void);
/* Runs the suite in CK_ENV mode and returns the process exit status. */
int tu_run(Suite *s);

#endif
