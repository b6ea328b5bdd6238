/*
 * tls_session.h - one SMTP session's TLS decryption with a key log: the
 * glue between the SMTP dissector's TLS tap, the record decryptor
 * (tls_decrypt.h) and the dissector's re-entry (smtp_tls_plain), so the
 * decrypted dialog is read by the same dissector from the point TLS started
 * and diagnosed like plaintext.
 *
 * The session glue (sessions.c) calls the three wrappers below in place of
 * smtp_data/smtp_gap/smtp_end; with t == NULL (no key log) they are exactly
 * those calls. Plaintext produced while the dissector is inside its own
 * reading loop is queued (at most TLS_SESSION_QUEUE_MAX bytes; beyond, a gap)
 * and handed over when the call returns. A gap, a record that fails its tag
 * or malformed bytes end decryption of that direction: the dissector is told
 * of a gap in the plaintext, never given garbage. With --extract, the
 * plaintext goes to ID.tls.c2s / ID.tls.s2c.
 */
#ifndef SLEUTH_TLS_SESSION_H
#define SLEUTH_TLS_SESSION_H

#include "common.h"
#include "extract.h"
#include "keylog.h"
#include "packet.h"
#include "session_view.h"
#include "smtp.h"

#define TLS_SESSION_QUEUE_MAX (256u * 1024u)

struct tlss;

/* Installs itself as smtp's TLS tap. NULL when memory runs out (the session
 * is then read without decryption). xs may be NULL. */
struct tlss *tlss_new(const struct keylog *kl, struct smtp *smtp, struct extract_session *xs);
void tlss_data(struct tlss *t, struct smtp *smtp, enum sl_dir dir, const uint8_t *b, size_t n,
		      const struct seg_meta *m);
void tlss_gap(struct tlss *t, struct smtp *smtp, enum sl_dir dir, uint64_t len,
		     const struct seg_meta *m);
void tlss_end(struct tlss *t, struct smtp *smtp, enum sl_dir dir, const struct seg_meta *m);
/* What the reports show; NULL when the session never went into TLS. Valid
 * until tlss_free. */
const struct session_tls *tlss_view(struct tlss *t);
void tlss_free(struct tlss *t);

#endif
