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
/* Runs the suite in CK_ENV mode and returns the process exit status:
 * failure if a test failed; TU_SKIP_CODE (ctest's SKIP_RETURN_CODE) when no
 * test ran because every one was skipped; success otherwise. */
int tu_run(Suite *s);

/* Honest skips. Check counts a test that returns early as a pass, so a test
 * that needs the corpus, root or a tool is not added to its suite when
 * that is missing: the runner calls tu_skip() instead, which prints
 * "SKIP what: why" and is counted by tu_run(). */
#define TU_SKIP_CODE 77
void tu_skip(const char *what, const char *why);
/* The corpus directory (SLEUTH_CORPUS, else ../shared/corpus) when it can
 * be read, else NULL. */
const char *tu_corpus_dir(void);
/* True when the shell command runs and exits 0 (e.g. "tshark -v"). */
bool tu_have_tool(const char *probe);
/* A number in [0, n) from a xorshift64 generator whose state (never 0) the
 * caller keeps: random inputs that are the same on every run. */
uint32_t tu_rnd(uint64_t *state, uint32_t n);

#endif
