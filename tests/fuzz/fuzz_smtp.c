/*
 * fuzz_smtp.c - libFuzzer target for the SMTP dissector (and the TLS record
 * layer and tunnel preludes behind it).
 *
 * Input layout: byte 0 holds flags (bit 0: the server speaks first; bit 1:
 * end both directions at the end). Then repeated [len][bytes...]: each
 * chunk of len+1 bytes (clipped to what is left) goes to the next direction
 * in turn, copied into its own malloc'd buffer of exactly that size so any
 * overread is caught by ASan. Special len bytes: 0xff a gap (the next byte
 * times 7, plus 1, in the current direction); 0xfe 255 bytes to the
 * current direction without switching; 0xfd switch direction, no bytes.
 * With flag bit 2 (re-entry, the --tls-keylog path): 0xfc hands the next
 * chunk to smtp_tls_plain (decrypted application data) instead of smtp_data,
 * and 0xfb is a gap in that plaintext; a TLS tap is installed.
 * Seeds (tests/fuzz/seeds/fuzz_smtp) are dialogs in this layout, made by
 * tests/fuzz/make_smtp_seeds.py.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp.h"

static void sink(void *ctx, uint32_t msg, const uint8_t *b, size_t n, bool done)
{
	(void)msg;
	(void)done;
	size_t *total = ctx;
	if (n && b)
		*total += b[0] + b[n - 1];    /* touch first and last byte */
}

static void tap(void *ctx, enum sl_dir dir, const uint8_t *b, size_t n, uint64_t gap)
{
	size_t *total = ctx;
	(void)dir;
	if (b && n)
		*total += b[0] + b[n - 1];
	else
		*total += (size_t)gap;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct timeline tl;
	tl_init(&tl);
	struct smtp *s = smtp_new(&tl);
	if (!s) {
		tl_free(&tl);
		return 0;
	}
	size_t total = 0;
	smtp_set_body_sink(s, sink, &total);
	uint8_t flags = data[0];
	bool reentry = flags & 4, plain_next = false;
	if (reentry)
		smtp_set_tls_tap(s, tap, &total);
	enum sl_dir dir = (flags & 1) ? DIR_S2C : DIR_C2S;
	size_t off = 1;
	struct seg_meta m;
	memset(&m, 0, sizeof(m));
	while (off < size) {
		uint8_t len = data[off++];
		m.frame++;
		m.ts += NS_PER_MS;
		if (len == 0xff) {
			uint64_t g = off < size ? (uint64_t)data[off++] * 7 + 1 : 1;
			smtp_gap(s, dir, g, &m);
			continue;
		}
		if (reentry && len == 0xfc) {
			plain_next = true;
			continue;
		}
		if (reentry && len == 0xfb) {
			uint64_t g = off < size ? (uint64_t)data[off++] * 7 + 1 : 1;
			smtp_tls_plain(s, dir, NULL, 0, g, &m);
			continue;
		}
		if (len == 0xfd) {
			dir = dir == DIR_C2S ? DIR_S2C : DIR_C2S;
			continue;
		}
		bool keep_dir = len == 0xfe;
		size_t n = keep_dir ? 255 : (size_t)len + 1;
		if (n > size - off)
			n = size - off;
		if (n == 0)
			break;
		uint8_t *chunk = malloc(n);
		if (!chunk)
			break;
		memcpy(chunk, data + off, n);
		if (plain_next)
			smtp_tls_plain(s, dir, chunk, n, 0, &m);
		else
			smtp_data(s, dir, chunk, n, &m);
		plain_next = false;
		free(chunk);
		off += n;
		if (!keep_dir)
			dir = dir == DIR_C2S ? DIR_S2C : DIR_C2S;
	}
	if (flags & 2) {
		smtp_end(s, DIR_C2S, &m);
		smtp_end(s, DIR_S2C, &m);
	}
	/* every fact string must be terminated */
	const struct smtp_facts *f = smtp_facts(s);
	if (strlen(f->extensions) >= sizeof(f->extensions) || strlen(f->auth_user) >= sizeof(f->auth_user))
		abort();
	smtp_free(s);
	tl_free(&tl);
	return 0;
}
