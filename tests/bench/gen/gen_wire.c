/*
 * gen_wire.c - gen_capture's random numbers, text pools and pcap output
 * (checksums, headers, the buffered writer).
 */
#include "gen_wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- rng */

uint64_t rng_state;

uint64_t rnd(void)
{
	/* splitmix64: tiny, fast, good enough for traffic shapes. */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t rnd_range(uint64_t lo, uint64_t hi) /* inclusive */
{
	return lo + rnd() % (hi - lo + 1);
}

double rnd_unit(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }

bool rnd_pct(double pct) { return rnd_unit() * 100.0 < pct; }

/* Log-uniform in [lo, hi]: many small values, a long tail of large ones. */
uint64_t rnd_log(double lo, double hi)
{
	double l = __builtin_log(lo), h = __builtin_log(hi);
	return (uint64_t)__builtin_exp(l + (h - l) * rnd_unit());
}

/* ---------------------------------------------------------------- pools */

uint8_t text_pool[POOL_SIZE];
uint8_t bin_pool[BIN_POOL_SIZE];

const char *const words[SL_ARRAY_LEN_W] = {
	"the", "mail", "server", "queue", "message", "delivery", "report", "invoice",
	"meeting", "attached", "please", "find", "below", "regards", "thanks", "quarterly",
	"budget", "project", "status", "update", "schedule", "review", "draft", "final",
	"customer", "order", "shipment", "tracking", "number", "account", "support", "ticket",
	"network", "outage", "window", "maintenance", "tonight", "tomorrow", "monday", "friday",
};

/* Fills the text pool with CRLF lines of words; about 3 % of lines begin with
 * a dot and are therefore dot-stuffed (".."), none is a lone ".". The pool
 * begins at a line start and ends with CRLF so reading it as a ring is safe. */
void pool_init(void)
{
	size_t off = 0;
	while (POOL_SIZE - off > 200) {
		size_t target = rnd_range(0, 99) < 5 ? 0 : rnd_range(30, 76);
		size_t start = off;
		if (target && rnd_range(0, 99) < 3) {
			memcpy(text_pool + off, "..", 2);
			off += 2;
		}
		while (off - start < target) {
			const char *w = words[rnd() % SL_ARRAY_LEN_W];
			size_t n = strlen(w);
			memcpy(text_pool + off, w, n);
			off += n;
			text_pool[off++] = ' ';
		}
		if (off > start && text_pool[off - 1] == ' ')
			text_pool[off - 1] = 'x';
		text_pool[off++] = '\r';
		text_pool[off++] = '\n';
	}
	/* Pad the last line with letters so the pool ends exactly on CRLF. */
	while (off < POOL_SIZE - 2)
		text_pool[off++] = 'z';
	text_pool[POOL_SIZE - 2] = '\r';
	text_pool[POOL_SIZE - 1] = '\n';
	for (size_t i = 0; i < BIN_POOL_SIZE; i++)
		bin_pool[i] = (uint8_t)rnd();
}

/* A random line start in the text pool. */
uint32_t pool_line_start(void)
{
	uint32_t o = (uint32_t)(rnd() % POOL_SIZE);
	while (text_pool[(o + POOL_SIZE - 1) % POOL_SIZE] != '\n')
		o = (o + 1) % POOL_SIZE;
	return o;
}

/* Lengthens n until the pool byte before o+n is a letter: a body then never
 * ends inside CRLF nor on a lone dot, so the "\r\n.\r\n" after it is the one
 * end of data. */
uint32_t pool_fix_len(uint32_t o, uint32_t n)
{
	for (;;) {
		uint8_t c = text_pool[(o + n - 1) % POOL_SIZE];
		if (c >= 'a' && c <= 'z')
			return n;
		n++;
	}
}

/* ---------------------------------------------------------------- output */

uint8_t *outbuf;
static size_t outlen;
FILE *outf;
uint64_t bytes_written, packets_written;

void out_flush(void)
{
	if (outlen && fwrite(outbuf, 1, outlen, outf) != outlen) {
		fprintf(stderr, "gen_capture: write: %s\n", strerror(errno));
		exit(1);
	}
	outlen = 0;
}

/* Room for one frame at the end of the buffer. */
uint8_t *out_reserve(void)
{
	if (OUTBUF_SIZE - outlen < MAX_FRAME + 64)
		out_flush();
	return outbuf + outlen;
}

void out_commit(size_t n)
{
	outlen += n;
	bytes_written += n;
	packets_written++;
}

void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static void put32le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

/* Internet checksum partial sum in native order (RFC 1071 is byte-order
 * independent as long as the result is stored the same way). */
uint64_t csum_add(uint64_t acc, const uint8_t *p, size_t n)
{
	while (n >= 8) {
		uint32_t a, b;
		memcpy(&a, p, 4);
		memcpy(&b, p + 4, 4);
		acc += (uint64_t)a + b;
		p += 8;
		n -= 8;
	}
	while (n >= 2) {
		uint16_t a;
		memcpy(&a, p, 2);
		acc += a;
		p += 2;
		n -= 2;
	}
	if (n) {
		uint8_t last[2] = { p[0], 0 };
		uint16_t a;
		memcpy(&a, last, 2);
		acc += a;
	}
	return acc;
}

static uint16_t csum_fold(uint64_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

void store_csum(uint8_t *p, uint64_t acc)
{
	uint16_t c = csum_fold(acc);
	memcpy(p, &c, 2);
}

void pcap_file_header(void)
{
	uint8_t *h = out_reserve();
	put32le(h, 0xa1b2c3d4);        /* microsecond pcap, little-endian */
	h[4] = 2; h[5] = 0; h[6] = 4; h[7] = 0;
	memset(h + 8, 0, 8);
	put32le(h + 16, 65535);
	put32le(h + 20, 1);            /* DLT_EN10MB */
	outlen += 24;
	bytes_written += 24;
}

void pcap_rec_header(uint8_t *h, int64_t ts, uint32_t len)
{
	put32le(h, (uint32_t)(ts / NS_S));
	put32le(h + 4, (uint32_t)((ts % NS_S) / NS_US));
	put32le(h + 8, len);
	put32le(h + 12, len);
}
