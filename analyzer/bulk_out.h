/*
 * bulk_out.h - large-block output for streams a program reads, not a
 * person: `analyze --shard` writing for `smtpsleuth merge`, and merge's own
 * inputs and output. Outputs of hundreds of MB in 4 KiB writes (stdio's
 * default on a pipe) or one write per session cost more system time than
 * the shard saved; a pipe's 64 KiB capacity wakes the reader as often.
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
