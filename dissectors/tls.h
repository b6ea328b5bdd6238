/*
 * tls.h - TLS record layer, read far enough to tell a refused or broken
 * handshake from an encrypted session: hellos, alerts, application data.
 * Used after STARTTLS and on implicit-TLS ports. Handshake messages may span
 * records and segments; the parser keeps at most TLS_HS_BUF_MAX bytes.
 */
#ifndef SLEUTH_TLS_H
#define SLEUTH_TLS_H

#include "../analyzer/common.h"
#include "../analyzer/engine.h"
#include "../analyzer/timeline.h"

#define TLS_HS_BUF_MAX 16384

struct tls_facts {
	bool client_hello, server_hello;
	uint64_t client_hello_frame, server_hello_frame;
	char sni[256];
	uint16_t offered_max;       /* highest version offered (supported_versions or legacy) */
	uint16_t version;           /* chosen by the server (0x0304 = TLS 1.3) */
	bool alert;                 /* an alert was seen in clear */
	uint8_t alert_level, alert_desc;
	uint8_t alert_dir;          /* enum sl_dir of the side that sent it */
	uint64_t alert_frame;
	uint64_t appdata_bytes[2];  /* per enum sl_dir */
	uint64_t appdata_records[2];
	uint64_t first_appdata_frame[2];
	bool handshake_done;        /* ChangeCipherSpec/appdata both ways, or TLS 1.3 appdata both ways */
	bool plaintext_after_tls;   /* a side sent non-TLS bytes where TLS was due */
	uint8_t plaintext_dir;
	uint64_t plaintext_frame;
	/* added */
	bool ccs[2];                /* ChangeCipherSpec seen, per enum sl_dir */
	uint64_t records[2];        /* records parsed, per enum sl_dir */
	bool bad_record[2];         /* a record header that is not TLS ended parsing of that side */
	uint16_t cipher;            /* chosen by the server */
};

struct tls_dir;             /* per-direction record parser state */
struct tls;

struct tls *tls_new(struct tls_facts *facts, struct timeline *tl);
void tls_data(struct tls *t, enum sl_dir dir, const uint8_t *b, size_t n, const struct seg_meta *m);
void tls_gap(struct tls *t, enum sl_dir dir, uint64_t len);
/* The side sent bytes that are not TLS where TLS was due: records
 * plaintext_after_tls and an EV_TLS_MISMATCH event; that side is no longer parsed. */
void tls_plaintext(struct tls *t, enum sl_dir dir, const struct seg_meta *m);
void tls_free(struct tls *t);
const char *tls_version_name(uint16_t v);
const char *tls_alert_name(uint8_t desc);

#endif
