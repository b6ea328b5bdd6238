/*
 * check_tls_decrypt.c - the key log reader and the TLS record decryptor.
 *
 * Vectors: the RFC 8448 section 3 "Simple 1-RTT Handshake" trace (its
 * records and traffic secrets are published facts: decrypting every record
 * of it checks the TLS 1.3 key schedule, the handshake-to-application key
 * change and the inner content type), and real sessions made by
 * tests/data/make_tlsdec_fixtures.py (Python ssl / OpenSSL, secrets from
 * keylog_filename): TLS 1.2 ECDHE and RSA with AES-128-GCM, AES-256-GCM,
 * CHACHA20-POLY1305, AES-CBC with encrypt-then-MAC and with MAC-then-encrypt,
 * a resumed TLS 1.2 session, TLS 1.3 with each of its three suites forced,
 * and, with openssl s_client as the client (tests/data/make_tlsdec_sclient.py),
 * a TLS 1.3 session with KeyUpdates both ways and one with a HelloRetryRequest.
 * Every input is also fed split at every offset and one byte at a time.
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

/* ---- helpers ---- */

#define SINK_MAX 65536

struct sink {
	uint8_t b[2][SINK_MAX];
	size_t n[2];
	unsigned calls[2];
};

static void on_plain(void *ctx, enum sl_dir dir, const uint8_t *b, size_t n)
{
	struct sink *s = ctx;
	ck_assert_msg(s->n[dir] + n <= SINK_MAX, "plaintext over the test's buffer");
	memcpy(s->b[dir] + s->n[dir], b, n);
	s->n[dir] += n;
	s->calls[dir]++;
}

static int hexval(int c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* Decodes hex text into a new buffer; *n gets the length. */
static uint8_t *unhex(const char *h, size_t *n)
{
	size_t l = strlen(h) / 2;
	uint8_t *b = malloc(l ? l : 1);
	for (size_t i = 0; i < l; i++)
		b[i] = (uint8_t)(hexval(h[2 * i]) * 16 + hexval(h[2 * i + 1]));
	*n = l;
	return b;
}

static struct keylog *keylog_of(const char *text)
{
	struct keylog *kl = keylog_new();
	ck_assert_ptr_nonnull(kl);
	const char *p = text;
	while (*p) {
		size_t l = strcspn(p, "\n");
		keylog_add_line(kl, p, l);
		p += l + (p[l] == '\n');
	}
	return kl;
}

static bool sink_is(const struct sink *s, enum sl_dir d, const char *text)
{
	return s->n[d] == strlen(text) && memcmp(s->b[d], text, s->n[d]) == 0;
}

/* A chunk of a dialog: direction and bytes. */
struct chunk {
	enum sl_dir dir;
	uint8_t *b;
	size_t n;
};

#define MAX_CHUNKS 96

struct dialog {
	struct chunk c[MAX_CHUNKS];
	size_t n;
};

static void dialog_add(struct dialog *d, enum sl_dir dir, const char *hex)
{
	ck_assert_uint_lt(d->n, MAX_CHUNKS);
	d->c[d->n].dir = dir;
	d->c[d->n].b = unhex(hex, &d->c[d->n].n);
	d->n++;
}

static void dialog_free(struct dialog *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->c[i].b);
}

static const char *data_path(const char *name)
{
	static char path[1024];
	const char *src = getenv("SLEUTH_SOURCE_DIR");
	snprintf(path, sizeof(path), "%s/tests/data/%s", src ? src : "..", name);
	return path;
}

/* Loads the TLS chunks ("C <hex>"/"S <hex>") of a fixture; the plaintext
 * SMTP before STARTTLS ("c"/"s") is not TLS and is left out unless `all`. */
static void dialog_load_some(struct dialog *d, const char *name, bool all)
{
	char file[256];
	snprintf(file, sizeof(file), "tlsdec-%s.txt", name);
	FILE *fp = fopen(data_path(file), "r");
	ck_assert_msg(fp != NULL, "missing %s", data_path(file));
	memset(d, 0, sizeof(*d));
	static char line[1 << 16];
	while (fgets(line, sizeof(line), fp)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == 'C' || line[0] == 'S' || (all && (line[0] == 'c' || line[0] == 's')))
			dialog_add(d, (line[0] | 0x20) == 'c' ? DIR_C2S : DIR_S2C, line + 2);
	}
	fclose(fp);
}

static void dialog_load(struct dialog *d, const char *name)
{
	dialog_load_some(d, name, false);
}

static struct keylog *keylog_load(const char *name)
{
	char file[256];
	snprintf(file, sizeof(file), "tlsdec-%s.keys", name);
	struct keylog *kl = keylog_new();
	char err[256];
	ck_assert_msg(keylog_load_file(kl, data_path(file), err, sizeof(err)), "%s", err);
	return kl;
}

/* Feeds the dialog with every chunk cut in two at `split` (0: whole; 1:
 * byte by byte when bytewise), then ends both directions. */
static void feed(struct tlsd *t, const struct dialog *d, size_t split, bool bytewise)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct chunk *c = &d->c[i];
		if (bytewise) {
			for (size_t k = 0; k < c->n; k++)
				tlsd_data(t, c->dir, c->b + k, 1);
		} else if (split && split < c->n) {
			tlsd_data(t, c->dir, c->b, split);
			tlsd_data(t, c->dir, c->b + split, c->n - split);
		} else {
			tlsd_data(t, c->dir, c->b, c->n);
		}
	}
	tlsd_end(t, DIR_C2S);
	tlsd_end(t, DIR_S2C);
}

/* ---- RFC 8448 section 3: Simple 1-RTT Handshake ---- */

static const char rfc_client_random[] = "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7";

static const char rfc_keylog[] =
	"# RFC 8448 section 3\n"
	"CLIENT_HANDSHAKE_TRAFFIC_SECRET cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7 "
	"b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21\n"
	"SERVER_HANDSHAKE_TRAFFIC_SECRET cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7 "
	"b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38\n"
	"CLIENT_TRAFFIC_SECRET_0 cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7 "
	"9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5\n"
	"SERVER_TRAFFIC_SECRET_0 cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7 "
	"a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643\n";

static const char rfc_ch[] =
	"16030100c4010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7000006130113031302"
	"010000910000000b0009000006736572766572ff01000100000a00140012001d00170018001901000101010201030104002300"
	"00003300260024001d002099381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c002b000302030400"
	"0d0020001e040305030603020308040805080604010501060102010402050206020202002d00020101001c00024001";
static const char rfc_sh[] =
	"160303005a020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e2692800130100002e0033"
	"0024001d0020c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f002b00020304";
/* EncryptedExtensions, Certificate, CertificateVerify, Finished */
static const char rfc_server_flight[] =
	"17030302a2d1ff334a56f5bff6594a07cc87b580233f500f45e489e7f33af35edf7869fcf40aa40aa2b8ea73f848a7ca07612e"
	"f9f945cb960b4068905123ea78b111b429ba9191cd05d2a389280f526134aadc7fc78c4b729df828b5ecf7b13bd9aefb0e57f2"
	"71585b8ea9bb355c7c79020716cfb9b1183ef3ab20e37d57a6b9d7477609aee6e122a4cf51427325250c7d0e509289444c9b3a"
	"648f1d71035d2ed65b0e3cdd0cbae8bf2d0b227812cbb360987255cc744110c453baa4fcd610928d809810e4b7ed1a8fd991f0"
	"6aa6248204797e36a6a73b70a2559c09ead686945ba246ab66e5edd8044b4c6de3fcf2a89441ac66272fd8fb330ef8190579b3"
	"684596c960bd596eea520a56a8d650f563aad27409960dca63d3e688611ea5e22f4415cf9538d51a200c27034272968a264ed6"
	"540c84838d89f72c24461aad6d26f59ecaba9acbbb317b66d902f4f292a36ac1b639c637ce343117b659622245317b49eeda0c"
	"6258f100d7d961ffb138647e92ea330faeea6dfa31c7a84dc3bd7e1b7a6c7178af36879018e3f252107f243d243dc7339d5684"
	"c8b0378bf30244da8c87c843f5e56eb4c5e8280a2b48052cf93b16499a66db7cca71e4599426f7d461e66f99882bd89fc50800"
	"becca62d6c74116dbd2972fda1fa80f85df881edbe5a37668936b335583b599186dc5c6918a396fa48a181d6b6fa4f9d62d513"
	"afbb992f2b992f67f8afe67f76913fa388cb5630c8ca01e0c65d11c66a1e2ac4c85977b7c7a6999bbf10dc35ae69f551561463"
	"6c0b9b68c19ed2e31c0b3b66763038ebba42f3b38edc0399f3a9f23faa63978c317fc9fa66a73f60f0504de93b5b845e275592"
	"c12335ee340bbc4fddd502784016e4b3be7ef04dda49f4b440a30cb5d2af939828fd4ae3794e44f94df5a631ede42c1719bfda"
	"bf0253fe5175be898e750edc53370d2b";
static const char rfc_client_finished[] =
	"170303003575ec4dc238cce60b298044a71e219c56cc77b0517fe9b93c7a4bfc44d87f38f80338ac98fc46deb384bd1caeacab"
	"6867d726c40546";
/* NewSessionTicket, the first record under the server's application keys */
static const char rfc_ticket[] =
	"17030300de3a6b8f90414a97d6959c3487680de5134a2b240e6cffac116e95d41d6af8f6b580dcf3d11d63c758db289a015940"
	"252f55713e061dc13e078891a38efbcf5753ad8ef170ad3c7353d16d9da773b9ca7f2b9fa1b6c0d4a3d03f75e09c30ba1e6297"
	"2ac46f75f7b981be63439b2999ce13064615139891d5e4c5b406f16e3fc181a77ca475840025db2f0a77f81b5ab05b94c01346"
	"755f69232c86519d86cbeeac87aac347d143f9605d64f650db4d023e70e952ca49fe5137121c74bc2697687e248746d6df3530"
	"05f3bce18696129c8153556b3b6c6779b37bf15985684f";
/* 50 bytes 00..31 each way, then close_notify alerts */
static const char rfc_client_data[] =
	"1703030043a23f7054b62c94d0affafe8228ba55cbefacea42f914aa66bcab3f2b9819a8a5b46b395bd54a9a20441e2b62974e"
	"1f5a6292a2977014bd1e3deae63aeebb21694915e4";
static const char rfc_server_data[] =
	"17030300432e937e11ef4ac740e538ad36005fc4a46932fc3225d05f82aa1b36e30efaf97d90e6dffc602dcb501a59a8fcc49c"
	"4bf2e5f0a21c0047c2abf332540dd032e167c2955d";
static const char rfc_client_alert[] = "1703030013c9872760655666b74d7ff1153efd6db6d0b0e3";
static const char rfc_server_alert[] = "1703030013b58fd67166ebf599d24720cfbe7efa7a8864a9";

/* The RFC 8448 flight in wire order. */
static void rfc_dialog(struct dialog *d)
{
	memset(d, 0, sizeof(*d));
	dialog_add(d, DIR_C2S, rfc_ch);
	dialog_add(d, DIR_S2C, rfc_sh);
	dialog_add(d, DIR_S2C, rfc_server_flight);
	dialog_add(d, DIR_C2S, rfc_client_finished);
	dialog_add(d, DIR_S2C, rfc_ticket);
	dialog_add(d, DIR_C2S, rfc_client_data);
	dialog_add(d, DIR_S2C, rfc_server_data);
	dialog_add(d, DIR_C2S, rfc_client_alert);
	dialog_add(d, DIR_S2C, rfc_server_alert);
}

static void check_rfc_plain(const struct sink *s, enum sl_dir dir)
{
	ck_assert_uint_eq(s->n[dir], 50);
	for (size_t i = 0; i < 50; i++)
		ck_assert_uint_eq(s->b[dir][i], i);
}

/* Runs the RFC dialog with a key log text; returns the decryptor (caller frees). */
static struct tlsd *rfc_run(struct keylog *kl, struct sink *s, size_t split, bool bytewise)
{
	struct dialog d;
	rfc_dialog(&d);
	memset(s, 0, sizeof(*s));
	struct tlsd *t = tlsd_new(kl, on_plain, s);
	ck_assert_ptr_nonnull(t);
	feed(t, &d, split, bytewise);
	dialog_free(&d);
	return t;
}

START_TEST(test_rfc8448_decrypts)
{
	struct keylog *kl = keylog_of(rfc_keylog);
	struct sink s;
	struct tlsd *t = rfc_run(kl, &s, 0, false);
	const struct tlsd_info *in = tlsd_info(t);
	ck_assert_uint_eq(in->version, 0x0304);
	ck_assert_uint_eq(in->cipher, 0x1301);
	ck_assert_str_eq(tlsd_cipher_name(in->cipher), "TLS_AES_128_GCM_SHA256");
	ck_assert_uint_eq(in->keys_used, (1u << KL_CLIENT_HS) | (1u << KL_SERVER_HS) | (1u << KL_CLIENT_AP0) |
				       (1u << KL_SERVER_AP0));
	for (int d = 0; d < 2; d++) {
		ck_assert_str_eq(tlsd_status_name(tlsd_status(t, (enum sl_dir)d)), "decrypting");
		check_rfc_plain(&s, (enum sl_dir)d);
		ck_assert(in->dir[d].alert && in->dir[d].close_notify);
		ck_assert(!in->dir[d].truncated);
		ck_assert_uint_eq(in->dir[d].app_bytes, 50);
	}
	/* c2s: Finished, data, alert; s2c: flight, ticket, data, alert */
	ck_assert_uint_eq(in->dir[DIR_C2S].decrypted, 3);
	ck_assert_uint_eq(in->dir[DIR_S2C].decrypted, 4);
	ck_assert_uint_eq(in->dir[DIR_C2S].records, 4);
	ck_assert_uint_eq(in->dir[DIR_S2C].records, 5);
	tlsd_free(t);
	keylog_free(kl);
}
END_TEST

START_TEST(test_rfc8448_split_everywhere)
{
	struct keylog *kl = keylog_of(rfc_keylog);
	struct sink s;
	/* the largest record is 679 bytes: every cut point of every record */
	for (size_t k = 1; k <= 700; k++) {
		struct tlsd *t = rfc_run(kl, &s, k, false);
		check_rfc_plain(&s, DIR_C2S);
		check_rfc_plain(&s, DIR_S2C);
		tlsd_free(t);
	}
	struct tlsd *t = rfc_run(kl, &s, 0, true);
	check_rfc_plain(&s, DIR_C2S);
	check_rfc_plain(&s, DIR_S2C);
	ck_assert_str_eq(tlsd_status_name(tlsd_status(t, DIR_S2C)), "decrypting");
	tlsd_free(t);
	keylog_free(kl);
}
END_TEST

/* The whole stream of each direction as one buffer, cut at every offset. */
START_TEST(test_rfc8448_stream_cut_everywhere)
{
	struct keylog *kl = keylog_of(rfc_keylog);
	struct dialog d;
	rfc_dialog(&d);
	uint8_t s2c[2048], c2s_rest[512];
	size_t ns = 0, nc = 0;
	for (size_t i = 0; i < d.n; i++) {
		if (d.c[i].dir == DIR_S2C) {
			memcpy(s2c + ns, d.c[i].b, d.c[i].n);
			ns += d.c[i].n;
		} else if (i > 0) {
			memcpy(c2s_rest + nc, d.c[i].b, d.c[i].n);
			nc += d.c[i].n;
		}
	}
	struct sink s;
	for (size_t k = 0; k <= ns; k++) {
		memset(&s, 0, sizeof(s));
		struct tlsd *t = tlsd_new(kl, on_plain, &s);
		tlsd_data(t, DIR_C2S, d.c[0].b, d.c[0].n);
		tlsd_data(t, DIR_S2C, s2c, k);
		tlsd_data(t, DIR_S2C, s2c + k, ns - k);
		size_t kc = k % (nc + 1);
		tlsd_data(t, DIR_C2S, c2s_rest, kc);
		tlsd_data(t, DIR_C2S, c2s_rest + kc, nc - kc);
		check_rfc_plain(&s, DIR_C2S);
		check_rfc_plain(&s, DIR_S2C);
		tlsd_free(t);
	}
	dialog_free(&d);
	keylog_free(kl);
}
END_TEST

/* Replaces the secret of `label` with one whose first byte differs. */
static struct keylog *rfc_keylog_spoiled(const char *label)
{
	char *text = strdup(rfc_keylog);
	char *p = strstr(text, label);
	ck_assert_ptr_nonnull(p);
	p = strchr(strchr(p, ' ') + 1, ' ') + 1;        /* the secret */
	*p = *p == '0' ? '1' : '0';
	struct keylog *kl = keylog_of(text);
	free(text);
	return kl;
}

START_TEST(test_rfc8448_wrong_keys)
{
	struct sink s;
	struct keylog *kl = rfc_keylog_spoiled("SERVER_HANDSHAKE_TRAFFIC_SECRET");
	struct tlsd *t = rfc_run(kl, &s, 0, false);
	ck_assert_int_eq(tlsd_status(t, DIR_S2C), TLSD_BAD_KEYS);
	ck_assert_str_eq(tlsd_status_name(TLSD_BAD_KEYS), "keys_mismatch");
	ck_assert_uint_eq(tlsd_info(t)->dir[DIR_S2C].fail_record, 2);   /* the first protected one */
	ck_assert_uint_eq(s.n[DIR_S2C], 0);
	ck_assert_int_eq(tlsd_status(t, DIR_C2S), TLSD_DECRYPTING);     /* the other side is fine */
	check_rfc_plain(&s, DIR_C2S);
	tlsd_free(t);
	keylog_free(kl);

	kl = rfc_keylog_spoiled("CLIENT_TRAFFIC_SECRET_0");
	t = rfc_run(kl, &s, 0, false);
	ck_assert_int_eq(tlsd_status(t, DIR_C2S), TLSD_BAD_KEYS);
	ck_assert_uint_eq(tlsd_info(t)->dir[DIR_C2S].fail_record, 3);   /* after the Finished */
	ck_assert_uint_eq(s.n[DIR_C2S], 0);
	check_rfc_plain(&s, DIR_S2C);
	tlsd_free(t);
	keylog_free(kl);
}
END_TEST

START_TEST(test_rfc8448_no_key)
{
	struct sink s;
	struct keylog *kl = keylog_of("# nothing for this session\n");
	struct tlsd *t = rfc_run(kl, &s, 0, false);
	for (int d = 0; d < 2; d++)
		ck_assert_int_eq(tlsd_status(t, (enum sl_dir)d), TLSD_NO_KEY);
	ck_assert_uint_eq(s.n[0] + s.n[1], 0);
	char line[160];
	ck_assert(tlsd_wanted_line(t, line, sizeof(line)));
	char want[160];
	snprintf(want, sizeof(want), "CLIENT_HANDSHAKE_TRAFFIC_SECRET %s", rfc_client_random);
	ck_assert_str_eq(line, want);
	tlsd_free(t);
	keylog_free(kl);

	t = rfc_run(NULL, &s, 0, false);        /* no key log at all */
	ck_assert_int_eq(tlsd_status(t, DIR_C2S), TLSD_NO_KEY);
	ck_assert_int_eq(tlsd_status(t, DIR_S2C), TLSD_NO_KEY);
	tlsd_free(t);

	/* only the handshake secrets: both sides lack their application secret */
	char *text = strdup(rfc_keylog);
	*strstr(text, "CLIENT_TRAFFIC_SECRET_0") = '\0';
	kl = keylog_of(text);
	free(text);
	t = rfc_run(kl, &s, 0, false);
	ck_assert_int_eq(tlsd_status(t, DIR_C2S), TLSD_NO_KEY);
	ck_assert(tlsd_wanted_line(t, line, sizeof(line)));
	ck_assert(strncmp(line, "CLIENT_TRAFFIC_SECRET_0 ", 24) == 0);
	tlsd_free(t);
	keylog_free(kl);
}
END_TEST

/* Feeds the RFC handshake up to the server's first protected record. */
static struct tlsd *rfc_started(struct keylog *kl, struct sink *s)
{
	memset(s, 0, sizeof(*s));
	struct tlsd *t = tlsd_new(kl, on_plain, s);
	size_t n;
	uint8_t *b = unhex(rfc_ch, &n);
	tlsd_data(t, DIR_C2S, b, n);
	free(b);
	b = unhex(rfc_sh, &n);
	tlsd_data(t, DIR_S2C, b, n);
	free(b);
	b = unhex(rfc_server_flight, &n);
	tlsd_data(t, DIR_S2C, b, n);
	free(b);
	ck_assert_int_eq(tlsd_status(t, DIR_S2C), TLSD_DECRYPTING);
	return t;
}

START_TEST(test_gap_ends_direction)
{
	struct keylog *kl = keylog_of(rfc_keylog);
	struct sink s;
	struct tlsd *t = rfc_started(kl, &s);
	tlsd_gap(t, DIR_S2C, 100);
	ck_assert_int_eq(tlsd_status(t, DIR_S2C), TLSD_GAP);
	size_t n;
	uint8_t *b = unhex(rfc_ticket, &n);
	tlsd_data(t, DIR_S2C, b, n);
	free(b);
	b = unhex(rfc_server_data, &n);
	tlsd_data(t, DIR_S2C, b, n);
	free(b);
	ck_assert_uint_eq(s.n[DIR_S2C], 0);
	ck_assert_int_eq(tlsd_status(t, DIR_S2C), TLSD_GAP);
	ck_assert_int_eq(tlsd_status(t, DIR_C2S), TLSD_DECRYPTING);
	tlsd_free(t);
	keylog_free(kl);
}
END_TEST

START_TEST(test_garbage_and_truncation)
{
	struct keylog *kl = keylog_of(rfc_keylog);
	struct sink s;
	size_t n;
	uint8_t *b;

	/* text where a record was due */
	struct tlsd *t = rfc_started(kl, &s);
	tlsd_data(t, DIR_S2C, (const uint8_t *)"221 bye\r\n", 9);
	ck_assert_int_eq(tlsd_status(t, DIR_S2C), TLSD_MALFORMED);
	tlsd_free(t);

	/* a record header announcing more than the cap */
	t = rfc_started(kl, &s);
	tlsd_data(t, DIR_S2C, (const uint8_t *)"\x17\x03\x03\x48\x01", 5);
	ck_assert_int_eq(tlsd_status(t, DIR_S2C), TLSD_MALFORMED);
	tlsd_free(t);

	/* a protected record too short to hold a tag */
	t = rfc_started(kl, &s);
	tlsd_data(t, DIR_S2C, (const uint8_t *)"\x17\x03\x03\x00\x05hello", 10);
	ck_assert_int_eq(tlsd_status(t, DIR_S2C), TLSD_MALFORMED);
	tlsd_free(t);

	/* one flipped bit in the ciphertext: the tag fails */
	t = rfc_started(kl, &s);
	b = unhex(rfc_ticket, &n);
	b[20] ^= 0x01;
	tlsd_data(t, DIR_S2C, b, n);
	free(b);
	ck_assert_int_eq(tlsd_status(t, DIR_S2C), TLSD_BAD_KEYS);
	ck_assert_uint_eq(tlsd_info(t)->dir[DIR_S2C].fail_record, 3);
	tlsd_free(t);

	/* a record cut short by the end of the capture */
	t = rfc_started(kl, &s);
	b = unhex(rfc_ticket, &n);
	tlsd_data(t, DIR_S2C, b, n);
	free(b);
	b = unhex(rfc_server_data, &n);
	tlsd_data(t, DIR_S2C, b, n - 10);
	free(b);
	tlsd_end(t, DIR_S2C);
	ck_assert(tlsd_info(t)->dir[DIR_S2C].truncated);
	ck_assert_int_eq(tlsd_status(t, DIR_S2C), TLSD_DECRYPTING);
	ck_assert_uint_eq(s.n[DIR_S2C], 0);
	tlsd_free(t);

	/* random bytes after a good handshake, at every length */
	for (size_t len = 1; len < 64; len++) {
		uint8_t junk[64];
		for (size_t i = 0; i < len; i++)
			junk[i] = (uint8_t)(i * 37 + len);
		junk[0] = 0x17;
		if (len > 1)
			junk[1] = 0x03;
		t = rfc_started(kl, &s);
		tlsd_data(t, DIR_S2C, junk, len);
		tlsd_end(t, DIR_S2C);
		ck_assert_uint_eq(s.n[DIR_S2C], 0);
		tlsd_free(t);
	}
	keylog_free(kl);
}
END_TEST

START_TEST(test_unsupported_suite)
{
	/* the RFC ServerHello with TLS_AES_128_CCM_SHA256 (0x1304) chosen */
	struct keylog *kl = keylog_of(rfc_keylog);
	struct sink s;
	memset(&s, 0, sizeof(s));
	struct tlsd *t = tlsd_new(kl, on_plain, &s);
	size_t n;
	uint8_t *b = unhex(rfc_ch, &n);
	tlsd_data(t, DIR_C2S, b, n);
	free(b);
	b = unhex(rfc_sh, &n);
	ck_assert_uint_eq(b[5 + 4 + 2 + 32 + 1], 0x13);     /* the cipher suite */
	b[5 + 4 + 2 + 32 + 2] = 0x04;
	tlsd_data(t, DIR_S2C, b, n);
	free(b);
	ck_assert_int_eq(tlsd_status(t, DIR_S2C), TLSD_UNSUPPORTED);
	ck_assert_int_eq(tlsd_status(t, DIR_C2S), TLSD_UNSUPPORTED);
	ck_assert_uint_eq(tlsd_info(t)->cipher, 0x1304);
	tlsd_free(t);
	keylog_free(kl);
}
END_TEST

/* ---- real sessions ---- */

static const char smtp_c2s[] =
	"EHLO client.example.test\r\n"
	"MAIL FROM:<alice@example.test>\r\n"
	"RCPT TO:<bob@example.test>\r\n"
	"QUIT\r\n";
static const char smtp_s2c[] =
	"250-mx.example.test\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n"
	"250 2.1.0 Ok\r\n"
	"550 5.1.1 <bob@example.test>: Recipient address rejected: User unknown\r\n"
	"221 2.0.0 Bye\r\n";

static const struct fixture {
	const char *name;
	uint16_t version, cipher;
	bool implicit;
} fixtures[] = {
	{ "tls12-ecdhe-aes128gcm", 0x0303, 0xc02f, false },
	{ "tls12-ecdhe-aes256gcm", 0x0303, 0xc030, false },
	{ "tls12-ecdhe-chacha20", 0x0303, 0xcca8, false },
	{ "tls12-rsa-aes128gcm-implicit", 0x0303, 0x009c, true },
	{ "tls12-ecdhe-aes128cbc-etm", 0x0303, 0xc013, false },           /* encrypt-then-MAC */
	{ "tls12-ecdhe-aes256cbc-sha384-mte", 0x0303, 0xc028, false },    /* MAC-then-encrypt */
	{ "tls12-resumed", 0x0303, 0xc02f, false },        /* abbreviated handshake, session ID */
	{ "tls13-aes128gcm", 0x0304, 0x1301, false },
	{ "tls13-aes256gcm", 0x0304, 0x1302, false },
	{ "tls13-chacha20", 0x0304, 0x1303, false },
};

static void check_fixture_plain(const struct sink *s, const struct fixture *f)
{
	ck_assert_msg(sink_is(s, DIR_C2S, smtp_c2s), "%s: client plaintext differs (%zu bytes)", f->name,
		      s->n[DIR_C2S]);
	char want[1024];
	snprintf(want, sizeof(want), "%s%s", f->implicit ? "220 mx.example.test ESMTP\r\n" : "", smtp_s2c);
	ck_assert_msg(sink_is(s, DIR_S2C, want), "%s: server plaintext differs (%zu bytes)", f->name,
		      s->n[DIR_S2C]);
}

START_TEST(test_fixture_decrypts)
{
	const struct fixture *f = &fixtures[_i];
	struct dialog d;
	dialog_load(&d, f->name);
	struct keylog *kl = keylog_load(f->name);
	ck_assert_uint_eq(keylog_stats(kl)->malformed, 0);
	static struct sink s;
	memset(&s, 0, sizeof(s));
	struct tlsd *t = tlsd_new(kl, on_plain, &s);
	feed(t, &d, 0, false);
	const struct tlsd_info *in = tlsd_info(t);
	ck_assert_uint_eq(in->version, f->version);
	ck_assert_uint_eq(in->cipher, f->cipher);
	ck_assert_int_eq(tlsd_status(t, DIR_C2S), TLSD_DECRYPTING);
	ck_assert_int_eq(tlsd_status(t, DIR_S2C), TLSD_DECRYPTING);
	check_fixture_plain(&s, f);
	ck_assert(in->dir[DIR_C2S].close_notify);      /* the client closed cleanly */
	ck_assert(!in->dir[DIR_C2S].truncated && !in->dir[DIR_S2C].truncated);
	tlsd_free(t);

	/* every chunk cut at every offset, and byte by byte */
	size_t longest = 0;
	for (size_t i = 0; i < d.n; i++)
		longest = SL_MAX(longest, d.c[i].n);
	for (size_t k = 1; k < longest; k++) {
		memset(&s, 0, sizeof(s));
		t = tlsd_new(kl, on_plain, &s);
		feed(t, &d, k, false);
		check_fixture_plain(&s, f);
		tlsd_free(t);
	}
	memset(&s, 0, sizeof(s));
	t = tlsd_new(kl, on_plain, &s);
	feed(t, &d, 0, true);
	check_fixture_plain(&s, f);
	tlsd_free(t);
	keylog_free(kl);
	dialog_free(&d);
}
END_TEST

/* The fixture's key log with every secret's first hex digit changed. */
START_TEST(test_fixture_wrong_keys)
{
	const struct fixture *f = &fixtures[_i];
	struct dialog d;
	dialog_load(&d, f->name);
	char file[256];
	snprintf(file, sizeof(file), "tlsdec-%s.keys", f->name);
	FILE *fp = fopen(data_path(file), "r");
	ck_assert_ptr_nonnull(fp);
	struct keylog *kl = keylog_new();
	char line[KEYLOG_LINE_MAX + 2];
	while (fgets(line, sizeof(line), fp)) {
		char *sp = strrchr(line, ' ');
		if (line[0] != '#' && sp)
			sp[1] = sp[1] == 'a' ? 'b' : 'a';
		keylog_add_line(kl, line, strlen(line));
	}
	fclose(fp);
	static struct sink s;
	memset(&s, 0, sizeof(s));
	struct tlsd *t = tlsd_new(kl, on_plain, &s);
	feed(t, &d, 0, false);
	ck_assert_int_eq(tlsd_status(t, DIR_C2S), TLSD_BAD_KEYS);
	ck_assert_int_eq(tlsd_status(t, DIR_S2C), TLSD_BAD_KEYS);
	ck_assert_uint_eq(s.n[0] + s.n[1], 0);
	tlsd_free(t);
	keylog_free(kl);
	dialog_free(&d);
}
END_TEST

/* TLS 1.3 with KeyUpdate messages both ways (made with openssl s_client's
 * "K" command against a Python ssl server): the decryptor follows each
 * generation. */
START_TEST(test_key_update)
{
	struct dialog d;
	dialog_load(&d, "tls13-keyupdate");
	struct keylog *kl = keylog_load("tls13-keyupdate");
	static struct sink s;
	memset(&s, 0, sizeof(s));
	struct tlsd *t = tlsd_new(kl, on_plain, &s);
	feed(t, &d, 0, false);
	const struct tlsd_info *in = tlsd_info(t);
	ck_assert_int_eq(tlsd_status(t, DIR_C2S), TLSD_DECRYPTING);
	ck_assert_int_eq(tlsd_status(t, DIR_S2C), TLSD_DECRYPTING);
	ck_assert_uint_ge(in->dir[DIR_C2S].key_updates, 2);
	ck_assert_uint_ge(in->dir[DIR_S2C].key_updates, 2);
	ck_assert(sink_is(&s, DIR_C2S, "EHLO client.example.test\r\nNOOP\r\nNOOP\r\nquit\r\n"));
	ck_assert(sink_is(&s, DIR_S2C, "220 mx.example.test ESMTP\r\n250 mx.example.test\r\n250 2.0.0 Ok\r\n"
				       "250 2.0.0 Ok\r\n221 2.0.0 Bye\r\n"));
	tlsd_free(t);
	for (size_t k = 1; k < 600; k += 7) {
		memset(&s, 0, sizeof(s));
		t = tlsd_new(kl, on_plain, &s);
		feed(t, &d, k, false);
		ck_assert_uint_eq(s.n[DIR_C2S], strlen("EHLO client.example.test\r\nNOOP\r\nNOOP\r\nquit\r\n"));
		tlsd_free(t);
	}
	keylog_free(kl);
	dialog_free(&d);
}
END_TEST

/* A hello cut short right before a ChangeCipherSpec (hostile or broken
 * server): the decrypted Finished after it must not land in the buffer that
 * was kept for the cut hello. Real TLS 1.2 session, one crafted record. */
START_TEST(test_partial_hello_before_ccs)
{
	struct dialog d;
	dialog_load(&d, "tls12-ecdhe-aes128gcm");
	struct keylog *kl = keylog_load("tls12-ecdhe-aes128gcm");
	static uint8_t s2c[16384];
	size_t ns = 0, ccs = 0;
	for (size_t i = 0; i < d.n; i++)
		if (d.c[i].dir == DIR_S2C) {
			ck_assert_uint_le(ns + d.c[i].n, sizeof(s2c) - 16);
			memcpy(s2c + ns, d.c[i].b, d.c[i].n);
			ns += d.c[i].n;
		}
	for (size_t off = 0; off + 5 <= ns; off += 5 + (size_t)(s2c[off + 3] << 8 | s2c[off + 4]))
		if (s2c[off] == 20) {
			ccs = off;
			break;
		}
	ck_assert_uint_gt(ccs, 0);
	/* a ServerHello header announcing 4 bytes, and 2 of them */
	static const uint8_t cut[] = { 22, 3, 3, 0, 6, 2, 0, 0, 4, 3, 3 };
	memmove(s2c + ccs + sizeof(cut), s2c + ccs, ns - ccs);
	memcpy(s2c + ccs, cut, sizeof(cut));
	ns += sizeof(cut);
	static struct sink s;
	memset(&s, 0, sizeof(s));
	struct tlsd *t = tlsd_new(kl, on_plain, &s);
	tlsd_data(t, DIR_C2S, d.c[0].b, d.c[0].n);
	tlsd_data(t, DIR_S2C, s2c, ns);
	ck_assert_int_eq(tlsd_status(t, DIR_S2C), TLSD_DECRYPTING);
	ck_assert(sink_is(&s, DIR_S2C, smtp_s2c));
	tlsd_free(t);
	keylog_free(kl);
	dialog_free(&d);
}
END_TEST

/* TLS 1.3 after a HelloRetryRequest: the second ClientHello has the same
 * random, the real ServerHello follows. */
START_TEST(test_hello_retry)
{
	struct dialog d;
	dialog_load(&d, "tls13-hrr");
	struct keylog *kl = keylog_load("tls13-hrr");
	static struct sink s;
	memset(&s, 0, sizeof(s));
	struct tlsd *t = tlsd_new(kl, on_plain, &s);
	feed(t, &d, 0, false);
	const struct tlsd_info *in = tlsd_info(t);
	ck_assert(in->hello_retry);
	ck_assert_uint_eq(in->version, 0x0304);
	ck_assert_int_eq(tlsd_status(t, DIR_C2S), TLSD_DECRYPTING);
	ck_assert_int_eq(tlsd_status(t, DIR_S2C), TLSD_DECRYPTING);
	ck_assert(sink_is(&s, DIR_C2S, "EHLO client.example.test\r\nquit\r\n"));
	ck_assert(sink_is(&s, DIR_S2C, "220 mx.example.test ESMTP\r\n250 mx.example.test\r\n221 2.0.0 Bye\r\n"));
	tlsd_free(t);
	keylog_free(kl);
	dialog_free(&d);
}
END_TEST

/* ---- through the SMTP dissector ---- */

static void tap_to_tlsd(void *ctx, enum sl_dir dir, const uint8_t *b, size_t n, uint64_t gap)
{
	if (b)
		tlsd_data(ctx, dir, b, n);
	else
		tlsd_gap(ctx, dir, gap);
}

/* The whole session, plaintext SMTP and TLS, goes to the SMTP dissector the
 * way the engine delivers it; its TLS tap feeds the decryptor, which must
 * see exactly the TLS stream: after STARTTLS's 220, or from the first byte
 * on implicit TLS. */
START_TEST(test_smtp_tls_tap)
{
	const struct fixture *f = &fixtures[_i];
	struct dialog d;
	dialog_load_some(&d, f->name, true);
	struct keylog *kl = keylog_load(f->name);
	static struct sink s;
	memset(&s, 0, sizeof(s));
	struct tlsd *t = tlsd_new(kl, on_plain, &s);
	struct timeline tl;
	tl_init(&tl);
	struct smtp *sm = smtp_new(&tl);
	ck_assert_ptr_nonnull(sm);
	smtp_set_tls_tap(sm, tap_to_tlsd, t);
	struct seg_meta m;
	memset(&m, 0, sizeof(m));
	for (size_t i = 0; i < d.n; i++) {
		m.frame++;
		m.ts += NS_PER_MS;
		smtp_data(sm, d.c[i].dir, d.c[i].b, d.c[i].n, &m);
	}
	smtp_end(sm, DIR_C2S, &m);
	smtp_end(sm, DIR_S2C, &m);
	const struct smtp_facts *sf = smtp_facts(sm);
	if (f->implicit)
		ck_assert(sf->implicit_tls);
	else
		ck_assert_int_eq(sf->starttls, STLS_ACCEPTED);
	ck_assert_int_eq(tlsd_status(t, DIR_C2S), TLSD_DECRYPTING);
	ck_assert_int_eq(tlsd_status(t, DIR_S2C), TLSD_DECRYPTING);
	check_fixture_plain(&s, f);
	smtp_free(sm);
	tl_free(&tl);
	tlsd_free(t);
	keylog_free(kl);
	dialog_free(&d);
}
END_TEST

/* ---- the key log reader ---- */

START_TEST(test_keylog_lines)
{
	struct keylog *kl = keylog_new();
	const char *cr = "0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdef";
	char line[600];
	/* TLS 1.2 */
	snprintf(line, sizeof(line), "CLIENT_RANDOM %s %s\r\n", cr,
		 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f");
	ck_assert(keylog_add_line(kl, line, strlen(line)));
	/* comments, blank lines, labels we do not use */
	ck_assert(keylog_add_line(kl, "# a comment", 11));
	ck_assert(keylog_add_line(kl, "", 0));
	ck_assert(keylog_add_line(kl, "   \t", 4));
	snprintf(line, sizeof(line), "EXPORTER_SECRET %s %064d", cr, 0);
	ck_assert(keylog_add_line(kl, line, strlen(line)));
	/* malformed: unknown label, short random, bad hex, wrong secret length,
	 * extra field, a 32-byte TLS 1.2 master secret */
	ck_assert(!keylog_add_line(kl, "HELLO world", 11));
	snprintf(line, sizeof(line), "CLIENT_RANDOM %.62s %096d", cr, 0);
	ck_assert(!keylog_add_line(kl, line, strlen(line)));
	snprintf(line, sizeof(line), "CLIENT_RANDOM %s %095dz", cr, 0);
	ck_assert(!keylog_add_line(kl, line, strlen(line)));
	snprintf(line, sizeof(line), "SERVER_TRAFFIC_SECRET_0 %s %040d", cr, 0);
	ck_assert(!keylog_add_line(kl, line, strlen(line)));
	snprintf(line, sizeof(line), "SERVER_TRAFFIC_SECRET_0 %s %064d extra", cr, 0);
	ck_assert(!keylog_add_line(kl, line, strlen(line)));
	snprintf(line, sizeof(line), "CLIENT_RANDOM %s %064d", cr, 0);
	ck_assert(!keylog_add_line(kl, line, strlen(line)));
	/* TLS 1.3, 48-byte secret, separated by a tab */
	snprintf(line, sizeof(line), "SERVER_TRAFFIC_SECRET_0\t%s\t%096d", cr, 7);
	ck_assert(keylog_add_line(kl, line, strlen(line)));
	const struct keylog_stats *st = keylog_stats(kl);
	ck_assert_uint_eq(st->lines, 12);
	ck_assert_uint_eq(st->secrets, 2);
	ck_assert_uint_eq(st->entries, 1);
	ck_assert_uint_eq(st->ignored, 1);
	ck_assert_uint_eq(st->malformed, 6);
	ck_assert_uint_eq(st->first_malformed_line, 6);
	uint8_t r[32];
	for (int i = 0; i < 32; i++)
		r[i] = (uint8_t)(hexval(cr[2 * i]) * 16 + hexval(cr[2 * i + 1]));
	const struct keylog_entry *e = keylog_find(kl, r);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->have, (1u << KL_CLIENT_RANDOM) | (1u << KL_SERVER_AP0));
	ck_assert_uint_eq(e->s[KL_CLIENT_RANDOM].len, 48);
	ck_assert_uint_eq(e->s[KL_CLIENT_RANDOM].b[47], 0x2f);
	ck_assert_uint_eq(e->s[KL_SERVER_AP0].len, 48);
	ck_assert_uint_eq(e->s[KL_SERVER_AP0].b[47], 0x07);
	r[31] ^= 1;
	ck_assert_ptr_null(keylog_find(kl, r));
	ck_assert_str_eq(keylog_label_name(KL_CLIENT_AP0), "CLIENT_TRAFFIC_SECRET_0");
	keylog_free(kl);
}
END_TEST

/* Many entries: every one is found (the table grows and rehashes), and the
 * cap holds. */
START_TEST(test_keylog_many_and_cap)
{
	struct keylog *kl = keylog_new();
	char line[256];
	uint32_t n = KEYLOG_ENTRIES_MAX + 10;
	for (uint32_t i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "CLIENT_RANDOM %056x%08x %096x", 0u, i, i);
		keylog_add_line(kl, line, strlen(line));
	}
	const struct keylog_stats *st = keylog_stats(kl);
	ck_assert_uint_eq(st->entries, KEYLOG_ENTRIES_MAX);
	ck_assert_uint_eq(st->capped, 10);
	ck_assert_uint_eq(st->malformed, 0);
	uint8_t r[32] = { 0 };
	for (uint32_t i = 0; i < n; i += 997) {
		r[28] = (uint8_t)(i >> 24);
		r[29] = (uint8_t)(i >> 16);
		r[30] = (uint8_t)(i >> 8);
		r[31] = (uint8_t)i;
		const struct keylog_entry *e = keylog_find(kl, r);
		if (i < KEYLOG_ENTRIES_MAX) {
			ck_assert_ptr_nonnull(e);
			ck_assert_uint_eq(e->s[KL_CLIENT_RANDOM].b[47], (uint8_t)i);
		} else {
			ck_assert_ptr_null(e);
		}
	}
	keylog_free(kl);
}
END_TEST

START_TEST(test_keylog_file)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/keylog-test.txt", tu_tmpdir());
	FILE *fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs("# SSL/TLS secrets log file\n\n", fp);
	fprintf(fp, "CLIENT_RANDOM %064d %096d\n", 1, 2);
	for (int i = 0; i < 2000; i++)              /* an over-long line */
		fputc('A', fp);
	fputc('\n', fp);
	fwrite("CLIENT_RANDOM abc\0def\n", 1, 22, fp);     /* a NUL in a line: malformed */
	fprintf(fp, "CLIENT_TRAFFIC_SECRET_0 %064d %064d", 1, 3);       /* no final newline */
	fclose(fp);
	struct keylog *kl = keylog_new();
	char err[256];
	ck_assert(keylog_load_file(kl, path, err, sizeof(err)));
	const struct keylog_stats *st = keylog_stats(kl);
	ck_assert_uint_eq(st->lines, 6);
	ck_assert_uint_eq(st->entries, 1);
	ck_assert_uint_eq(st->secrets, 2);
	ck_assert_uint_eq(st->malformed, 2);
	ck_assert_uint_eq(st->first_malformed_line, 4);
	keylog_free(kl);
	unlink(path);

	kl = keylog_new();
	ck_assert(!keylog_load_file(kl, "/nonexistent/keys.log", err, sizeof(err)));
	ck_assert(strstr(err, "/nonexistent/keys.log") != NULL);
	keylog_free(kl);
}
END_TEST

static Suite *tls_decrypt_suite(void)
{
	Suite *s = suite_create("tls_decrypt");
	TCase *r = tcase_create("RFC 8448");
	tcase_set_timeout(r, 300);
	tcase_add_test(r, test_rfc8448_decrypts);
	tcase_add_test(r, test_rfc8448_split_everywhere);
	tcase_add_test(r, test_rfc8448_stream_cut_everywhere);
	tcase_add_test(r, test_rfc8448_wrong_keys);
	tcase_add_test(r, test_rfc8448_no_key);
	suite_add_tcase(s, r);
	TCase *h = tcase_create("Hostile");
	tcase_add_test(h, test_gap_ends_direction);
	tcase_add_test(h, test_garbage_and_truncation);
	tcase_add_test(h, test_unsupported_suite);
	suite_add_tcase(s, h);
	TCase *f = tcase_create("Sessions");
	tcase_set_timeout(f, 300);
	tcase_add_loop_test(f, test_fixture_decrypts, 0, (int)SL_ARRAY_LEN(fixtures));
	tcase_add_loop_test(f, test_fixture_wrong_keys, 0, (int)SL_ARRAY_LEN(fixtures));
	tcase_add_test(f, test_key_update);
	tcase_add_test(f, test_partial_hello_before_ccs);
	tcase_add_test(f, test_hello_retry);
	suite_add_tcase(s, f);
	TCase *p = tcase_create("SMTP tap");
	tcase_add_loop_test(p, test_smtp_tls_tap, 0, (int)SL_ARRAY_LEN(fixtures));
	suite_add_tcase(s, p);
	TCase *k = tcase_create("Key log");
	tcase_set_timeout(k, 120);
	tcase_add_test(k, test_keylog_lines);
	tcase_add_test(k, test_keylog_many_and_cap);
	tcase_add_test(k, test_keylog_file);
	suite_add_tcase(s, k);
	return s;
}

int main(void)
{
	return tu_run(tls_decrypt_suite());
}
