/*
 * timeline.h - the ordered events of one session, for diagnosis, evidence and
 * transcripts.
 *
 * Memory is bounded: the first TL_HEAD_KEEP events are always kept (how the
 * session began), and after that the newest events overwrite the oldest in a
 * ring of TL_TAIL_KEEP (how it ended). `dropped` counts what the ring lost,
 * so a transcript can say "... N events omitted ...". The array grows on
 * demand, so a short session costs little.
 *
 * Texts are copied (printable, truncated to EV_TEXT_MAX - 1); a producer never
 * hands in a secret (AUTH credentials are replaced before they get here).
 */
#ifndef SLEUTH_TIMELINE_H
#define SLEUTH_TIMELINE_H

#include "common.h"
#include "memcap.h"

#define EV_TEXT_MAX   160
#define TL_HEAD_KEEP  96
#define TL_TAIL_KEEP  416
/* How transcripts introduce an EV_NOCODE_LINE (the line's kept text
 * follows; the dissector keeps no more of it than fits behind this). */
#define NOCODE_NOTE_PREFIX "server line without a reply code: "

/* kind, short name. The name appears in JSON and transcripts. */
#define EVENT_KINDS(X) \
	/* TCP */ \
	X(EV_SYN, "syn") \
	X(EV_SYNACK, "syn-ack") \
	X(EV_SYN_RST, "rst-to-syn") \
	X(EV_FIN, "fin") \
	X(EV_RST, "rst") \
	X(EV_GAP, "gap")                        /* num: bytes lost */ \
	X(EV_RETRANSMISSION, "retransmission")  /* num: bytes */ \
	X(EV_ZERO_WINDOW, "zero-window") \
	X(EV_KEEPALIVE, "keep-alive") \
	X(EV_OVERLAP, "overlap-conflict") \
	X(EV_TRUNCATED, "snaplen-truncated") \
	X(EV_MIDSTREAM, "midstream-pickup") \
	X(EV_DATA_AFTER_CLOSE, "data-after-close") \
	X(EV_REASSEMBLY_CAP, "reassembly-cap") \
	X(EV_BAD_TIMESTAMP, "bad-timestamp")    /* num: the record's seconds; its time was not used */ \
	/* SMTP */ \
	X(EV_GREETING, "greeting")              /* code, enhanced, text */ \
	X(EV_COMMAND, "command")                /* text: the line (secrets masked); code: enum smtp_cmd */ \
	X(EV_REPLY, "reply")                    /* code, enhanced, text: first line; num: lines */ \
	X(EV_REPLY_UNPAIRED, "unpaired-reply")  /* a reply with no command pending */ \
	X(EV_DATA_START, "data-start") \
	X(EV_DATA_END, "data-end")              /* num: message bytes as sent (dot-stuffed) */ \
	X(EV_BDAT, "bdat")                      /* num: chunk size; code 1 when LAST */ \
	X(EV_AUTH, "auth")                      /* text: mechanism and user */ \
	X(EV_AUTH_RESULT, "auth-result")        /* code; text accepted/refused/aborted */ \
	X(EV_STARTTLS, "starttls")              /* code of the reply to STARTTLS */ \
	X(EV_LONG_LINE, "long-line")            /* num: line length */ \
	X(EV_BARE_LF, "bare-lf") \
	X(EV_EARLY_TALKER, "early-talker")      /* client spoke before the greeting */ \
	X(EV_NOT_SMTP, "not-smtp")              /* bytes that are not SMTP where SMTP was due; from the
	                                           server also enhanced and num as EV_NOCODE_LINE */ \
	X(EV_NOCODE_LINE, "nocode-line")        /* a server line without a reply code outside a reply;
	                                           text: the line; enhanced: the enhanced code it starts
	                                           with ("" if none); num: offset in text of the words
	                                           after that code. Transcripts print it as the note
	                                           "server line without a reply code: LINE" */ \
	X(EV_RESYNC, "resync")                  /* dissector resynchronised after a gap */ \
	X(EV_PENDING_OVERFLOW, "pending-overflow") \
	X(EV_TUNNEL, "tunnel")                  /* HTTP CONNECT / SOCKS prelude before SMTP */ \
	/* TLS */ \
	X(EV_TLS_CLIENT_HELLO, "tls-client-hello")  /* text: SNI and versions */ \
	X(EV_TLS_SERVER_HELLO, "tls-server-hello")  /* text: chosen version */ \
	X(EV_TLS_ALERT, "tls-alert")            /* code: level*256 + description; text: name */ \
	X(EV_TLS_APPDATA, "tls-application-data") /* num: bytes (first record per side only) */ \
	X(EV_TLS_MISMATCH, "tls-mismatch")      /* TLS on one side, plaintext on the other */ \
	/* other */ \
	X(EV_NOTE, "note") \
	X(EV_STATE, "state")                    /* a dissector mode change (traces only) */

#define X(e, s) e,
enum ev_kind { EVENT_KINDS(X) EV__COUNT };
#undef X
const char *ev_kind_name(enum ev_kind k);

struct event {
	sl_time ts;
	uint64_t frame;
	uint64_t num;
	uint16_t kind;          /* enum ev_kind */
	uint8_t dir;            /* enum sl_dir of the bytes or packet that caused it */
	uint16_t code;          /* reply code, or as the kind says */
	char enhanced[12];      /* "5.3.4" or "" */
	char text[EV_TEXT_MAX];
};

struct timeline {
	struct event *ev;       /* storage; see tl_at() for order */
	uint32_t cap;           /* allocated */
	uint32_t n;             /* events stored (<= TL_HEAD_KEEP + TL_TAIL_KEEP) */
	uint32_t ring_start;    /* index (>= TL_HEAD_KEEP) of the oldest tail event once full */
	uint64_t total;         /* events ever added */
	uint64_t dropped;       /* overwritten by the ring */
	bool oom;               /* an allocation failed; later events are counted, not kept */
	struct memcap *mem;     /* storage is reserved here (NULL: not counted); set after tl_init */
};

void tl_init(struct timeline *tl);
void tl_free(struct timeline *tl);
/* Appends an event and returns it (so a caller can fill code/enhanced/num),
 * or NULL when it could not be stored. text may be NULL; it is sanitised. */
struct event *tl_add(struct timeline *tl, enum ev_kind kind, enum sl_dir dir,
		     sl_time ts, uint64_t frame, const void *text, size_t textlen);
/* Number of stored events, and the i-th in time order (0 = oldest kept).
 * Between index TL_HEAD_KEEP-1 and TL_HEAD_KEEP there may be a hole of
 * `dropped` events. */
uint32_t tl_count(const struct timeline *tl);
const struct event *tl_at(const struct timeline *tl, uint32_t i);
/* The same, writable: for a dissector that learns later what an event was
 * (a line answered 235 was AUTH data: its text is hidden). */
struct event *tl_at_mut(struct timeline *tl, uint32_t i);
/* The newest event of a kind (optionally of a direction; dir < 0 = any), or NULL. */
const struct event *tl_last(const struct timeline *tl, enum ev_kind kind, int dir);

#endif
