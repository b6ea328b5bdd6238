/*
 * tu_scn.c - see tu_scn.h.
 */
#include "tu_scn.h"

#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

void tu_scn_init(struct tu_scn *s, const struct engine_config *cfg)
{
	memset(s, 0, sizeof(*s));
	tu_sink_init(&s->rec);
	s->e = engine_new(cfg, &s->rec.sink);
	if (!s->e)
		abort();
	s->dlt = DLT_EN10MB;
	s->ts = 1700000000LL * NS_PER_SEC;
	s->step = NS_PER_MS;
	s->addr[0] = "192.0.2.10";
	s->addr[1] = "192.0.2.25";
	s->port[0] = 40001;
	s->port[1] = 25;
	s->isn[0] = 1000;
	s->isn[1] = 5000;
	s->ttl[0] = 64;
	s->ttl[1] = 50;
}

void tu_scn_free(struct tu_scn *s)
{
	engine_free(s->e);
	tu_sink_free(&s->rec);
}

void tu_scn_send_seg(struct tu_scn *s, enum sl_dir dir, struct tu_seg *seg, size_t caplen_cut)
{
	static uint8_t frame[TU_FRAME_MAX];
	seg->src = s->addr[dir];
	seg->dst = s->addr[!dir];
	seg->sport = s->port[dir];
	seg->dport = s->port[!dir];
	if (!seg->ttl)
		seg->ttl = s->ttl[dir];
	if (!seg->ip_id)
		seg->ip_id = ++s->ip_id[dir];
	size_t n = tu_frame(frame, sizeof(frame), s->dlt, seg);
	if (!n)
		abort();
	struct raw_packet r;
	tu_raw(&r, ++s->frame, s->ts, s->dlt, frame,
	       (uint32_t)(caplen_cut && caplen_cut < n ? caplen_cut : n), (uint32_t)n);
	s->ts += s->step;
	engine_feed(s->e, &r);
}

void tu_scn_send(struct tu_scn *s, enum sl_dir dir, int64_t off, uint8_t flags, const void *data,
		 size_t len, int64_t ack_off)
{
	struct tu_seg seg = { 0 };
	seg.seq = s->isn[dir] + 1u + (uint32_t)off;
	seg.ack = (flags & TH_ACK) ? s->isn[!dir] + 1u + (uint32_t)ack_off : 0;
	seg.flags = flags;
	seg.payload = data;
	seg.len = len;
	tu_scn_send_seg(s, dir, &seg, 0);
}

void tu_scn_handshake(struct tu_scn *s)
{
	tu_scn_send(s, DIR_C2S, -1, TH_SYN, NULL, 0, 0);
	tu_scn_send(s, DIR_S2C, -1, TH_SYN | TH_ACK, NULL, 0, 0);
	tu_scn_send(s, DIR_C2S, 0, TH_ACK, NULL, 0, 0);
}

void tu_scn_finish(struct tu_scn *s) { engine_finish(s->e); }
