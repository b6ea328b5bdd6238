/*
 * merge.h - several capture files read as one capture, merged by timestamp
 * as `mergecap` does.
 *
 * Files are numbered (the `file` part of a frame reference, packet.h) in the
 * order of their first record's timestamp, then by name, so any order of
 * names on the command line gives the same numbering and the same merged
 * stream. Records come out in timestamp order; equal timestamps come out in
 * file order. A file whose reading fails is reported through the error
 * callback and ends there; the others go on.
 */
#ifndef SLEUTH_MERGE_H
#define SLEUTH_MERGE_H

#include <signal.h>

#include "common.h"
#include "packet.h"

/* Every file is held open at once, like mergecap; read buffers shrink from
 * 1 MiB each when there are many (merge.c). */
#define MERGE_MAX_FILES 4096

struct merge;

/* Called for every input error (a file that cannot be opened, a damaged
 * record, bytes left after the last record). msg names the file; file is
 * the file's number (-1 before numbering: nothing was read from it) and
 * last_ts the time of the last record read from it (0 if none). */
typedef void (*merge_error_fn)(void *ctx, int file, sl_time last_ts, const char *msg);

/* Opens every path ("-" is stdin) and reads its first record (the first
 * the BPF expression bpf accepts, when not NULL). Returns NULL
 * only when nothing can be set up (out of memory, too many files; message
 * in err). Files that fail to open are reported through on_error and take
 * the last numbers. */
struct merge *merge_open(char *const *paths, size_t n, const char *bpf, merge_error_fn on_error, void *ctx,
			 char *err, size_t errlen);
/* 1: *out is the next record in time (valid until the next call; its frame
 * is frame_make(file, record number)); 0: every file is done. */
int merge_next(struct merge *m, struct raw_packet *out);
/* A flag (set by a signal handler) that stops the merge: once it is set,
 * merge_next returns 0, and a read it interrupted (EINTR) is not reported
 * as a damaged file. */
void merge_set_stop_flag(struct merge *m, const volatile sig_atomic_t *flag);
size_t merge_files(const struct merge *m);
/* The name of file idx as the user gave it ("stdin" for -), NULL if out of range. */
const char *merge_file_name(const struct merge *m, uint32_t idx);
/* Names by file number, for the reporters; valid until merge_close. */
const char *const *merge_file_names(const struct merge *m);
/* The link type of input idx and pcap's name for it, or -1 when the input
 * is not open (it failed). */
int merge_file_linktype(const struct merge *m, uint32_t idx, const char **name);
/* Bytes read so far and the total size of the regular files (0 total when an
 * input is not a regular file), for a progress line. */
void merge_progress(const struct merge *m, uint64_t *done, uint64_t *total);
/* Number of files that ended with an error. */
uint32_t merge_failed(const struct merge *m);
void merge_close(struct merge *m);

#endif
