/*
 * fuzz_tls_decrypt.c - libFuzzer target for the TLS record decryptor and the
 * key log reader.
 *
 * Input layout: byte 0 holds flags (bit 0: the server's direction first;
 * bit 1: end both directions at the end; bit 2: a key log text follows, up to
 * the first 0x00 byte, read line by line instead of the fixed RFC 8448 key
 * log; bit 3: the key log is followed (live): a file that does not exist
 * at the start, whose text (the fixed one, or the one that follows) is
 * written when the special len byte 0xfc comes, so the decryptor holds the
 * bytes after the ServerHello and replays them, or decides at the hold's
 * bound, a gap or the end). Then repeated [len][bytes...] as in fuzz_smtp.c: each chunk of len+1
 * bytes (clipped to what is left) goes to the current direction, copied into
 * its own malloc'd buffer of exactly that size so any overread is caught by
 * ASan, and the direction switches. Special len bytes: 0xff a gap in the
 * current direction; 0xfe 255 bytes without switching; 0xfd switch, no bytes.
 * Seeds (tests/fuzz/seeds/fuzz_tls_decrypt) are the RFC 8448 trace and the
 * tests/data/tlsdec-* sessions with their key logs, made by
 * tests/fuzz/make_tls_decrypt_seeds.py.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_dir.h"
#include "keylog.h"
#include "tls_decrypt.h"

static const char rfc8448_keylog[] =
	"CLIENT_HANDSHAKE_TRAFFIC_SECRET cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7 "
	"b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21\n"
	"SERVER_HANDSHAKE_TRAFFIC_SECRET cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7 "
	"b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38\n"
	"CLIENT_TRAFFIC_SECRET_0 cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7 "
	"9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5\n"
	"SERVER_TRAFFIC_SECRET_0 cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7 "
	"a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643\n";

static struct keylog *fixed;
static char scratch[128];

static void add_lines(struct keylog *kl, const char *p, size_t n)
{
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t l = nl ? (size_t)(nl - p) : n;
		keylog_add_line(kl, p, l);
		if (!nl)
			break;
		p += l + 1;
		n -= l + 1;
	}
}

static void sink(void *ctx, enum sl_dir dir, const uint8_t *b, size_t n)
{
	size_t *total = ctx;
	if (n && b)
		*total += b[0] + b[n - 1] + (size_t)dir;   /* touch first and last byte */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (!fixed) {
		fixed = keylog_new();
		if (!fixed)
			return 0;
		add_lines(fixed, rfc8448_keylog, sizeof(rfc8448_keylog) - 1);
	}
	uint8_t flags = data[0];
	size_t off = 1;
	struct keylog *own = NULL;
	const char *ktext = rfc8448_keylog;
	size_t klen = sizeof(rfc8448_keylog) - 1;
	if (flags & 4) {
		const uint8_t *end = memchr(data + off, 0, size - off);
		size_t n = end ? (size_t)(end - (data + off)) : size - off;
		own = keylog_new();
		if (!own)
			return 0;
		ktext = (const char *)data + off;
		klen = n;
		if (!(flags & 8))
			add_lines(own, ktext, klen);
		off += n + (end != NULL);
	}
	char kpath[160] = "";
	if (flags & 8) {
		if (!scratch[0] && !fuzz_scratch_dir(scratch, sizeof(scratch), "tls_decrypt"))
			abort();
		snprintf(kpath, sizeof(kpath), "%s/keys.log", scratch);
		unlink(kpath);
		char err[256];
		if (!own && !(own = keylog_new()))
			return 0;
		if (!keylog_follow(own, kpath, err, sizeof(err)))
			abort();        /* an absent file is not an error */
	}
	size_t total = 0;
	struct tlsd *t = tlsd_new(own ? own : fixed, sink, &total);
	if (!t) {
		keylog_free(own);
		return 0;
	}
	enum sl_dir dir = (flags & 1) ? DIR_S2C : DIR_C2S;
	while (off < size) {
		uint8_t len = data[off++];
		if (len == 0xff) {
			tlsd_gap(t, dir, 1);
			continue;
		}
		if (len == 0xfd) {
			dir = dir == DIR_C2S ? DIR_S2C : DIR_C2S;
			continue;
		}
		if (len == 0xfc && kpath[0]) {
			FILE *fp = fopen(kpath, "a");     /* the key lines appear now */
			if (!fp)
				abort();
			fwrite(ktext, 1, klen, fp);
			fclose(fp);
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
		tlsd_data(t, dir, chunk, n);
		free(chunk);
		off += n;
		if (!keep_dir)
			dir = dir == DIR_C2S ? DIR_S2C : DIR_C2S;
	}
	if (flags & 2) {
		tlsd_end(t, DIR_C2S);
		tlsd_end(t, DIR_S2C);
	}
	const struct tlsd_info *in = tlsd_info(t);
	for (int d = 0; d < 2; d++) {
		/* nothing is delivered by a direction that never had keys */
		if (in->dir[d].app_bytes && !in->dir[d].decrypted)
			abort();
		if (!tlsd_status_name(in->dir[d].status))
			abort();
	}
	char line[160];
	if (tlsd_wanted_line(t, line, sizeof(line)) && strlen(line) >= sizeof(line))
		abort();
	tlsd_free(t);
	keylog_free(own);
	if (kpath[0])
		unlink(kpath);
	return 0;
}
