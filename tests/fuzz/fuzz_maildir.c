/*
 * fuzz_maildir.c - libFuzzer target for the server's Maildir writer
 * (server/maildir.c): messages of hostile bytes and sizes begun, written in
 * pieces, committed or abandoned, with session and message numbers from the
 * input. Checks: a committed message is in new/ with exactly the bytes
 * written, mode 0600; an abandoned one leaves nothing; tmp/ is empty after
 * every input.
 *
 * Input: ops of 4 bytes [op, a, b, c]; op % 4: 0 begin (session a<<8|b,
 * message c), 1 write the next (a % 64) bytes of the input's tail, 2
 * commit, 3 abort. The Maildir lives in a scratch directory (tmpfs when
 * there is one) and is emptied after each input.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_dir.h"
#include "srv.h"

static char dir[64];
static int mdfd = -1;

static size_t count_and_clean(const char *sub, bool remove)
{
	int sfd = openat(mdfd, sub, O_RDONLY | O_DIRECTORY);
	if (sfd < 0)
		abort();
	DIR *d = fdopendir(sfd);
	if (!d)
		abort();
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		n++;
		if (remove)
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (mdfd < 0) {
		char err[256];
		if (!fuzz_scratch_dir(dir, sizeof(dir), "maildir") || (mdfd = maildir_open(dir, err, sizeof(err))) < 0)
			abort();
	}
	if (size > 4096)
		return 0;
	size_t half = size / 2;
	const uint8_t *tail = data + half;
	size_t tail_len = size - half, tail_off = 0;
	int fd = -1;
	char name[128];
	size_t written = 0, committed = 0;
	for (size_t i = 0; i + 4 <= half; i += 4) {
		uint8_t op = data[i] % 4, a = data[i + 1], b = data[i + 2], c = data[i + 3];
		if (op == 0 && fd < 0) {
			fd = maildir_begin(mdfd, (uint64_t)a << 8 | b, c, name, sizeof(name));
			written = 0;
		} else if (op == 1 && fd >= 0) {
			size_t n = a % 64;
			if (n > tail_len - tail_off)
				n = tail_len - tail_off;
			if (!maildir_write(fd, tail + tail_off, n))
				abort();
			tail_off += n;
			written += n;
		} else if (op == 2 && fd >= 0) {
			if (maildir_commit(mdfd, fd, name)) {
				char path[200];
				struct stat st;
				snprintf(path, sizeof(path), "new/%s", name);
				if (fstatat(mdfd, path, &st, AT_SYMLINK_NOFOLLOW) != 0 || (size_t)st.st_size != written ||
				    (st.st_mode & 0777) != 0600 || !S_ISREG(st.st_mode))
					abort();
				committed++;
			}
			fd = -1;
		} else if (op == 3 && fd >= 0) {
			maildir_abort(mdfd, fd, name);
			fd = -1;
		}
	}
	if (fd >= 0)
		maildir_abort(mdfd, fd, name);
	if (count_and_clean("tmp", true) != 0)
		abort();        /* every message left tmp/ */
	if (count_and_clean("new", true) != committed)
		abort();
	return 0;
}
