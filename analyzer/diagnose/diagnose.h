/*
 * diagnose.h - rules from session facts to one verdict. Pure: no I/O, no
 * allocation; the same session gives the same verdict.
 */
#ifndef SLEUTH_DIAGNOSE_H
#define SLEUTH_DIAGNOSE_H

#include "session_view.h"
#include "verdict.h"

#define DIAG_DEFAULT_IDLE_THRESHOLD_S 300   /* RFC 5321 4.5.3.2.7: server timeout 5 min */

struct diag_config {
	sl_time idle_threshold;     /* ns; silences at least this long count as idle */
};

void diag_config_default(struct diag_config *cfg);
void diagnose(const struct session_view *s, const struct diag_config *cfg, struct verdict *v);

/* The rules in the order they are tried (docs/RULES.md's table): their
 * count, and the id ("T1" ... "U") and short name of the i-th, NULL past
 * the end. */
size_t diag_rule_count(void);
const char *diag_rule_id(size_t i);
const char *diag_rule_name(size_t i);

#endif
