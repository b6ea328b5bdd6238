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
};

/* Names from the engine's X-macros, kept here so the reporters do not need
 * the engine's object file. */
const char *report_flow_end_name(enum flow_end e);
const char *report_decode_name(enum decode_result r);

void report_json_session(struct reporter *r, const struct session_view *s, const struct verdict *v);
void report_json_summary(struct reporter *r, const struct summary *sum);
/* The summary object alone, without the newline. */
void report_json_summary_object(struct reporter *r, const struct summary *sum);
/* Pieces of the native JSON that the ECS writer (report_ecs.c) reuses. */
void report_json_str(FILE *f, const char *s);           /* "" for NULL */
void report_json_time(FILE *f, sl_time t);              /* ISO 8601 string, null for 0 */
void report_json_smtp(FILE *f, const struct smtp_facts *s);
void report_json_tcp(FILE *f, const struct session_view *s, const struct verdict *v);
void report_json_verdict(FILE *f, const struct verdict *v);
void report_ecs_session(struct reporter *r, const struct session_view *s, const struct verdict *v);
void report_ecs_summary(struct reporter *r, const struct summary *sum);
void report_transcript_session(struct reporter *r, const struct session_view *s, const struct verdict *v);
/* Writes "+12.345s" (time since the session began) into buf. */
const char *report_rel_time(sl_time t, sl_time t0, char *buf, size_t len);
/* Copies a command line with any AUTH secret replaced by ********. */
void report_mask_command(const char *in, char *out, size_t outlen);

#endif
