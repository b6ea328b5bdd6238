/*
 * bench_engine.c - how much the analysis costs over just reading the file.
 *
 *   bench_engine [--full] [--breakdown] [--reps N] [--bar X]
 *                [--only source|decode|engine|full] [--linger SECONDS]
 *                [--mem-limit MB] FILE
 *
 * Measures on one capture, in one run:
 *   bare    a bare libpcap loop: pcap_open_offline + pcap_next_ex, touching
 *           each packet's first byte. The floor every analyzer pays.
 *   engine  capture source + decode + flow table + TCP reassembly
 *           (engine_feed per record, engine_finish), with a sink that touches
 *           every delivered byte, so zero-copy delivery cannot be skipped.
 *   source  with --breakdown: our capture source alone (source_next loop).
 *   decode  with --breakdown: source + decode_packet, no flows.
 *   full    with --full: the whole pipeline (classification, SMTP dissection,
 *           diagnosis, JSON reports written to /dev/null).
 * Each measurement runs in its own child process, so its peak RSS (VmHWM) is
 * its own; each runs --reps times (default 2) and the best time is kept (the
 * first run warms the page cache; the CPU seconds of that best run are shown
 * too, as a check against a busy machine). Prints one table line per measurement and
 * `ratio engine/bare = X.XX (bar B)` (and full/bare) at the end.
 *
 * Each child is killed when its resident memory passes --mem-limit (4 GB by
 * default): a stage whose memory grows with the capture is reported as such
 * rather than pushing a shared machine into the OOM killer.
 *
 * Every stage is measured; the HAVE_* switches are kept so a stage can be
 * left out by hand while one is rebuilt (a missing stage is reported as "not
 * available", never faked).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "packet.h"

#include "engine.h"
#include "pipeline.h"
#include "source.h"

#define HAVE_DECODE 1
#define HAVE_ENGINE 1
#define HAVE_PIPELINE 1

/* Engine settings to experiment with (--linger); < 0 = the default. */
static double opt_linger_s = -1;
/* Resident-memory cap of each measuring child (--mem-limit): the parent
 * watches the child's VmRSS and kills it above the cap, so a stage that grows
 * with the capture is reported as such instead of pushing a shared machine
 * into swap or the OOM killer. RSS, not address space: a stage may reserve
 * large blocks and touch few of their pages, and ASan reserves terabytes. */
static uint64_t opt_mem_limit_mb = 4096;
#define WATCH_INTERVAL_MS 50

enum measure { M_BARE, M_SOURCE, M_DECODE, M_ENGINE, M_FULL, M__COUNT };
static const char *const measure_names[M__COUNT] = { "bare", "source", "decode", "engine", "full" };

/* What a child hands back through its pipe. */
struct result {
	int ok;                 /* 1 measured, 0 not available, -1 failed, -2 over --mem-limit */
	uint64_t records;
	uint64_t bytes;         /* captured bytes of all records */
	uint64_t delivered;     /* stream bytes the sink saw (engine); SMTP sessions (full) */
	uint64_t flows;
	uint64_t open_peak;     /* engine: open flows at most */
	uint64_t untracked;     /* full: flows dropped by a cap or out of memory */
	double seconds;
	double cpu;             /* user + system seconds of the child */
	uint64_t hwm_kb;        /* VmHWM at the end */
	uint64_t ends[8];       /* engine: flows ended, by enum flow_end */
	char msg[512];
};

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Peak resident set of this process, from /proc/self/status. */
static uint64_t vm_hwm_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	uint64_t kb = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmHWM: %" SCNu64 " kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* ---------------------------------------------------------------- bare */

static void run_bare(const char *path, struct result *r)
{
	char err[PCAP_ERRBUF_SIZE];
	double t0 = now_s();
	pcap_t *pc = pcap_open_offline(path, err);
	if (!pc) {
		r->ok = -1;
		snprintf(r->msg, sizeof r->msg, "%s", err);
		return;
	}
	struct pcap_pkthdr *h;
	const u_char *d;
	unsigned acc = 0;
	int rc;
	while ((rc = pcap_next_ex(pc, &h, &d)) == 1) {
		r->records++;
		r->bytes += h->caplen;
		if (h->caplen)
			acc += d[0];
	}
	if (rc == PCAP_ERROR)
		snprintf(r->msg, sizeof r->msg, "%s", pcap_geterr(pc));
	pcap_close(pc);
	r->seconds = now_s() - t0;
	__asm__ volatile("" : : "r"(acc));
	r->ok = 1;
}

/* ---------------------------------------------------------------- breakdown */

#if HAVE_DECODE
/* Our source alone, or source + decode: where the engine's time starts. */
static void run_source(const char *path, struct result *r, bool decode)
{
	char err[256];
	double t0 = now_s();
	struct source *src = source_open_file(path, err, sizeof err);
	if (!src) {
		r->ok = -1;
		snprintf(r->msg, sizeof r->msg, "%s", err);
		return;
	}
	struct raw_packet raw;
	struct pkt p;
	unsigned acc = 0;
	uint64_t tcp = 0;
	int rc;
	while ((rc = source_next(src, &raw, err, sizeof err)) == 1) {
		r->records++;
		r->bytes += raw.caplen;
		if (raw.caplen)
			acc += raw.data[0];
		if (decode && decode_packet(&raw, &p) == DEC_TCP)
			tcp += p.payload_len;
	}
	if (rc < 0)
		snprintf(r->msg, sizeof r->msg, "%s", err);
	source_close(src);
	r->seconds = now_s() - t0;
	__asm__ volatile("" : : "r"(acc));
	r->delivered = tcp;
	r->ok = 1;
}
#else
static void run_source(const char *path, struct result *r, bool decode)
{
	r->ok = 0;
	snprintf(r->msg, sizeof r->msg, "source/decode not in this tree");
}
#endif

/* ---------------------------------------------------------------- engine */

#if HAVE_ENGINE
struct touch {
	uint64_t delivered, gaps, events, sum;
	uint64_t flows;
	uint64_t ends[END__COUNT];
};

static char flow_token;

static void *sk_open(void *ctx, const struct flow_info *fi, const struct pkt *first)
{
	struct touch *t = ctx;
	t->flows++;
	return &flow_token;
}

static void sk_data(void *ctx, void *user, enum sl_dir dir, const uint8_t *b, size_t n,
		    const struct seg_meta *m)
{
	/* Reads every byte, eight at a time: the cost of a consumer that looks
	 * at the stream (a dissector scans it with memchr at least as fast),
	 * without charging the engine for a byte-by-byte loop of our own. */
	struct touch *t = ctx;
	uint64_t s = 0, w;
	size_t i = 0;
	for (; n - i >= 8; i += 8) {
		memcpy(&w, b + i, 8);
		s += w;
	}
	for (; i < n; i++)
		s += b[i];
	t->sum += s;
	t->delivered += n;
}

static void sk_gap(void *ctx, void *user, enum sl_dir dir, uint64_t len, const struct seg_meta *m)
{
	((struct touch *)ctx)->gaps++;
}

static void sk_event(void *ctx, void *user, enum sl_dir dir, enum tcp_event ev, uint64_t arg,
		     const struct seg_meta *m)
{
	((struct touch *)ctx)->events++;
}

static void sk_close(void *ctx, void *user, const struct flow_info *fi, enum flow_end why)
{
	((struct touch *)ctx)->ends[why]++;
}

static void run_engine(const char *path, struct result *r)
{
	char err[256];
	struct touch t = { 0 };
	struct engine_sink sink = {
		.ctx = &t, .flow_open = sk_open, .data = sk_data, .gap = sk_gap,
		.tcp_event = sk_event, .flow_close = sk_close,
	};
	struct engine_config cfg;
	double t0 = now_s();
	engine_config_default(&cfg);
	if (opt_linger_s >= 0)
		cfg.closed_linger = (sl_time)(opt_linger_s * 1e9);
	struct source *src = source_open_file(path, err, sizeof err);
	struct engine *e = src ? engine_new(&cfg, &sink) : NULL;
	if (!e) {
		r->ok = -1;
		snprintf(r->msg, sizeof r->msg, "%s", src ? "engine_new failed" : err);
		source_close(src);
		return;
	}
	engine_set_file(e, path);
	struct raw_packet raw;
	int rc;
	while ((rc = source_next(src, &raw, err, sizeof err)) == 1) {
		r->records++;
		r->bytes += raw.caplen;
		engine_feed(e, &raw);
	}
	if (rc < 0)
		snprintf(r->msg, sizeof r->msg, "%s", err);
	engine_finish(e);
	r->open_peak = engine_stats(e)->open_flows_peak;
	engine_free(e);
	source_close(src);
	r->seconds = now_s() - t0;
	__asm__ volatile("" : : "r"(t.sum));
	r->delivered = t.delivered;
	r->flows = t.flows;
	for (int i = 0; i < END__COUNT && i < 8; i++)
		r->ends[i] = t.ends[i];
	r->ok = 1;
}
#else
static void run_engine(const char *path, struct result *r)
{
	r->ok = 0;
	snprintf(r->msg, sizeof r->msg, "engine not in this tree (analyzer/engine.c)");
}
#endif

/* ---------------------------------------------------------------- full */

#if HAVE_PIPELINE
static void run_full(const char *path, struct result *r)
{
	char err[256];
	struct pipeline_config cfg;
	double t0 = now_s();
	pipeline_config_default(&cfg);
	if (opt_linger_s >= 0)
		cfg.engine.closed_linger = (sl_time)(opt_linger_s * 1e9);
	cfg.report.out = fopen("/dev/null", "w");
	cfg.report.json = true;
	cfg.report.color = false;
	cfg.progress = false;
	struct source *src = source_open_file(path, err, sizeof err);
	struct pipeline *p = src && cfg.report.out ? pipeline_new(&cfg, err, sizeof err) : NULL;
	if (!p) {
		r->ok = -1;
		snprintf(r->msg, sizeof r->msg, "%s", err);
		source_close(src);
		return;
	}
	pipeline_set_input(p, path);
	struct raw_packet raw;
	int rc;
	while ((rc = source_next(src, &raw, err, sizeof err)) == 1) {
		r->records++;
		r->bytes += raw.caplen;
		pipeline_feed(p, &raw);
	}
	if (rc < 0) {
		pipeline_input_error(p, err);
		snprintf(r->msg, sizeof r->msg, "%s", err);
	}
	pipeline_finish(p);
	const struct summary *sum = pipeline_summary(p);
	r->flows = sum ? sum->flows : 0;
	r->delivered = sum ? sum->smtp_sessions : 0;
	r->untracked = sum ? sum->flows_untracked + sum->flows_evicted : 0;
	pipeline_free(p);
	source_close(src);
	fclose(cfg.report.out);
	r->seconds = now_s() - t0;
	r->ok = 1;
}
#else
static void run_full(const char *path, struct result *r)
{
	r->ok = 0;
	snprintf(r->msg, sizeof r->msg, "pipeline not in this tree (analyzer/pipeline.c)");
}
#endif

/* ---------------------------------------------------------------- driver */

/* VmRSS of another process, 0 when it cannot be read. */
static uint64_t child_rss_kb(pid_t pid)
{
	char path[64], line[256];
	uint64_t kb = 0;
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %" SCNu64 " kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* Runs one measurement in a child process and collects its result. */
static struct result measure_once(enum measure m, const char *path)
{
	struct result r = { 0 };
	int fds[2];
	if (pipe(fds) != 0) {
		r.ok = -1;
		snprintf(r.msg, sizeof r.msg, "pipe: %s", strerror(errno));
		return r;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		r.ok = -1;
		snprintf(r.msg, sizeof r.msg, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return r;
	}
	if (pid == 0) {
		close(fds[0]);
		if (m == M_BARE)
			run_bare(path, &r);
		else if (m == M_SOURCE || m == M_DECODE)
			run_source(path, &r, m == M_DECODE);
		else if (m == M_ENGINE)
			run_engine(path, &r);
		else
			run_full(path, &r);
		r.hwm_kb = vm_hwm_kb();
		struct rusage ru;
		if (getrusage(RUSAGE_SELF, &ru) == 0)
			r.cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
				(double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
		ssize_t w = write(fds[1], &r, sizeof r);
		_exit(w == (ssize_t)sizeof r ? 0 : 1);
	}
	close(fds[1]);
	/* Wait for the result, checking the child's RSS every interval. */
	uint64_t killed_kb = 0;
	size_t got = 0;
	for (;;) {
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		int pr = poll(&pfd, 1, WATCH_INTERVAL_MS);
		if (pr > 0) {
			ssize_t k = read(fds[0], (char *)&r + got, sizeof r - got);
			if (k > 0) {
				got += (size_t)k;
				if (got == sizeof r)
					break;
				continue;
			}
			if (k == 0 || errno != EINTR)
				break;      /* the child exited without a full result */
		} else if (pr < 0 && errno != EINTR) {
			break;
		}
		uint64_t rss = child_rss_kb(pid);
		if (opt_mem_limit_mb && rss > opt_mem_limit_mb * 1024) {
			killed_kb = rss;
			kill(pid, SIGKILL);
			break;
		}
	}
	close(fds[0]);
	int st = 0;
	waitpid(pid, &st, 0);
	if (got != sizeof r) {
		memset(&r, 0, sizeof r);
		r.ok = -1;
		if (killed_kb) {
			r.ok = -2;
			r.hwm_kb = killed_kb;
			snprintf(r.msg, sizeof r.msg, "killed: resident memory reached %.0f MB (--mem-limit %" PRIu64 ")",
				 (double)killed_kb / 1024.0, opt_mem_limit_mb);
		} else {
			snprintf(r.msg, sizeof r.msg, "child died (status %d)", st);
		}
	}
	return r;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_engine [--full] [--breakdown] [--reps N] [--bar X]\n"
		   "                    [--only source|decode|engine|full] [--linger SECONDS] FILE\n"
		   "                    [--mem-limit MB]\n"
		   "  --linger     the engine's closed-flow linger time (an experiment; default: engine's)\n"
		   "  --mem-limit  resident-memory cap per measuring process (default 4096 MB, 0 = none)\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "full", no_argument, NULL, 'f' },
		{ "breakdown", no_argument, NULL, 'k' },
		{ "linger", required_argument, NULL, 'L' },
		{ "mem-limit", required_argument, NULL, 'M' },
		{ "reps", required_argument, NULL, 'r' },
		{ "bar", required_argument, NULL, 'b' },
		{ "only", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool want[M__COUNT] = { true, false, false, true, false };
	int reps = 2;
	double bar = 1.5;
	int opt;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f': want[M_FULL] = true; break;
		case 'k': want[M_SOURCE] = want[M_DECODE] = true; break;
		case 'L': opt_linger_s = atof(optarg); break;
		case 'M': opt_mem_limit_mb = strtoull(optarg, NULL, 10); break;
		case 'r': reps = atoi(optarg); break;
		case 'b': bar = atof(optarg); break;
		case 'o': {
			int k = -1;
			for (int i = 0; i < M__COUNT; i++)
				if (!strcmp(optarg, measure_names[i]))
					k = i;
			if (k < 0) {
				usage(stderr);
				return 2;
			}
			/* The bare loop always runs: every ratio is against it. */
			for (int i = 1; i < M__COUNT; i++)
				want[i] = i == k;
			break;
		}
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1 || reps < 1 || reps > 100 || bar <= 0) {
		usage(stderr);
		return 2;
	}
	const char *path = argv[optind];
	if (access(path, R_OK) != 0) {
		fprintf(stderr, "bench_engine: %s: %s\n", path, strerror(errno));
		return 1;
	}

	struct result best[M__COUNT] = { 0 };
	printf("bench_engine: %s (best of %d, each in a fresh process)\n", path, reps);
	printf("%-8s %12s %14s %9s %9s %11s %10s %8s %8s\n", "measure", "records", "bytes",
	       "seconds", "MB/s", "packets/s", "peak RSS", "ratio", "cpu s");
	int status = 0;
	for (int m = 0; m < M__COUNT; m++) {
		if (!want[m])
			continue;
		struct result b = { 0 };
		for (int i = 0; i < reps; i++) {
			struct result r = measure_once((enum measure)m, path);
			if (r.ok != 1) {
				b = r;
				break;
			}
			uint64_t hwm = SL_MAX(b.hwm_kb, r.hwm_kb);
			if (b.ok != 1 || r.seconds < b.seconds)
				b = r;
			b.hwm_kb = hwm;
		}
		best[m] = b;
		if (b.ok != 1) {
			printf("%-8s %s: %s\n", measure_names[m], b.ok == 0 ? "not available" : "FAILED", b.msg);
			if (b.ok == -1)
				status = 1;     /* over the memory cap is a result, not a tool failure */
			continue;
		}
		double ratio = best[M_BARE].ok == 1 && best[M_BARE].seconds > 0
			? b.seconds / best[M_BARE].seconds : 0;
		printf("%-8s %12" PRIu64 " %14" PRIu64 " %9.3f %9.1f %11.0f %7.1f MB %8.2f %8.3f\n",
		       measure_names[m], b.records, b.bytes, b.seconds,
		       (double)b.bytes / 1e6 / b.seconds, (double)b.records / b.seconds,
		       (double)b.hwm_kb / 1024.0, ratio, b.cpu);
		if (b.msg[0])
			printf("         note: %s\n", b.msg);
		if (m == M_DECODE)
			printf("         %" PRIu64 " TCP payload bytes decoded\n", b.delivered);
		if (m == M_ENGINE)
			printf("         %" PRIu64 " TCP flows (at most %" PRIu64 " open), %" PRIu64
			       " stream bytes delivered\n", b.flows, b.open_peak, b.delivered);
#if HAVE_ENGINE
		if (m == M_ENGINE) {
			printf("         flows ended:");
			for (int i = 0; i < END__COUNT && i < 8; i++)
				printf(" %s %" PRIu64, flow_end_name((enum flow_end)i), b.ends[i]);
			printf("\n");
		}
#endif
		if (m == M_FULL)
			printf("         %" PRIu64 " TCP flows, %" PRIu64 " SMTP sessions, %" PRIu64
			       " flows untracked or evicted (a cap, or out of memory)\n", b.flows, b.delivered, b.untracked);
		if (m != M_BARE && b.records != best[M_BARE].records) {
			printf("         records differ from the bare loop (%" PRIu64 ")\n", best[M_BARE].records);
			status = 1;
		}
	}
	for (int m = M_SOURCE; m < M__COUNT; m++) {
		if (!want[m] || best[m].ok != 1 || best[M_BARE].ok != 1)
			continue;
		/* The CPU-time ratio is printed too: on a machine shared with
		 * other work, wall time swings and CPU time much less. */
		double q = best[m].seconds / best[M_BARE].seconds;
		double qc = best[M_BARE].cpu > 0 ? best[m].cpu / best[M_BARE].cpu : 0;
		if (m == M_ENGINE || m == M_FULL)
			printf("ratio %s/bare = %.2f (bar %.1f)\n", measure_names[m], q, bar);
		else
			printf("ratio %s/bare = %.2f\n", measure_names[m], q);
		printf("cpu-time ratio %s/bare = %.2f\n", measure_names[m], qc);
	}
	for (int m = M_SOURCE; m < M__COUNT; m++)
		if (want[m] && best[m].ok == -2)
			printf("ratio %s/bare = none: killed over the memory cap\n", measure_names[m]);
	for (int m = 0; m < M__COUNT; m++) {
		if (want[m] && best[m].ok == 1)
			printf("peak_rss_kb %s = %" PRIu64 "\n", measure_names[m], best[m].hwm_kb);
		else if (want[m] && best[m].ok == -2)
			printf("peak_rss_kb %s = %" PRIu64 " (killed at --mem-limit; more than this)\n",
			       measure_names[m], best[m].hwm_kb);
	}
	return status;
}
