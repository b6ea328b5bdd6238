/*
 * tu_dialog.h - a scripted SMTP session run through the real pipeline:
 * every helper builds real TCP/IP packets (SYN, SYN-ACK, data, FIN, RST,
 * retransmissions) with consistent sequence numbers and feeds them to the
 * session glue (engine, nDPI, SMTP and TLS dissectors, timeline); when the
 * flow ends the glue hands its view to a session_fn that runs diagnose().
 * Tests state a situation as the wire shows it:
 *
 *     dl_init(&t); dl_handshake(&t); dl_greet(&t, 220, "", "mx ESMTP");
 *     dl_cmd(&t, "EHLO me"); dl_reply(&t, 250, "", "mx");
 *     dl_wait(&t, 30.0); dl_fin(&t, DIR_S2C); dl_run(&t);
 *
 * and assert on t.v (the verdict), t.f / t.fi / t.tl (copies of the facts
 * and the timeline the dissector and the engine left; t.view is the session
 * view over them, for reporters) and the frame numbers the helpers return.
 * Client 192.0.2.10:40000, server 198.51.100.25:25 (both documentation
 * ranges); client TTL 64, server TTL 52; packets carry the current time
 * (dl_wait moves it) and consecutive frame numbers from 1.
 */
#ifndef SLEUTH_TU_DIALOG_H
#define SLEUTH_TU_DIALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "diagnose.h"
#include "facts.h"
#include "flow_info.h"
#include "sessions.h"
#include "verdict.h"


struct dl {
	struct sessions *p;
	struct diag_config cfg;
	sl_time now;
	uint64_t frame;
	uint32_t isn[2];
	uint64_t sent[2];           /* sequence space used after the SYN (bytes, FIN) */
	bool fin[2];
	uint8_t ttl[2];
	uint16_t ip_id[2];
	uint16_t port[2];
	const char *addr[2];
	uint8_t *hist[2];           /* every payload byte the side sent, for retransmissions */
	uint64_t acked[2];          /* bytes of the side the peer acknowledged */
	uint64_t last_data_frame[2];    /* frame of the side's last payload */
	bool tsopt[2];              /* the side puts TCP timestamps on every packet but its RSTs */
	/* End the test's flow as if the engine had ended it this way instead
	 * (-1, the default: as the glue reports it). Only for what the glue cannot
	 * produce from packets (it never reports an evicted flow). */
	int end_as;                 /* enum flow_end, or -1 */
	/* results, valid after dl_run() */
	bool ran;
	uint32_t sessions;          /* views the glue reported for the test's flow */
	enum flow_end end;
	struct verdict v;
	bool repeatable;            /* a second diagnose() of the view gave the same bytes */
	struct smtp_facts f;        /* a copy; msgs points into msgs below */
	struct smtp_message msgs[SMTP_MAX_MESSAGES];
	struct flow_info fi;        /* a copy */
	struct timeline tl;         /* a copy (owned) */
	char protocol[32];
	struct session_view view;   /* over the copies: reporters can be run on it */
	bool midstream;
};

/* Starts the pipeline with the engine's defaults and the diagnosis defaults. */
void dl_init(struct dl *t);
void dl_free(struct dl *t);
void dl_wait(struct dl *t, double seconds);

/* Packets; each returns its frame number. */
uint64_t dl_syn(struct dl *t);                  /* the client's SYN (again: a retry) */
uint64_t dl_synack(struct dl *t);
void dl_handshake(struct dl *t);                /* SYN, SYN-ACK, ACK, 1 ms apart */
uint64_t dl_refuse(struct dl *t);               /* the server's RST to the SYN */
/* Payload from dir (ACK|PSH), split into segments of at most 1448 bytes;
 * returns the frame of the last one. */
uint64_t dl_send(struct dl *t, enum sl_dir dir, const void *data, size_t len);
/* n bytes of dir's oldest unacknowledged data (at most what is
 * unacknowledged, or else the last bytes sent), sent again: a retransmission. */
uint64_t dl_retrans(struct dl *t, enum sl_dir dir, size_t n);
uint64_t dl_fin(struct dl *t, enum sl_dir dir);
/* A RST from dir with the given TTL (0 = that side's usual TTL). */
uint64_t dl_rst(struct dl *t, enum sl_dir dir, uint8_t ttl);
/* An ACK from dir without payload. */
uint64_t dl_ack(struct dl *t, enum sl_dir dir);

/* SMTP lines (CRLF added). */
uint64_t dl_greet(struct dl *t, uint16_t code, const char *enh, const char *text);
uint64_t dl_cmd(struct dl *t, const char *line);
uint64_t dl_reply(struct dl *t, uint16_t code, const char *enh, const char *text);
/* A server line sent as is (CRLF added): code-less lines and the like. */
uint64_t dl_sline(struct dl *t, const char *line);
/* "EHLO client.example" and a 250 reply with one line per extension of
 * exts ("PIPELINING SIZE 1000 AUTH PLAIN LOGIN"; SIZE and AUTH take the
 * words after them). */
void dl_ehlo(struct dl *t, const char *exts);
/* n body bytes from the client in CRLF lines; complete: then "." CRLF.
 * Returns the frame of the last packet sent. */
uint64_t dl_body(struct dl *t, uint64_t n, bool complete);
/* The same with the message starting with head (header lines, each ending
 * in CRLF, counted in n). */
uint64_t dl_message(struct dl *t, const char *head, uint64_t n, bool complete);

/* TLS records (a minimal but well-formed hello, an alert, application data). */
uint64_t dl_tls_client_hello(struct dl *t);
uint64_t dl_tls_server_hello(struct dl *t);    /* ServerHello, ChangeCipherSpec */
uint64_t dl_tls_alert(struct dl *t, enum sl_dir dir, uint8_t level, uint8_t desc);
uint64_t dl_tls_appdata(struct dl *t, enum sl_dir dir, size_t n);

/* A packet of an unrelated flow now: the capture goes on after the test's
 * flow fell silent (session_view.capture_end). */
void dl_other_packet(struct dl *t);
/* Ends the capture now (open flows end as END_CAPTURE_END) and diagnoses. */
void dl_run(struct dl *t);
/* The flow times out: sweep at the last packet + the flow timeout + 1 s. */
void dl_run_idle(struct dl *t);

/* The verdict cites frame (an evidence line carries it). */
bool dl_cites(const struct dl *t, uint64_t frame);

#endif
