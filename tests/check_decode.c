/*
 * check_decode.c - link layers, IPv4/IPv6 (options, extension headers,
 * fragments), TCP options, truncation and corrupt headers.
 */
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "testutil.h"
#include "tu_pkt.h"

static const uint8_t PAYLOAD[] = "EHLO client.example\r\n";

static struct tu_seg seg4(void)
{
	struct tu_seg s = { .src = "192.0.2.1", .dst = "198.51.100.2", .sport = 40000, .dport = 25,
			    .seq = 1000, .ack = 2000, .flags = TH_ACK | TH_PSH, .win = 512,
			    .payload = PAYLOAD, .len = sizeof(PAYLOAD) - 1, .ttl = 57, .ip_id = 0x1234 };
	return s;
}

static struct tu_seg seg6(void)
{
	struct tu_seg s = seg4();
	s.src = "2001:db8::1";
	s.dst = "2001:db8::25";
	return s;
}

static enum decode_result dec(int dlt, const uint8_t *b, size_t n, struct pkt *p)
{
	static struct raw_packet raw;
	tu_raw(&raw, 7, 123, dlt, b, (uint32_t)n, 0);
	memset(p, 0xa5, sizeof(*p));
	return decode_packet(&raw, p);
}

static void check_common(const struct pkt *p, int ipver)
{
	ck_assert_uint_eq(p->frame, 7);
	ck_assert_int_eq(p->ts, 123);
	ck_assert_uint_eq(p->ipver, ipver);
	ck_assert_uint_eq(p->sport, 40000);
	ck_assert_uint_eq(p->dport, 25);
	ck_assert_uint_eq(p->seq, 1000);
	ck_assert_uint_eq(p->ack, 2000);
	ck_assert_uint_eq(p->flags, TH_ACK | TH_PSH);
	ck_assert_uint_eq(p->win, 512);
	ck_assert_uint_eq(p->ttl, 57);
	ck_assert_uint_eq(p->payload_len, sizeof(PAYLOAD) - 1);
	ck_assert_uint_eq(p->payload_wire_len, sizeof(PAYLOAD) - 1);
	ck_assert(!p->truncated);
	ck_assert_mem_eq(p->payload, PAYLOAD, sizeof(PAYLOAD) - 1);
	ck_assert_uint_eq(p->l3[0] >> 4, ipver);
	ck_assert_ptr_eq(p->l3 + p->l3_len, p->payload + p->payload_len);
}

/* Every link type carries the same IPv4 and IPv6 segment. */
START_TEST(test_link_types)
{
	static const int dlts[] = { DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, 101, 228,
				    229, DLT_NULL, DLT_LOOP };
	for (size_t i = 0; i < SL_ARRAY_LEN(dlts); i++) {
		for (int v = 4; v <= 6; v += 2) {
			if ((dlts[i] == 228 && v == 6) || (dlts[i] == 229 && v == 4))
				continue;
			struct tu_seg s = v == 4 ? seg4() : seg6();
			uint8_t f[2048];
			size_t n = tu_frame(f, sizeof(f), dlts[i], &s);
			ck_assert_uint_gt(n, 0);
			struct pkt p;
			ck_assert_msg(dec(dlts[i], f, n, &p) == DEC_TCP, "dlt %d v%d", dlts[i], v);
			check_common(&p, v);
			if (v == 4) {
				ck_assert_uint_eq(p.ip_id, 0x1234);
				ck_assert_uint_eq(p.src.v, 4);
				ck_assert_uint_eq(p.src.a[0], 192);
				ck_assert_uint_eq(p.dst.a[3], 2);
			} else {
				ck_assert_uint_eq(p.ip_id, 0);
				ck_assert_uint_eq(p.dst.a[15], 0x25);
			}
		}
	}
}
END_TEST

START_TEST(test_null_byte_orders)
{
	static const uint32_t v6afs[] = { 10, 24, 28, 30 };
	for (int swap = 0; swap < 2; swap++) {
		struct tu_seg s = seg4();
		uint8_t ip[2048], f[2048];
		size_t il = tu_ip_tcp(ip, sizeof(ip), &s);
		struct tu_link_opts o = { .null_swap = swap };
		size_t n = tu_link(f, sizeof(f), DLT_NULL, &o, ip, il);
		struct pkt p;
		ck_assert_int_eq(dec(DLT_NULL, f, n, &p), DEC_TCP);
		check_common(&p, 4);
		s = seg6();
		il = tu_ip_tcp(ip, sizeof(ip), &s);
		for (size_t i = 0; i < SL_ARRAY_LEN(v6afs); i++) {
			o.null_af = v6afs[i];
			n = tu_link(f, sizeof(f), DLT_NULL, &o, ip, il);
			ck_assert_int_eq(dec(DLT_NULL, f, n, &p), DEC_TCP);
			check_common(&p, 6);
		}
		o.null_af = 7;  /* not an IP family */
		n = tu_link(f, sizeof(f), DLT_NULL, &o, ip, il);
		ck_assert_int_eq(dec(DLT_NULL, f, n, &p), DEC_NOT_IP);
	}
}
END_TEST

START_TEST(test_vlan_stacks)
{
	static const uint16_t tags[] = { 0x88a8, 0x8100, 0x9100, 0x8100, 0x8100, 0x8100, 0x8100, 0x8100, 0x8100 };
	struct tu_seg s = seg6();
	uint8_t ip[2048], f[2048];
	size_t il = tu_ip_tcp(ip, sizeof(ip), &s);
	for (int depth = 1; depth <= 8; depth++) {
		struct tu_link_opts o = { .vlans = tags, .nvlan = depth };
		size_t n = tu_link(f, sizeof(f), DLT_EN10MB, &o, ip, il);
		struct pkt p;
		ck_assert_int_eq(dec(DLT_EN10MB, f, n, &p), DEC_TCP);
		check_common(&p, 6);
	}
	/* deeper than the cap: refused, not followed */
	struct tu_link_opts o = { .vlans = tags, .nvlan = 9 };
	size_t n = tu_link(f, sizeof(f), DLT_EN10MB, &o, ip, il);
	struct pkt p;
	ck_assert_int_eq(dec(DLT_EN10MB, f, n, &p), DEC_TRUNCATED_HEADER);
	/* tags cut short */
	o.nvlan = 2;
	n = tu_link(f, sizeof(f), DLT_EN10MB, &o, ip, il);
	ck_assert_int_eq(dec(DLT_EN10MB, f, 18, &p), DEC_TRUNCATED_HEADER);
	/* ARP is not IP */
	struct tu_link_opts arp = { .ethertype = 0x0806 };
	n = tu_link(f, sizeof(f), DLT_EN10MB, &arp, ip, il);
	ck_assert_int_eq(dec(DLT_EN10MB, f, n, &p), DEC_NOT_IP);
}
END_TEST

START_TEST(test_ipv4_options_and_padding)
{
	static const uint8_t rr[] = { 7, 11, 4, 10, 0, 0, 1, 0, 0, 0, 0 }; /* record route */
	struct tu_seg s = seg4();
	s.ip_opts = rr;
	s.ip_opts_len = sizeof(rr);
	uint8_t f[2048];
	size_t n = tu_frame(f, sizeof(f), DLT_EN10MB, &s);
	/* Ethernet padding after the datagram must not become payload */
	memset(f + n, 0xee, 30);
	struct pkt p;
	ck_assert_int_eq(dec(DLT_EN10MB, f, n + 30, &p), DEC_TCP);
	check_common(&p, 4);
	ck_assert_uint_eq(p.l3_len, 20 + 12 + 20 + sizeof(PAYLOAD) - 1);
	/* IHL below 5 */
	f[14] = 0x44;
	ck_assert_int_eq(dec(DLT_EN10MB, f, n, &p), DEC_BAD_IP);
	/* IHL past the captured bytes */
	f[14] = 0x4f;
	ck_assert_int_eq(dec(DLT_EN10MB, f, 14 + 40, &p), DEC_TRUNCATED_HEADER);
}
END_TEST

START_TEST(test_ipv4_bad_lengths)
{
	struct tu_seg s = seg4();
	s.ip_total_delta = -(int)(20 + s.len) - 5;  /* total length shorter than the IP header */
	uint8_t f[2048];
	size_t n = tu_frame(f, sizeof(f), DLT_RAW, &s);
	struct pkt p;
	ck_assert_int_eq(dec(DLT_RAW, f, n, &p), DEC_BAD_IP);
	s = seg4();
	s.ip_total_delta = -(int)s.len - 8;     /* TCP header cut by the IP length */
	n = tu_frame(f, sizeof(f), DLT_RAW, &s);
	ck_assert_int_eq(dec(DLT_RAW, f, n, &p), DEC_BAD_TCP);
	/* version nibble that is neither 4 nor 6 on raw */
	s = seg4();
	n = tu_frame(f, sizeof(f), DLT_RAW, &s);
	f[0] = 0x55;
	ck_assert_int_eq(dec(DLT_RAW, f, n, &p), DEC_NOT_IP);
	/* ethertype says IPv4, header says 6 */
	n = tu_frame(f, sizeof(f), DLT_EN10MB, &s);
	f[14] = 0x65;
	ck_assert_int_eq(dec(DLT_EN10MB, f, n, &p), DEC_BAD_IP);
	/* not TCP */
	n = tu_frame(f, sizeof(f), DLT_RAW, &s);
	f[9] = 17;
	ck_assert_int_eq(dec(DLT_RAW, f, n, &p), DEC_NOT_TCP);
	/* length 0 (segmentation offload): the captured bytes count */
	n = tu_frame(f, sizeof(f), DLT_RAW, &s);
	f[2] = f[3] = 0;
	ck_assert_int_eq(dec(DLT_RAW, f, n, &p), DEC_TCP);
	check_common(&p, 4);
}
END_TEST

START_TEST(test_fragments)
{
	struct tu_seg s = seg4();
	uint8_t f[2048];
	struct pkt p;
	s.frag = 0x2000;                /* MF */
	size_t n = tu_frame(f, sizeof(f), DLT_RAW, &s);
	ck_assert_int_eq(dec(DLT_RAW, f, n, &p), DEC_FRAGMENT);
	s.frag = 0x0010;                /* offset */
	n = tu_frame(f, sizeof(f), DLT_RAW, &s);
	ck_assert_int_eq(dec(DLT_RAW, f, n, &p), DEC_FRAGMENT);
	s.frag = 0x4000;                /* DF only: not a fragment */
	n = tu_frame(f, sizeof(f), DLT_RAW, &s);
	ck_assert_int_eq(dec(DLT_RAW, f, n, &p), DEC_TCP);
	/* IPv6 fragment header: a real fragment, then an atomic one */
	uint8_t fh[8] = { 6, 0, 0x00, 0x01, 0, 0, 0, 1 };  /* M set */
	s = seg6();
	s.v6_ext = fh;
	s.v6_ext_len = 8;
	s.v6_ext_first = 44;
	n = tu_frame(f, sizeof(f), DLT_RAW, &s);
	ck_assert_int_eq(dec(DLT_RAW, f, n, &p), DEC_FRAGMENT);
	fh[3] = 0;
	n = tu_frame(f, sizeof(f), DLT_RAW, &s);
	ck_assert_int_eq(dec(DLT_RAW, f, n, &p), DEC_TCP);
	check_common(&p, 6);
}
END_TEST

START_TEST(test_ipv6_ext_chain)
{
	/* hop-by-hop (8) -> routing (16) -> AH (12+4=16) -> dest opts (8) -> TCP */
	uint8_t ext[48];
	memset(ext, 0, sizeof(ext));
	ext[0] = 43; ext[1] = 0;                /* HBH, 8 bytes, next routing */
	ext[8] = 51; ext[9] = 1;                /* routing, 16 bytes, next AH */
	ext[24] = 60; ext[25] = 2;              /* AH, (2+2)*4 = 16 bytes, next dstopts */
	ext[40] = 6; ext[41] = 0;               /* dest opts, 8 bytes, next TCP */
	struct tu_seg s = seg6();
	s.v6_ext = ext;
	s.v6_ext_len = sizeof(ext);
	s.v6_ext_first = 0;
	uint8_t f[2048];
	size_t n = tu_frame(f, sizeof(f), DLT_EN10MB, &s);
	struct pkt p;
	ck_assert_int_eq(dec(DLT_EN10MB, f, n, &p), DEC_TCP);
	check_common(&p, 6);
	ck_assert_uint_eq(p.l3_len, 40 + 48 + 20 + sizeof(PAYLOAD) - 1);
	/* an extension header that runs past the datagram */
	ext[41] = 200;
	n = tu_frame(f, sizeof(f), DLT_EN10MB, &s);
	ck_assert_int_eq(dec(DLT_EN10MB, f, n, &p), DEC_BAD_IP);
	/* captured bytes end inside the chain */
	ext[41] = 0;
	n = tu_frame(f, sizeof(f), DLT_EN10MB, &s);
	ck_assert_int_eq(dec(DLT_EN10MB, f, 14 + 40 + 20, &p), DEC_TRUNCATED_HEADER);
	/* a chain longer than the cap */
	uint8_t longx[8 * 9];
	memset(longx, 0, sizeof(longx));
	for (int i = 0; i < 9; i++)
		longx[i * 8] = i == 8 ? 6 : 60;
	s.v6_ext = longx;
	s.v6_ext_len = sizeof(longx);
	s.v6_ext_first = 60;
	n = tu_frame(f, sizeof(f), DLT_EN10MB, &s);
	ck_assert_int_eq(dec(DLT_EN10MB, f, n, &p), DEC_BAD_IP);
	/* no next header */
	ext[40] = 59;
	s.v6_ext = ext;
	s.v6_ext_len = sizeof(ext);
	s.v6_ext_first = 0;
	n = tu_frame(f, sizeof(f), DLT_EN10MB, &s);
	ck_assert_int_eq(dec(DLT_EN10MB, f, n, &p), DEC_NOT_TCP);
}
END_TEST

START_TEST(test_tcp_options)
{
	static const uint8_t syn_opts[] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9,
					    1, 3, 3, 7 };
	struct tu_seg s = seg4();
	s.tcp_opts = syn_opts;
	s.tcp_opts_len = sizeof(syn_opts);
	uint8_t f[2048];
	size_t n = tu_frame(f, sizeof(f), DLT_RAW, &s);
	struct pkt p;
	ck_assert_int_eq(dec(DLT_RAW, f, n, &p), DEC_TCP);
	check_common(&p, 4);
	ck_assert_uint_eq(p.opt.mss, 1460);
	ck_assert_int_eq(p.opt.wscale, 7);
	ck_assert(p.opt.sack_perm);
	ck_assert(p.opt.has_ts);
	ck_assert_uint_eq(p.opt.tsval, 7);
	ck_assert_uint_eq(p.opt.tsecr, 9);
	/* malformed: MSS ok, then an option with length 0; the rest is ignored */
	static const uint8_t bad[] = { 2, 4, 0x02, 0x00, 3, 0, 4, 2 };
	s.tcp_opts = bad;
	s.tcp_opts_len = sizeof(bad);
	n = tu_frame(f, sizeof(f), DLT_RAW, &s);
	ck_assert_int_eq(dec(DLT_RAW, f, n, &p), DEC_TCP);
	check_common(&p, 4);
	ck_assert_uint_eq(p.opt.mss, 512);
	ck_assert_int_eq(p.opt.wscale, -1);
	ck_assert(!p.opt.sack_perm);
	/* an option whose length runs past the header */
	static const uint8_t over[] = { 1, 1, 8, 30 };
	s.tcp_opts = over;
	s.tcp_opts_len = sizeof(over);
	n = tu_frame(f, sizeof(f), DLT_RAW, &s);
	ck_assert_int_eq(dec(DLT_RAW, f, n, &p), DEC_TCP);
	ck_assert(!p.opt.has_ts);
	/* snaplen cuts inside the options: the segment is kept, with the
	 * options that were captured, and marked truncated */
	s.tcp_opts = syn_opts;
	s.tcp_opts_len = sizeof(syn_opts);
	n = tu_frame(f, sizeof(f), DLT_RAW, &s);
	ck_assert_int_eq(dec(DLT_RAW, f, 20 + 20 + 6, &p), DEC_TCP);
	ck_assert_uint_eq(p.opt.mss, 1460);
	ck_assert(!p.opt.has_ts);
	ck_assert_uint_eq(p.payload_len, 0);
	ck_assert_uint_eq(p.payload_wire_len, sizeof(PAYLOAD) - 1);
	ck_assert(p.truncated);
	ck_assert_uint_eq(p.seq, 1000);
	/* data offset below 5 */
	s = seg4();
	n = tu_frame(f, sizeof(f), DLT_RAW, &s);
	f[20 + 12] = 0x40;
	ck_assert_int_eq(dec(DLT_RAW, f, n, &p), DEC_BAD_TCP);
	/* data offset past the segment */
	f[20 + 12] = 0xf0;
	ck_assert_int_eq(dec(DLT_RAW, f, 20 + 20 + 8, &p), DEC_BAD_TCP);
}
END_TEST

/* Every prefix of a good frame decodes without reading past it: short ones
 * are truncated headers, longer ones truncated payloads. */
START_TEST(test_truncation_every_length)
{
	static const int dlts[] = { DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, DLT_NULL };
	for (size_t d = 0; d < SL_ARRAY_LEN(dlts); d++) {
		for (int v = 4; v <= 6; v += 2) {
			struct tu_seg s = v == 4 ? seg4() : seg6();
			uint8_t f[2048];
			size_t n = tu_frame(f, sizeof(f), dlts[d], &s);
			size_t hdr = n - s.len;
			for (size_t cut = 0; cut <= n; cut++) {
				/* a copy of exactly cut bytes so ASan sees any over-read */
				uint8_t *b = malloc(cut ? cut : 1);
				memcpy(b, f, cut);
				struct pkt p;
				enum decode_result r = dec(dlts[d], b, cut, &p);
				if (cut < hdr) {
					ck_assert_msg(r == DEC_TRUNCATED_HEADER, "dlt %d cut %zu: %s", dlts[d],
						      cut, decode_result_name(r));
				} else {
					ck_assert_int_eq(r, DEC_TCP);
					ck_assert_uint_eq(p.payload_len, cut - hdr);
					ck_assert_uint_eq(p.payload_wire_len, s.len);
					ck_assert(p.truncated == (cut < n));
					ck_assert_ptr_eq(p.l3 + p.l3_len, b + cut);
				}
				free(b);
			}
		}
	}
}
END_TEST

START_TEST(test_unsupported_link)
{
	uint8_t f[64] = { 0 };
	struct pkt p;
	ck_assert_int_eq(dec(147, f, sizeof(f), &p), DEC_UNSUPPORTED_LINK);
	ck_assert_str_eq(decode_result_name(DEC_FRAGMENT), "ip_fragment");
	ck_assert_str_eq(decode_result_name(DEC__COUNT), "?");
}
END_TEST

static Suite *decode_suite(void)
{
	Suite *s = suite_create("decode");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_link_types);
	tcase_add_test(tc, test_null_byte_orders);
	tcase_add_test(tc, test_vlan_stacks);
	tcase_add_test(tc, test_ipv4_options_and_padding);
	tcase_add_test(tc, test_ipv4_bad_lengths);
	tcase_add_test(tc, test_fragments);
	tcase_add_test(tc, test_ipv6_ext_chain);
	tcase_add_test(tc, test_tcp_options);
	tcase_add_test(tc, test_truncation_every_length);
	tcase_add_test(tc, test_unsupported_link);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return tu_run(decode_suite()); }
