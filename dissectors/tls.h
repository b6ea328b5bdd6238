/*
 * tls.h - TLS record layer, read far enough to tell a refused or broken
 * handshake from an encrypted session: hellos, alerts, application data.
 * Used after STARTTLS and on implicit-TLS ports. Handshake messages may span
 * records and segments; the parser keeps at most TLS_HS_BUF_MAX bytes.
 */
#ifndef SLEUTH_TLS_H
#define SLEUTH_TLS_H

#include "common.h"
#include "facts.h"
#include "packet.h"
#include "timeline.h"
#include "tls_words.h"

#define TLS_HS_BUF_MAX 16384

struct tls_dir;             /* per-direction record parser state */
struct tls;

struct tls *tls_new(struct tls_facts *facts, struct timeline *tl);
void tls_data(struct tls *t, enum sl_dir dir, const uint8_t *b, size_t n, const struct seg_meta *m);
void tls_gap(struct tls *t, enum sl_dir dir, uint64_t len);
/* The side sent bytes that are not TLS where TLS was due: records
 * plaintext_after_tls and an EV_TLS_MISMATCH event; that side is no longer parsed. */
void tls_plaintext(struct tls *t, enum sl_dir dir, const struct seg_meta *m);
void tls_free(struct tls *t);

#endif
