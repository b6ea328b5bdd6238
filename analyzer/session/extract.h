/*
 * extract.h - --extract DIR: per session its packets as ID.pcap, its two
 * reassembled streams as ID.c2s / ID.s2c (exactly the bytes delivered in
 * order, nothing for gaps), each message as ID-N.eml (N from 1), and
 * DIR/index.json: per session its files and the map from its pcap's frame
 * numbers to the capture's; with a
 * TLS key log the decrypted streams as ID.tls.c2s / ID.tls.s2c.
 *
 * Files are written as data arrives, so memory does not grow with a session.
 * At most EXTRACT_MAX_OPEN_FILES descriptors are held; others are closed and
 * reopened in append mode when needed. Files are created 0600, never
 * through a link and never over an existing file (with force, an existing
 * regular file is replaced); DIR is created 0700 and must not be a link.
 */
#ifndef SLEUTH_EXTRACT_H
#define SLEUTH_EXTRACT_H

#include "common.h"
#include "packet.h"

#define EXTRACT_MAX_OPEN_FILES 256
#define EXTRACT_ERROR_MAX 320      /* the first error's message */

struct extractor;
struct extract_session;

/* NULL with a message in err when DIR cannot be used (a link, writable by
 * others, index.json exists and force is off, ...). */
struct extractor *extract_new(const char *dir, bool force, char *err, size_t errlen);
struct extract_session *extract_session_open(struct extractor *x, uint64_t id);
void extract_packet(struct extract_session *es, const struct raw_packet *raw);
void extract_stream(struct extract_session *es, enum sl_dir dir, const uint8_t *b, size_t n);
/* Decrypted TLS application data of one direction (ID.tls.c2s / ID.tls.s2c). */
void extract_tls_stream(struct extract_session *es, enum sl_dir dir, const uint8_t *b, size_t n);
/* Matches smtp_body_fn; ctx is the extract_session. */
void extract_body(void *ctx, uint32_t msg, const uint8_t *b, size_t n, bool done);
/* keep = false removes the session's files (a flow that turned out not to be SMTP). */
void extract_session_close(struct extract_session *es, bool keep);
/* Number of files refused or write errors so far (exists, disk full...),
 * and the first one's message ("" if none), for the summary. */
uint64_t extract_errors(const struct extractor *x);
const char *extract_first_error(const struct extractor *x);
/* Closes every file and completes index.json (after the last session). */
void extract_finish(struct extractor *x);
/* extract_finish if not done, then frees. */
void extract_free(struct extractor *x);

#endif
