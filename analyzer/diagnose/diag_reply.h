/*
 * diag_reply.h - reading one SMTP reply: which verdict cause it states, if
 * any. Internal to the diagnosis (not a stage contract).
 *
 * The knowledge is data: diag_reply_rules.c holds the keyword families and
 * the rule table (rows tried in order, each with where it comes from);
 * diag_reply.c only matches. A reply is read in the context of the command
 * it answers; the enhanced code decides over the basic code; words only break
 * ties, matched as whole words (docs/RULES.md is generated from the tables:
 * `smtpsleuth rules-doc`, checked by check_diag_reply).
 */
#ifndef SLEUTH_DIAG_REPLY_H
#define SLEUTH_DIAG_REPLY_H

#include <stdio.h>

#include "facts.h"
#include "verdict.h"

enum reply_class {
	RC_NONE,        /* not an error, or says nothing about the ending */
	RC_SYNTAX,      /* 500-504 / 5.5.x: a bad command; decisive only if the server then closes */
	RC_CAUSE        /* maps to `cause` below */
};

struct reply_reading {
	enum reply_class cls;
	enum cause cause;
	enum confidence conf;
	const char *what;       /* short plain-words label: "relay denied", ... */
	const char *advice;     /* what to change, on which side */
	const char *rule;       /* id of the table row that decided ("" for none) */
};

struct reply_ctx {
	uint32_t ext;               /* SMTP_EXT_* the server advertised */
	enum smtp_starttls_state starttls;
	uint32_t consecutive_errors;
	uint32_t unknown_commands;
	bool early_talker;          /* the client sent before the greeting */
};

void diag_classify_reply(const struct smtp_reply *r, const struct reply_ctx *c,
			 struct reply_reading *out);

/*
 * Each reply is classified once per diagnosis: the cache remembers the
 * readings of the replies already read (by frame, code, command answered
 * and a 64-bit hash of the text and enhanced code with the text's length:
 * pipelined RCPT refusals can share a frame, a code and a command). Lives on the diagnosis's stack.
 */
#define REPLY_CACHE_SLOTS 16

struct reply_cache_slot {
	uint64_t frame;
	uint64_t text_hash;
	uint32_t text_len;
	uint16_t code;
	uint8_t answers;
	bool used;
	struct reply_reading rd;
};

struct reply_cache {
	struct reply_cache_slot slot[REPLY_CACHE_SLOTS];
	uint32_t next;
	uint64_t hits, misses;
};

void diag_reply_cached(struct reply_cache *cache, const struct smtp_reply *r,
		       const struct reply_ctx *c, struct reply_reading *out);

/* Case-insensitive substring test, for texts the dissector wrote. */
bool diag_ci_contains(const char *s, const char *needle);

/* Writes the rule table and the keyword families as the Markdown that
 * docs/RULES.md carries between its "reply-table" markers. */
void diag_reply_doc(FILE *out);

#endif
