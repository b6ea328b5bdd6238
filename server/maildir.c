/*
 * maildir.c - writes accepted messages into a Maildir (tmp -> new).
 *
 * Invariants: file names are built only from numbers of our own (time, pid,
 * session and message counters) and a fixed suffix, never from client input,
 * so no client text can reach a path. Files are created with O_EXCL and
 * O_NOFOLLOW relative to the Maildir's directory descriptor, written, synced
 * and renamed into new/ in one atomic step; a message that fails or is
 * refused is unlinked from tmp/.
 */
#include "srv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int maildir_open(const char *dir, char *err, size_t errlen)
{
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "--maildir %s: %s", dir, strerror(errno));
		return -1;
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "--maildir %s: %s", dir, strerror(errno));
		return -1;
	}
	static const char *const sub[] = { "tmp", "new", "cur" };
	for (unsigned i = 0; i < 3; i++) {
		if (mkdirat(fd, sub[i], 0700) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "--maildir %s/%s: %s", dir, sub[i], strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

int maildir_begin(int mdfd, uint64_t sess, unsigned msg, char *name, size_t namelen)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(name, namelen, "%lld.M%ldP%dQ%lluN%u.smtpsleuth",
	         (long long)ts.tv_sec, ts.tv_nsec / 1000, (int)getpid(),
	         (unsigned long long)sess, msg);
	char path[160];
	snprintf(path, sizeof(path), "tmp/%s", name);
	return openat(mdfd, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
}

bool maildir_write(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

bool maildir_commit(int mdfd, int fd, const char *name)
{
	char from[160], to[160];
	snprintf(from, sizeof(from), "tmp/%s", name);
	snprintf(to, sizeof(to), "new/%s", name);
	bool ok = fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (ok && renameat(mdfd, from, mdfd, to) == 0)
		return true;
	unlinkat(mdfd, from, 0);
	return false;
}

void maildir_abort(int mdfd, int fd, const char *name)
{
	char from[160];
	snprintf(from, sizeof(from), "tmp/%s", name);
	close(fd);
	unlinkat(mdfd, from, 0);
}
