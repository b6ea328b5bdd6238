/*
 * session.h - what a diagnosis and the reporters see of one SMTP session
 * when it ends: TCP facts, SMTP facts, the timeline, and how nDPI named it.
 * Everything is read-only and valid for the duration of the call it is
 * passed to.
 */
#ifndef SLEUTH_SESSION_H
#define SLEUTH_SESSION_H

#include "common.h"
#include "community_id.h"
#include "engine.h"
#include "timeline.h"
#include "../dissectors/smtp.h"

#define SESSION_MAX_RISKS 16

struct session_view {
	uint64_t id;                    /* = flow_info.id */
	const struct flow_info *fi;
	const struct smtp_facts *smtp;  /* never NULL (all zero when no bytes flowed) */
	const struct timeline *tl;
	const char *protocol;           /* nDPI's name: "SMTP", "SMTPS", "TLS", "Unknown", ... */
	const char *risks[SESSION_MAX_RISKS];   /* nDPI risk names */
	uint32_t n_risks;
	enum flow_end end;
	sl_time capture_end;            /* time of the newest record read so far */
	bool capture_started_midstream; /* first packet was not a SYN */
	char community_id[COMMUNITY_ID_STRLEN]; /* Community ID v1, seed 0; "" if unknown */
	uint64_t seq;                   /* 1-based rank of this flow's end among all flows' ends
	                                   (= the order of output); shard runs tag sessions with it */
};

#endif
