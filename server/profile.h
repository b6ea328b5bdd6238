/*
 * profile.h - a server profile: the behaviour of a captured server that the
 * bundled server plays back (`serve --profile FILE.json`, `reproduce --from`).
 *
 * A profile holds the greeting, the EHLO hostname and extensions, the reply
 * to each command in the captured order, how the server closed, and policy
 * knobs (max_size, idle_timeout ...) that it sets like the command-line
 * options. The format is documented in docs/reproduce.md.
 *
 * How it is played: the state machine stays the server's own (commands.c's
 * table, sess_enter()); the profile only changes what a reply *says*. Before
 * a command is dispatched, profile_before() picks the profile's next step
 * when its verb matches the command; the first reply the handler writes is
 * then replaced by the step's code, enhanced code and text (unless the step
 * is marked "policy", where the server's policy answers itself, so editing
 * max_size changes the outcome; when the policy answers with the captured
 * code, it says it in the captured words, so a replay of a size refusal
 * shows the captured server's enhanced code and text). profile_after()
 * then makes the state agree with what the reply said (a DATA refused by
 * the profile does not enter the body state) and closes the connection
 * where the captured server did.
 */
#ifndef SLEUTH_SRV_PROFILE_H
#define SLEUTH_SRV_PROFILE_H

#include <stdbool.h>
#include <stdint.h>

#define PROF_MAX_STEPS   512
#define PROF_TEXT_MAX    256
#define PROF_MAX_EXT     32
#define PROF_EXT_MAX     64
#define PROF_VERB_MAX    16

enum prof_close { PC_NONE, PC_FIN, PC_RST };

struct prof_reply {
	char verb[PROF_VERB_MAX];   /* the command answered: "EHLO", "MAIL", "." (end of data),
	                               "*" (an AUTH continuation line or any line) */
	bool policy;                /* let the server's policy answer (no override) */
	bool none;                  /* the captured server sent no reply to it */
	uint16_t code;
	char enh[12];
	char text[PROF_TEXT_MAX];
	double delay;               /* seconds the captured server took (documented, not waited) */
	enum prof_close close;      /* what the captured server did right after this reply */
};

struct srv_profile {
	bool has_greeting;          /* false: the server closed before any greeting */
	struct prof_reply greeting; /* verb unused; close = FIN/RST right after (or instead of) it */
	bool has_ehlo;
	char hostname[64];
	char ext[PROF_MAX_EXT][PROF_EXT_MAX];   /* EHLO keywords with parameters, as captured */
	unsigned n_ext;
	struct prof_reply steps[PROF_MAX_STEPS];
	unsigned n_steps;
	bool has_idle_reply;        /* the captured server's words at its idle timeout */
	struct prof_reply idle_reply;
	uint64_t cut_after;         /* > 0: close during a message body after this many bytes */
	enum prof_close cut_how;
};

struct policy;
struct session;
struct jsonr;

/* Reads FILE.json's "server" object into a new profile owned by p
 * (p->profile) and applies its policy knobs. 0, or 1 with a message. */
int profile_load(struct policy *p, const char *path, char *err, size_t errlen);
/* The same from an already parsed document (node = the "server" object). */
int profile_from_json(struct policy *p, const struct jsonr *j, int node, char *err, size_t errlen);
void profile_free(struct srv_profile *pr);
const char *prof_close_name(enum prof_close c);
bool prof_close_parse(const char *s, enum prof_close *out);

/* Hooks called by the session (no-ops without a profile). */
bool profile_greet(struct session *ss);                     /* true: greeting handled */
void profile_before(struct session *ss, const char *l, size_t n);
void profile_after(struct session *ss);
bool profile_ehlo(struct session *ss);
void profile_bdat_end(struct session *ss);                  /* a chunk ended: its step now */                      /* true: EHLO reply written */
/* Replaces the reply line being written (code: the server's own code for
 * it); true when line/len were set. */
bool profile_reply_line(struct session *ss, unsigned code, char *line, size_t cap, size_t *len);
bool profile_body_cut(struct session *ss);                  /* true: the session was cut */
/* The idle timeout's reply in the captured server's words; true when
 * written (the code goes to *code, the enhanced code to enh). */
bool profile_idle_reply(struct session *ss, uint16_t *code, const char **enh);

#endif
