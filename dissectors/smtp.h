/*
 * smtp.h - the SMTP dissector's face.
 *
 * Fed with reassembled bytes per direction (never packets), plus gap and end
 * events, it follows the dialog (commands, replies paired through a bounded
 * FIFO so PIPELINING works, DATA/BDAT bodies streamed and counted, AUTH,
 * STARTTLS and then the TLS record layer), appends events to the session's
 * timeline, and keeps a summary (smtp_facts) a diagnosis reads at the end.
 *
 * Memory per session is bounded by the caps below whatever the input.
 * Passwords and AUTH tokens are never stored anywhere.
 */
#ifndef SLEUTH_SMTP_H
#define SLEUTH_SMTP_H

#include "common.h"
#include "facts.h"
#include "packet.h"
#include "smtp_words.h"
#include "timeline.h"
#include "tls.h"

/* Called with each message's body bytes after unstuffing (for --extract).
 * msg is the 0-based message index; n == 0 with done = true ends the message. */
typedef void (*smtp_body_fn)(void *ctx, uint32_t msg, const uint8_t *b, size_t n, bool done);

/* The TLS stream as the dissector hands it to its TLS record reader: after
 * STARTTLS's 220, or from the first byte on implicit TLS. b/n are bytes in
 * order; b == NULL reports `gap` missing bytes. For the key-log decryptor
 * (tls_decrypt.h), whose plaintext is SMTP again. */
typedef void (*smtp_tls_fn)(void *ctx, enum sl_dir dir, const uint8_t *b, size_t n, uint64_t gap);

struct smtp;

/* tl is owned by the caller and must outlive the dissector. */
struct smtp *smtp_new(struct timeline *tl);
/* Bytes smtp_new allocates (what a caller reserves against a memory cap;
 * the bounded growth of deferred lines and messages is not included). */
size_t smtp_state_size(void);
void smtp_set_body_sink(struct smtp *s, smtp_body_fn fn, void *ctx);
void smtp_set_tls_tap(struct smtp *s, smtp_tls_fn fn, void *ctx);
/* Re-entry: the decrypted application data of one TLS direction, read as
 * SMTP from the point TLS started, as if it had been on the wire. From the
 * first call on, that direction's wire bytes only go to the TLS record reader
 * and the tap. Never call it from inside the tap (queue the plaintext and
 * hand it over once smtp_data/smtp_gap returned); does nothing unless that
 * direction is reading TLS (or already re-entered). b == NULL: `gap`
 * plaintext bytes are lost (decryption of that direction ended). */
void smtp_tls_plain(struct smtp *s, enum sl_dir dir, const uint8_t *b, size_t n, uint64_t gap,
		    const struct seg_meta *m);
/* Has that direction re-entered (smtp_tls_plain was called for it)? */
bool smtp_tls_inner(const struct smtp *s, enum sl_dir dir);
void smtp_data(struct smtp *s, enum sl_dir dir, const uint8_t *b, size_t n, const struct seg_meta *m);
void smtp_gap(struct smtp *s, enum sl_dir dir, uint64_t len, const struct seg_meta *m);
/* The direction was closed (FIN or RST): flush a partial line. */
void smtp_end(struct smtp *s, enum sl_dir dir, const struct seg_meta *m);
const struct smtp_facts *smtp_facts(const struct smtp *s);
/* Records every change of the reading modes as an EV_STATE event ("client:
 * cmd -> body"), for tests and debugging; on from the start in builds with
 * SLEUTH_TRACE_STATES defined. */
void smtp_trace_states(struct smtp *s, bool on);
/* The capture started inside this session (no SYN): read each side only from
 * a certain boundary on (see smtp_int.h). Call before the first bytes. */
void smtp_set_midstream(struct smtp *s);
void smtp_free(struct smtp *s);

#endif
