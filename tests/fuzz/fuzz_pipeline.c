/*
 * fuzz_pipeline.c - libFuzzer target for the whole analysis: a capture file
 * (pcap or pcapng bytes) read through the real source and fed to the
 * pipeline, so the glue, the SMTP and TLS dissectors, the diagnosis, the
 * memory accountant and the reporters all see hostile input together.
 *
 * Kept light so it runs thousands of inputs a second: one nDPI classifier
 * for the whole run (its setup is what made this target crawl), output to
 * memory, small caps (64 flows, 4 MiB memory cap, small reassembly
 * buffers, so eviction and every cap path run). And it checks what it
 * wrote: in JSON mode every output line must parse as JSON
 * (fuzz_check.h), and no output (JSON, text, transcript, ladder, HTML) may
 * contain the seeds' planted AUTH password where a client sent it as a
 * credential (an input that holds it elsewhere, in the server's lines or
 * inside a line, is not checked for it: see secret_not_credential).
 *
 * The input's size picks the modes: bit 0 transcript (inside the JSON),
 * bit 1 extraction to a scratch directory (emptied after each input),
 * bit 2 the HTML page, bit 3 the text report with the ladder instead of
 * JSON (not validated as JSON; checked for the secret).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "classify.h"
#include "engine.h"
#include "fuzz_check.h"
#include "fuzz_dir.h"
#include "pipeline.h"
#include "source.h"

static struct classifier *cls;
static struct classifier *stage_cls;    /* the stage thread's, when there is one */
static char xdir[64];

/* The read buffer of the capture source: the input is in memory already
 * (a memfd), and the analyzer's 1 MiB default cost a fresh 1 MiB of
 * sanitizer-tracked memory per input. */
#define FUZZ_READ_BUF (16u << 10)

static bool is_mail_port(uint16_t port)
{
	return port == 25 || port == 465 || port == 587 || port == 2525 || port == 10025;
}

/* Whether a record's TCP payload holds the planted secret anywhere but
 * where a client sends a credential: at the start of a line of a packet
 * to a mail port (or after "AUTH PLAIN "), followed by CRLF. From a mail
 * port it is the server's text (an echo, or a mutation that copied a
 * client packet into the server's stream), which the reports show as the
 * server sent it, and so it is when a SYN from a mail port (or a SYN-ACK
 * to one) turns the roles around; inside a line (a mutation that copied a whole packet
 * into a payload, or a packet that continues a line begun by the stream's
 * previous packet after binary bytes) it is not a credential either. Such
 * inputs are not checked for the secret. */
#define FUZZ_STREAMS 8   /* client streams whose last byte is remembered */

/* The last payload byte sent to a mail port by each client stream of an
 * input: a packet that continues a line (its stream's last byte was not a
 * newline) does not start one, so a secret at its front is inside a line. */
struct stream_ends {
	struct { uint16_t sport, dport; uint8_t last; } s[FUZZ_STREAMS];
	unsigned n;
};

static bool continues_line(struct stream_ends *se, uint16_t sport, uint16_t dport,
			   const uint8_t *b, size_t len)
{
	unsigned i = 0;
	while (i < se->n && (se->s[i].sport != sport || se->s[i].dport != dport))
		i++;
	bool cont = i < se->n && se->s[i].last != '\n';
	if (i == se->n && se->n < FUZZ_STREAMS) {
		se->s[i].sport = sport;
		se->s[i].dport = dport;
		se->n++;
	}
	if (i < se->n && len)
		se->s[i].last = b[len - 1];
	return cont;
}

static bool carries_reply_line(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i + 4 <= n; i++) {
		if (i > 0 && b[i - 1] != '\n')
			continue;
		if (b[i] >= '1' && b[i] <= '5' && b[i + 1] >= '0' && b[i + 1] <= '9' && b[i + 2] >= '0' &&
		    b[i + 2] <= '9' && (b[i + 3] == ' ' || b[i + 3] == '-'))
			return true;
	}
	return false;
}

static bool secret_not_credential(const struct raw_packet *r, struct stream_ends *se)
{
	static const char *const forms[] = { FUZZ_SECRET, FUZZ_SECRET_B64, FUZZ_SECRET_PLAIN };
	struct pkt p;
	if (decode_packet(r, &p) != DEC_TCP)
		return false;
	bool from_server = is_mail_port(p.sport) && !is_mail_port(p.dport);
	bool to_server = is_mail_port(p.dport) && !is_mail_port(p.sport);
	/* a SYN from a mail port (or a SYN-ACK to one) makes the mail port's
	 * side the client: the secret then goes the server's way */
	if ((p.flags & TH_SYN) && ((!(p.flags & TH_ACK) && from_server) || ((p.flags & TH_ACK) && to_server)))
		return true;
	if (!p.payload_len)
		return false;
	const uint8_t *b = p.payload, *end = p.payload + p.payload_len;
	bool cont = to_server && continues_line(se, p.sport, p.dport, b, p.payload_len);
	/* A packet that carries a reply line ("220 ..." at a line start) may
	 * be read as the server's, to a mail port or between two other ports
	 * (SMTP is found on any port): the analyzer tells the roles from who
	 * replies, not from the ports, and shows the server's text (a banner,
	 * a 2xx) as sent. A secret in it is not checked. */
	bool replies = !from_server && carries_reply_line(b, p.payload_len);
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		size_t fl = strlen(forms[i]);
		for (const uint8_t *q = b; (q = memmem(q, (size_t)(end - q), forms[i], fl)) != NULL; q += fl) {
			bool line_start = (q == b && !cont) || (q > b && q[-1] == '\n');
			bool after_plain = q - b >= 11 && !memcmp(q - 11, "AUTH PLAIN ", 11);
			bool crlf = end - q >= (ptrdiff_t)fl + 2 && !memcmp(q + fl, "\r\n", 2);
			if (from_server || replies || !crlf || !(line_start || after_plain))
				return true;
		}
	}
	return false;
}

static void run(struct source *src, size_t size, bool *checked_secret, const uint8_t *data)
{
	char err[512];
	char *out = NULL, *html = NULL;
	size_t out_len = 0, html_len = 0;
	FILE *fo = open_memstream(&out, &out_len);
	FILE *fh = (size & 4) ? open_memstream(&html, &html_len) : NULL;
	if (!fo)
		abort();
	struct pipeline_config cfg;
	pipeline_config_default(&cfg);
	cfg.classifier = cls;
	cfg.stage_classifier = stage_cls;
	cfg.report.out = fo;
	cfg.report.color = false;
	cfg.report.json = !(size & 8);
	cfg.report.transcript = size & 1;
	cfg.report.ladder = (size & 8) != 0;
	cfg.report.html = fh;
	cfg.extract_dir = (size & 2) ? xdir : NULL;
	cfg.engine.max_flows = 64;
	cfg.engine.memory_cap = MEMCAP_MIN;
	cfg.engine.ooo_global = 256 << 10;
	cfg.engine.ooo_per_dir = 64 << 10;
	struct pipeline *p = pipeline_new(&cfg, err, sizeof(err));
	bool odd_secret = false;
	struct stream_ends se = { .n = 0 };
	if (p) {
		pipeline_set_input(p, source_name(src));
		struct raw_packet r;
		int rc;
		while ((rc = source_next(src, &r, err, sizeof(err))) == 1) {
			if (!odd_secret && secret_not_credential(&r, &se))
				odd_secret = true;
			pipeline_feed(p, &r);
		}
		if (rc < 0)
			pipeline_input_error(p, err);
		pipeline_finish(p);
		pipeline_free(p);
	}
	fclose(fo);
	if (fh)
		fclose(fh);
	if (cfg.report.json)
		fuzz_check_json_lines(out, out_len);
	/* SLEUTH_FUZZ_NO_SECRET=1 turns the secret check off (to measure a
	 * branch that does not have a redaction fix yet; docs/fuzzing.md) */
	*checked_secret = !getenv("SLEUTH_FUZZ_NO_SECRET") && !odd_secret && fuzz_secret_only_as_auth(data, size);
	if (*checked_secret) {
		fuzz_check_no_secret("report", out, out_len);
		if (html)
			fuzz_check_no_secret("HTML", html, html_len);
	}
	free(out);
	free(html);
	if (cfg.extract_dir)
		fuzz_clean_dir(xdir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!cls) {
		char err[256];
		cls = classifier_new(err, sizeof(err));
		stage_cls = classifier_new(err, sizeof(err));
		/* tmpfs when there is one: creating files on a journalled disk
		 * costs more than the analysis */
		if (!cls || !stage_cls || !fuzz_scratch_dir(xdir, sizeof(xdir), "pipeline"))
			abort();
	}
	int fd = memfd_create("fuzz", 0);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	char path[64], err[512];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct source *src = source_open_file_buf(path, FUZZ_READ_BUF, err, sizeof(err));
	if (src) {
		bool checked;
		run(src, size, &checked, data);
		source_close(src);
	}
	close(fd);
	return 0;
}
