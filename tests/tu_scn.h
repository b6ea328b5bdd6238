/*
 * tu_scn.h - a scripted TCP conversation fed to a real engine with the
 * recording sink: tests say "client sends these bytes at this stream offset"
 * and the helper builds the frame (sequence numbers from per-side ISNs).
 */
#ifndef SLEUTH_TU_SCN_H
#define SLEUTH_TU_SCN_H

#include "engine.h"
#include "tu_pkt.h"
#include "tu_sink.h"

struct tu_scn {
	struct engine *e;
	struct tu_sink rec;
	int dlt;
	uint64_t frame;
	int64_t ts;                 /* next packet time (ns); step added after each */
	int64_t step;
	const char *addr[2];        /* client, server */
	uint16_t port[2];
	uint32_t isn[2];
	uint8_t ttl[2];
	uint16_t ip_id[2];
};

/* cfg may be NULL (defaults). Client 192.0.2.10:40001, server 192.0.2.25:25,
 * ISNs 1000 and 5000, one packet per millisecond. */
void tu_scn_init(struct tu_scn *s, const struct engine_config *cfg);
void tu_scn_free(struct tu_scn *s);
/* Sends a segment from side dir (DIR_C2S = client): seq = isn + 1 + off
 * (off -1 for a SYN), ack = peer isn + 1 + ack_off when TH_ACK is set. */
void tu_scn_send(struct tu_scn *s, enum sl_dir dir, int64_t off, uint8_t flags, const void *data,
		 size_t len, int64_t ack_off);
/* Same with a caller-filled segment (for options, window, TTL, ...): its
 * addresses, ports and ttl/ip_id defaults are filled in here. caplen_cut
 * (when > 0) cuts the frame to that many bytes. */
void tu_scn_send_seg(struct tu_scn *s, enum sl_dir dir, struct tu_seg *seg, size_t caplen_cut);
/* SYN, SYN-ACK, ACK. */
void tu_scn_handshake(struct tu_scn *s);
void tu_scn_finish(struct tu_scn *s);

#endif
