/*
 * check_report_html.c - the HTML page's writer and the ladder: JSON strings
 * safe inside a <script> element, a page built from a session full of
 * markup keeps exactly its own script elements and no markup character in
 * its data, the page's own style sheet and script cannot end their elements,
 * AUTH secrets stay out, and the ladder marks the decisive reply and the close.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diagnose.h"
#include "report.h"
#include "report_int.h"
#include "testutil.h"
#include "tu_dialog.h"

static char *escape_html(const char *s, size_t n)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);
	json_write_string_html(f, s, n);
	fclose(f);
	return buf;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strcasestr(p, needle)) != NULL; p++)
		n++;
	return n;
}

START_TEST(test_escape_known)
{
	const char in[] = "a<b>c&d\xe2\x80\xa8" "e\xe2\x80\xa9" "f</script>\"\\";
	char *o = escape_html(in, sizeof(in) - 1);
	ck_assert_str_eq(o, "\"a\\u003cb\\u003ec\\u0026d\\u2028e\\u2029f\\u003c/script\\u003e\\\"\\\\\"");
	free(o);
	/* the plain JSON writer leaves them alone (its output is not for HTML) */
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);
	json_write_string(f, "<&>", 3);
	fclose(f);
	ck_assert_str_eq(buf, "\"<&>\"");
	free(buf);
}
END_TEST

START_TEST(test_escape_random_bytes)
{
	srand(4242);
	for (int round = 0; round < 5000; round++) {
		char in[120];
		size_t n = (size_t)(rand() % (int)sizeof(in));
		for (size_t i = 0; i < n; i++) {
			static const char pick[] = "<>&/\"\\ \xe2\x80\xa8\xa9sS";
			in[i] = rand() % 3 ? pick[rand() % (int)(sizeof(pick) - 1)] : (char)(rand() & 0xff);
		}
		char *o = escape_html(in, n);
		ck_assert_ptr_null(strpbrk(o, "<>&"));
		ck_assert_ptr_null(strstr(o, "\xe2\x80\xa8"));
		ck_assert_ptr_null(strstr(o, "\xe2\x80\xa9"));
		ck_assert_ptr_null(strchr(o, '\n'));
		ck_assert_ptr_null(strchr(o, '\t'));
		ck_assert_int_eq(o[0], '"');
		ck_assert_int_eq(o[strlen(o) - 1], '"');
		free(o);
	}
}
END_TEST

START_TEST(test_page_assets)
{
	/* The inline style sheet and script must not end their own element early. */
	ck_assert_uint_eq(count(report_html_css, "</style"), 0);
	ck_assert_uint_eq(count(report_html_js, "</script"), 0);
	ck_assert_uint_eq(count(report_html_js, "<!--"), 0);
	ck_assert_uint_eq(count(report_html_css, "<!--"), 0);
	/* untrusted text goes in as text */
	ck_assert_uint_eq(count(report_html_js, "innerHTML"), 0);
	ck_assert_uint_eq(count(report_html_js, "outerHTML"), 0);
	ck_assert_uint_eq(count(report_html_js, "insertAdjacentHTML"), 0);
	ck_assert_uint_eq(count(report_html_js, "document.write"), 0);
	ck_assert_uint_eq(count(report_html_js, "eval("), 0);
	ck_assert_uint_gt(count(report_html_js, "createTextNode"), 0);
	/* the same for the --pair path panel's part, and the scope's end */
	const char *more[] = { report_html_path_js, report_html_js_end, report_html_path_css };
	for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
		ck_assert_uint_eq(count(more[i], "</s"), 0);
		ck_assert_uint_eq(count(more[i], "<!--"), 0);
		ck_assert_uint_eq(count(more[i], "innerHTML"), 0);
		ck_assert_uint_eq(count(more[i], "outerHTML"), 0);
		ck_assert_uint_eq(count(more[i], "insertAdjacentHTML"), 0);
		ck_assert_uint_eq(count(more[i], "document.write"), 0);
		ck_assert_uint_eq(count(more[i], "eval("), 0);
	}
}
END_TEST

#define HOSTILE "<script>alert(1)</script>"
#define HOSTILE2 "</script><img src=x onerror=alert(2)>"

static void hostile_session(struct dl *t)
{
	dl_init(t);
	dl_handshake(t);
	dl_greet(t, 220, "", "mx.example.net " HOSTILE " ESMTP");
	dl_cmd(t, "EHLO " HOSTILE);
	snprintf(t->f.helo_arg, sizeof(t->f.helo_arg), "%s", HOSTILE);
	dl_reply(t, 250, "", "mx.example.net " HOSTILE2);
	dl_cmd(t, "AUTH PLAIN dXNlcgB1c2VyAHNlY3JldA==");
	dl_reply(t, 235, "2.7.0", "Authentication successful");
	dl_cmd(t, "MAIL FROM:<" HOSTILE2 "@example.org>");
	dl_reply(t, 250, "2.1.0", "Ok " HOSTILE2);
	dl_cmd(t, "RCPT TO:<b@example.net>");
	dl_reply(t, 550, "5.7.1", "Relay access denied " HOSTILE " \xe2\x80\xa8");
	dl_cmd(t, "QUIT");
	dl_reply(t, 221, "2.0.0", "Bye");
	dl_fin(t, DIR_C2S);
	dl_fin(t, DIR_S2C);
	dl_run(t);
}

static char *render(struct report_opts o, struct dl *t, struct verdict *v, size_t *len, char **page, size_t *plen)
{
	char *buf = NULL;
	FILE *out = open_memstream(&buf, len), *html = NULL;
	static const char *const inputs[] = { "a " HOSTILE ".pcap" };
	o.out = out;
	if (page) {
		html = open_memstream(page, plen);
		o.html = html;
		o.inputs = inputs;
		o.n_inputs = 1;
	}
	struct reporter *r = reporter_new(&o);
	struct diag_config cfg;
	diag_config_default(&cfg);
	diagnose(&t->view, &cfg, v);
	reporter_session(r, &t->view, v);
	struct summary sum;
	memset(&sum, 0, sizeof(sum));
	sum.files = 1;
	sum.flows = sum.smtp_sessions = 1;
	snprintf(sum.error, sizeof(sum.error), "%s", HOSTILE2);
	reporter_summary(r, &sum);
	reporter_free(r);
	fclose(out);
	if (html)
		fclose(html);
	return buf;
}

START_TEST(test_page_hostile)
{
	struct dl t;
	struct verdict v;
	hostile_session(&t);
	size_t len, plen;
	char *page = NULL;
	struct report_opts o = { .quiet = true };
	char *text = render(o, &t, &v, &len, &page, &plen);
	ck_assert_uint_eq(strlen(page), plen);
	ck_assert_uint_eq(count(page, "<script"), 4);
	ck_assert_uint_eq(count(page, "</script"), 4);
	ck_assert_uint_eq(count(page, "<img"), 0);
	ck_assert_ptr_null(strstr(page, "\xe2\x80\xa8"));
	ck_assert_ptr_null(strstr(page, "dXNlcgB1c2VyAHNlY3JldA"));
	/* every data block: no markup character between its tags */
	const char *blocks[] = { "id=\"sl-meta\">", "id=\"sl-sessions\">", "id=\"sl-summary\">" };
	for (size_t i = 0; i < 3; i++) {
		const char *b = strstr(page, blocks[i]);
		ck_assert_ptr_nonnull(b);
		b += strlen(blocks[i]);
		const char *e = strstr(b, "</script>");
		ck_assert_ptr_nonnull(e);
		for (const char *p = b; p < e; p++)
			ck_assert_msg(*p != '<' && *p != '>' && *p != '&', "markup character in block %zu", i);
	}
	/* one session line: ROW, a tab, DETAIL */
	const char *line = strstr(page, "id=\"sl-sessions\">\n") + strlen("id=\"sl-sessions\">\n");
	ck_assert_int_eq(line[0], '[');
	const char *tab = strchr(line, '\t');
	ck_assert_ptr_nonnull(tab);
	ck_assert(tab < strchr(line, '\n'));
	ck_assert_int_eq(tab[1], '{');
	ck_assert_ptr_nonnull(strstr(page, "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e"));
	/* -q keeps stdout to the summary, the page still has the session */
	ck_assert_ptr_null(strstr(text, "#1 "));
	free(text);
	free(page);
	dl_free(&t);
}
END_TEST

START_TEST(test_ladder_text)
{
	struct dl t;
	struct verdict v;
	hostile_session(&t);
	size_t len;
	struct report_opts o = { .ladder = true };
	char *out = render(o, &t, &v, &len, NULL, NULL);
	ck_assert_ptr_nonnull(strstr(out, "=== session 1"));
	ck_assert_ptr_null(strstr(out, "dXNlcgB1c2VyAHNlY3JldA"));
	ck_assert_ptr_nonnull(strstr(out, "AUTH PLAIN ********"));
	/* the 550 is decisive, the client's FIN is the close; each marked once */
	ck_assert_uint_eq(count(out, "<< decisive"), 1);
	ck_assert_uint_eq(count(out, "<< close"), 1);
	const char *d = strstr(out, "<< decisive");
	const char *bol = d;
	while (bol > out && bol[-1] != '\n')
		bol--;
	ck_assert_ptr_nonnull(memmem(bol, (size_t)(d - bol), "550 5.7.1", 9));
	const char *c = strstr(out, "<< close");
	bol = c;
	while (bol > out && bol[-1] != '\n')
		bol--;
	ck_assert_ptr_nonnull(memmem(bol, (size_t)(c - bol), "-- FIN --", 9));
	/* every arrow line fits the same frame: the lanes line up */
	int arrows = 0;
	for (const char *p = out; (p = strstr(p, "\n#")) != NULL; p++) {
		const char *bar1 = strchr(p + 1, '|'), *eol = strchr(p + 1, '\n');
		if (!bar1 || bar1 > eol)
			continue;
		const char *bar2 = strchr(bar1 + 1, '|');
		ck_assert_ptr_nonnull(bar2);
		ck_assert_int_eq((int)(bar2 - bar1), 49);
		arrows++;
	}
	ck_assert_uint_eq((unsigned)arrows, tl_count(&t.tl));
	free(out);
	dl_free(&t);
}
END_TEST

START_TEST(test_marks)
{
	struct dl t;
	struct verdict v;
	hostile_session(&t);
	struct diag_config cfg;
	diag_config_default(&cfg);
	diagnose(&t.view, &cfg, &v);
	struct ladder_marks m;
	report_ladder_marks(&t.view, &v, &m);
	ck_assert_int_ge(m.decisive, 0);
	ck_assert_int_ge(m.close, 0);
	ck_assert_uint_eq(tl_at(&t.tl, (uint32_t)m.decisive)->code, 550);
	ck_assert_uint_eq(tl_at(&t.tl, (uint32_t)m.close)->kind, EV_FIN);
	ck_assert_uint_eq(tl_at(&t.tl, (uint32_t)m.close)->dir, DIR_C2S);
	dl_free(&t);

	/* refused: the RST to the SYN decides, and it is also the close */
	dl_init(&t);
	dl_syn(&t);
	dl_refuse(&t);
	dl_run(&t);
	diagnose(&t.view, &cfg, &v);
	report_ladder_marks(&t.view, &v, &m);
	ck_assert_int_ge(m.decisive, 0);
	ck_assert_uint_eq(tl_at(&t.tl, (uint32_t)m.decisive)->kind, EV_SYN_RST);
	dl_free(&t);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("report_html");
	TCase *tc = tcase_create("escape");
	tcase_add_test(tc, test_escape_known);
	tcase_add_test(tc, test_escape_random_bytes);
	suite_add_tcase(s, tc);
	tc = tcase_create("page");
	tcase_add_test(tc, test_page_assets);
	tcase_add_test(tc, test_page_hostile);
	suite_add_tcase(s, tc);
	tc = tcase_create("ladder");
	tcase_add_test(tc, test_marks);
	tcase_add_test(tc, test_ladder_text);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite());
}
