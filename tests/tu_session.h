/*
 * tu_session.h - a builder that crafts one SMTP session by hand (TCP facts,
 * SMTP facts and timeline together) the way the engine and the dissector
 * would fill them, so diagnosis and reporter tests can state a situation in a
 * few readable lines:
 *
 *     tu_handshake(t); tu_greet(t, 220, "", "mx ESMTP");
 *     tu_cmd(t, CMD_EHLO, "EHLO me"); tu_reply(t, 250, "", "mx");
 *     tu_wait(t, 30.0); tu_fin(t, DIR_S2C);
 *
 * Every packet gets the next frame number and the current time; tu_wait
 * moves the clock. Tests may also poke fields of t->fi / t->f directly for
 * situations the helpers do not cover.
 */
#ifndef SLEUTH_TU_SESSION_H
#define SLEUTH_TU_SESSION_H

#include "engine.h"
#include "session_view.h"
#include "smtp.h"
#include "timeline.h"

#define TU_PEND_MAX 64

struct tu_session {
	struct flow_info fi;
	struct smtp_facts f;
	struct smtp_message msgs[SMTP_MAX_MESSAGES];    /* storage behind f.msgs */
	struct timeline tl;
	struct session_view v;
	sl_time now;
	uint64_t frame;
	enum smtp_cmd pend[TU_PEND_MAX];
	uint32_t npend;
	uint8_t ttl[2];         /* TTL of each side's packets */
};

void tu_sess_init(struct tu_session *t);
void tu_sess_free(struct tu_session *t);
/* Moves the clock forward. */
void tu_wait(struct tu_session *t, double seconds);
/* A packet from dir carrying n payload bytes (no SMTP meaning); returns its frame. */
uint64_t tu_pkt(struct tu_session *t, enum sl_dir dir, uint64_t n);
uint64_t tu_syn(struct tu_session *t);          /* first SYN or a retry */
uint64_t tu_synack(struct tu_session *t);
void tu_handshake(struct tu_session *t);        /* SYN, SYN-ACK, ACK */
uint64_t tu_refuse(struct tu_session *t);       /* server RST to the SYN */
uint64_t tu_retrans(struct tu_session *t, enum sl_dir dir, uint64_t n);
uint64_t tu_greet(struct tu_session *t, uint16_t code, const char *enh, const char *text);
/* A client command line (queued as pending until tu_reply answers it). */
uint64_t tu_cmd(struct tu_session *t, enum smtp_cmd cmd, const char *line);
/* A server reply answering the oldest pending command. */
uint64_t tu_reply(struct tu_session *t, uint16_t code, const char *enh, const char *text);
/* EHLO and its 250 reply advertising exts ("SIZE 1000 STARTTLS AUTH PLAIN"). */
void tu_ehlo(struct tu_session *t, const char *exts);
/* n body bytes from the client; complete = the final dot is sent (answered
 * like a command). Returns the frame of the last body packet. */
uint64_t tu_body(struct tu_session *t, uint64_t n, bool complete);
uint64_t tu_fin(struct tu_session *t, enum sl_dir dir);
/* A RST from dir with the given TTL (0 = that side's usual TTL). */
uint64_t tu_rst(struct tu_session *t, enum sl_dir dir, uint8_t ttl);
/* Adds a timeline event at the current time on a new frame; returns it. */
struct event *tu_event(struct tu_session *t, enum ev_kind k, enum sl_dir dir, const char *text);
/* Sets how the flow ended (capture_end = now for END_CAPTURE_END). */
void tu_end(struct tu_session *t, enum flow_end why);

#endif
