/*
 * report.h - the reporters: text (default), JSON Lines, transcript, ladder,
 * and the HTML page (written beside any of the others). One call
 * per ended session, in the order sessions end, then one summary.
 * Output goes to a FILE the caller owns; JSON is valid for any input bytes.
 */
#ifndef SLEUTH_REPORT_H
#define SLEUTH_REPORT_H

#include <stdio.h>

#include "filter.h"
#include "session_view.h"
#include "summary.h"
#include "verdict.h"

#define REPORT_MAX_FILTERS   64     /* --host and --port values each */
#define REPORT_HTML_NONCE_LEN (2 * 16 + 1) /* the page's CSP nonce: 16 random bytes as hex */

/* Field names of --json: ours (DESIGN.md) or Elastic Common Schema. */
enum report_json_format { JSON_NATIVE = 0, JSON_ECS };

struct report_opts {
	FILE *out;
	bool json;
	enum report_json_format json_format;
	bool transcript;
	bool color;                 /* ANSI colours (text only; caller decides from isatty) */
	bool quiet;                 /* -q: no per-session blocks, summary only */
	bool failures_only;
	uint32_t cause_mask;        /* bit per enum cause; 0 = all */
	/* --host / --port (repeatable): a session matches when its client or
	 * server lies in one of the blocks (if any are given) and its client or
	 * server port is one of the ports (if any are given). */
	struct sl_cidr hosts[REPORT_MAX_FILTERS];
	uint32_t n_hosts;
	uint16_t ports[REPORT_MAX_FILTERS];
	uint32_t n_ports;
	bool ladder;                /* --ladder: the transcript as a ladder diagram */
	FILE *html;                 /* --html: the page is written here too (caller owns it) */
	const char *const *inputs;  /* input names for the page's header */
	int n_inputs;
	/* One page written by several reporters in turn (analyze --pair: a
	 * pipeline per side): html_resume = an earlier reporter wrote the head,
	 * write none; html_nonce = the page's script nonce, a caller's buffer of
	 * REPORT_HTML_NONCE_LEN made by the first reporter (NULL: its own). */
	bool html_resume;
	char *html_nonce;
	uint32_t shard_k, shard_n;  /* --shard K/N: JSON objects carry "shard" for `smtpsleuth merge` */
};

struct reporter;

struct reporter *reporter_new(const struct report_opts *o);
/* True when the session passes the filters (cause, failures-only, address, port). */
bool reporter_wants(const struct reporter *r, const struct session_view *s, const struct verdict *v);
void reporter_session(struct reporter *r, const struct session_view *s, const struct verdict *v);
void reporter_summary(struct reporter *r, const struct summary *sum);
void reporter_free(struct reporter *r);
/* Writes sum as the native JSON summary line, as a reporter whose sessions
 * were those counted in sum (sessions_reported, causes) would: for tools
 * that add summaries up (smtpsleuth merge). */
void report_json_summary_line(FILE *out, const struct summary *sum);
/* The names of the input files by file number (packet.h, frame_file()); the
 * array must stay valid while sessions are reported. Without it, frames are
 * shown without a file and a session's file is flow_info.file. */
void reporter_set_files(struct reporter *r, const char *const *names, size_t n);

/* JSON string escaping of untrusted bytes (shared by the JSON reporter and the
 * server's JSON log): writes "..." to f. */
void json_write_string(FILE *f, const char *s, size_t n);
/* The same, safe inside an HTML <script> element: '<', '>', '&', U+2028 and
 * U+2029 also go out as \u escapes, so no text can end the element. */
void json_write_string_html(FILE *f, const char *s, size_t n);

#endif
