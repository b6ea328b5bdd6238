/*
 * diag_reply.h - classification of one SMTP reply into a verdict cause, for
 * diagnose.c. Internal to the diagnosis (not a stage contract).
 *
 * A reply is read by its code, its enhanced code and the command it answers
 * first; the text is consulted only through the keyword families below, and
 * only where codes alone are ambiguous (docs/RULES.md lists every family).
 */
#ifndef SLEUTH_DIAG_REPLY_H
#define SLEUTH_DIAG_REPLY_H

#include "facts.h"
#include "verdict.h"

/* What a reply says about why the session ended. */
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
};

struct reply_ctx {
	uint32_t ext;               /* SMTP_EXT_* the server advertised */
	enum smtp_starttls_state starttls;
	uint32_t consecutive_errors;
	uint32_t unknown_commands;
};

/* Reads r (code may be 0 when the reply had no numeric code: the class digit
 * then comes from the enhanced code). */
void diag_classify_reply(const struct smtp_reply *r, const struct reply_ctx *c,
			 struct reply_reading *out);

/* Case-insensitive search of needle in the first n bytes of s. */
bool diag_ci_contains(const char *s, const char *needle);
/* True when text contains any keyword of the NULL-terminated family. */
bool diag_kw_any(const char *text, const char *const *family);
/* Parses "4.7.0" style enhanced code at the start of text (after spaces);
 * writes it into out (size >= 12) and returns its length, 0 if none. */

#endif
