/*
 * main.c - the smtpsleuth command: dispatches to analyze, live, serve and
 * reproduce. `analyze` lives here; the others have their own modules.
 *
 * Exit status: 0 success, 1 runtime error (unreadable file, capture failure),
 * 2 usage error. A file that breaks off mid-way is reported and the sessions
 * read so far still count; the other files are read as usual (they are one
 * capture, merged by time: merge.c). SIGINT/SIGTERM end the reading; the
 * open sessions and the summary are still written, then the status is
 * 128 + the signal (130, 143), as a shell reports it.
 *
 * Known gap: a signal that lands between the loop's check and the read
 * that then blocks on an idle pipe is seen only when the next bytes come;
 * the second signal (SA_RESETHAND) then ends the process at once.
 */
#include <errno.h>
#include <getopt.h>
#include <pcap/pcap.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "live.h"
#include "filter.h"
#include "merge.h"
#include "source.h"
#include "options.h"
#include "pair.h"
#include "bulk_out.h"
#include "shard_merge.h"
#include "pipeline.h"
#include "server.h"

#ifndef SLEUTH_VERSION
#define SLEUTH_VERSION "dev"
#endif

/* How often (in records) the progress line checks the clock. */
#define PROGRESS_CHECK_RECORDS 4096
#define PROGRESS_INTERVAL_S    0.5

/* SIGINT/SIGTERM: set by the handler, read by the loop. */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

/* The first SIGINT or SIGTERM stops reading; the open sessions are then
 * reported and the summary printed. SA_RESTART is left out on purpose: a
 * read blocked on stdin returns EINTR instead of waiting for more packets.
 * SA_RESETHAND: a second signal kills as usual, should finishing hang. */
static void install_stop_handlers(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: smtpsleuth COMMAND [options]\n"
		"\n"
		"Tells for every SMTP session in a capture why the connection ended.\n"
		"\n"
		"commands:\n"
		"  analyze [options] FILE...     pcap or pcapng files, or - for stdin\n"
		"  live -i IFACE [-f BPF] [options]\n"
		"                                capture live and report sessions as they end\n"
		"  serve [--listen ADDR:PORT] [policy options]\n"
		"                                the bundled SMTP server (127.0.0.1:2525)\n"
		"  reproduce CAUSE -w OUT.pcap   rebuild a case on loopback and capture it\n"
		"  merge [FILE...]               join the --json output of analyze --shard runs\n"
		"\n"
		"\n"
		"  -h, --help                    this text\n"
		"  -V, --version                 the version\n"
		"\n"
		"'smtpsleuth COMMAND --help' describes a command's options; see also smtpsleuth(1).\n");
}


struct progress {
	bool on;
	double start, last;
	bool shown;
};

static void progress_tick(struct progress *pr, const struct pipeline *pl, const struct merge *m)
{
	double now = sl_mono_sec();
	if (now - pr->last < PROGRESS_INTERVAL_S)
		return;
	pr->last = now;
	uint64_t done, total;
	merge_progress(m, &done, &total);
	const struct summary *s = pipeline_summary(pl);
	double el = now - pr->start > 0.001 ? now - pr->start : 0.001;
	if (total)
		fprintf(stderr, "\rsmtpsleuth: %.1f/%.1f MB (%.0f%%), %" PRIu64 " SMTP session%s, %.1f MB/s   ",
			(double)done / 1e6, (double)total / 1e6, 100.0 * (double)done / (double)total,
			s->smtp_sessions, s->smtp_sessions == 1 ? "" : "s", (double)done / 1e6 / el);
	else
		fprintf(stderr, "\rsmtpsleuth: %.1f MB, %" PRIu64 " SMTP session%s, %.1f MB/s   ",
			(double)s->bytes_read / 1e6, s->smtp_sessions, s->smtp_sessions == 1 ? "" : "s",
			(double)s->bytes_read / 1e6 / el);
	pr->shown = true;
}

static void progress_clear(struct progress *pr)
{
	if (pr->shown)
		fprintf(stderr, "\r\033[K");
	pr->shown = false;
}

static void on_input_error(void *ctx, int file, sl_time last_ts, const char *msg)
{
	if (stop_signal)
		return;         /* a read the signal interrupted, not damage */
	fprintf(stderr, "smtpsleuth: %s\n", msg);
	pipeline_input_cut(ctx, file, last_ts, msg);
}

/* What `analyze` reads of its inputs (beyond the pipeline's options). */
struct analyze_opts {
	const char *bpf;            /* -f: records the expression rejects are skipped */
	sl_time since, until;       /* --since/--until; 0 = open */
	uint64_t count;             /* -c: stop after this many records analysed; 0 = all */
	int progress;               /* 1 on, 0 off, -1 auto */
};

/* A BPF syntax error is a usage error: checked once against Ethernet before
 * any file is read (each file compiles it again for its own link type). */
static bool bpf_check(const char *expr, char *err, size_t errlen)
{
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 262144);
	struct bpf_program prog;
	if (!dead) {
		snprintf(err, errlen, "cannot compile filters");
		return false;
	}
	bool ok = pcap_compile(dead, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) == 0;
	if (ok)
		pcap_freecode(&prog);
	else
		snprintf(err, errlen, "-f '%s': %s", expr, pcap_geterr(dead));
	pcap_close(dead);
	return ok;
}

/* Reads every input, merged by time, into the pipeline: the records the
 * filter and the time window let through, up to -c of them. progress: 1 on,
 * 0 off, -1 auto (stderr is a TTY and every input a regular file). Returns
 * false when an input could not be read to its end. */
static bool analyze_inputs(struct pipeline *pl, char *const *paths, size_t n, const struct analyze_opts *ao)
{
	char err[512];
	int progress = ao->progress;
	struct merge *m = merge_open(paths, n, ao->bpf, on_input_error, pl, err, sizeof(err));
	if (!m) {
		fprintf(stderr, "smtpsleuth: %s\n", err);
		pipeline_input_error(pl, err);
		return false;
	}
	/* A link type the decoder does not read is refused before any record
	 * is read: analysing it would report every packet as undecodable. */
	for (uint32_t i = 0; i < merge_files(m); i++) {
		const char *lname = "";
		int lt = merge_file_linktype(m, i, &lname);
		if (lt >= 0 && !decode_link_supported(lt)) {
			snprintf(err, sizeof(err), "%s: link type %d (%s) is not supported; smtpsleuth reads %s",
				 merge_file_name(m, i), lt, lname, DECODE_SUPPORTED_LINKS);
			fprintf(stderr, "smtpsleuth: %s\n", err);
			pipeline_input_error(pl, err);
			merge_close(m);
			pipeline_finish(pl);    /* the summary names the error */
			return false;
		}
	}
	merge_set_stop_flag(m, &stop_signal);
	pipeline_set_files(pl, merge_file_names(m), merge_files(m));
	uint64_t done, total;
	merge_progress(m, &done, &total);
	struct progress pr = { .on = progress > 0 || (progress < 0 && total && isatty(STDERR_FILENO)) };
	pr.start = pr.last = sl_mono_sec();
	struct raw_packet raw;
	uint64_t k = 0, fed = 0;
	while (merge_next(m, &raw) > 0) {
		if (ao->since && raw.ts < ao->since)
			continue;
		/* The merge delivers in time order: past --until, nothing more
		 * is wanted (a record out of order in one file is the exception
		 * mergecap makes too). */
		if (ao->until && raw.ts > ao->until)
			break;
		pipeline_feed(pl, &raw);
		if (ao->count && ++fed >= ao->count)
			break;
		if (pr.on && ++k % PROGRESS_CHECK_RECORDS == 0)
			progress_tick(&pr, pl, m);
	}
	progress_clear(&pr);
	bool ok = merge_failed(m) == 0;
	if (stop_signal)
		pipeline_interrupt(pl, stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
	pipeline_finish(pl);
	merge_close(m);
	return ok;
}

static int analyze_main(int argc, char **argv)
{
	struct option longopts[OPT_MAX_LONGS];
	char shortopts[OPT_MAX_SHORTS];
	struct pipeline_config cfg;
	const char *html_path = NULL;
	char err[512];
	int c;
	struct analyze_opts ao = { .progress = -1 };
	bool pair = false;

	if (!opt_getopt(OPT_ANALYZE, longopts, SL_ARRAY_LEN(longopts), shortopts, sizeof(shortopts)))
		abort();        /* the table outgrew OPT_MAX_*: a build-time mistake */
	pipeline_config_default(&cfg);
	optind = 0;             /* glibc: full reset */
	opterr = 0;
	/* shortopts + 1: no '+', so options may follow the file names. */
	while ((c = getopt_long(argc, argv, shortopts + 1, longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			opt_help(stdout, OPT_ANALYZE);
			return 0;
		case 'V':
			printf("smtpsleuth %s\n", SLEUTH_VERSION);
			return 0;
		case OPT_KEY_PROGRESS:
		case OPT_KEY_NO_PROGRESS:
			ao.progress = c == OPT_KEY_PROGRESS;
			continue;
		case OPT_KEY_SINCE:
		case OPT_KEY_UNTIL:
			if (!time_parse(optarg, c == OPT_KEY_SINCE ? &ao.since : &ao.until))
				return opt_usage_error(OPT_ANALYZE, "--%s: '%s' is not a time (ISO 8601 like 2024-05-01T10:00:00Z, or epoch seconds)",
						       c == OPT_KEY_SINCE ? "since" : "until", optarg);
			continue;
		case 'f':
			if (!bpf_check(optarg, err, sizeof(err)))
				return opt_usage_error(OPT_ANALYZE, "%s", err);
			ao.bpf = optarg;
			continue;
		case 'c': {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || v == 0 || optarg[0] == '-')
				return opt_usage_error(OPT_ANALYZE, "-c: '%s' is not a positive number of packets", optarg);
			ao.count = v;
			continue;
		}
		case ':':
		case '?':
			opt_getopt_error(OPT_ANALYZE, c, argv, err, sizeof(err));
			return opt_usage_error(OPT_ANALYZE, "%s", err);
		}
		if (c == OPT_KEY_HTML) {
			html_path = optarg;
			continue;
		}
		if (c == OPT_KEY_PAIR) {
			pair = true;
			continue;
		}
		if (c == OPT_KEY_LADDER) {
			cfg.report.ladder = true;
			continue;
		}
		if (c == OPT_KEY_SHARD) {
			if (!shard_parse(optarg, &cfg.shard_k, &cfg.shard_n)) {
				fprintf(stderr, "smtpsleuth analyze: --shard: '%s' is not K/N with 1 <= K <= N <= %d\n",
					optarg, SESSIONS_MAX_SHARDS);
				return 2;
			}
			continue;
		}
		int r = pipeline_config_option(&cfg, c, optarg, err, sizeof(err));
		if (r < 0)
			return opt_usage_error(OPT_ANALYZE, "%s", err);
		if (r == 0) {
			char name[64];
			return opt_usage_error(OPT_ANALYZE, "%s is not an analyze option",
					       opt_display(OPT_ANALYZE, c, name, sizeof(name)));
		}
	}
	if (pair && (argc - optind != 2 || cfg.extract_dir))
		return opt_usage_error(OPT_ANALYZE, "--pair takes CLIENT_SIDE SERVER_SIDE (and no --extract)");
	if (!pair && ao.since && ao.until && ao.until < ao.since)
		return opt_usage_error(OPT_ANALYZE, "--until is before --since");
	if (optind >= argc)
		return opt_usage_error(OPT_ANALYZE, "no capture file given (- reads stdin)");

	/* one thread asked for: no pager thread beside it either */
	source_map_pager = pipeline_threads(&cfg) >= 2;
	FILE *html = NULL;
	if (html_path) {
		html = fopen(html_path, "w");
		if (!html) {
			fprintf(stderr, "smtpsleuth: %s: %s\n", html_path, strerror(errno));
			return 1;
		}
		cfg.report.html = html;
		cfg.report.inputs = (const char *const *)argv + optind;
		cfg.report.n_inputs = argc - optind;
	}
	if (pair) {
		/* the page's inputs are each side's files (pair_analyze sets them) */
		int rc = pair_analyze(&cfg, argv[optind], argv[optind + 1]);
		if (html && (ferror(html) | fclose(html))) {
			fprintf(stderr, "smtpsleuth: %s: write failed\n", html_path);
			rc = 1;
		}
		return rc;
	}
	/* a shard's output is read by `smtpsleuth merge`, often through a
	 * pipe: a larger one lets it run ahead of the other shards */
	if (cfg.shard_n && cfg.report.json)
		bulk_pipe_grow(STDOUT_FILENO, BULK_IO_BUFFER);
	struct pipeline *pl = pipeline_new(&cfg, err, sizeof(err));
	if (!pl) {
		fprintf(stderr, "smtpsleuth: %s\n", err);
		if (html)
			fclose(html);
		return 1;
	}
	install_stop_handlers();
	bool ok = analyze_inputs(pl, argv + optind, (size_t)(argc - optind), &ao);
	const struct summary *sum = pipeline_summary(pl);
	if (sum->extract_errors) {
		fprintf(stderr, "smtpsleuth: --extract: %llu file%s refused or not fully written (first: %s)\n",
			(unsigned long long)sum->extract_errors, sum->extract_errors == 1 ? "" : "s",
			sum->extract_error);
		ok = false;
	}
	pipeline_free(pl);
	if (html && (ferror(html) | fclose(html))) {
		fprintf(stderr, "smtpsleuth: %s: write failed\n", html_path);
		ok = false;
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		return 1;
	/* Stopped by a signal: the output is complete for what was read; the
	 * status says how it ended, as a shell reports a killed command. */
	if (stop_signal)
		return 128 + stop_signal;
	return ok ? 0 : 1;
}

/* serve and reproduce parse their own options (the server's policy module);
 * --help and --version are answered here, from the table, for all. */
static bool wants(int argc, char **argv, const char *a, const char *b)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], a) || !strcmp(argv[i], b))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	unsigned oc = opt_cmd(cmd);
	if ((oc == OPT_SERVE || oc == OPT_REPRODUCE) && wants(argc - 1, argv + 1, "-h", "--help")) {
		opt_help(stdout, oc);
		return 0;
	}
	if ((oc == OPT_SERVE || oc == OPT_REPRODUCE) && wants(argc - 1, argv + 1, "-V", "--version")) {
		printf("smtpsleuth %s\n", SLEUTH_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "analyze"))
		return analyze_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "live"))
		return live_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "serve"))
		return serve_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "reproduce"))
		return reproduce_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "merge"))
		return merge_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V") || !strcmp(cmd, "version")) {
		printf("smtpsleuth %s\n", SLEUTH_VERSION);
		return 0;
	}
	return opt_usage_error(0, "unknown command '%s' (analyze, live, serve or reproduce)", cmd);
}
