/*
 * srv.h - internals of the bundled SMTP server, shared by its modules:
 * the policy (what the operator asked for), the session (one connection and
 * its SMTP state), the server (listener, epoll, session list), and the small
 * interfaces of the TLS, Maildir and log modules.
 *
 * Invariants:
 * - Every buffer a client can fill is a fixed array inside struct session, so
 *   memory per connection is sizeof(struct session) plus OpenSSL's state when
 *   TLS is on; nothing grows with what a client sends.
 * - Nothing is ever relayed: a message is discarded or written to a Maildir.
 * - Each session ends exactly once, through srv_session_end(), which writes
 *   its log line (the oracle the analyzer is checked against).
 */
#ifndef SLEUTH_SRV_H
#define SLEUTH_SRV_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>

#include "common.h"
#include "numparse.h"
#include "smtp_words.h"
#include "verdict.h"
#include "profile.h"

#define SRV_MIN(a, b) ((a) < (b) ? (a) : (b))

/* ---- caps (named, per connection unless said otherwise) ---- */
#define SRV_CMD_LINE_MAX    2048   /* a command line, CRLF included (AUTH PLAIN needs room) */
#define SRV_INBUF           8192   /* bytes read but not yet parsed */
#define SRV_OUTBUF          8192   /* replies not yet written */
#define SRV_OUT_RESERVE     1024   /* parsing pauses when less than this is free in outbuf */
#define SRV_MAX_RCPT_HARD   1000   /* recipients per message, whatever --max-rcpts says */
#define SRV_ADDR_MAX        256    /* stored copy of MAIL FROM / first RCPT TO */
#define SRV_HELO_MAX        128
#define SRV_USER_MAX        64
#define SRV_MAX_USERS       256    /* lines read from --users */
#define SRV_MAX_CIDR        64     /* --allow / --deny entries each */
#define SRV_MAX_RELAY       32     /* --relay-domain entries */
#define SRV_MAX_REJECT      32     /* --reject-rcpt / --reject-sender entries each */
#define SRV_MAX_PATTERNS    16     /* --reject-content patterns */
#define SRV_PATTERN_MAX     128    /* bytes of one content pattern */
#define SRV_GREYLIST_SLOTS  4096   /* remembered triplets (oldest overwritten) */
#define SRV_DEFAULT_MAX_CONNS 4096
#define SRV_DEFAULT_MAX_CONN_PER_IP 16   /* as mail servers cap one client address (Postfix: 50) */
#define SRV_DEFAULT_MAX_ERRORS 20
#define SRV_DRAIN_SECONDS   2.0    /* after a FIN we sent, how long we read and discard */

/* ---- policy ---- */

enum size_action { SIZE_REPLY, SIZE_CLOSE, SIZE_RESET };
enum deny_action { DENY_GREETING, DENY_CLOSE, DENY_RESET };
enum idle_action { IDLE_REPLY, IDLE_CLOSE };
enum tls_fail { TLSF_NONE, TLSF_REFUSE, TLSF_ABORT };

struct cidr {
	int family;             /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned prefix;
};

struct user_entry {
	char user[SRV_USER_MAX];
	char pass[SRV_USER_MAX];
};

struct policy {
	struct sockaddr_storage listen;
	socklen_t listen_len;
	char hostname[64];

	uint64_t max_size;              /* 0: no limit advertised or enforced */
	enum size_action size_action;

	struct user_entry *users;       /* owned; NULL when --users not given */
	unsigned n_users;
	bool require_auth;
	unsigned max_auth_failures;     /* 0: unlimited */

	struct cidr allow[SRV_MAX_CIDR], deny[SRV_MAX_CIDR];
	unsigned n_allow, n_deny;
	enum deny_action deny_action;

	double idle_timeout;            /* seconds; 0: none (a 300 s default applies) */
	enum idle_action idle_action;

	unsigned max_errors;
	char relay[SRV_MAX_RELAY][SRV_ADDR_MAX];
	unsigned n_relay;
	char reject_rcpt[SRV_MAX_REJECT][SRV_ADDR_MAX];     /* user@domain or a domain */
	unsigned n_reject_rcpt;
	char reject_sender[SRV_MAX_REJECT][SRV_ADDR_MAX];
	unsigned n_reject_sender;
	char reject_content[SRV_MAX_PATTERNS][SRV_PATTERN_MAX];  /* bytes looked for in bodies */
	unsigned n_reject_content;
	unsigned max_conn_per_ip;       /* 0: unlimited; default SRV_DEFAULT_MAX_CONN_PER_IP */
	unsigned max_conns;
	unsigned max_msgs;              /* per session; 0: unlimited */
	unsigned max_rcpts;             /* per message; 0: SRV_MAX_RCPT_HARD */
	bool greylist;
	double greylist_delay;          /* seconds a triplet must wait */
	bool shutdown;
	double greeting_delay;
	bool early_talker;              /* reject clients that talk before the greeting */

	bool require_tls;
	bool no_tls;                    /* do not offer STARTTLS */
	enum tls_fail tls_fail;
	char cert[512], key[512];
	char tls_keylog[512];           /* --tls-keylog: append the TLS secrets (NSS format) here; "" = no */

	char maildir[512];
	char log_path[512];
	bool json;
	unsigned max_sessions;          /* exit after this many sessions; 0: run forever */
	bool quiet;                     /* no startup line on stderr */
	struct srv_profile *profile;    /* owned; --profile (profile.h), NULL when none */
};

/* Parses serve options from argv[1..]. On error writes a message into err and
 * returns 2 (usage) or 1 (runtime, e.g. unreadable --users); -1 for --help. */
int policy_parse(struct policy *p, int argc, char **argv, char *err, size_t errlen);
void policy_defaults(struct policy *p);
void policy_free(struct policy *p);
/* True when the policy admits this client address (--allow / --deny). */
bool policy_addr_allowed(const struct policy *p, const struct sockaddr_storage *ss);
bool policy_check_user(const struct policy *p, const char *user, const char *pass);
/* True when the recipient's domain is local (or no --relay-domain is set). */
bool policy_rcpt_local(const struct policy *p, const char *addr, size_t len);
/* Is the address in the list? An entry with '@' is a whole address, one
 * without is a domain; both compared without regard to case. */
bool policy_addr_listed(const char (*list)[SRV_ADDR_MAX], unsigned n, const char *addr, size_t len);
bool parse_hostport(const char *s, struct sockaddr_storage *ss, socklen_t *len);
bool cidr_parse(const char *s, struct cidr *c);
bool cidr_match(const struct cidr *c, const struct sockaddr_storage *ss);
const char *policy_usage(void);

/* ---- session ---- */

/* Where the connection stands; every change of state or phase goes through
 * sess_enter(). X-macro: state, name (for traces). */
#define SESS_STATES(X) \
	X(SS_PREGREET, "pregreet")     /* accepted, greeting held back (--greeting-delay) */ \
	X(SS_DENIED, "denied")         /* 554 greeting sent: only QUIT is served (RFC 5321 3.1) */ \
	X(SS_CMD, "cmd")               /* command phase */ \
	X(SS_AUTH_PLAIN, "auth-plain") /* waiting for the AUTH PLAIN initial response line */ \
	X(SS_AUTH_USER, "auth-user")   /* AUTH LOGIN: waiting for the user name line */ \
	X(SS_AUTH_PASS, "auth-pass")   /* AUTH LOGIN: waiting for the password line */ \
	X(SS_DATA, "data")             /* reading a DATA body up to CRLF.CRLF */ \
	X(SS_BDAT, "bdat")             /* reading the octets of a BDAT chunk */ \
	X(SS_TLS_HS, "tls-handshake")  /* TLS handshake in progress */ \
	X(SS_DRAIN, "drain")           /* we sent FIN: read and discard until EOF or the drain time */ \
	X(SS_DEAD, "dead")             /* ended; freed by the loop */
#define X(e, s) e,
enum sess_state { SESS_STATES(X) SS__COUNT };
#undef X
const char *sess_state_name(enum sess_state st);

enum close_how { CL_NONE, CL_FIN, CL_RST };
enum closer { BY_NONE, BY_SRV, BY_CLI };

/* Byte-level DATA scanner state: finds CRLF.CRLF and undoes dot-stuffing
 * without holding lines, so a body line of any length costs no memory. */
enum data_scan { DS_BOL, DS_DOT, DS_DOTCR, DS_MID, DS_CR };

struct ssl_st;
struct server;

struct session {
	struct session *next, *prev;
	struct server *srv;
	int fd;
	uint64_t id;
	struct sockaddr_storage peer;
	char peer_ip[64];
	unsigned peer_port;
	double t_start, t_last;          /* CLOCK_MONOTONIC seconds */
	double t_greet;                  /* when to greet (SS_PREGREET) */
	double t_drain_end;
	double t_partial;                /* since when a command line is incomplete; 0: none */
	double wall_start;               /* CLOCK_REALTIME, for the log */
	enum sess_state state;
	uint32_t epoll_mask;
	bool holds_slot;                 /* counted in the server's slots (slots.c) */

	/* SMTP dialog */
	bool esmtp, helo_seen, in_mail, authed, tls_on, quit_seen, discard_line, fin_sent;
	char helo[SRV_HELO_MAX];
	char mail_from[SRV_ADDR_MAX];
	char rcpt0[SRV_ADDR_MAX];
	char auth_user[SRV_USER_MAX];
	unsigned n_rcpt, n_msgs, n_errors, n_auth_fail;
	uint64_t body_bytes;
	bool body_over;                  /* body passed --max-size */
	bool content_hit;                /* the body held a --reject-content pattern */
	char content_tail[SRV_PATTERN_MAX];  /* last body bytes, for patterns across reads */
	size_t content_tail_len;
	bool bdat_mode, bdat_last, bdat_bad;
	uint64_t bdat_left;
	enum data_scan ds;
	int msg_fd;                      /* Maildir tmp file, or -1 */
	char msg_name[128];

	/* outcome, for the log */
	enum cause cause;
	enum smtp_phase phase, cause_phase;
	unsigned reply_code;
	char reply_enh[12];
	enum close_how close_how;
	enum closer closed_by;
	uint64_t bytes_in, bytes_out;

	/* the envelope of the last transaction and the AUTH user tried, kept
	 * for the log after the transaction is reset (envelope.c) */
	char env_from[SRV_ADDR_MAX];
	char env_rcpt[SRV_ADDR_MAX];     /* the first recipient accepted */
	unsigned env_rcpts;
	uint64_t env_size;               /* body bytes of the last message ended */
	char queue_id[32];               /* of the last message accepted, "" if none */
	char auth_tried[SRV_USER_MAX];
	bool shutdown_said;              /* 421 4.3.2 sent because the server stopped */

	/* --profile: the next step, the step of the command being served and
	 * the reply it overrides (profile.h) */
	unsigned prof_next;
	const struct prof_reply *prof_step, *prof_ovr;
	const struct prof_reply *prof_bdat;   /* a BDAT step answered when its chunk ends */
	const struct prof_reply *prof_said;   /* a policy step whose captured words were sent */

	struct ssl_st *ssl;
	bool tls_want_write;             /* an SSL call asked for writability */

	size_t in_len, out_len, out_off;
	char in[SRV_INBUF];
	char out[SRV_OUTBUF];
};

struct greyslot {
	uint64_t hash;
	double first;
};

struct server {
	struct policy *pol;
	int epfd, lfd;
	int log_fd;
	int maildir_fd;                  /* the Maildir's top directory, or -1 */
	struct ssl_ctx_st *tls;          /* NULL when STARTTLS is not offered */
	struct session *sessions;
	unsigned n_sessions;             /* all, refused and draining ones included */
	struct slot_table *slots;        /* slots held, per address (slots.c); NULL when none */
	uint64_t next_id, ended;
	double sweep_every;
	struct greyslot grey[SRV_GREYLIST_SLOTS];
	volatile int *stop;
};


/* slots.c: --max-conns and --max-conn-per-ip. slot_take admits a session
 * (SLOT_OK) or says which cap refuses it; slot_release gives its slot back
 * (sess_enter does it when the session starts to close). */
enum slot_verdict { SLOT_OK, SLOT_FULL, SLOT_IP_FULL };
enum slot_verdict slot_take(struct session *ss);
void slot_release(struct session *ss);
unsigned slot_count(const struct server *s);

/* session.c: helpers shared with auth.c */
/* The one transition function: the new state and the dialog phase (pass the
 * current one to keep it). With SLEUTH_TRACE_STATES defined, every change is
 * written to the server's text log as old -> new. */
void sess_enter(struct session *ss, enum sess_state st, enum smtp_phase ph);
/* Records the first refusal of the session (later ones keep the first). */
void sess_cause(struct session *ss, enum cause c, unsigned code, const char *enh);
void sess_reply(struct session *ss, unsigned code, const char *enh, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void sess_safe_copy(char *dst, size_t dlen, const char *src, size_t n);
void sess_server_close(struct session *ss, enum close_how how);
/* Counts a protocol error; true when the error limit ended the session. */
bool sess_proto_error(struct session *ss);
/* With --require-tls and no TLS yet: answers 530 5.7.0 and returns true. */
bool sess_need_tls(struct session *ss);
/* One complete command line (CRLF removed), dispatched through the command table. */
void sess_command(struct session *ss, const char *l, size_t n);
void txn_reset(struct session *ss);
/* Appends raw reply bytes (a multi-line reply built by the caller); false when
 * the output buffer is full. */
bool sess_out_raw(struct session *ss, const char *s, size_t n);
/* Reads BDAT chunk octets; returns the bytes consumed. */
size_t sess_bdat_consume(struct session *ss, const char *p, size_t n);

/* auth.c */
void auth_cmd(struct session *ss, const char *arg, size_t n);
void auth_line(struct session *ss, const char *l, size_t n);

/* session.c */
struct session *sess_new(struct server *s, int fd, const struct sockaddr_storage *peer);
void sess_on_accept(struct session *ss);
void sess_on_io(struct session *ss, uint32_t events);
void sess_sweep(struct session *ss, double now);
void sess_free(struct session *ss);
bool sess_wants_read(const struct session *ss);
bool sess_wants_write(const struct session *ss);
/* serve.c: keeps the epoll interest in line with what the session waits for. */
void srv_update_events(struct session *ss);
/* server run loop on an already listening socket; returns an exit code. */
int srv_run(struct policy *p, int lfd, int log_fd, volatile int *stop, char *err, size_t errlen);
int srv_listen(const struct policy *p, char *err, size_t errlen);

/* tlsio.c */
struct ssl_ctx_st *tls_server_ctx(const struct policy *p, char *err, size_t errlen);
void tls_ctx_free(struct ssl_ctx_st *ctx);
/* Start server-side TLS on fd; NULL on failure. */
struct ssl_st *tls_session_new(struct ssl_ctx_st *ctx, int fd);
/* Returns 1 done, 0 in progress (*want_write says which way), -1 failed. */
int tls_handshake(struct ssl_st *ssl, bool *want_write);
/* Like read/write: >0 bytes, 0 EOF, -1 with errno EAGAIN (and *want_write) or another error. */
long tls_read(struct ssl_st *ssl, void *buf, size_t len, bool *want_write);
long tls_write(struct ssl_st *ssl, const void *buf, size_t len, bool *want_write);
void tls_session_free(struct ssl_st *ssl);

/* maildir.c */
int maildir_open(const char *dir, char *err, size_t errlen);
/* Creates a unique tmp file; returns fd or -1. name receives its base name. */
int maildir_begin(int mdfd, uint64_t sess, unsigned msg, char *name, size_t namelen);
bool maildir_write(int fd, const void *buf, size_t len);
/* Moves tmp/NAME to new/NAME (atomic rename) and closes fd. */
bool maildir_commit(int mdfd, int fd, const char *name);
void maildir_abort(int mdfd, int fd, const char *name);

/* envelope.c: keeps the transaction's envelope for the log (called after
 * each command and around the end of a message) */
void env_after_command(struct session *ss);
void env_message_end(struct session *ss, uint64_t body_bytes, bool accepted);
/* session.c: writes queued replies now (non-blocking); false when the
 * session died. */
bool sess_flush(struct session *ss);
/* commands.c: enter the body state as DATA's 354 does (a profile's 354). */
void sess_begin_data(struct session *ss);
/* session.c: the server is stopping; 421 4.3.2 then FIN to a live session. */
void sess_shutdown(struct session *ss);

/* log.c */
void srv_log_session(struct server *s, const struct session *ss);
void srv_log_text(struct server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
