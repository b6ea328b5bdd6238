/*
 * decode.c - link layer, IPv4/IPv6 and TCP header decoding.
 *
 * decode_packet() turns one capture record into a struct pkt whose pointers
 * point into the record. Every read goes through a cursor over the captured
 * bytes, so a short or corrupt record can never be read past its caplen.
 *
 * Choices (documented in docs/engine.md):
 * - IP fragments (IPv4 MF or offset != 0, IPv6 fragment header other than an
 *   atomic one) are counted as DEC_FRAGMENT and skipped: SMTP over TCP does
 *   not fragment in practice, and reassembling them would need per-packet
 *   buffering.
 * - An IP length field of 0 (TCP segmentation offload on the capturing host,
 *   or an IPv6 jumbogram) means "as long as the captured bytes".
 * - The IP length field trims link padding (Ethernet's 60-byte minimum); a
 *   length larger than what was captured marks the packet as truncated.
 * - VLAN tags (0x8100, 0x88a8, 0x9100) are skipped up to DECODE_MAX_VLAN deep;
 *   IPv6 extension headers up to DECODE_MAX_V6_EXT.
 */
#include <string.h>

#include "cursor.h"
#include "engine.h"

#define DECODE_MAX_VLAN    8    /* stacked 802.1Q/802.1ad tags accepted */
#define DECODE_MAX_V6_EXT  8    /* IPv6 extension headers followed */

/* pcap link types, spelled here so the decoder does not need pcap.h. */
enum {
	LT_NULL = 0, LT_EN10MB = 1, LT_RAW = 12, LT_RAW_OPENBSD = 14, LT_RAW101 = 101,
	LT_LOOP = 108, LT_LINUX_SLL = 113, LT_IPV4 = 228, LT_IPV6 = 229, LT_LINUX_SLL2 = 276
};

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd

static bool is_vlan(uint16_t et) { return et == 0x8100 || et == 0x88a8 || et == 0x9100; }

/* Skips VLAN tags starting at an ethertype already read; returns the final
 * ethertype in *et, or false when the tags run out of bytes or too deep. */
static bool skip_vlans(struct cursor *c, uint16_t *et)
{
	for (int depth = 0; is_vlan(*et); depth++) {
		if (depth >= DECODE_MAX_VLAN)
			return false;
		if (!cur_skip(c, 2) || !cur_u16(c, et))
			return false;
	}
	return true;
}

/* Maps an ethertype to an IP version (4, 6) or 0. */
static int et_version(uint16_t et)
{
	return et == ETH_IPV4 ? 4 : et == ETH_IPV6 ? 6 : 0;
}

/* BSD loopback address family values that mean IPv6 on the various BSDs,
 * macOS and Linux. */
static int af_version(uint32_t af)
{
	if (af == 2)
		return 4;
	if (af == 10 || af == 24 || af == 28 || af == 30)
		return 6;
	return 0;
}

/* Link layer: positions c at the IP header; returns the IP version expected
 * (0 = not IP, -1 = truncated, -2 = unsupported link). */
static int decode_link(struct cursor *c, int linktype)
{
	uint16_t et;
	uint32_t af;
	uint8_t b;
	switch (linktype) {
	case LT_EN10MB:
		if (!cur_skip(c, 12) || !cur_u16(c, &et))
			return -1;
		if (!skip_vlans(c, &et))
			return -1;
		return et_version(et);
	case LT_LINUX_SLL:
		if (!cur_skip(c, 14) || !cur_u16(c, &et))
			return -1;
		if (!skip_vlans(c, &et))
			return -1;
		return et_version(et);
	case LT_LINUX_SLL2:
		if (!cur_u16(c, &et) || !cur_skip(c, 18))
			return -1;
		if (!skip_vlans(c, &et))
			return -1;
		return et_version(et);
	case LT_NULL:
		/* host order of the capturing machine: accept both, the family is
		 * a small number so the swapped reading is > 0xffff */
		if (!cur_u32(c, &af))
			return -1;
		if (af > 0xffff)
			af = __builtin_bswap32(af);
		return af_version(af);
	case LT_LOOP:
		if (!cur_u32(c, &af))
			return -1;
		return af_version(af);
	case LT_RAW:
	case LT_RAW_OPENBSD:
	case LT_RAW101:
		if (cur_left(c) < 1)
			return -1;
		b = cur_ptr(c)[0] >> 4;
		return b == 4 || b == 6 ? b : 0;
	case LT_IPV4:
		return 4;
	case LT_IPV6:
		return 6;
	default:
		return -2;
	}
}

/* The link types decode_link reads, for a clear refusal of the others
 * before any record is read. */
static const int supported_links[] = {
	LT_EN10MB, LT_LINUX_SLL, LT_LINUX_SLL2, LT_NULL, LT_LOOP, LT_RAW, LT_RAW_OPENBSD,
	LT_RAW101, LT_IPV4, LT_IPV6,
};

bool decode_link_supported(int linktype)
{
	for (size_t i = 0; i < sizeof(supported_links) / sizeof(supported_links[0]); i++)
		if (supported_links[i] == linktype)
			return true;
	return false;
}

const char DECODE_SUPPORTED_LINKS[] = "EN10MB (Ethernet), LINUX_SLL, LINUX_SLL2, NULL, LOOP, RAW, IPV4, IPV6";

/* TCP options: tolerant. A malformed option (length < 2 or running past the
 * header) ends option parsing; what was read before stays. */
static void decode_tcp_opts(struct cursor c, struct tcp_opts *o)
{
	uint8_t kind, len;
	while (cur_u8(&c, &kind)) {
		if (kind == 0)
			break;
		if (kind == 1)
			continue;
		if (!cur_u8(&c, &len) || len < 2 || cur_left(&c) < (size_t)len - 2)
			break;
		struct cursor v;
		if (!cur_sub(&c, len - 2u, &v))
			break;
		switch (kind) {
		case 2:
			if (len == 4)
				cur_u16(&v, &o->mss);
			break;
		case 3:
			if (len == 3) {
				uint8_t ws = 0;
				if (cur_u8(&v, &ws))
					o->wscale = (int8_t)(ws > 14 ? 14 : ws);
			}
			break;
		case 4:
			if (len == 2)
				o->sack_perm = true;
			break;
		case 8:
			if (len == 10 && cur_u32(&v, &o->tsval) && cur_u32(&v, &o->tsecr))
				o->has_ts = true;
			break;
		default:
			break;
		}
	}
}

/* IPv4 header. On success *ip covers exactly the captured datagram (trimmed
 * to the total length) and *l4 the bytes after the header; *l4_wire is the
 * L4 length by the header. */
static enum decode_result decode_ipv4(struct cursor *c, struct pkt *p, struct cursor *l4,
				      uint32_t *l4_wire)
{
	const uint8_t *h = cur_ptr(c);
	size_t avail = cur_left(c);
	if (avail < 20)
		return DEC_TRUNCATED_HEADER;
	if ((h[0] >> 4) != 4)
		return DEC_BAD_IP;
	size_t ihl = (size_t)(h[0] & 0x0f) * 4;
	if (ihl < 20)
		return DEC_BAD_IP;
	if (avail < ihl)
		return DEC_TRUNCATED_HEADER;
	size_t total = ((size_t)h[2] << 8) | h[3];
	if (total == 0)
		total = avail;              /* segmentation offload: length left 0 */
	if (total < ihl)
		return DEC_BAD_IP;
	uint16_t frag = (uint16_t)((h[6] << 8) | h[7]);
	p->ipver = 4;
	p->ttl = h[8];
	p->ip_id = (uint16_t)((h[4] << 8) | h[5]);
	p->src.v = p->dst.v = 4;
	memcpy(p->src.a, h + 12, 4);
	memset(p->src.a + 4, 0, 12);
	memcpy(p->dst.a, h + 16, 4);
	memset(p->dst.a + 4, 0, 12);
	if (frag & 0x3fff)              /* MF or a fragment offset */
		return DEC_FRAGMENT;
	if (h[9] != 6)
		return DEC_NOT_TCP;
	size_t cap = avail < total ? avail : total;
	p->l3 = h;
	p->l3_len = (uint32_t)cap;
	*l4 = cur_make(h + ihl, cap - ihl);
	*l4_wire = (uint32_t)(total - ihl);
	return DEC_TCP;
}

static enum decode_result decode_ipv6(struct cursor *c, struct pkt *p, struct cursor *l4,
				      uint32_t *l4_wire)
{
	const uint8_t *h = cur_ptr(c);
	size_t avail = cur_left(c);
	if (avail < 40)
		return DEC_TRUNCATED_HEADER;
	if ((h[0] >> 4) != 6)
		return DEC_BAD_IP;
	size_t plen = ((size_t)h[4] << 8) | h[5];
	if (plen == 0)
		plen = avail - 40;          /* jumbogram or offload */
	size_t total = 40 + plen;
	size_t cap = avail < total ? avail : total;
	p->ipver = 6;
	p->ttl = h[7];
	p->ip_id = 0;
	p->src.v = p->dst.v = 6;
	memcpy(p->src.a, h + 8, 16);
	memcpy(p->dst.a, h + 24, 16);
	struct cursor x = cur_make(h, cap);
	cur_skip(&x, 40);
	uint8_t nh = h[6];
	for (int n = 0;; n++) {
		uint8_t next, hlen;
		size_t len;
		if (nh == 6)
			break;
		if (n >= DECODE_MAX_V6_EXT)
			return DEC_BAD_IP;
		switch (nh) {
		case 0:     /* hop-by-hop */
		case 43:    /* routing */
		case 60:    /* destination options */
			if (cur_left(&x) < 2)
				return cap < total ? DEC_TRUNCATED_HEADER : DEC_BAD_IP;
			next = cur_ptr(&x)[0];
			hlen = cur_ptr(&x)[1];
			len = ((size_t)hlen + 1) * 8;
			break;
		case 51:    /* authentication header: length in 4-byte units minus 2 */
			if (cur_left(&x) < 2)
				return cap < total ? DEC_TRUNCATED_HEADER : DEC_BAD_IP;
			next = cur_ptr(&x)[0];
			hlen = cur_ptr(&x)[1];
			len = ((size_t)hlen + 2) * 4;
			break;
		case 44: {  /* fragment */
			if (cur_left(&x) < 8)
				return cap < total ? DEC_TRUNCATED_HEADER : DEC_BAD_IP;
			const uint8_t *f = cur_ptr(&x);
			next = f[0];
			len = 8;
			uint16_t off = (uint16_t)((f[2] << 8) | f[3]);
			if (off & 0xfff9)   /* offset != 0 or M set: a real fragment */
				return DEC_FRAGMENT;
			break;
		}
		default:
			return DEC_NOT_TCP;
		}
		if (!cur_skip(&x, len))
			return cap < total ? DEC_TRUNCATED_HEADER : DEC_BAD_IP;
		nh = next;
	}
	p->l3 = h;
	p->l3_len = (uint32_t)cap;
	*l4 = cur_make(cur_ptr(&x), cur_left(&x));
	*l4_wire = (uint32_t)(total - x.off);
	return DEC_TCP;
}

enum decode_result decode_packet(const struct raw_packet *raw, struct pkt *p)
{
	struct cursor c = cur_make(raw->data, raw->caplen);
	p->frame = raw->frame;
	p->ts = raw->ts;
	p->raw = raw;
	int v = decode_link(&c, raw->linktype);
	if (v == -2)
		return DEC_UNSUPPORTED_LINK;
	if (v == -1)
		return DEC_TRUNCATED_HEADER;
	if (v == 0)
		return DEC_NOT_IP;

	struct cursor l4;
	uint32_t l4_wire;
	enum decode_result r = v == 4 ? decode_ipv4(&c, p, &l4, &l4_wire)
				      : decode_ipv6(&c, p, &l4, &l4_wire);
	if (r != DEC_TCP)
		return r;

	const uint8_t *t = cur_ptr(&l4);
	if (l4_wire < 20)
		return DEC_BAD_TCP;
	if (cur_left(&l4) < 20)
		return DEC_TRUNCATED_HEADER;
	size_t doff = (size_t)(t[12] >> 4) * 4;
	if (doff < 20 || doff > l4_wire)
		return DEC_BAD_TCP;
	/* snaplen may cut the options: the fixed header is enough to track the
	 * segment; the options that were captured are parsed */
	size_t hcap = cur_left(&l4) < doff ? cur_left(&l4) : doff;
	p->sport = (uint16_t)((t[0] << 8) | t[1]);
	p->dport = (uint16_t)((t[2] << 8) | t[3]);
	p->seq = ((uint32_t)t[4] << 24) | ((uint32_t)t[5] << 16) | ((uint32_t)t[6] << 8) | t[7];
	p->ack = ((uint32_t)t[8] << 24) | ((uint32_t)t[9] << 16) | ((uint32_t)t[10] << 8) | t[11];
	p->flags = t[13];
	p->win = (uint16_t)((t[14] << 8) | t[15]);
	p->opt.mss = 0;
	p->opt.wscale = -1;
	p->opt.sack_perm = false;
	p->opt.has_ts = false;
	p->opt.tsval = p->opt.tsecr = 0;
	if (hcap > 20)
		decode_tcp_opts(cur_make(t + 20, hcap - 20), &p->opt);
	p->payload = t + hcap;
	p->payload_len = (uint32_t)(cur_left(&l4) - hcap);
	p->payload_wire_len = (uint32_t)(l4_wire - doff);
	p->truncated = p->payload_len < p->payload_wire_len;
	return DEC_TCP;
}
