/*
 * check_classify.c - nDPI classification through classify.c: SMTP found by
 * content on any port (25, 2525, 10025), risks, other protocols, give-up,
 * the TLS after STARTTLS in a second nDPI flow, implicit TLS (SMTPS), and
 * the packet caps. Packets are built with tests/tu_pkt.h.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "tu_pkt.h"
#include "classify.h"

struct conv {
	const char *cli, *srv;
	uint16_t sport, dport;
	uint32_t cseq, sseq;
	uint64_t frame;
	sl_time ts;
	uint32_t fed, wanted_last;
	bool still_wants;
};

static bool send_seg(struct classifier *c, struct classify_flow *f, struct conv *cv, bool from_client,
		     uint8_t flags, const void *payload, size_t len)
{
	static uint8_t buf[TU_FRAME_MAX];
	struct tu_seg s;
	memset(&s, 0, sizeof(s));
	s.src = from_client ? cv->cli : cv->srv;
	s.dst = from_client ? cv->srv : cv->cli;
	s.sport = from_client ? cv->sport : cv->dport;
	s.dport = from_client ? cv->dport : cv->sport;
	s.seq = from_client ? cv->cseq : cv->sseq;
	s.ack = from_client ? cv->sseq : cv->cseq;
	s.flags = flags;
	s.payload = payload;
	s.len = len;
	size_t n = tu_ip_tcp(buf, sizeof(buf), &s);
	ck_assert_uint_gt(n, 0);
	struct pkt p;
	memset(&p, 0, sizeof(p));
	p.frame = ++cv->frame;
	cv->ts += 10 * NS_PER_MS;
	p.ts = cv->ts;
	p.l3 = buf;
	p.l3_len = (uint32_t)n;
	p.ipver = strchr(s.src, ':') ? 6 : 4;
	p.sport = s.sport;
	p.dport = s.dport;
	p.flags = flags;
	p.payload = buf + n - len;
	p.payload_len = p.payload_wire_len = (uint32_t)len;
	uint32_t adv = (uint32_t)len + ((flags & (TH_SYN | TH_FIN)) ? 1 : 0);
	if (from_client)
		cv->cseq += adv;
	else
		cv->sseq += adv;
	cv->fed++;
	bool more = classify_packet(c, f, &p);
	cv->still_wants = more;
	return more;
}

static void handshake(struct classifier *c, struct classify_flow *f, struct conv *cv)
{
	cv->cseq = 1000;
	cv->sseq = 5000;
	send_seg(c, f, cv, true, TH_SYN, NULL, 0);
	send_seg(c, f, cv, false, TH_SYN | TH_ACK, NULL, 0);
	send_seg(c, f, cv, true, TH_ACK, NULL, 0);
}

/* Sends a line from one side and the peer's pure ACK; stops feeding as
 * soon as the classifier says it is done. */
static bool say(struct classifier *c, struct classify_flow *f, struct conv *cv, bool client, const char *text)
{
	if (!send_seg(c, f, cv, client, TH_ACK | TH_PSH, text, strlen(text)))
		return false;
	return send_seg(c, f, cv, !client, TH_ACK, NULL, 0);
}

static const char *const dialog[] = {
	"S220 relay.example.test ESMTP\r\n",
	"CEHLO client.example.test\r\n",
	"S250-relay.example.test\r\n250-PIPELINING\r\n250 AUTH PLAIN\r\n",
	"CMAIL FROM:<a@example.test>\r\n",
	"S250 ok\r\n",
	"CRCPT TO:<b@example.test>\r\n",
	"S250 ok\r\n",
	"CDATA\r\n",
	"S354 go\r\n",
	"Cbody\r\n.\r\n",
	"S250 queued\r\n",
	"CQUIT\r\n",
	"S221 bye\r\n",
	NULL
};

static struct classifier *mk(void)
{
	char err[128];
	struct classifier *c = classifier_new(err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	return c;
}

static bool has_risk(const struct classify_flow *f, const char *name)
{
	const char *r[64];
	uint32_t n = classify_risks(f, r, 64);
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(r[i], name) == 0)
			return true;
	return false;
}

static void run_dialog(uint16_t port, const char *const *lines, const char **name, bool *smtp, uint32_t *fed)
{
	struct classifier *c = mk();
	struct classify_flow *f = classify_flow_new(c);
	struct conv cv = { "10.0.0.1", "10.0.0.2", 40000, port, 0, 0, 0, 0, 0, 0, true };
	handshake(c, f, &cv);
	for (size_t i = 0; lines[i] && cv.still_wants; i++)
		say(c, f, &cv, lines[i][0] == 'C', lines[i] + 1);
	classify_finish(c, f);
	*name = strdup(classify_name(f));
	*smtp = classify_is_smtp(f);
	*fed = cv.fed;
	classify_flow_free(f);
	classifier_free(c);
}

START_TEST(test_smtp_any_port)
{
	static const uint16_t ports[] = { 25, 2525, 10025 };
	for (size_t i = 0; i < SL_ARRAY_LEN(ports); i++) {
		const char *name;
		bool smtp;
		uint32_t fed;
		run_dialog(ports[i], dialog, &name, &smtp, &fed);
		ck_assert_msg(strcmp(name, "SMTP") == 0, "port %u: %s", ports[i], name);
		ck_assert(smtp);
		/* detection ends well before the dialog does */
		ck_assert_uint_lt(fed, 3 + 2 * 13);
		free((void *)name);
	}
}
END_TEST

START_TEST(test_risks_and_stop)
{
	struct classifier *c = mk();
	struct classify_flow *f = classify_flow_new(c);
	struct conv cv = { "10.0.0.1", "10.0.0.2", 40001, 2525, 0, 0, 0, 0, 0, 0, true };
	handshake(c, f, &cv);
	static const char *const auth[] = {
		"S220 relay.example.test ESMTP\r\n", "CEHLO c\r\n", "S250-relay\r\n250 AUTH PLAIN LOGIN\r\n",
		"CAUTH LOGIN\r\n", "S334 VXNlcm5hbWU6\r\n", "CYm9iYnkudXNlckBleGFtcGxlLnRlc3Q=\r\n",
		"S334 UGFzc3dvcmQ6\r\n", "CYXZlcnlsb25ncGFzc3dvcmQxMjM=\r\n", "S235 ok\r\n",
		"CMAIL FROM:<a@b>\r\n", "S250 ok\r\n", NULL
	};
	for (size_t i = 0; auth[i] && cv.still_wants; i++)
		say(c, f, &cv, auth[i][0] == 'C', auth[i] + 1);
	ck_assert(classify_decided(f));
	ck_assert(!classify_wants(f));
	ck_assert(!cv.still_wants);
	ck_assert_str_eq(classify_name(f), "SMTP");
	ck_assert(has_risk(f, "Clear-Text Credentials"));
	ck_assert(has_risk(f, "Known Protocol on Non Standard Port"));
	/* finished flows answer without nDPI */
	ck_assert(!send_seg(c, f, &cv, true, TH_ACK, NULL, 0));
	classify_finish(c, f);
	classify_finish(c, f);
	ck_assert_str_eq(classify_name(f), "SMTP");
	classify_flow_free(f);
	classifier_free(c);
}
END_TEST

START_TEST(test_other_protocols)
{
	static const char *const http[] = {
		"CGET /index.html HTTP/1.1\r\nHost: www.example.test\r\nUser-Agent: t\r\n\r\n",
		"SHTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello", NULL
	};
	const char *name;
	bool smtp;
	uint32_t fed;
	run_dialog(8080, http, &name, &smtp, &fed);
	ck_assert_str_eq(name, "HTTP");
	ck_assert(!smtp);
	free((void *)name);

	/* junk on a high port: nothing decided, the cap ends feeding */
	struct classifier *c = mk();
	struct classify_flow *f = classify_flow_new(c);
	struct conv cv = { "10.0.0.1", "10.0.0.2", 40002, 33333, 0, 0, 0, 0, 0, 0, true };
	handshake(c, f, &cv);
	uint8_t junk[64];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	int sent = 0;
	while (cv.still_wants && sent < 100) {
		send_seg(c, f, &cv, sent % 2 == 0, TH_ACK | TH_PSH, junk, sizeof(junk));
		sent++;
	}
	ck_assert_uint_eq(cv.fed, CLASSIFY_MAX_PACKETS);
	ck_assert(!classify_decided(f));
	ck_assert_str_eq(classify_name(f), "Unknown");
	ck_assert(!classify_is_smtp(f));
	classify_flow_free(f);
	classifier_free(c);
}
END_TEST

/* Loads one direction's first TLS chunk from tests/data. */
static size_t load_chunk(const char *file, int idx, uint8_t *out, size_t cap)
{
	const char *src = getenv("SLEUTH_SOURCE_DIR");
	char path[1024];
	snprintf(path, sizeof(path), "%s/tests/data/%s", src ? src : "..", file);
	FILE *fp = fopen(path, "r");
	ck_assert_msg(fp != NULL, "missing %s", path);
	static char line[1 << 16];
	size_t n = 0;
	for (int i = 0; fgets(line, sizeof(line), fp); i++) {
		if (i != idx)
			continue;
		size_t hl = strcspn(line + 2, "\r\n");
		for (size_t k = 0; k + 1 < hl && n < cap; k += 2) {
			unsigned v;
			sscanf(line + 2 + k, "%2x", &v);
			out[n++] = (uint8_t)v;
		}
	}
	fclose(fp);
	return n;
}

START_TEST(test_starttls_second_flow)
{
	struct classifier *c = mk();
	struct classify_flow *f = classify_flow_new(c);
	struct conv cv = { "10.0.0.1", "10.0.0.2", 40003, 587, 0, 0, 0, 0, 0, 0, true };
	handshake(c, f, &cv);
	static const char *const pre[] = {
		"S220 mx.example.test ESMTP\r\n", "CEHLO c\r\n", "S250-mx\r\n250 STARTTLS\r\n", "CSTARTTLS\r\n",
		"S220 go ahead\r\n", NULL
	};
	for (size_t i = 0; pre[i]; i++)
		say(c, f, &cv, pre[i][0] == 'C', pre[i] + 1);
	ck_assert_str_eq(classify_name(f), "SMTP");
	ck_assert_ptr_null(classify_tls_name(f));
	classify_starttls(c, f);
	ck_assert(classify_wants(f));
	static uint8_t hello[4096], shello[8192];
	size_t hn = load_chunk("tls12-implicit.txt", 0, hello, sizeof(hello));
	size_t sn = load_chunk("tls12-implicit.txt", 1, shello, sizeof(shello));
	ck_assert_uint_gt(hn, 100);
	send_seg(c, f, &cv, true, TH_ACK | TH_PSH, hello, hn);
	send_seg(c, f, &cv, false, TH_ACK | TH_PSH, shello, sn);
	classify_finish(c, f);
	ck_assert_str_eq(classify_name(f), "SMTP");
	const char *tn = classify_tls_name(f);
	ck_assert_ptr_nonnull(tn);
	ck_assert_msg(strstr(tn, "TLS") || strstr(tn, "SMTPS"), "tls part: %s", tn);
	ck_assert(has_risk(f, "Self-signed Certificate"));
	classify_flow_free(f);
	classifier_free(c);
}
END_TEST

START_TEST(test_smtps_implicit)
{
	struct classifier *c = mk();
	struct classify_flow *f = classify_flow_new(c);
	struct conv cv = { "10.0.0.1", "10.0.0.2", 40004, 465, 0, 0, 0, 0, 0, 0, true };
	handshake(c, f, &cv);
	static uint8_t hello[4096], shello[8192];
	size_t hn = load_chunk("tls12-implicit.txt", 0, hello, sizeof(hello));
	size_t sn = load_chunk("tls12-implicit.txt", 1, shello, sizeof(shello));
	send_seg(c, f, &cv, true, TH_ACK | TH_PSH, hello, hn);
	ck_assert_str_eq(classify_name(f), "SMTPS");
	ck_assert(classify_is_smtp(f));
	/* nDPI 4.2 would stop here; we go on to the certificate */
	ck_assert(cv.still_wants);
	send_seg(c, f, &cv, false, TH_ACK | TH_PSH, shello, sn);
	ck_assert(!cv.still_wants);
	ck_assert(has_risk(f, "Self-signed Certificate"));
	classify_flow_free(f);
	classifier_free(c);
}
END_TEST

/* A SYN to 587 answered by RST: no byte was seen, so whatever nDPI names
 * it comes from the port; it must say so. */
START_TEST(test_refused_syn_guessed)
{
	struct classifier *c = mk();
	struct classify_flow *f = classify_flow_new(c);
	struct conv cv = { "192.0.2.1", "198.51.100.2", 40005, 587, 1000, 5000, 0, 0, 0, 0, true };
	send_seg(c, f, &cv, true, TH_SYN, NULL, 0);
	send_seg(c, f, &cv, false, TH_RST | TH_ACK, NULL, 0);
	classify_finish(c, f);
	ck_assert(!classify_decided(f));
	if (strcmp(classify_name(f), "Unknown") != 0)
		ck_assert_msg(classify_guessed(f), "%s named without a byte but not marked as guessed", classify_name(f));
	classify_flow_free(f);
	classifier_free(c);
}
END_TEST

/* A dialog found by content is not a guess; the port-only risk for SMTP
 * on 587 is left out with why, other risks are shown. */
START_TEST(test_risks_judged_on_mail_ports)
{
	struct classifier *c = mk();
	struct classify_flow *f = classify_flow_new(c);
	struct conv cv = { "192.0.2.1", "198.51.100.2", 40006, 587, 0, 0, 0, 0, 0, 0, true };
	handshake(c, f, &cv);
	static const char *const auth[] = {
		"S220 relay.example.test ESMTP\r\n", "CEHLO c\r\n", "S250-relay\r\n250 AUTH PLAIN LOGIN\r\n",
		"CAUTH LOGIN\r\n", "S334 VXNlcm5hbWU6\r\n", "CYm9iYnkudXNlckBleGFtcGxlLnRlc3Q=\r\n",
		"S334 UGFzc3dvcmQ6\r\n", "CYXZlcnlsb25ncGFzc3dvcmQxMjM=\r\n", "S235 ok\r\n", NULL
	};
	for (size_t i = 0; auth[i] && cv.still_wants; i++)
		say(c, f, &cv, auth[i][0] == 'C', auth[i] + 1);
	classify_finish(c, f);
	ck_assert_str_eq(classify_name(f), "SMTP");
	ck_assert(!classify_guessed(f));
	struct classify_risk r[64];
	uint32_t n = classify_risks_judged(f, true, r, 64);
	bool port_risk = false, cleartext = false;
	for (uint32_t i = 0; i < n; i++) {
		if (!strcmp(r[i].name, "Known Protocol on Non Standard Port")) {
			port_risk = true;
			ck_assert_ptr_nonnull(r[i].ignored_why);
			ck_assert_ptr_nonnull(strstr(r[i].ignored_why, "587"));
		}
		if (!strcmp(r[i].name, "Clear-Text Credentials")) {
			cleartext = true;
			ck_assert_ptr_null(r[i].ignored_why);      /* true on any port */
		}
	}
	ck_assert(port_risk && cleartext);
	/* off the mail ports nothing is left out */
	n = classify_risks_judged(f, false, r, 64);
	for (uint32_t i = 0; i < n; i++)
		ck_assert_ptr_null(r[i].ignored_why);
	classify_flow_free(f);
	classifier_free(c);
}
END_TEST

static Suite *classify_suite(void)
{
	Suite *s = suite_create("classify");
	TCase *t = tcase_create("nDPI");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, test_smtp_any_port);
	tcase_add_test(t, test_risks_and_stop);
	tcase_add_test(t, test_other_protocols);
	tcase_add_test(t, test_starttls_second_flow);
	tcase_add_test(t, test_smtps_implicit);
	tcase_add_test(t, test_refused_syn_guessed);
	tcase_add_test(t, test_risks_judged_on_mail_ports);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return tu_run(classify_suite());
}
