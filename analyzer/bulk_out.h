/*
 * bulk_out.h - large blocks for the streams of `smtpsleuth merge`: its
 * inputs and its output (hundreds of MB, which stdio's default 4 KiB buffer
 * read and wrote in 30,000 calls each), and the pipes between it and the
 * `analyze --shard` runs (64 KiB by default: a shard could run only that
 * far ahead of the others before the merge stopped draining it).
 */
#ifndef SLEUTH_BULK_OUT_H
#define SLEUTH_BULK_OUT_H

#include <stdbool.h>
#include <stdio.h>

#define BULK_IO_BUFFER (1u << 20)   /* stdio buffer, and a pipe's capacity when the kernel allows */

/* Raises the capacity of fd to bytes when it is a pipe (FIFO), within the
 * kernel's pipe-max-size; anything else, or a refusal, leaves it as it is. */
void bulk_pipe_grow(int fd, unsigned bytes);

/* Gives f a BULK_IO_BUFFER-byte buffer of its own, stored in *buf (the
 * caller frees it once f is closed, or set back to stdio's buffering), and
 * grows the pipe under f. Call before the first read or write of f. False
 * (f keeps stdio's buffer) without memory. */
bool bulk_buffer(FILE *f, char **buf);

#endif
