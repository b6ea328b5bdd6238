/*
 * fromcap.h - `reproduce --from`: one session of a capture, analysed with the
 * analyzer's own glue (sessions + diagnose), turned into a server profile and
 * a client script (JSON, docs/reproduce.md), and the compact dialog that the
 * side-by-side comparison reads.
 *
 * Secrets: the timeline already masks AUTH credentials; the script keeps
 * only a placeholder ({secret}), never a captured credential.
 */
#ifndef SLEUTH_FROMCAP_H
#define SLEUTH_FROMCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "verdict.h"

#define DLG_MAX_LINES 128
#define DLG_LINE_MAX  64

/* The dialog as a list of short lines ("C EHLO", "S 250", "S close fin"),
 * for "where the dialogs differ". */
struct dialog {
	unsigned n;
	bool truncated;
	char line[DLG_MAX_LINES][DLG_LINE_MAX];
};

struct case_info {
	unsigned n_sessions;        /* SMTP sessions in the file */
	uint64_t ids[8];            /* the first few session ids, for messages */
	bool found;
	uint64_t id;
	uint16_t server_port;
	struct verdict v;
	struct dialog d;
	char *json;                 /* the derived profile (malloc'd), when derive was asked */
	size_t json_len;
	char why_not[256];          /* non-empty: this session cannot be reproduced, and why */
};

/* Analyses FILE; with want_id 0 the file must hold exactly one SMTP session
 * (or else err lists them). derive: also write the profile JSON. Returns 0,
 * or 1 with a message in err. Free with case_info_free(). */
int fromcap_analyze(const char *file, uint64_t want_id, bool derive, struct case_info *ci,
                    char *err, size_t errlen);
void case_info_free(struct case_info *ci);

#endif
