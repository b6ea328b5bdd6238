/*
 * bench_tls_decrypt.c - what TLS decryption costs, and what it yields.
 *
 *   bench_tls_decrypt [--reps N] DIALOG KEYLOG
 *   bench_tls_decrypt --dump DIALOG KEYLOG
 *
 * DIALOG is a text file of chunks in wire order, one per line (the format of
 * tests/data/tlsdec-*.txt): "C <hex>"/"S <hex>" TLS bytes from the client /
 * server, "c <hex>"/"s <hex>" plaintext SMTP before STARTTLS.
 *
 * Timing (default): decrypts the dialog N times (default 2000) with the key
 * log, then N times with an empty key log (the same record framing and
 * handshake parsing, no key derivation or decryption), and prints sessions/s,
 * MB/s of TLS bytes and the ratio, in process CPU time. Per-session key
 * derivation is included.
 *
 * --dump: decrypts once and prints the SMTP dialog, one line per SMTP line:
 * "C <text>" / "S <text>" (plaintext and decrypted lines alike, control bytes
 * as '.'), then "# DIR status ..." lines. The tshark cross-check
 * (tests/integration/test_tls_keylog_tshark.py) reads this. No key material
 * is printed.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keylog.h"
#include "tls_decrypt.h"

#define MAX_CHUNKS 100000
#define LINE_MAX_OUT 4096

struct chunk {
	char kind;              /* C S c s */
	uint8_t *b;
	size_t n;
};

static struct chunk *chunks;
static size_t nchunks;

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int load(const char *path)
{
	FILE *fp = fopen(path, "r");
	if (!fp) {
		perror(path);
		return -1;
	}
	chunks = calloc(MAX_CHUNKS, sizeof(*chunks));
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, fp)) > 0 && nchunks < MAX_CHUNKS) {
		if (len < 3 || !strchr("CScs", line[0]) || line[1] != ' ')
			continue;
		size_t hl = strcspn(line + 2, "\r\n") / 2;
		struct chunk *c = &chunks[nchunks++];
		c->kind = line[0];
		c->b = malloc(hl ? hl : 1);
		c->n = hl;
		for (size_t i = 0; i < hl; i++)
			c->b[i] = (uint8_t)(hexval(line[2 + 2 * i]) * 16 + hexval(line[3 + 2 * i]));
	}
	free(line);
	fclose(fp);
	return 0;
}

/* --dump: SMTP lines per direction */
struct lines {
	char buf[2][LINE_MAX_OUT];
	size_t n[2];
};

static void put_bytes(struct lines *l, int dir, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (b[i] == '\n') {
			size_t k = l->n[dir];
			if (k && l->buf[dir][k - 1] == '\r')
				k--;
			printf("%c %.*s\n", dir ? 'S' : 'C', (int)k, l->buf[dir]);
			l->n[dir] = 0;
		} else if (l->n[dir] < LINE_MAX_OUT) {
			l->buf[dir][l->n[dir]++] = (b[i] >= 0x20 && b[i] < 0x7f) || b[i] == '\r' ? (char)b[i] : '.';
		}
	}
}

static void on_dump(void *ctx, enum sl_dir dir, const uint8_t *b, size_t n)
{
	put_bytes(ctx, (int)dir, b, n);
}

static void on_touch(void *ctx, enum sl_dir dir, const uint8_t *b, size_t n)
{
	size_t *sum = ctx;
	*sum += b[0] + b[n - 1] + (size_t)dir;
}

/* One session; returns the TLS bytes fed. */
static size_t run(const struct keylog *kl, tlsd_data_fn fn, void *ctx, struct tlsd **keep)
{
	struct tlsd *t = tlsd_new(kl, fn, ctx);
	size_t bytes = 0;
	for (size_t i = 0; i < nchunks; i++) {
		const struct chunk *c = &chunks[i];
		if (c->kind == 'C' || c->kind == 'S') {
			tlsd_data(t, c->kind == 'C' ? DIR_C2S : DIR_S2C, c->b, c->n);
			bytes += c->n;
		} else if (fn == on_dump) {
			put_bytes(ctx, c->kind == 'c' ? 0 : 1, c->b, c->n);
		}
	}
	tlsd_end(t, DIR_C2S);
	tlsd_end(t, DIR_S2C);
	if (keep)
		*keep = t;
	else
		tlsd_free(t);
	return bytes;
}

/* Process CPU time: the machine is shared, and wall time on a loaded one
 * measures the neighbours (the tool is single-threaded). */
static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	bool dump = false;
	long reps = 2000;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--dump"))
			dump = true;
		else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = atol(argv[++i]);
		else
			break;
	}
	if (argc - i != 2 || reps < 1) {
		fprintf(stderr, "usage: bench_tls_decrypt [--dump | --reps N] DIALOG KEYLOG\n");
		return 2;
	}
	if (load(argv[i]) < 0)
		return 1;
	struct keylog *kl = keylog_new(), *none = keylog_new();
	char err[512];
	if (!keylog_load_file(kl, argv[i + 1], err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	const struct keylog_stats *st = keylog_stats(kl);
	if (dump) {
		static struct lines l;
		struct tlsd *t;
		run(kl, on_dump, &l, &t);
		const struct tlsd_info *in = tlsd_info(t);
		printf("# keylog lines=%llu secrets=%llu ignored=%llu malformed=%llu\n",
		       (unsigned long long)st->lines, (unsigned long long)st->secrets,
		       (unsigned long long)st->ignored, (unsigned long long)st->malformed);
		const char *cn = tlsd_cipher_name(in->cipher);
		printf("# version=0x%04x cipher=%s\n", in->version, cn ? cn : "?");
		for (int d = 0; d < 2; d++)
			printf("# %s status=%s records=%llu decrypted=%llu app_bytes=%llu key_updates=%u\n",
			       d ? "s2c" : "c2s", tlsd_status_name(in->dir[d].status),
			       (unsigned long long)in->dir[d].records, (unsigned long long)in->dir[d].decrypted,
			       (unsigned long long)in->dir[d].app_bytes, in->dir[d].key_updates);
		tlsd_free(t);
	} else {
		size_t sum = 0, bytes = 0;
		double t0 = now();
		for (long r = 0; r < reps; r++)
			bytes = run(kl, on_touch, &sum, NULL);
		double with = now() - t0;
		t0 = now();
		for (long r = 0; r < reps; r++)
			run(none, on_touch, &sum, NULL);
		double without = now() - t0;
		printf("sessions %ld x %zu TLS bytes\n", reps, bytes);
		printf("with keys     %8.0f sessions/s %8.1f MB/s %6.1f us/session (CPU)\n", reps / with,
		       reps * (double)bytes / with / 1e6, with / reps * 1e6);
		printf("without keys  %8.0f sessions/s %8.1f MB/s %6.1f us/session (CPU)\n", reps / without,
		       reps * (double)bytes / without / 1e6, without / reps * 1e6);
		printf("ratio with/without = %.2f (checksum %zu)\n", with / without, sum % 10);
	}
	keylog_free(kl);
	keylog_free(none);
	for (size_t k = 0; k < nchunks; k++)
		free(chunks[k].b);
	free(chunks);
	return 0;
}
