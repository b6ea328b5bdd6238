/*
 * classify_defer.h - nDPI's answer for a session as it is reported, and
 * the consumer's half of deferred classification.
 *
 * The session glue keeps each flow's packets for nDPI instead of running
 * it (classify.h, keep mode). With sessions_config.defer_classify, a
 * session that is reported whatever nDPI says reaches the session_fn with
 * that record (session_view.cls_kept) and no protocol or risks yet: the
 * consumer, on whatever thread it runs, shows it to its own classifier
 * (one nDPI module per thread) with classify_outcome_deferred() and points
 * the view at the outcome with classify_outcome_view(). The answer is the
 * one live feeding would have given (classify.c says why), so the report
 * does not depend on where or when nDPI ran.
 */
#ifndef SLEUTH_CLASSIFY_DEFER_H
#define SLEUTH_CLASSIFY_DEFER_H

#include "common.h"
#include "session_view.h"

struct classifier;
struct classify_flow;

/* Protocol names are cut to this (with the NUL), as the report always had them. */
#define CLASSIFY_OUTCOME_NAME 32

struct classify_outcome {
	char protocol[CLASSIFY_OUTCOME_NAME];   /* nDPI's name, "Unknown" when none */
	bool guessed;                           /* named from the port only */
	const char *risks[SESSION_MAX_RISKS];   /* shown (static names) */
	uint32_t n_risks;
	const char *ignored[SESSION_MAX_RISKS], *ignored_why[SESSION_MAX_RISKS];
	uint32_t n_ignored;
};

/* An outcome before classification: "Unknown", no risks. */
void classify_outcome_init(struct classify_outcome *o);
/* The outcome of a finished flow; risks wrong for a mail port are set
 * apart when mail_port (classify_risks_judged). */
void classify_outcome_of(const struct classify_flow *f, bool mail_port, struct classify_outcome *o);
/* Shows c the record kept for a session (classify_kept) and gives the
 * outcome; nothing reserved (the record's owner reserved it). An
 * allocation failure (or c NULL) gives "Unknown". */
void classify_outcome_deferred(struct classifier *c, const uint8_t *kept, size_t len, bool mail_port,
			       struct classify_outcome *o);
/* Points v's protocol and risks at o (which must outlive the view's use)
 * and clears v->cls_kept. */
void classify_outcome_view(const struct classify_outcome *o, struct session_view *v);

#endif
