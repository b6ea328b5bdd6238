/*
 * session_view.h - what a diagnosis and the reporters see of one SMTP session
 * when it ends: TCP facts, SMTP facts, the timeline, and how nDPI named it.
 * Everything is read-only and valid for the duration of the call it is
 * passed to.
 */
#ifndef SLEUTH_SESSION_VIEW_H
#define SLEUTH_SESSION_VIEW_H

#include <stdio.h>

#include "common.h"
#include "community_id.h"
#include "facts.h"
#include "flow_info.h"
#include "timeline.h"

#define SESSION_MAX_RISKS 16
#define SESSION_TLS_KEYS_MAX 5

/* TLS decryption with a key log (--tls-keylog, SSLKEYLOGFILE), filled by the
 * session glue (analyzer/session/tls_session.c). No key material here: the
 * labels of the key log lines used and the line that would decrypt the
 * session are a label and the (public) client random. */
struct session_tls {
	bool decrypted;                 /* application data was decrypted and read as SMTP */
	const char *keys[SESSION_TLS_KEYS_MAX]; /* key log labels used ("CLIENT_RANDOM", ...) */
	uint32_t n_keys;
	const char *status[2];          /* per direction (enum sl_dir): tlsd_status_name() */
	uint64_t app_bytes[2];          /* plaintext bytes read as SMTP per direction */
	const char *cipher;             /* IANA name, NULL when unknown */
	char wanted[128];               /* "LABEL <client random>" that would decrypt it, "" when none */
};

/* Facts another module adds to a session's report: the `path` object of
 * `analyze --pair`. json writes one JSON value (after "key":), text writes
 * indented lines after the verdict block. */
struct report_extra {
	const char *key;
	void (*json)(FILE *f, const void *ctx);
	void (*text)(FILE *f, const void *ctx);
	const void *ctx;
	/* "server" for a session of analyze --pair seen in the server-side
	 * capture only: its id counts that capture's flows and may equal a
	 * client-side session's (the HTML page keys its rows by both). */
	const char *seen_only_at;
};

struct session_view {
	uint64_t id;                    /* = flow_info.id */
	const struct flow_info *fi;
	const struct smtp_facts *smtp;  /* never NULL (all zero when no bytes flowed) */
	const struct timeline *tl;
	const char *protocol;           /* nDPI's name: "SMTP", "SMTPS", "TLS", "Unknown", ... */
	bool protocol_guessed;          /* nDPI named it from the port only, not the bytes */
	const char *risks[SESSION_MAX_RISKS];   /* nDPI risk names shown */
	uint32_t n_risks;
	/* nDPI risks left out as wrong for mail on a mail port, with why
	 * (classify.c's table; README "nDPI's findings"). */
	const char *risks_ignored[SESSION_MAX_RISKS];
	const char *risks_ignored_why[SESSION_MAX_RISKS];
	uint32_t n_risks_ignored;
	enum flow_end end;
	sl_time capture_end;            /* time of the newest record read so far */
	bool capture_started_midstream; /* first packet was not a SYN */
	/* Non-NULL when the capture was cut while this session was open: the
	 * analysis was interrupted, or the file it was in is damaged or
	 * truncated. Names the cause ("analysis interrupted (SIGINT)", or the
	 * input error). The diagnosis then gives capture_incomplete unless the
	 * part read already proves a cause by a server reply. */
	const char *cut;
	const struct report_extra *extra;   /* NULL when none */
	/* Community ID v1, seed 0; "" if unknown. sessions.c fills it only
	 * under --shard (which needs the digest); otherwise the pipeline
	 * computes it from fi before the reporters see the view. */
	char community_id[COMMUNITY_ID_STRLEN];
	uint64_t seq;                   /* 1-based rank of this flow's end among all flows' ends
	                                   (= the order of output); shard runs tag sessions with it */
	/* Non-NULL when a key log was given and the session went into TLS. */
	const struct session_tls *tls_dec;
	/* Non-NULL when nDPI has yet to see this session (the session glue's
	 * defer_classify): the packets kept for it, cls_kept_len bytes, for the
	 * consumer to show its own classifier (analyzer/session/
	 * classify_defer.h); protocol is NULL and no risks are set until then.
	 * cls_mail_port: the server port is a mail port (for the risks). */
	const uint8_t *cls_kept;
	size_t cls_kept_len;
	bool cls_mail_port;
};

#endif
