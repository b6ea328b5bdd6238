/*
 * extract.h - --extract DIR: per session its packets as ID.pcap, its two
 * reassembled streams as ID.c2s / ID.s2c (exactly the bytes delivered in
 * order, nothing for gaps), each message as ID-N.eml (N from 1), and with a
 * TLS key log the decrypted streams as ID.tls.c2s / ID.tls.s2c.
 *
 * Files are written as data arrives, so memory does not grow with a session.
 * At most EXTRACT_MAX_OPEN_FILES descriptors are held; others are closed and
 * reopened in append mode when needed.
 */
#ifndef SLEUTH_EXTRACT_H
#define SLEUTH_EXTRACT_H

#include "common.h"
#include "packet.h"

#define EXTRACT_MAX_OPEN_FILES 256

struct extractor;
struct extract_session;

struct extractor *extract_new(const char *dir, char *err, size_t errlen);
struct extract_session *extract_session_open(struct extractor *x, uint64_t id);
void extract_packet(struct extract_session *es, const struct raw_packet *raw);
void extract_stream(struct extract_session *es, enum sl_dir dir, const uint8_t *b, size_t n);
/* Decrypted TLS application data of one direction (ID.tls.c2s / ID.tls.s2c). */
void extract_tls_stream(struct extract_session *es, enum sl_dir dir, const uint8_t *b, size_t n);
/* Matches smtp_body_fn; ctx is the extract_session. */
void extract_body(void *ctx, uint32_t msg, const uint8_t *b, size_t n, bool done);
/* keep = false removes the session's files (a flow that turned out not to be SMTP). */
void extract_session_close(struct extract_session *es, bool keep);
/* Number of write errors so far (disk full...), for the summary. */
uint64_t extract_errors(const struct extractor *x);
void extract_free(struct extractor *x);

#endif
