/*
 * report_int.h - what the three reporters (report.c: text and dispatch,
 * report_json.c, report_transcript.c) share. Internal to the reporters.
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
};

/* Name of the file a frame reference points into, or fallback. */
const char *report_file(const struct reporter *r, uint64_t frame, const char *fallback);
/* Writes a frame reference for text output: "#12" for a single input,
 * "FILE:12" when several files were merged. */
const char *report_frame_str(const struct reporter *r, uint64_t frame, char *buf, size_t len);

/* Names from the engine's X-macros, kept here so the reporters do not need
 * the engine's object file. */
const char *report_flow_end_name(enum flow_end e);
const char *report_decode_name(enum decode_result r);

void report_json_session(struct reporter *r, const struct session_view *s, const struct verdict *v);
void report_json_summary(struct reporter *r, const struct summary *sum);
void report_transcript_session(struct reporter *r, const struct session_view *s, const struct verdict *v);
/* --json --transcript: writes ,"transcript":[{frame, file, time, side, line}...],"transcript_omitted":N */
void report_transcript_json(struct reporter *r, const struct session_view *s);
/* Writes "+12.345s" (time since the session began) into buf. */
const char *report_rel_time(sl_time t, sl_time t0, char *buf, size_t len);
/* Copies a command line with any AUTH secret replaced by ********. */
void report_mask_command(const char *in, char *out, size_t outlen);

#endif
