/*
 * report.h - the reporters: text (default), JSON Lines, transcript. One call
 * per ended session, in the order sessions end, then one summary.
 * Output goes to a FILE the caller owns; JSON is valid for any input bytes.
 */
#ifndef SLEUTH_REPORT_H
#define SLEUTH_REPORT_H

#include <stdio.h>

#include "engine.h"
#include "session.h"
#include "verdict.h"

#define REPORT_MAX_PROTOCOLS 64

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
	bool has_addr_filter;
	struct sl_addr addr_filter; /* session matches if client or server equals it */
	uint16_t port_filter;       /* 0 = any; matches client or server port */
	uint32_t shard_k, shard_n;  /* --shard K/N: JSON objects carry "shard" for `smtpsleuth merge` */
};

/* Counts that add up: flows = smtp_sessions + other_flows + dropped flows. */
struct summary {
	uint32_t files;
	uint64_t records;
	uint64_t bytes_read;
	sl_time first_ts, last_ts;
	uint64_t decode[DEC__COUNT];    /* packets by decode result */
	uint64_t flows;                 /* TCP flows seen */
	uint64_t smtp_sessions;
	uint64_t other_flows;
	uint64_t flows_evicted;         /* dropped by the flow-table cap */
	uint64_t flows_untracked;       /* dropped by another cap (memory) */
	uint64_t sessions_reported;     /* after filters */
	uint64_t causes[CAUSE__COUNT];
	struct { char name[32]; uint64_t n; } protocols[REPORT_MAX_PROTOCOLS];
	uint32_t n_protocols;
	uint64_t protocols_other;       /* flows of protocols past the table's size */
	uint64_t ooo_cap_hits;
	uint64_t kernel_drops;          /* live capture: pcap_stats ps_drop */
	bool kernel_stats;              /* kernel_drops is meaningful */
	char error[256];                /* input error that stopped reading, "" if none */
	/* shard runs: seq of the first flow counted under each protocols[] name,
	 * so `merge` can order the names as one run would */
	uint64_t protocol_first_seq[REPORT_MAX_PROTOCOLS];
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

/* JSON string escaping of untrusted bytes (shared by the JSON reporter and the
 * server's JSON log): writes "..." to f. */
void json_write_string(FILE *f, const char *s, size_t n);

#endif
