/*
 * report_int.h - what the reporters (report.c: text and dispatch,
 * report_json.c, report_transcript.c, report_ladder.c, report_html.c)
 * share. Internal to the reporters.
 */
#ifndef SLEUTH_REPORT_INT_H
#define SLEUTH_REPORT_INT_H

#include <stdio.h>

#include "report.h"

struct reporter {
	struct report_opts o;
	uint64_t causes[CAUSE__COUNT];  /* counted from reporter_session calls */
	uint64_t sessions;
	const char *const *files;       /* by file number; NULL = not set */
	size_t n_files;
	bool html_ended;                /* the page's tail is written */
	char html_nonce[REPORT_HTML_NONCE_LEN]; /* CSP nonce of the page's script: 16 random bytes, hex */
};

/* Names from the engine's X-macros, kept here so the reporters do not need
 * the engine's object file. */

/* Name of the file a frame reference points into, or fallback. */
const char *report_file(const struct reporter *r, uint64_t frame, const char *fallback);
/* Writes a frame reference for text output: "#12" for a single input,
 * "FILE:12" when several files were merged. */
const char *report_frame_str(const struct reporter *r, uint64_t frame, char *buf, size_t len);

void report_json_session(struct reporter *r, const struct session_view *s, const struct verdict *v);
void report_json_summary(struct reporter *r, const struct summary *sum);
/* The summary object alone, without the newline. */
void report_json_summary_object(struct reporter *r, const struct summary *sum);
/* Pieces of the native JSON that the ECS writer (report_ecs.c) reuses; they
 * write into a struct jw (jsonw.h), which the caller flushes. */
struct jw;
void report_json_str(struct jw *w, const char *s);           /* "" for NULL */
void report_json_time(struct jw *w, sl_time t);              /* ISO 8601 string, null for 0 */
void report_json_smtp(const struct reporter *r, struct jw *w, const struct session_view *s);
void report_json_tcp(struct jw *w, const struct session_view *s, const struct verdict *v);
void report_json_verdict(const struct reporter *r, struct jw *w, const struct session_view *s, const struct verdict *v);
void report_ecs_session(struct reporter *r, const struct session_view *s, const struct verdict *v);
void report_ecs_summary(struct reporter *r, const struct summary *sum);
/* The summary object as --json writes it, to f; with html, its strings are
 * escaped for a <script> element (json_write_string_html). */
void report_json_summary_to(struct reporter *r, FILE *f, const struct summary *sum, bool html);
const char *report_auth_result_name(enum smtp_auth_result res);
/* --json --transcript: writes ,"transcript":[{frame, file, time, side, line}...],"transcript_omitted":N */
void report_transcript_json(struct reporter *r, struct jw *w, const struct session_view *s);
void report_transcript_session(struct reporter *r, const struct session_view *s, const struct verdict *v);
/* Writes "+12.345s" (time since the session began) into buf. */
const char *report_rel_time(sl_time t, sl_time t0, char *buf, size_t len);

/* The ladder's two highlighted events, as indexes into the timeline (-1 when
 * none): the decisive one (the verdict's reply, else what the cause points
 * at, else the close) and the close (the first FIN/RST of the closing side). */
struct ladder_marks {
	int decisive;
	int close;
};
void report_ladder_marks(const struct session_view *s, const struct verdict *v, struct ladder_marks *m);
void report_ladder_session(struct reporter *r, const struct session_view *s, const struct verdict *v);

/* The HTML page (report_html.c): head at reporter_new, a record per session,
 * the summary and the tail at reporter_summary. */
void report_html_begin(struct reporter *r);
void report_html_session(struct reporter *r, const struct session_view *s, const struct verdict *v);
void report_html_end(struct reporter *r, const struct summary *sum);
/* The page's style sheet and script (report_html_page.c). */
extern const char report_html_css[];
extern const char report_html_js[];      /* opens the script's function scope */
extern const char report_html_js_end[];  /* starts the page and closes that scope */
/* The `path` of analyze --pair on the page (report_html_path.c): its CSS,
 * and its script, written between report_html_js and report_html_js_end. */
extern const char report_html_path_css[];
extern const char report_html_path_js[];
/* Copies a command line with any AUTH secret replaced by ********. */
void report_mask_command(const char *in, char *out, size_t outlen);

#endif
