/*
 * testutil.c - see testutil.h.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *tu_corpus(const char *name)
{
	static char path[4096];
	const char *dir = getenv("SLEUTH_CORPUS");
	if (!dir)
		dir = "../shared/corpus";
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (access(path, R_OK) != 0)
		return NULL;
	return path;
}

const char *tu_tmpdir(void)
{
	static char dir[256];
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/sleuth-test-XXXXXX");
		if (!mkdtemp(dir)) {
			perror("mkdtemp");
			exit(1);
		}
	}
	return dir;
}

static unsigned tu_skipped;

void tu_skip(const char *what, const char *why)
{
	printf("SKIP %s: %s\n", what, why);
	fflush(stdout);
	tu_skipped++;
}

const char *tu_corpus_dir(void)
{
	const char *dir = getenv("SLEUTH_CORPUS");
	if (!dir || !dir[0])
		dir = "../shared/corpus";
	return access(dir, R_OK | X_OK) == 0 ? dir : NULL;
}

bool tu_have_tool(const char *probe)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "%s >/dev/null 2>&1", probe);
	return system(cmd) == 0;
}

int tu_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	int ran = srunner_ntests_run(sr);
	srunner_free(sr);
	if (failed)
		return EXIT_FAILURE;
	if (ran == 0 && tu_skipped) {
		printf("SKIP: all %u test(s) of this runner skipped\n", tu_skipped);
		return TU_SKIP_CODE;
	}
	return EXIT_SUCCESS;
}

uint32_t tu_rnd(uint64_t *state, uint32_t n)
{
	uint64_t x = *state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return (uint32_t)(x % n);
}
