/*
 * diag_int.h - what the diagnosis modules share (diagnose.c: the order of
 * the rules and the SMTP-level rules; diag_tcp.c: TCP-level rules;
 * diag_tls.c: TLS rules): the per-call context and the helpers that write
 * the verdict. Internal to the diagnosis; everything stays pure.
 */
#ifndef SLEUTH_DIAG_INT_H
#define SLEUTH_DIAG_INT_H

#include "diag_reply.h"
#include "diagnose.h"

/* A RST whose TTL differs from every other packet of its side by more than
 * this many hops is taken as not sent by that side. Routes rarely change by
 * more than a hop or two inside one session. */
#define DIAG_TTL_TOLERANCE 3
/* Retransmissions after the last progress that make a stall. */
#define DIAG_STALL_RETRANS 3
/* A stalled segment at least this big is "full-sized" (MTU black hole). */
#define DIAG_MTU_SEGMENT 1200
/* Packets a side must have sent before its RST is judged against them (M1). */
#define DIAG_RST_MIN_PACKETS 3
/* ... or this many, all with TCP timestamps, when the RST has none (an
 * injection at the first command: only the SYN-ACK and the greeting came
 * before it). */
#define DIAG_RST_MIN_TS_PACKETS 2
/* Accept-then-close: a close this soon after the handshake is a refusal
 * rather than a server that was slow to greet. */
#define DIAG_QUICK_CLOSE (5 * NS_PER_SEC)

struct close_ev {
	int dir;            /* -1 none, else enum sl_dir of the sender */
	bool rst;
	uint64_t frame;
	sl_time ts;
};

struct dctx {
	const struct session_view *s;
	const struct flow_info *fi;
	const struct smtp_facts *f;
	const struct diag_config *cfg;
	struct verdict *v;
	struct close_ev first;          /* first FIN or RST of the flow */
	struct reply_ctx rc;
	struct reply_cache *cache;      /* readings of this diagnosis (NULL: none) */
};

/* Reads a reply through the diagnosis's reply cache: each reply once. */
static inline void diag_read_reply(const struct dctx *d, const struct smtp_reply *r,
				   struct reply_reading *out)
{
	if (d->cache)
		diag_reply_cached(d->cache, r, &d->rc, out);
	else
		diag_classify_reply(r, &d->rc, out);
}

void diag_appendf(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define EXPLAIN(d, ...) diag_appendf((d)->v->explanation, sizeof((d)->v->explanation), __VA_ARGS__)
void diag_advise(struct dctx *d, const char *a);
/* A session the capture cut short (session_view.cut): capture_incomplete
 * unless a server reply read before the cut proves the cause (diag_cut.c). */
void diag_apply_cut(const struct session_view *s, const struct diag_config *cfg, struct verdict *v);
/* One evidence line (deduplicated; a zero time is looked up in the timeline). */
void diag_evidence(struct dctx *d, uint64_t frame, sl_time ts, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* "30.0 s", "250 ms", "0.20 ms" */
const char *diag_dur(sl_time ns, char *buf, size_t len);
const char *diag_side(int dir);
void diag_set_cause(struct dctx *d, enum cause c, enum confidence conf);
void diag_set_reply(struct dctx *d, const struct smtp_reply *r);
void diag_reply_evidence(struct dctx *d, const struct smtp_reply *r, const char *label);
/* Evidence lines for every FIN and RST, the first one and abortive ones named. */
void diag_close_evidence(struct dctx *d);
/* closed_by / close from the first FIN or RST. */
void diag_set_closer(struct dctx *d);
void diag_say_closer(struct dctx *d);
const struct smtp_message *diag_last_msg(const struct smtp_facts *f);
bool diag_ok2(uint16_t code);
/* Advertised SIZE, declared SIZE= and bytes sent, in words and evidence. */
void diag_size_facts(struct dctx *d, const struct smtp_message *m);
void diag_where_it_stopped(struct dctx *d);
/* Retransmissions with no progress after them at the end of the timeline. */
uint32_t diag_trailing_retransmissions(const struct dctx *d, uint64_t *first_frame, sl_time *first_ts);
/* The positive answer to QUIT, if any (paired, unpaired 221, or last 2xx after QUIT). */
const struct smtp_reply *diag_quit_answer(const struct smtp_facts *f);

/* Rules: true when the rule decided the verdict. */
bool diag_rule_tcp(struct dctx *d);           /* refused, unanswered, one-sided */
bool diag_rule_no_greeting(struct dctx *d);   /* accept then close */
bool diag_rule_middlebox(struct dctx *d);     /* injected RST */
bool diag_rule_network(struct dctx *d);
/* Trailing retransmissions enough for rule N1 (a stall) before an open end. */
bool diag_stalled_at_end(const struct dctx *d);       /* stalled retransmissions */
bool diag_rule_tls_mismatch(struct dctx *d);  /* TLS against plaintext */
bool diag_rule_tls(struct dctx *d);           /* alerts, encrypted, broken handshakes */

#endif
