/*
 * bulk_out.c - large-block output for streams a program reads (see
 * bulk_out.h).
 */
#define _GNU_SOURCE
#include "bulk_out.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

void bulk_pipe_grow(int fd, unsigned bytes)
{
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode))
		return;
	/* above /proc/sys/fs/pipe-max-size an unprivileged process is refused:
	 * the pipe then keeps its size, which is only slower */
	(void)fcntl(fd, F_SETPIPE_SZ, (int)bytes);
}

bool bulk_buffer(FILE *f, char **buf)
{
	*buf = NULL;
	if (!f)
		return false;
	bulk_pipe_grow(fileno(f), BULK_IO_BUFFER);
	/* glibc takes the size only with a buffer: setvbuf(f, NULL, _IOFBF,
	 * n) keeps its 4 KiB one */
	*buf = malloc(BULK_IO_BUFFER);
	if (*buf && setvbuf(f, *buf, _IOFBF, BULK_IO_BUFFER) != 0) {
		free(*buf);
		*buf = NULL;
	}
	return *buf != NULL;
}
