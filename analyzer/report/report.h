/*
 * report.h - the reporters: text (default), JSON Lines, transcript, ladder,
 * and the HTML page (written beside any of the others). One call
 * per ended session, in the order sessions end, then one summary.
 * Output goes to a FILE the caller owns; JSON is valid for any input bytes.
 */
#ifndef SLEUTH_REPORT_H
#define SLEUTH_REPORT_H

#include <stdio.h>

#include "session_view.h"
#include "summary.h"
#include "verdict.h"


struct report_opts {
	FILE *out;
	bool json;
	bool transcript;
	bool color;                 /* ANSI colours (text only; caller decides from isatty) */
	bool quiet;                 /* -q: no per-session blocks, summary only */
	bool failures_only;
	uint32_t cause_mask;        /* bit per enum cause; 0 = all */
	bool has_addr_filter;
	struct sl_addr addr_filter; /* session matches if client or server equals it */
	uint16_t port_filter;       /* 0 = any; matches client or server port */
	bool ladder;                /* --ladder: the transcript as a ladder diagram */
	FILE *html;                 /* --html: the page is written here too (caller owns it) */
	const char *const *inputs;  /* input names for the page's header */
	int n_inputs;
};

/* Counts that add up: flows = smtp_sessions + other_flows + dropped flows. */
struct reporter;

struct reporter *reporter_new(const struct report_opts *o);
/* True when the session passes the filters (cause, failures-only, address, port). */
bool reporter_wants(const struct reporter *r, const struct session_view *s, const struct verdict *v);
void reporter_session(struct reporter *r, const struct session_view *s, const struct verdict *v);
void reporter_summary(struct reporter *r, const struct summary *sum);
void reporter_free(struct reporter *r);

/* JSON string escaping of untrusted bytes (shared by the JSON reporter and the
 * server's JSON log): writes "..." to f. */
void json_write_string(FILE *f, const char *s, size_t n);
/* The same, safe inside an HTML <script> element: '<', '>', '&', U+2028 and
 * U+2029 also go out as \u escapes, so no text can end the element. */
void json_write_string_html(FILE *f, const char *s, size_t n);

#endif
