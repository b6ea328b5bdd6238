/*
 * check_tls.c - STARTTLS and the TLS record layer on real handshake bytes
 * (the .txt files in tests/data, made by tests/data/make_tls_dialogs.py with Python's
 * ssl module): a TLS 1.3 handshake that completes and carries data, a TLS
 * 1.2 handshake the client aborts with an alert, implicit TLS, plaintext
 * where TLS was due, a TLS client at a plaintext server, a ClientHello
 * spread over two records.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "smtp_harness.h"

#define MAX_STEPS 64

struct loaded {
	struct step st[MAX_STEPS + 1];
	uint8_t *buf[MAX_STEPS];
	size_t n;
};

static int hexval(int c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* Reads "C <hex>" / "S <hex>" lines; false when the file is missing. */
static bool load(const char *name, struct loaded *l)
{
	const char *src = getenv("SLEUTH_SOURCE_DIR");
	char path[1024];
	snprintf(path, sizeof(path), "%s/tests/data/%s", src ? src : "..", name);
	FILE *fp = fopen(path, "r");
	ck_assert_msg(fp != NULL, "missing %s", path);
	memset(l, 0, sizeof(*l));
	static char line[1 << 16];
	while (fgets(line, sizeof(line), fp) && l->n < MAX_STEPS) {
		size_t hl = strcspn(line + 2, "\r\n");
		uint8_t *b = malloc(hl / 2 + 1);
		for (size_t i = 0; i < hl / 2; i++)
			b[i] = (uint8_t)(hexval(line[2 + 2 * i]) * 16 + hexval(line[3 + 2 * i]));
		l->buf[l->n] = b;
		l->st[l->n].dir = line[0] == 'C' ? DIR_C2S : DIR_S2C;
		l->st[l->n].b = (const char *)b;
		l->st[l->n].n = hl / 2;
		l->n++;
	}
	fclose(fp);
	l->st[l->n].b = NULL;
	return true;
}

static void unload(struct loaded *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->buf[i]);
}

START_TEST(test_starttls_tls13_completes)
{
	struct loaded l;
	load("tls13-starttls.txt", &l);
	struct run r;
	run_init(&r);
	run_feed(&r, l.st, 0, 0, 0, true);
	const struct smtp_facts *f = smtp_facts(r.s);
	ck_assert(f->is_smtp);
	ck_assert(f->ext & SMTP_EXT_STARTTLS);
	ck_assert_int_eq(f->starttls, STLS_ACCEPTED);
	ck_assert_uint_eq(f->starttls_reply.code, 220);
	ck_assert_uint_eq(find_ev(&r, EV_STARTTLS, 0)->code, 220);
	const struct tls_facts *t = &f->tls;
	ck_assert(t->client_hello && t->server_hello);
	ck_assert_str_eq(t->sni, "mx.example.test");
	ck_assert_uint_eq(t->offered_max, 0x0304);
	ck_assert_uint_eq(t->version, 0x0304);
	ck_assert(!t->alert);
	ck_assert(!t->plaintext_after_tls);
	ck_assert(t->appdata_records[DIR_C2S] >= 2);
	ck_assert(t->appdata_records[DIR_S2C] >= 2);
	ck_assert(t->handshake_done);
	ck_assert_uint_eq(t->client_hello_frame, 6);
	ck_assert_uint_eq(t->server_hello_frame, 7);
	ck_assert_int_eq(f->phase, PH_TLS);
	ck_assert_str_eq(find_ev(&r, EV_TLS_SERVER_HELLO, 0)->text, "TLS 1.3");
	ck_assert_ptr_nonnull(strstr(find_ev(&r, EV_TLS_CLIENT_HELLO, 0)->text, "mx.example.test"));
	ck_assert_uint_eq(count_ev(&r, EV_TLS_APPDATA), 2);
	/* encrypted bytes are never read as commands */
	ck_assert_uint_eq(f->commands, 2);
	ck_assert_uint_eq(f->unpaired_replies, 0);
	run_free(&r);
	check_split_invariance(l.st);
	unload(&l);
}
END_TEST

START_TEST(test_starttls_tls12_alert)
{
	struct loaded l;
	load("tls12-alert.txt", &l);
	struct run r;
	run_init(&r);
	run_feed(&r, l.st, 0, 0, 0, true);
	const struct smtp_facts *f = smtp_facts(r.s);
	const struct tls_facts *t = &f->tls;
	ck_assert_int_eq(f->starttls, STLS_ACCEPTED);
	ck_assert(t->client_hello && t->server_hello);
	ck_assert_uint_eq(t->offered_max, 0x0303);
	ck_assert_uint_eq(t->version, 0x0303);
	ck_assert(t->alert);
	ck_assert_uint_eq(t->alert_level, 2);
	/* OpenSSL says unknown_ca (48) for an untrusted self-signed certificate */
	ck_assert_uint_eq(t->alert_desc, 48);
	ck_assert_uint_eq(t->alert_dir, DIR_C2S);
	ck_assert_uint_eq(t->alert_frame, 8);
	ck_assert(!t->handshake_done);
	ck_assert_uint_eq(t->appdata_records[0] + t->appdata_records[1], 0);
	const struct event *e = find_ev(&r, EV_TLS_ALERT, 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->code, 2 * 256 + 48);
	ck_assert_str_eq(e->text, "fatal unknown_ca");
	ck_assert_int_eq(f->phase, PH_STARTTLS);
	run_free(&r);
	check_split_invariance(l.st);
	unload(&l);
}
END_TEST

START_TEST(test_implicit_tls)
{
	struct loaded l;
	load("tls12-implicit.txt", &l);
	struct run r;
	run_init(&r);
	run_feed(&r, l.st, 0, 0, 0, true);
	const struct smtp_facts *f = smtp_facts(r.s);
	ck_assert(f->implicit_tls);
	ck_assert(!f->tls_client_to_plain);
	ck_assert(f->tls.handshake_done);
	ck_assert_uint_eq(f->tls.version, 0x0303);
	ck_assert(f->tls.ccs[0] && f->tls.ccs[1]);
	ck_assert(f->tls.appdata_records[DIR_S2C] >= 2);
	ck_assert(!f->tls.plaintext_after_tls);
	ck_assert_int_eq(f->phase, PH_TLS);
	ck_assert_uint_eq(f->commands, 0);
	run_free(&r);
	check_split_invariance(l.st);
	unload(&l);
}
END_TEST

START_TEST(test_tls_client_to_plain_server)
{
	struct loaded l;
	load("tls12-implicit.txt", &l);
	/* the server greets in plaintext, the client answers with a ClientHello */
	struct step st[] = {
		S("220 mx.example.test ESMTP\r\n"), l.st[0], S("500 5.5.1 command unrecognized\r\n"), END
	};
	struct run r;
	run_init(&r);
	run_feed(&r, st, 0, 0, 0, true);
	const struct smtp_facts *f = smtp_facts(r.s);
	ck_assert(f->is_smtp);
	ck_assert(f->implicit_tls);
	ck_assert(f->tls_client_to_plain);
	ck_assert(f->tls.plaintext_after_tls);
	ck_assert_uint_eq(f->tls.plaintext_dir, DIR_S2C);
	ck_assert(f->tls.client_hello);
	ck_assert_str_eq(f->tls.sni, "mx.example.test");
	ck_assert_ptr_nonnull(find_ev(&r, EV_TLS_MISMATCH, 0));
	ck_assert_uint_eq(f->greeting.code, 220);
	run_free(&r);

	/* the ClientHello first, then a plaintext greeting */
	struct step st2[] = { l.st[0], S("220 mx.example.test ESMTP\r\n"), END };
	run_init(&r);
	run_feed(&r, st2, 0, 0, 0, true);
	f = smtp_facts(r.s);
	ck_assert(f->implicit_tls);
	ck_assert(f->tls_client_to_plain);
	ck_assert(f->tls.plaintext_after_tls);
	ck_assert_uint_eq(f->tls.plaintext_dir, DIR_S2C);
	ck_assert_uint_eq(f->greeting.code, 220);
	run_free(&r);
	check_split_invariance(st2);
	unload(&l);
}
END_TEST

START_TEST(test_plaintext_after_starttls)
{
	/* a capture decrypted by its tool: SMTP goes on in clear */
	static const struct step st[] = {
		S("220 mx\r\n"), C("EHLO c\r\n"), S("250-mx\r\n250 STARTTLS\r\n"), C("STARTTLS\r\n"),
		S("220 go ahead\r\n"), C("EHLO c\r\n"), S("250-mx\r\n250 AUTH PLAIN\r\n"),
		C("MAIL FROM:<a@b>\r\n"), S("250 ok\r\n"), END
	};
	struct run r;
	run_init(&r);
	run_feed(&r, st, 0, 0, 0, true);
	const struct smtp_facts *f = smtp_facts(r.s);
	ck_assert(f->plaintext_smtp_after_tls);
	ck_assert(f->tls.plaintext_after_tls);
	ck_assert_uint_eq(f->tls.plaintext_dir, DIR_C2S);
	ck_assert_uint_eq(count_ev(&r, EV_TLS_MISMATCH), 2);
	ck_assert(f->ext & SMTP_EXT_AUTH);
	ck_assert_int_eq(f->last_cmd, CMD_MAIL);
	ck_assert_uint_eq(f->msgs[0].mail_reply.code, 250);
	ck_assert_int_eq(f->phase, PH_MAIL);
	run_free(&r);
	check_split_invariance(st);

	/* only the server sends plaintext where TLS was due */
	struct loaded l;
	load("tls13-starttls.txt", &l);
	struct step st2[] = { l.st[0], l.st[1], l.st[2], l.st[3], l.st[4], l.st[5],
			      S("454 4.7.0 TLS not available\r\n"), END };
	run_init(&r);
	run_feed(&r, st2, 0, 0, 0, true);
	f = smtp_facts(r.s);
	ck_assert(f->tls.plaintext_after_tls);
	ck_assert_uint_eq(f->tls.plaintext_dir, DIR_S2C);
	ck_assert(!f->plaintext_smtp_after_tls);
	ck_assert(!f->tls.handshake_done);
	run_free(&r);
	unload(&l);
}
END_TEST

START_TEST(test_hello_across_records)
{
	struct loaded l;
	load("tls13-starttls.txt", &l);
	/* step 5 is the ClientHello record: re-frame its body as two records */
	const uint8_t *rec = (const uint8_t *)l.st[5].b;
	size_t body = ((size_t)rec[3] << 8) | rec[4];
	ck_assert_uint_eq(body + 5, l.st[5].n);
	size_t half = body / 3;
	uint8_t *two = malloc(body + 10);
	memcpy(two, rec, 5);
	two[3] = (uint8_t)(half >> 8);
	two[4] = (uint8_t)half;
	memcpy(two + 5, rec + 5, half);
	memcpy(two + 5 + half, rec, 5);
	two[5 + half + 3] = (uint8_t)((body - half) >> 8);
	two[5 + half + 4] = (uint8_t)(body - half);
	memcpy(two + 10 + half, rec + 5 + half, body - half);
	struct step st[MAX_STEPS + 1];
	memcpy(st, l.st, sizeof(st));
	st[5].b = (const char *)two;
	st[5].n = body + 10;
	struct run r;
	run_init(&r);
	run_feed(&r, st, 0, 0, 0, true);
	const struct smtp_facts *f = smtp_facts(r.s);
	ck_assert(f->tls.client_hello);
	ck_assert_str_eq(f->tls.sni, "mx.example.test");
	ck_assert_uint_eq(f->tls.offered_max, 0x0304);
	ck_assert(f->tls.handshake_done);
	run_free(&r);
	check_split_invariance(st);
	free(two);
	unload(&l);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(tls_version_name(0x0303), "TLS 1.2");
	ck_assert_str_eq(tls_alert_name(42), "bad_certificate");
	ck_assert_str_eq(tls_alert_name(250), "unknown_alert");
}
END_TEST

static Suite *tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *t = tcase_create("Handshakes");
	tcase_set_timeout(t, 300);
	tcase_add_test(t, test_starttls_tls13_completes);
	tcase_add_test(t, test_starttls_tls12_alert);
	tcase_add_test(t, test_implicit_tls);
	tcase_add_test(t, test_hello_across_records);
	suite_add_tcase(s, t);
	TCase *m = tcase_create("Mismatch");
	tcase_add_test(m, test_tls_client_to_plain_server);
	tcase_add_test(m, test_plaintext_after_starttls);
	tcase_add_test(m, test_names);
	suite_add_tcase(s, m);
	return s;
}

int main(void)
{
	return tu_run(tls_suite());
}
