/*
 * fuzz_dir.h - a fuzz target's scratch directory, emptied between inputs
 * (extraction and rotation write files there).
 */
#ifndef FUZZ_DIR_H
#define FUZZ_DIR_H

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline void fuzz_clean_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		abort();
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

/* Makes the scratch directory fuzz-NAME-XXXXXX under /dev/shm (a RAM disk,
 * when writable) or /tmp, into dir; false when it cannot. */
static inline bool fuzz_scratch_dir(char *dir, size_t cap, const char *name)
{
	snprintf(dir, cap, "%s/fuzz-%s-XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", name);
	return mkdtemp(dir) != NULL;
}

#endif
