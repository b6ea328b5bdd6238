/*
 * diag_int.h - what the diagnosis modules share: the per-call context, the
 * helpers that write the verdict (diag_write.c), the facts the rules look up
 * (diag_facts.c) and the rules themselves, one function each (diag_tcp.c,
 * diag_tls.c, diag_smtp.c), whose order is diagnose.c's RULES[] table.
 * Internal to the diagnosis; everything stays pure.
 */
#ifndef SLEUTH_DIAG_INT_H
#define SLEUTH_DIAG_INT_H

#include <stdarg.h>

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
/* A server's close on the client's turn sooner than this after the last
 * data is no idle timeout (servers' idle limits are seconds to minutes). */
#define DIAG_IDLE_MIN_NS (1 * NS_PER_SEC)
/* A client that closes sooner than this after a command it got no reply to
 * did not wait for one (client_abort); later, it gave up on a silent server
 * (idle_timeout). Mail clients wait a minute or more by default, scripted
 * ones (swaks, smtplib with a timeout) tens of seconds. */
#define DIAG_CLIENT_WAIT_MIN_NS (20 * NS_PER_SEC)

struct close_ev {
	int dir;            /* -1 none, else enum sl_dir of the sender */
	bool rst;
	uint64_t frame;
	sl_time ts;
};

/* The decisive reply (docs/RULES.md, "Decisive replies"), found once. */
struct diag_decisive {
	bool done;                      /* computed (diag_decisive()) */
	bool have;                      /* dec/rd state a cause */
	bool codeless;                  /* ... read from a line without a reply code (R2) */
	struct smtp_reply dec;
	struct reply_reading rd;
	struct smtp_reply syn;          /* the newest syntax-class error, code 0 if none */
	bool syn_blocks;                /* syn answers the mail transaction (R4; blocks Q1) */
};

struct dctx {
	const struct session_view *s;
	const struct flow_info *fi;
	const struct smtp_facts *f;
	const struct diag_config *cfg;
	struct verdict *v;
	struct close_ev first;          /* first FIN or RST of the flow */
	struct reply_ctx rc;
	struct reply_cache *rcache;     /* each reply read once (diag_reply_cached); on diagnose()'s stack */
	struct diag_decisive dk;        /* see diag_decisive() */
};

/* ---- diag_write.c: writing the verdict ---- */

void diag_appendf(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define EXPLAIN(d, ...) diag_appendf((d)->v->explanation, sizeof((d)->v->explanation), __VA_ARGS__)
void diag_advise(struct dctx *d, const char *a);
/* A session the capture cut short (session_view.cut): capture_incomplete
 * unless a server reply read before the cut proves the cause (diag_cut.c). */
void diag_apply_cut(const struct session_view *s, const struct diag_config *cfg, struct verdict *v);
/* Flows a cap ended early, and the rest of such a flow seen later: never a
 * confident verdict on half a dialog (diag_cut.c). */
void diag_apply_evicted(const struct session_view *s, const struct diag_config *cfg, struct verdict *v);
/* One evidence line (deduplicated; a zero time is looked up in the timeline). */
void diag_evidence(struct dctx *d, uint64_t frame, sl_time ts, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* "30.0 s", "2.50 s", "250 ms", "1.2 ms", "200 µs", "under 1 µs" (diag_fmt.c) */
const char *diag_dur(sl_time ns, char *buf, size_t len);
/* ---- diag_fmt.c: exactly what vsnprintf / snprintf write, for less ---- */
void diag_vfmt(char *buf, size_t cap, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
void diag_fmt(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *diag_side(int dir);
void diag_set_cause(struct dctx *d, enum cause c, enum confidence conf);
void diag_set_reply(struct dctx *d, const struct smtp_reply *r);
void diag_reply_evidence(struct dctx *d, const struct smtp_reply *r, const char *label);
/* Evidence lines for every FIN and RST, the first one and abortive ones named. */
void diag_close_evidence(struct dctx *d);
/* closed_by / close from the first FIN or RST. */
void diag_set_closer(struct dctx *d);
void diag_say_closer(struct dctx *d);
/* The verdict a reply decides (cause, phase, explanation, evidence, advice). */
void diag_reply_verdict(struct dctx *d, const struct smtp_reply *r, const struct reply_reading *rd);
/* Advertised SIZE, declared SIZE= and bytes sent, in words and evidence. */
void diag_size_facts(struct dctx *d, const struct smtp_message *m);
void diag_where_it_stopped(struct dctx *d);
/* Evidence in capture order (frame 0 = no frame, kept last). */
void diag_sort_evidence(struct verdict *v);

/* ---- diag_facts.c: facts the rules look up ---- */
void diag_find_first_close(struct dctx *d);
const struct smtp_message *diag_last_msg(const struct smtp_facts *f);
bool diag_ok2(uint16_t code);
/* a came after b: by time, then by frame. */
bool diag_after(const struct smtp_reply *a, const struct smtp_reply *b);
const struct diag_decisive *diag_decisive(struct dctx *d);
/* The earlier refusal a demand only follows from (a 530 after a refused
 * AUTH or STARTTLS, a 421 after refused AUTHs): true and *out when so. */
bool diag_root_refusal(const struct dctx *d, const struct reply_reading *rd, const struct smtp_reply *dec,
		       struct smtp_reply *out);
/* Retransmissions with no progress after them at the end of the timeline. */
uint32_t diag_trailing_retransmissions(const struct dctx *d, uint64_t *first_frame, sl_time *first_ts);
/* Trailing retransmissions enough for rule N1 (a stall) before an open end. */
bool diag_stalled_at_end(const struct dctx *d);
/* The 250 answering the last EHLO in the timeline, or NULL. */
const struct event *diag_ehlo_reply(const struct dctx *d);
/* The positive answer to QUIT, if any (paired, unpaired 221, or last 2xx after QUIT). */
const struct smtp_reply *diag_quit_answer(const struct smtp_facts *f);

/* ---- the rules, in docs/RULES.md's order: true when the rule decided ---- */
bool diag_t1_refused(struct dctx *d);           /* diag_tcp.c */
bool diag_t2_one_sided(struct dctx *d);
bool diag_t3_unanswered(struct dctx *d);        /* with T3b */
bool diag_q1_quit_answered(struct dctx *d);     /* diag_smtp.c */
bool diag_s1_tls_mismatch(struct dctx *d);      /* diag_tls.c */
bool diag_r1_decisive_reply(struct dctx *d);    /* diag_smtp.c */
bool diag_r2_codeless_line(struct dctx *d);
bool diag_r3_syntax_then_close(struct dctx *d);
bool diag_r4_syntax_blocks(struct dctx *d);
bool diag_g1_no_greeting(struct dctx *d);       /* diag_tcp.c */
bool diag_s2_tls_alert(struct dctx *d);         /* diag_tls.c */
bool diag_s3_encrypted(struct dctx *d);
bool diag_s4_tls_cut(struct dctx *d);
bool diag_z1_size_close(struct dctx *d);        /* diag_smtp.c */
bool diag_c1_open_at_end(struct dctx *d);
bool diag_c2_unreadable(struct dctx *d);
bool diag_m1_middlebox(struct dctx *d);         /* diag_tcp.c */
bool diag_n1_network(struct dctx *d);
bool diag_i0_quit_then_close(struct dctx *d);   /* diag_smtp.c */
bool diag_i1_clients_turn(struct dctx *d);      /* with I1b */
bool diag_i2_pending(struct dctx *d);
bool diag_k1_client_done(struct dctx *d);
bool diag_i3_server_silent(struct dctx *d);
bool diag_k2_client_abort(struct dctx *d);
bool diag_k3_midstream(struct dctx *d);
bool diag_u_nothing_fits(struct dctx *d);

/* diag_client_view.c: fills v->client_view from the verdict. */
void diag_client_view(struct verdict *v);
/* Adds to the explanation that a recipient refused from structure alone may
 * have been a relay refusal worded as an address refusal. */
void diag_relay_hint(struct dctx *d);

#endif
