/*
 * summary.h - the counts of one run: input, packets by decode result, flows
 * (they add up: flows = SMTP sessions + other flows + flows dropped by a cap),
 * causes and protocols. The session glue and the command fill it; the
 * reporters print it.
 */
#ifndef SLEUTH_SUMMARY_H
#define SLEUTH_SUMMARY_H

#include "common.h"
#include "packet.h"
#include "verdict.h"

#define REPORT_MAX_PROTOCOLS 64
#define SUMMARY_MAX_ERRORS   32

struct summary {
	uint32_t files;
	uint64_t records;
	uint64_t bytes_read;
	sl_time first_ts, last_ts;
	uint64_t decode[DEC__COUNT];    /* packets by decode result */
	uint64_t flows;                 /* TCP flows seen */
	uint64_t smtp_sessions;
	uint64_t other_flows;
	uint64_t flows_evicted;         /* dropped by the flow-table cap without a report (none since evicted flows are reported; kept for the JSON key) */
	uint64_t flows_untracked;       /* dropped by another cap (memory) */
	uint64_t evicted_flow_table;    /* ended early by --max-flows, reported (among smtp_sessions/other_flows) */
	uint64_t evicted_memory;        /* ended early by --memory-cap, reported likewise */
	uint64_t sessions_reported;     /* after filters */
	uint64_t causes[CAUSE__COUNT];
	struct { char name[32]; uint64_t n; } protocols[REPORT_MAX_PROTOCOLS];
	uint32_t n_protocols;
	uint64_t protocols_other;       /* flows of protocols past the table's size */
	uint64_t ooo_cap_hits;
	uint64_t kernel_drops;          /* live capture: pcap_stats ps_drop */
	bool kernel_stats;              /* kernel_drops is meaningful */
	char error[256];                /* the first input error, "" if none */
	/* Every input error (a file that cannot be opened, each damaged file,
	 * bytes left unread), up to SUMMARY_MAX_ERRORS kept; errors_total counts all. */
	char errors[SUMMARY_MAX_ERRORS][256];
	uint32_t n_errors;
	uint64_t errors_total;
	/* --tls-keylog or SSLKEYLOGFILE: where the key log came from ("option",
	 * "SSLKEYLOGFILE"; "" when none), its client randoms and malformed lines.
	 * Never a path's contents. */
	struct {
		char source[16];
		uint64_t entries, malformed;
	} tls_keylog;
	char interrupted[16];           /* "SIGINT"/"SIGTERM" when a signal ended the analysis, else "" */
	uint64_t bad_timestamps;        /* records whose time cannot be right (engine_stats) */
	bool extract_on;                /* --extract was given */
	uint64_t extract_errors;        /* files refused or not fully written */
	char extract_error[320];        /* the first of them, "" if none */
	/* shard runs: seq of the first flow counted under each protocols[] name,
	 * so `merge` can order the names as one run would */
	uint64_t protocol_first_seq[REPORT_MAX_PROTOCOLS];
};

#endif
