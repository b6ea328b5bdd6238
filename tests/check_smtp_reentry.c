/*
 * check_smtp_reentry.c - the SMTP dissector's re-entry (smtp_tls_plain):
 * decrypted TLS application data read as SMTP from the point TLS started,
 * by the same dissector, so its facts are those of a plaintext dialog.
 *
 * No cryptography here: the "TLS" bytes are record-shaped filler handed to
 * smtp_data (they must reach the tap, untouched, once a side re-entered),
 * and the plaintext is handed to smtp_tls_plain between calls, as the glue
 * (analyzer/session/tls_session.c) does. The whole path with real keys is
 * tested by it_tls_analyze_tshark.
 */
#define _GNU_SOURCE
#include <string.h>

#include "testutil.h"
#include "smtp_harness.h"

struct tap {
	uint64_t bytes[2], gaps[2];
	uint32_t calls;
};

static void on_tap(void *ctx, enum sl_dir dir, const uint8_t *b, size_t n, uint64_t gap)
{
	struct tap *t = ctx;
	t->calls++;
	if (b)
		t->bytes[dir] += n;
	else
		t->gaps[dir] += gap;
}

/* A record-shaped chunk of "TLS": application data, length len - 5. */
static void wire(struct smtp *s, enum sl_dir dir, size_t len, struct seg_meta *m)
{
	static uint8_t rec[512];
	memset(rec, 0xa5, sizeof(rec));
	rec[0] = 0x17;
	rec[1] = 3;
	rec[2] = 3;
	rec[3] = (uint8_t)((len - 5) >> 8);
	rec[4] = (uint8_t)(len - 5);
	m->frame++;
	m->ts += NS_PER_MS;
	smtp_data(s, dir, rec, len, m);
}

static void plain(struct smtp *s, enum sl_dir dir, const char *text, struct seg_meta *m)
{
	smtp_tls_plain(s, dir, (const uint8_t *)text, strlen(text), 0, m);
}

static void feed(struct smtp *s, enum sl_dir dir, const char *text, struct seg_meta *m)
{
	m->frame++;
	m->ts += NS_PER_MS;
	smtp_data(s, dir, (const uint8_t *)text, strlen(text), m);
}

/* STARTTLS, then inside TLS: EHLO, AUTH refused, MAIL, RCPT, DATA, 552. */
START_TEST(test_starttls_reentry)
{
	struct timeline tl;
	tl_init(&tl);
	struct smtp *s = smtp_new(&tl);
	struct tap t = { 0 };
	smtp_set_tls_tap(s, on_tap, &t);
	struct seg_meta m;
	memset(&m, 0, sizeof(m));
	feed(s, DIR_S2C, "220 mx.example.test ESMTP\r\n", &m);
	feed(s, DIR_C2S, "EHLO client.example.test\r\n", &m);
	feed(s, DIR_S2C, "250-mx.example.test\r\n250-SIZE 1000\r\n250 STARTTLS\r\n", &m);
	feed(s, DIR_C2S, "STARTTLS\r\n", &m);
	feed(s, DIR_S2C, "220 2.0.0 Ready\r\n", &m);
	ck_assert_int_eq(smtp_facts(s)->starttls, STLS_ACCEPTED);
	/* before re-entry the TLS bytes reach the tap through the record reader */
	wire(s, DIR_C2S, 100, &m);
	wire(s, DIR_S2C, 200, &m);
	ck_assert_uint_eq(t.bytes[DIR_C2S], 100);
	ck_assert_uint_eq(t.bytes[DIR_S2C], 200);
	ck_assert(!smtp_tls_inner(s, DIR_C2S));
	/* the decrypted dialog */
	wire(s, DIR_C2S, 60, &m);
	plain(s, DIR_C2S, "EHLO client.example.test\r\n", &m);
	ck_assert(smtp_tls_inner(s, DIR_C2S));
	wire(s, DIR_S2C, 80, &m);
	plain(s, DIR_S2C, "250-mx.example.test\r\n250-SIZE 1000\r\n250 AUTH PLAIN\r\n", &m);
	wire(s, DIR_C2S, 60, &m);
	plain(s, DIR_C2S, "AUTH PLAIN AGFsaWNlAHdyb25n\r\n", &m);
	wire(s, DIR_S2C, 60, &m);
	plain(s, DIR_S2C, "535 5.7.8 authentication failed\r\n", &m);
	const struct smtp_facts *f = smtp_facts(s);
	ck_assert_int_eq(f->auth_result, AUTH_REFUSED);
	ck_assert_uint_eq(f->auth_code, 535);
	ck_assert_str_eq(f->auth_user, "alice");
	plain(s, DIR_C2S, "MAIL FROM:<alice@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n", &m);
	plain(s, DIR_S2C, "250 ok\r\n250 ok\r\n354 go\r\n", &m);
	char body[1200];
	memset(body, 'x', sizeof(body));
	memcpy(body + sizeof(body) - 6, "\r\n.\r\n", 6);
	plain(s, DIR_C2S, body, &m);
	plain(s, DIR_S2C, "552 5.3.4 message too big\r\n", &m);
	/* wire bytes of a re-entered side go to the tap only */
	uint64_t before = t.bytes[DIR_C2S];
	wire(s, DIR_C2S, 50, &m);
	ck_assert_uint_eq(t.bytes[DIR_C2S], before + 50);
	ck_assert_uint_eq(f->n_msgs, 1);
	ck_assert_uint_eq(f->msgs[0].final_reply.code, 552);
	ck_assert_uint_eq(f->c2s_bytes, strlen("EHLO client.example.test\r\nSTARTTLS\r\n") + 100 + 60 * 2 + 50);
	/* no password anywhere in the timeline */
	for (uint32_t i = 0; i < tl_count(&tl); i++)
		ck_assert_ptr_null(strstr(tl_at(&tl, i)->text, "AGFsaWNlAHdyb25n"));
	/* a gap in the plaintext: the line is dropped, the next one read */
	smtp_tls_plain(s, DIR_C2S, NULL, 0, 40, &m);
	ck_assert_uint_ge(f->gaps_cmd, 1);
	plain(s, DIR_C2S, "junk\r\nQUIT\r\n", &m);
	plain(s, DIR_S2C, "221 bye\r\n", &m);
	ck_assert(f->quit_sent);
	smtp_free(s);
	tl_free(&tl);
}
END_TEST

/* Plaintext for a side that is not reading TLS is refused (no re-entry). */
START_TEST(test_no_reentry_outside_tls)
{
	struct timeline tl;
	tl_init(&tl);
	struct smtp *s = smtp_new(&tl);
	struct seg_meta m;
	memset(&m, 0, sizeof(m));
	feed(s, DIR_S2C, "220 mx.example.test ESMTP\r\n", &m);
	plain(s, DIR_C2S, "EHLO x\r\n", &m);
	ck_assert(!smtp_tls_inner(s, DIR_C2S));
	ck_assert_uint_eq(smtp_facts(s)->commands, 0);
	smtp_free(s);
	tl_free(&tl);
}
END_TEST

/* Implicit TLS: the greeting itself comes decrypted. */
START_TEST(test_implicit_reentry)
{
	struct timeline tl;
	tl_init(&tl);
	struct smtp *s = smtp_new(&tl);
	struct seg_meta m;
	memset(&m, 0, sizeof(m));
	static const uint8_t hello[] = { 0x16, 3, 1, 0, 4, 1, 0, 0, 0 };
	m.frame = 1;
	smtp_data(s, DIR_C2S, hello, sizeof(hello), &m);
	ck_assert(smtp_facts(s)->implicit_tls);
	wire(s, DIR_S2C, 100, &m);
	plain(s, DIR_S2C, "220 mx.example.test ESMTP\r\n", &m);
	wire(s, DIR_C2S, 50, &m);
	plain(s, DIR_C2S, "EHLO client\r\n", &m);
	plain(s, DIR_S2C, "250 mx\r\n", &m);
	plain(s, DIR_C2S, "MAIL FROM:<a@example.test>\r\n", &m);
	plain(s, DIR_S2C, "421 4.3.2 shutting down\r\n", &m);
	const struct smtp_facts *f = smtp_facts(s);
	ck_assert_uint_eq(f->greeting.code, 220);
	ck_assert_uint_eq(f->last_reply.code, 421);
	ck_assert(!f->tls_client_to_plain);
	smtp_free(s);
	tl_free(&tl);
}
END_TEST

static Suite *reentry_suite(void)
{
	Suite *s = suite_create("smtp_reentry");
	TCase *tc = tcase_create("Core");
	tcase_add_test(tc, test_starttls_reentry);
	tcase_add_test(tc, test_no_reentry_outside_tls);
	tcase_add_test(tc, test_implicit_reentry);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(reentry_suite());
}
