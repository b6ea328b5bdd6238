/*
 * tls_words.h - names of TLS protocol versions and alert descriptions.
 */
#ifndef SLEUTH_TLS_WORDS_H
#define SLEUTH_TLS_WORDS_H

#include <stdint.h>

/* "TLS 1.2", "none" for 0, "unknown" otherwise. */
const char *tls_version_name(uint16_t v);
/* "handshake_failure", ...; "unknown_alert" for values not in RFC 8446. */
const char *tls_alert_name(uint8_t desc);

#endif
