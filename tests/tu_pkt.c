/*
 * tu_pkt.c - see tu_pkt.h. Test support only: writes network byte order by
 * hand so the tests do not depend on the code they test.
 */
#include "tu_pkt.h"

#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

size_t tu_ip_tcp(uint8_t *buf, size_t cap, const struct tu_seg *s)
{
	uint8_t a4s[4], a4d[4], a6s[16], a6d[16];
	int v6 = strchr(s->src, ':') != NULL;
	if (v6) {
		if (inet_pton(AF_INET6, s->src, a6s) != 1 || inet_pton(AF_INET6, s->dst, a6d) != 1)
			return 0;
	} else if (inet_pton(AF_INET, s->src, a4s) != 1 || inet_pton(AF_INET, s->dst, a4d) != 1) {
		return 0;
	}
	size_t topt = (s->tcp_opts_len + 3) & ~(size_t)3;
	size_t iopt = (s->ip_opts_len + 3) & ~(size_t)3;
	size_t tcplen = 20 + topt + s->len;
	size_t iphl = v6 ? 40 + s->v6_ext_len : 20 + iopt;
	if (iphl + tcplen > cap || iphl + tcplen > 65535 + 40)
		return 0;
	memset(buf, 0, iphl + 20 + topt);
	uint8_t ttl = s->ttl ? s->ttl : 64;
	if (v6) {
		buf[0] = 0x60;
		put16(buf + 4, (uint16_t)(s->v6_ext_len + tcplen + s->ip_total_delta));
		buf[6] = s->v6_ext_len ? s->v6_ext_first : 6;
		buf[7] = ttl;
		memcpy(buf + 8, a6s, 16);
		memcpy(buf + 24, a6d, 16);
		if (s->v6_ext_len)
			memcpy(buf + 40, s->v6_ext, s->v6_ext_len);
	} else {
		buf[0] = (uint8_t)(0x40 | (iphl / 4));
		put16(buf + 2, (uint16_t)(iphl + tcplen + s->ip_total_delta));
		put16(buf + 4, s->ip_id);
		put16(buf + 6, s->frag);
		buf[8] = ttl;
		buf[9] = 6;
		memcpy(buf + 12, a4s, 4);
		memcpy(buf + 16, a4d, 4);
		if (s->ip_opts_len)
			memcpy(buf + 20, s->ip_opts, s->ip_opts_len);
		for (size_t i = s->ip_opts_len; i < iopt; i++)
			buf[20 + i] = 1;
	}
	uint8_t *t = buf + iphl;
	put16(t, s->sport);
	put16(t + 2, s->dport);
	put32(t + 4, s->seq);
	put32(t + 8, s->ack);
	t[12] = (uint8_t)(((20 + topt) / 4) << 4);
	t[13] = s->flags;
	put16(t + 14, s->win_zero ? 0 : (s->win ? s->win : 65535));
	if (s->tcp_opts_len)
		memcpy(t + 20, s->tcp_opts, s->tcp_opts_len);
	for (size_t i = s->tcp_opts_len; i < topt; i++)
		t[20 + i] = 1;
	if (s->len)
		memcpy(t + 20 + topt, s->payload, s->len);
	return iphl + tcplen;
}

size_t tu_link(uint8_t *buf, size_t cap, int dlt, const struct tu_link_opts *o,
	       const uint8_t *ip, size_t iplen)
{
	static const struct tu_link_opts none;
	if (!o)
		o = &none;
	int v6 = iplen > 0 && (ip[0] >> 4) == 6;
	uint16_t et = o->ethertype ? o->ethertype : (v6 ? 0x86dd : 0x0800);
	uint8_t hdr[128];
	size_t hl = 0;
	memset(hdr, 0, sizeof(hdr));
	switch (dlt) {
	case DLT_EN10MB:
		hdr[0] = 0x02; hdr[6] = 0x02; hdr[11] = 1;
		hl = 12;
		for (int i = 0; i < o->nvlan && hl + 8 < sizeof(hdr); i++) {
			put16(hdr + hl, o->vlans[i]);
			put16(hdr + hl + 2, (uint16_t)(100 + i));
			hl += 4;
		}
		put16(hdr + hl, et);
		hl += 2;
		break;
	case DLT_LINUX_SLL:
		put16(hdr, 0);          /* packet type: to us */
		put16(hdr + 2, 1);      /* ARPHRD_ETHER */
		put16(hdr + 4, 6);
		put16(hdr + 14, et);
		hl = 16;
		break;
	case DLT_LINUX_SLL2:
		put16(hdr, et);
		put32(hdr + 4, 1);      /* ifindex */
		put16(hdr + 8, 1);
		hdr[11] = 6;
		hl = 20;
		break;
	case DLT_NULL: {
		uint32_t af = o->null_af ? o->null_af : (v6 ? 30u : 2u);
		if (o->null_swap)
			af = ((af & 0xff) << 24) | ((af & 0xff00) << 8) | ((af >> 8) & 0xff00) | (af >> 24);
		memcpy(hdr, &af, 4);
		hl = 4;
		break;
	}
	case DLT_LOOP:
		put32(hdr, o->null_af ? o->null_af : (v6 ? 24u : 2u));
		hl = 4;
		break;
	default:                    /* raw IP link types */
		hl = 0;
		break;
	}
	if (hl + iplen > cap)
		return 0;
	memcpy(buf, hdr, hl);
	memcpy(buf + hl, ip, iplen);
	return hl + iplen;
}

size_t tu_frame(uint8_t *buf, size_t cap, int dlt, const struct tu_seg *s)
{
	uint8_t ip[TU_FRAME_MAX];
	size_t n = tu_ip_tcp(ip, sizeof(ip), s);
	if (!n)
		return 0;
	return tu_link(buf, cap, dlt, NULL, ip, n);
}

void tu_raw(struct raw_packet *r, uint64_t frame, int64_t ts_ns, int dlt,
	    const uint8_t *data, uint32_t caplen, uint32_t wirelen)
{
	r->frame = frame;
	r->ts = ts_ns;
	r->caplen = caplen;
	r->wirelen = wirelen ? wirelen : caplen;
	r->linktype = dlt;
	r->data = data;
}

/* File writers use host byte order, as capture tools do; readers detect it
 * from the magic. */
static int wr(FILE *f, const void *p, size_t n) { return fwrite(p, 1, n, f) == n ? 0 : -1; }

int tu_pcap_write(const char *path, int dlt, int nano, uint32_t snaplen,
		  const struct tu_rec *recs, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	uint32_t gh[6] = { nano ? 0xa1b23c4du : 0xa1b2c3d4u, 0x00040002u, 0, 0,
			   snaplen ? snaplen : 262144, (uint32_t)dlt };
	int rc = wr(f, gh, sizeof(gh));
	for (size_t i = 0; i < n && rc == 0; i++) {
		int64_t ts = recs[i].ts_ns;
		uint32_t rh[4] = { (uint32_t)(ts / 1000000000),
				   (uint32_t)(nano ? ts % 1000000000 : (ts % 1000000000) / 1000),
				   recs[i].caplen, recs[i].wirelen ? recs[i].wirelen : recs[i].caplen };
		rc = wr(f, rh, sizeof(rh));
		if (rc == 0)
			rc = wr(f, recs[i].data, recs[i].caplen);
	}
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

static int pad_write(FILE *f, size_t n)
{
	static const uint8_t z[4];
	size_t p = (4 - (n & 3)) & 3;
	return p ? wr(f, z, p) : 0;
}

int tu_pcapng_write(const char *path, const int *dlts, int ndlt,
		    const struct tu_rec *recs, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	uint32_t shb[7] = { 0x0a0d0d0a, 28, 0x1a2b3c4d, 0x00000001, 0xffffffff, 0xffffffff, 28 };
	int rc = wr(f, shb, sizeof(shb));
	for (int i = 0; i < ndlt && rc == 0; i++) {
		/* IDB with if_tsresol = 9 (nanoseconds) */
		uint32_t idb[8];
		idb[0] = 1;
		idb[1] = 32;
		idb[2] = (uint32_t)(uint16_t)dlts[i];
		idb[3] = 262144;
		uint8_t opt[8] = { 0 };
		uint16_t code = 9, len = 1;
		memcpy(opt, &code, 2);
		memcpy(opt + 2, &len, 2);
		opt[4] = 9;
		memcpy(&idb[4], opt, 8);
		idb[6] = 0;             /* opt_endofopt */
		idb[7] = 32;
		rc = wr(f, idb, sizeof(idb));
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		uint32_t cl = recs[i].caplen;
		uint32_t total = 32 + ((cl + 3) & ~3u);
		uint64_t ts = (uint64_t)recs[i].ts_ns;
		uint32_t eh[7] = { 6, total, (uint32_t)recs[i].iface, (uint32_t)(ts >> 32), (uint32_t)ts,
				   cl, recs[i].wirelen ? recs[i].wirelen : cl };
		rc = wr(f, eh, sizeof(eh));
		if (rc == 0)
			rc = wr(f, recs[i].data, cl);
		if (rc == 0)
			rc = pad_write(f, cl);
		if (rc == 0)
			rc = wr(f, &total, 4);
	}
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}
