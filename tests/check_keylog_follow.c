/*
 * check_keylog_follow.c - a key log that grows while it is read (`live
 * --tls-keylog`): keylog_follow / keylog_find_fresh on a real file (lines
 * appended, a partial last line, truncation, rotation, an over-long line, a
 * file not there yet), and the decryptor holding a session's TLS bytes until
 * its line is appended: for real sessions (tests/data/tlsdec-*: TLS 1.2 and
 * 1.3), the key lines are appended after every possible number of chunks
 * fed, and the plaintext and statuses must be those of a run with the whole
 * key log from the start. A line that never comes ends as no_key, at the end
 * of the session or when the hold is full.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "keylog.h"
#include "smtp.h"
#include "tls_decrypt.h"

#define SINK_MAX    65536
#define CHUNKS_MAX  256

struct sink {
	uint8_t b[2][SINK_MAX];
	size_t n[2];
};

static void on_plain(void *ctx, enum sl_dir dir, const uint8_t *b, size_t n)
{
	struct sink *s = ctx;
	ck_assert_msg(s->n[dir] + n <= SINK_MAX, "plaintext over the test's buffer");
	memcpy(s->b[dir] + s->n[dir], b, n);
	s->n[dir] += n;
}

struct dialog {
	size_t n;
	enum sl_dir dir[CHUNKS_MAX];
	uint8_t *b[CHUNKS_MAX];
	size_t len[CHUNKS_MAX];
};

static const char *data_path(const char *name)
{
	static char path[1024];
	const char *src = getenv("SLEUTH_SOURCE_DIR");
	snprintf(path, sizeof(path), "%s/tests/data/%s", src ? src : "..", name);
	return path;
}

/* The TLS chunks ("C <hex>" / "S <hex>") of tests/data/tlsdec-NAME.txt. */
static void dialog_load(struct dialog *d, const char *name)
{
	char file[256];
	snprintf(file, sizeof(file), "tlsdec-%s.txt", name);
	FILE *fp = fopen(data_path(file), "r");
	ck_assert_msg(fp != NULL, "missing %s", data_path(file));
	memset(d, 0, sizeof(*d));
	static char line[1 << 16];
	while (fgets(line, sizeof(line), fp)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] != 'C' && line[0] != 'S')
			continue;
		ck_assert(d->n < CHUNKS_MAX);
		size_t l = strlen(line + 2) / 2;
		uint8_t *b = malloc(l ? l : 1);
		for (size_t i = 0; i < l; i++)
			sscanf(line + 2 + 2 * i, "%2hhx", &b[i]);
		d->dir[d->n] = line[0] == 'C' ? DIR_C2S : DIR_S2C;
		d->b[d->n] = b;
		d->len[d->n++] = l;
	}
	fclose(fp);
}

static void dialog_free(struct dialog *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->b[i]);
}

static char *slurp(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	ck_assert_msg(fp != NULL, "missing %s", path);
	char *b = malloc(1 << 20);
	*n = fread(b, 1, 1 << 20, fp);
	fclose(fp);
	return b;
}

static void write_file(const char *path, const char *mode, const char *b, size_t n)
{
	FILE *fp = fopen(path, mode);
	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(b, 1, n, fp), n);
	fclose(fp);
}

static char tmpl[64];

static const char *tmp_path(void)
{
	snprintf(tmpl, sizeof(tmpl), "/tmp/sleuth-kl-XXXXXX");
	int fd = mkstemp(tmpl);
	ck_assert_int_ge(fd, 0);
	close(fd);
	unlink(tmpl);                   /* the tests make it when they mean to */
	return tmpl;
}

/* Three lines for one client random (a TLS 1.2 line, two TLS 1.3 ones). */
#define RND_A "aa00000000000000000000000000000000000000000000000000000000000001"
#define RND_B "bb00000000000000000000000000000000000000000000000000000000000002"
#define RND_C "cc00000000000000000000000000000000000000000000000000000000000003"
#define RND_D "dd00000000000000000000000000000000000000000000000000000000000004"
#define SEC48 "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f30"

static void random_of(const char *hex, uint8_t out[KEYLOG_RANDOM_LEN])
{
	for (int i = 0; i < KEYLOG_RANDOM_LEN; i++)
		sscanf(hex + 2 * i, "%2hhx", &out[i]);
}

START_TEST(test_follow_file)
{
	const char *path = tmp_path();
	char err[256];
	struct keylog *kl = keylog_new();
	ck_assert_msg(keylog_follow(kl, path, err, sizeof(err)), "%s", err);    /* not there yet */
	ck_assert(keylog_follows(kl));
	uint8_t a[KEYLOG_RANDOM_LEN], b[KEYLOG_RANDOM_LEN], c[KEYLOG_RANDOM_LEN];
	random_of(RND_A, a);
	random_of(RND_B, b);
	random_of(RND_C, c);
	uint8_t want = 1u << KL_CLIENT_RANDOM;
	ck_assert_ptr_null(keylog_find_fresh(kl, a, want));
	/* a complete line and a partial one (the writer is in the middle of it) */
	const char *text = "# keys\nCLIENT_RANDOM " RND_A " " SEC48 "\nCLIENT_RANDOM " RND_B " 0102";
	write_file(path, "w", text, strlen(text));
	ck_assert_ptr_nonnull(keylog_find_fresh(kl, a, want));
	ck_assert_ptr_null(keylog_find_fresh(kl, b, want));
	ck_assert_uint_eq(keylog_stats(kl)->malformed, 0);
	/* the rest of the partial line */
	const char *rest = &SEC48[4];   /* past the "0102" already written */
	write_file(path, "a", rest, strlen(rest));
	write_file(path, "a", "\n", 1);
	const struct keylog_entry *e = keylog_find_fresh(kl, b, want);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->s[KL_CLIENT_RANDOM].len, 48);
	ck_assert_uint_eq(e->s[KL_CLIENT_RANDOM].b[47], 0x30);
	ck_assert_uint_eq(keylog_stats(kl)->malformed, 0);
	ck_assert_uint_eq(keylog_stats(kl)->entries, 2);
	/* a lookup that finds a complete entry does not read the file */
	uint64_t rereads = keylog_stats(kl)->rereads;
	ck_assert_ptr_nonnull(keylog_find_fresh(kl, a, want));
	ck_assert_uint_eq(keylog_stats(kl)->rereads, rereads);
	/* truncated, then a shorter text: read from the top */
	const char *small = "CLIENT_RANDOM " RND_C " " SEC48 "\n";
	write_file(path, "w", small, strlen(small));
	ck_assert_ptr_nonnull(keylog_find_fresh(kl, c, want));
	ck_assert_uint_eq(keylog_stats(kl)->reopened, 1);
	ck_assert_ptr_nonnull(keylog_find_fresh(kl, a, want));      /* kept from before */
	/* rotated: renamed, a new file in its place with an over-long line first */
	char old[80];
	snprintf(old, sizeof(old), "%s.1", path);
	ck_assert_int_eq(rename(path, old), 0);
	uint8_t d[KEYLOG_RANDOM_LEN];
	random_of(RND_D, d);
	ck_assert_ptr_null(keylog_find_fresh(kl, d, want));         /* no file right now: no error */
	size_t big = 3 * 4096 + 100;
	char *line = malloc(big + 200);
	memset(line, 'x', big);
	line[big] = '\n';
	int k = snprintf(line + big + 1, 199, "CLIENT_RANDOM %s %s\n", RND_D, SEC48);
	write_file(path, "w", line, big + 1 + (size_t)k);
	free(line);
	ck_assert_ptr_nonnull(keylog_find_fresh(kl, d, want));
	ck_assert_uint_eq(keylog_stats(kl)->reopened, 2);
	ck_assert_uint_eq(keylog_stats(kl)->malformed, 1);
	unlink(old);
	unlink(path);
	keylog_free(kl);
}
END_TEST

/* The whole dialog with the whole key log read at the start. */
static void reference(const struct dialog *dg, const char *keys, struct sink *s, enum tlsd_status st[2])
{
	struct keylog *kl = keylog_new();
	char err[256];
	ck_assert_msg(keylog_load_file(kl, keys, err, sizeof(err)), "%s", err);
	memset(s, 0, sizeof(*s));
	struct tlsd *t = tlsd_new(kl, on_plain, s);
	for (size_t i = 0; i < dg->n; i++)
		tlsd_data(t, dg->dir[i], dg->b[i], dg->len[i]);
	tlsd_end(t, DIR_C2S);
	tlsd_end(t, DIR_S2C);
	st[0] = tlsd_status(t, DIR_C2S);
	st[1] = tlsd_status(t, DIR_S2C);
	tlsd_free(t);
	keylog_free(kl);
}

static void appended_after_each_chunk(const char *name)
{
	struct dialog dg;
	dialog_load(&dg, name);
	char file[256];
	snprintf(file, sizeof(file), "tlsdec-%s.keys", name);
	char keys[1024];
	snprintf(keys, sizeof(keys), "%s", data_path(file));
	size_t kn;
	char *ktext = slurp(keys, &kn);
	static struct sink ref, got;
	enum tlsd_status ref_st[2];
	reference(&dg, keys, &ref, ref_st);
	ck_assert_int_eq(ref_st[0], TLSD_DECRYPTING);
	ck_assert_int_eq(ref_st[1], TLSD_DECRYPTING);
	ck_assert_uint_gt(ref.n[DIR_C2S], 0);
	for (size_t k = 0; k <= dg.n; k++) {
		const char *path = tmp_path();
		char err[256];
		struct keylog *kl = keylog_new();
		ck_assert_msg(keylog_follow(kl, path, err, sizeof(err)), "%s", err);
		memset(&got, 0, sizeof(got));
		struct tlsd *t = tlsd_new(kl, on_plain, &got);
		for (size_t i = 0; i < dg.n; i++) {
			if (i == k)
				write_file(path, "w", ktext, kn);   /* the server writes its lines now */
			tlsd_data(t, dg.dir[i], dg.b[i], dg.len[i]);
		}
		if (k == dg.n)
			write_file(path, "w", ktext, kn);       /* before the end: still in time */
		tlsd_end(t, DIR_C2S);
		tlsd_end(t, DIR_S2C);
		ck_assert_msg(tlsd_status(t, DIR_C2S) == ref_st[0] && tlsd_status(t, DIR_S2C) == ref_st[1],
			      "%s, lines after %zu chunks: statuses %s/%s", name, k,
			      tlsd_status_name(tlsd_status(t, DIR_C2S)), tlsd_status_name(tlsd_status(t, DIR_S2C)));
		for (int d = 0; d < 2; d++) {
			ck_assert_uint_eq(got.n[d], ref.n[d]);
			ck_assert_msg(memcmp(got.b[d], ref.b[d], ref.n[d]) == 0, "%s, after %zu chunks: plaintext differs",
				      name, k);
		}
		tlsd_free(t);
		keylog_free(kl);
		unlink(path);
	}
	free(ktext);
	dialog_free(&dg);
}

START_TEST(test_hold_tls12)
{
	appended_after_each_chunk("tls12-ecdhe-aes128gcm");
}
END_TEST

START_TEST(test_hold_tls13)
{
	appended_after_each_chunk("tls13-aes128gcm");
}
END_TEST

/* The line never comes: no_key at the end (and the line wanted is named);
 * a flood of bytes ends the wait at the hold's bound, before the end. */
START_TEST(test_hold_no_line)
{
	struct dialog dg;
	dialog_load(&dg, "tls13-aes128gcm");
	const char *path = tmp_path();
	write_file(path, "w", "# nothing yet\n", 14);
	char err[256];
	struct keylog *kl = keylog_new();
	ck_assert_msg(keylog_follow(kl, path, err, sizeof(err)), "%s", err);
	struct sink s;
	memset(&s, 0, sizeof(s));
	struct tlsd *t = tlsd_new(kl, on_plain, &s);
	for (size_t i = 0; i < dg.n; i++)
		tlsd_data(t, dg.dir[i], dg.b[i], dg.len[i]);
	ck_assert_int_eq(tlsd_status(t, DIR_C2S), TLSD_HANDSHAKE);      /* still waiting */
	tlsd_end(t, DIR_C2S);
	ck_assert_int_eq(tlsd_status(t, DIR_C2S), TLSD_NO_KEY);
	ck_assert_int_eq(tlsd_status(t, DIR_S2C), TLSD_NO_KEY);
	char line[256];
	ck_assert(tlsd_wanted_line(t, line, sizeof(line)));
	ck_assert(strncmp(line, "CLIENT_HANDSHAKE_TRAFFIC_SECRET ", 32) == 0);
	ck_assert_uint_eq(s.n[0] + s.n[1], 0);
	tlsd_free(t);

	/* up to the ServerHello, then application-data records until the hold is full */
	memset(&s, 0, sizeof(s));
	t = tlsd_new(kl, on_plain, &s);
	size_t i = 0;
	while (i < dg.n && tlsd_info(t)->version == 0)
		tlsd_data(t, dg.dir[i], dg.b[i], dg.len[i]), i++;
	ck_assert_uint_eq(tlsd_info(t)->version, 0x0304);
	static uint8_t rec[5 + 1000];
	memset(rec, 0x5a, sizeof(rec));
	memcpy(rec, "\x17\x03\x03\x03\xe8", 5);
	unsigned fed = 0;
	while (tlsd_status(t, DIR_S2C) == TLSD_HANDSHAKE && fed < 200)
		tlsd_data(t, DIR_S2C, rec, sizeof(rec)), fed++;
	ck_assert_int_eq(tlsd_status(t, DIR_S2C), TLSD_NO_KEY);
	ck_assert_uint_le(fed, TLSD_HOLD_CHUNKS + 1);
	tlsd_free(t);
	keylog_free(kl);
	unlink(path);
	dialog_free(&dg);
}
END_TEST

static Suite *follow_suite(void)
{
	Suite *s = suite_create("keylog_follow");
	TCase *t = tcase_create("follow");
	tcase_set_timeout(t, 120);
	tcase_add_test(t, test_follow_file);
	tcase_add_test(t, test_hold_tls12);
	tcase_add_test(t, test_hold_tls13);
	tcase_add_test(t, test_hold_no_line);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return tu_run(follow_suite());
}
