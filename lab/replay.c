/*
 * replay.c - `reproduce --from FILE` / `reproduce --profile P.json`.
 *
 * From a capture: the session is analysed and turned into a profile
 * (fromcap.c), written with --profile-out if asked. From a profile file: the
 * user's (possibly edited) profile is read as is. Either way the same JSON is
 * then loaded: the "server" object into a policy for the bundled server
 * (server/profile.c), the "client" object into a script. The server is
 * forked on a free loopback port, the loopback interface is captured
 * (labcap.h), the script is played with its pauses scaled by --speed and
 * capped, and the new capture is analysed like the original. Both verdicts
 * are printed side by side with the first places where the dialogs differ.
 *
 * Bounds: every pause is at most --max-pause (30 s), every read waits at most
 * REPLAY_REPLY_WAIT beyond the captured delay, the server child is told to
 * stop after one session and killed after REPLAY_SERVER_WAIT more seconds.
 *
 * Exit status: 0 the causes match; 1 they differ, or a runtime error;
 * 2 usage error; 3 the session cannot be reproduced (the reason is printed:
 * TLS without keys, no close in the capture ...), an honest skip.
 */
#include "replay.h"
#include "client.h"
#include "fromcap.h"
#include "jsonr.h"
#include "labcap.h"
#include "srv.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>

#define REPLAY_MAX_PAUSE     30.0    /* default cap on any one pause, seconds */
#define REPLAY_REPLY_WAIT    5.0     /* beyond the captured delay */
#define REPLAY_SERVER_WAIT   10.0
#define REPLAY_TAIL_SECONDS  0.3
#define REPLAY_IDLE_FLOOR    1.5     /* s: above the analyzer's 1 s "too soon for a timeout", with room for jitter */
#define REPLAY_IDLE_FLOOR_UNASKED 5.5  /* s: above its 5 s of silence before an unasked 4xx (T4) */
#define REPLAY_MAX_STEPS     512
#define REPLAY_LINE_MAX      512
#define REPLAY_MAX_BODY      (64ull << 20)   /* bytes of one replayed body */
#define REPLAY_EXIT_SKIP     3

/* Credentials are never in a profile: this stands in for them. It decodes
 * (AUTH PLAIN) to user "smtpsleuth", password "placeholder". */
static const char SECRET_PLACEHOLDER[] = "AHNtdHBzbGV1dGgAcGxhY2Vob2xkZXI=";

enum rs_kind { RS_LINE, RS_BODY, RS_TLS, RS_CLOSE };

struct rs_step {
	enum rs_kind kind;
	double pause;
	char line[REPLAY_LINE_MAX];
	bool reply;
	uint64_t bytes;     /* RS_BODY, or a BDAT chunk after RS_LINE */
	bool end;           /* RS_BODY: send the final dot */
	bool rst;           /* RS_CLOSE */
};

struct script {
	bool greeting;
	bool wait_close;
	struct rs_step st[REPLAY_MAX_STEPS];
	unsigned n;
};

static int usage_err(const char *msg, const char *arg)
{
	fprintf(stderr, "smtpsleuth: reproduce: %s%s%s; see 'smtpsleuth reproduce --help'\n", msg,
	        arg ? " " : "", arg ? arg : "");
	return 2;
}

/* ---- reading the client script ---- */

static int read_script(const struct jsonr *j, int c, struct script *s, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	s->greeting = true;
	if (c < 0)
		return 0;
	int m;
	if ((m = jsonr_get(j, c, "greeting")) >= 0 && !jsonr_bool(j, m, &s->greeting)) {
		snprintf(err, errlen, "client.greeting must be true or false");
		return 1;
	}
	if ((m = jsonr_get(j, c, "wait_close")) >= 0 && !jsonr_bool(j, m, &s->wait_close)) {
		snprintf(err, errlen, "client.wait_close must be true or false");
		return 1;
	}
	int arr = jsonr_get(j, c, "script");
	if (arr >= 0 && !jsonr_is(j, arr, JR_ARRAY)) {
		snprintf(err, errlen, "client.script must be an array");
		return 1;
	}
	for (int x = jsonr_first(j, arr); x >= 0; x = jsonr_next(j, x)) {
		if (s->n >= REPLAY_MAX_STEPS) {
			snprintf(err, errlen, "client.script: more than %d steps", REPLAY_MAX_STEPS);
			return 1;
		}
		struct rs_step *st = &s->st[s->n];
		memset(st, 0, sizeof(*st));
		unsigned idx = s->n++;
		if (!jsonr_is(j, x, JR_OBJECT)) {
			snprintf(err, errlen, "client.script[%u]: an object is expected", idx);
			return 1;
		}
		if ((m = jsonr_get(j, x, "pause")) >= 0 && (!jsonr_num(j, m, &st->pause) || st->pause < 0)) {
			snprintf(err, errlen, "client.script[%u].pause must be seconds >= 0", idx);
			return 1;
		}
		st->reply = true;
		if ((m = jsonr_get(j, x, "reply")) >= 0 && !jsonr_bool(j, m, &st->reply)) {
			snprintf(err, errlen, "client.script[%u].reply must be true or false", idx);
			return 1;
		}
		const char *send = jsonr_str(j, jsonr_get(j, x, "send"));
		int body = jsonr_get(j, x, "body"), close = jsonr_get(j, x, "close"), tls = jsonr_get(j, x, "tls_handshake");
		if (send) {
			st->kind = RS_LINE;
			if (strlen(send) >= sizeof(st->line) || strpbrk(send, "\r\n")) {
				snprintf(err, errlen, "client.script[%u].send must be one line of at most %d bytes",
				         idx, REPLAY_LINE_MAX - 1);
				return 1;
			}
			snprintf(st->line, sizeof(st->line), "%s", send);
			if ((m = jsonr_get(j, x, "bdat")) >= 0 &&
			    (!jsonr_u64(j, m, &st->bytes) || st->bytes > REPLAY_MAX_BODY)) {
				snprintf(err, errlen, "client.script[%u].bdat must be a byte count", idx);
				return 1;
			}
		} else if (body >= 0) {
			st->kind = RS_BODY;
			if (!jsonr_u64(j, body, &st->bytes) || st->bytes > REPLAY_MAX_BODY) {
				snprintf(err, errlen, "client.script[%u].body must be a byte count (at most %llu)",
				         idx, (unsigned long long)REPLAY_MAX_BODY);
				return 1;
			}
			st->end = true;
			if ((m = jsonr_get(j, x, "end")) >= 0 && !jsonr_bool(j, m, &st->end)) {
				snprintf(err, errlen, "client.script[%u].end must be true or false", idx);
				return 1;
			}
		} else if (close >= 0) {
			st->kind = RS_CLOSE;
			const char *h = jsonr_str(j, close);
			if (!h || (strcmp(h, "fin") && strcmp(h, "rst"))) {
				snprintf(err, errlen, "client.script[%u].close must be \"fin\" or \"rst\"", idx);
				return 1;
			}
			st->rst = !strcmp(h, "rst");
		} else if (tls >= 0) {
			st->kind = RS_TLS;
		} else {
			snprintf(err, errlen, "client.script[%u]: one of \"send\", \"body\", \"tls_handshake\", \"close\" is needed", idx);
			return 1;
		}
	}
	return 0;
}

/* ---- playing it ---- */

static double scaled(double s, double speed, double cap)
{
	double v = s / speed;
	return v > cap ? cap : v;
}

/* Sends n body bytes: lines of 'x' (never a lone dot) ending in CRLF. */
static bool send_body(struct cl *c, uint64_t n)
{
	char chunk[4000];
	for (size_t k = 0; k < sizeof(chunk); k++)
		chunk[k] = (k % 80 == 78) ? '\r' : (k % 80 == 79) ? '\n' : 'x';
	uint64_t left = n;
	while (left > 2) {
		size_t take = left - 2 > sizeof(chunk) ? sizeof(chunk) : (size_t)(left - 2);
		if (!cl_send(c, chunk, take))
			return false;
		left -= take;
	}
	/* the body ends with CRLF so the final dot is on a line of its own */
	return cl_send(c, "\r\n", (size_t)left);
}

static void play_script(const struct script *s, const struct sockaddr_storage *ss, socklen_t sl,
                        double speed, double cap, double wait_close)
{
	struct cl c;
	if (cl_connect(&c, ss, sl, 5.0)) {
		cl_close(&c, false);
		return;
	}
	int code = 1;
	if (s->greeting)
		code = cl_reply(&c, REPLAY_REPLY_WAIT + 5);
	for (unsigned i = 0; i < s->n && code > 0 && c.fd >= 0; i++) {
		const struct rs_step *st = &s->st[i];
		sleep_s(scaled(st->pause, speed, cap));
		if (st->kind == RS_CLOSE) {
			cl_close(&c, st->rst);
			return;
		}
		if (st->kind == RS_TLS) {
			cl_tls_handshake(&c);
			break;   /* what followed inside TLS is not in the profile */
		}
		bool ok;
		if (st->kind == RS_LINE) {
			char line[REPLAY_LINE_MAX + 64];
			const char *ph = strstr(st->line, "{secret}");
			if (ph)
				snprintf(line, sizeof(line), "%.*s%s%s\r\n", (int)(ph - st->line), st->line,
				         SECRET_PLACEHOLDER, ph + 8);
			else
				snprintf(line, sizeof(line), "%s\r\n", st->line);
			ok = cl_send(&c, line, strlen(line));
			if (ok && st->bytes)
				ok = send_body(&c, st->bytes);
		} else {
			ok = send_body(&c, st->bytes);
			if (ok && st->end)
				ok = cl_send(&c, ".\r\n", 3);
		}
		if (!ok)
			break;
		if (st->reply || (st->kind == RS_BODY && st->end))
			code = cl_reply(&c, REPLAY_REPLY_WAIT + cap);
	}
	if (c.fd >= 0 && s->wait_close) {
		double end = sl_mono_sec() + wait_close;
		while (c.fd >= 0 && sl_mono_sec() < end)
			if (cl_reply(&c, end - sl_mono_sec()) <= 0)
				break;
	}
	cl_close(&c, false);
}

/* ---- the server child ---- */

static volatile int child_stop;

static void child_term(int sig)
{
	(void)sig;
	child_stop = 1;
}

/* ---- side by side ---- */

static void side(const char *what, const char *a, const char *b)
{
	printf("  %-10s %-28s %-28s%s\n", what, a, b, strcmp(a, b) ? "  <- differs" : "");
}

static void reply_str(const struct verdict *v, char *buf, size_t n)
{
	if (v->has_reply)
		snprintf(buf, n, "%u%s%s", v->reply_code, v->reply_enhanced[0] ? " " : "", v->reply_enhanced);
	else
		snprintf(buf, n, "-");
}

static void print_dialog_diff(const struct dialog *a, const struct dialog *b)
{
	unsigned n = a->n > b->n ? a->n : b->n, shown = 0;
	for (unsigned i = 0; i < n && shown < 8; i++) {
		const char *x = i < a->n ? a->line[i] : "(nothing)";
		const char *y = i < b->n ? b->line[i] : "(nothing)";
		if (strcmp(x, y)) {
			if (!shown)
				printf("  where the dialogs differ (step: original | reproduced):\n");
			printf("    %3u: %-30s | %s\n", i + 1, x, y);
			shown++;
		}
	}
	if (!shown)
		printf("  dialogs: the same %u steps%s\n", a->n, a->truncated ? " (first ones compared)" : "");
}

int replay_main(int argc, char **argv)
{
	const char *from = NULL, *prof_in = NULL, *prof_out = NULL, *out = NULL, *iface = "lo";
	uint64_t sess = 0;
	double speed = 1.0, cap = REPLAY_MAX_PAUSE;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool more = i + 1 < argc;
		char *end;
		if (!strcmp(a, "--from") && more) from = argv[++i];
		else if (!strcmp(a, "--profile") && more) prof_in = argv[++i];
		else if (!strcmp(a, "--profile-out") && more) prof_out = argv[++i];
		else if ((!strcmp(a, "-w") || !strcmp(a, "--write")) && more) out = argv[++i];
		else if (!strcmp(a, "--iface") && more) iface = argv[++i];
		else if (!strcmp(a, "--session") && more) {
			sess = strtoull(argv[++i], &end, 10);
			if (*end || !sess)
				return usage_err("--session takes a session id (1, 2, ...), not", argv[i]);
		} else if (!strcmp(a, "--speed") && more) {
			speed = strtod(argv[++i], &end);
			if (*end || !(speed > 0) || speed > 1e6)
				return usage_err("--speed takes a factor > 0 (2 = twice as fast), not", argv[i]);
		} else if (!strcmp(a, "--max-pause") && more) {
			cap = strtod(argv[++i], &end);
			if (*end || !(cap >= 0) || cap > 3600)
				return usage_err("--max-pause takes seconds (0..3600), not", argv[i]);
		} else {
			return usage_err("unexpected argument for --from/--profile:", a);
		}
	}
	if (!!from == !!prof_in)
		return usage_err("give either --from FILE or --profile P.json", NULL);
	if (!out && !prof_out)
		return usage_err("missing -w OUT.pcap", NULL);
	if (prof_in && prof_out)
		return usage_err("--profile-out goes with --from", NULL);

	/* The profile text: derived, or the user's file. */
	struct case_info orig;
	memset(&orig, 0, sizeof(orig));
	char err[600];
	struct jsonr j;
	int rc;
	if (from) {
		if (fromcap_analyze(from, sess, true, &orig, err, sizeof(err))) {
			fprintf(stderr, "smtpsleuth: reproduce: %s\n", err);
			case_info_free(&orig);
			return 1;
		}
		if (prof_out) {
			FILE *f = fopen(prof_out, "w");
			if (!f || fwrite(orig.json, 1, orig.json_len, f) != orig.json_len || fclose(f)) {
				fprintf(stderr, "smtpsleuth: reproduce: cannot write %s: %s\n", prof_out, strerror(errno));
				case_info_free(&orig);
				return 1;
			}
		}
		rc = jsonr_parse(&j, orig.json, orig.json_len, err, sizeof(err));
	} else {
		rc = jsonr_parse_file(&j, prof_in, err, sizeof(err));
	}
	if (rc) {
		fprintf(stderr, "smtpsleuth: reproduce: profile: %s\n", err);
		jsonr_free(&j);
		case_info_free(&orig);
		return 1;
	}
	if (from && orig.why_not[0]) {
		printf("reproduce: session %llu of %s cannot be reproduced: %s\n",
		       (unsigned long long)orig.id, from, orig.why_not);
		printf("  original verdict: %s\n", cause_name(orig.v.cause));
		jsonr_free(&j);
		case_info_free(&orig);
		return REPLAY_EXIT_SKIP;
	}
	if (!out) {
		jsonr_free(&j);
		case_info_free(&orig);
		return 0;   /* only the profile was asked for */
	}
	/* The original's verdict, for --profile: what the file says it was. */
	int src = jsonr_get(&j, 0, "source");
	const char *sc = from ? cause_name(orig.v.cause) : jsonr_str(&j, jsonr_get(&j, src, "cause"));
	char src_cause[32];
	snprintf(src_cause, sizeof(src_cause), "%s", sc ? sc : "unknown");

	struct policy *p = calloc(1, sizeof(*p));
	struct script *scr = calloc(1, sizeof(*scr));
	if (!p || !scr) {
		fprintf(stderr, "smtpsleuth: reproduce: out of memory\n");
		free(p);
		free(scr);
		jsonr_free(&j);
		case_info_free(&orig);
		return 1;
	}
	policy_defaults(p);
	int srvnode = jsonr_get(&j, 0, "server");
	bool listening = true;
	int lnode = jsonr_get(&j, srvnode, "listen");
	if (lnode >= 0 && !jsonr_bool(&j, lnode, &listening))
		listening = true;
	rc = profile_from_json(p, &j, srvnode, err, sizeof(err));
	if (!rc)
		rc = read_script(&j, jsonr_get(&j, 0, "client"), scr, err, sizeof(err));
	jsonr_free(&j);
	if (rc) {
		fprintf(stderr, "smtpsleuth: reproduce: profile: %s\n", err);
		goto fail;
	}
	/* Time runs at --speed, and no silence is longer than the cap; but an idle
	 * timeout is not scaled below REPLAY_IDLE_FLOOR: shorter, the analyzer
	 * reads the close as too soon for a timeout and the cause changes. */
	if (p->idle_timeout > 0) {
		/* an unasked 4xx other than 421 4.4.2 reads as an idle timeout only
		 * after 5 s of client silence (the analyzer's reply row T4) */
		const struct srv_profile *pr = p->profile;
		bool words_only = pr && pr->has_idle_reply &&
			!(pr->idle_reply.code == 421 && !strcmp(pr->idle_reply.enh, "4.4.2"));
		double least = words_only ? REPLAY_IDLE_FLOOR_UNASKED : REPLAY_IDLE_FLOOR;
		double floor = p->idle_timeout < least ? p->idle_timeout : least;
		p->idle_timeout = scaled(p->idle_timeout, speed, cap);
		if (p->idle_timeout < floor)
			p->idle_timeout = floor;
	}
	if (p->idle_timeout < 0.05)
		p->idle_timeout = 0.05;
	if (p->greeting_delay > 0)   /* still later than the client's scaled pauses */
		p->greeting_delay = scaled(p->greeting_delay, speed, cap) + 2.0;
	p->max_sessions = 1;
	p->quiet = true;

	int lfd;
	unsigned port;
	static const unsigned mail_ports[] = { 25, 587, 2525, 10025 };
	bool have = false;
	for (size_t i = 0; !have && i < SL_ARRAY_LEN(mail_ports); i++)
		have = loopback_port(&lfd, &port, listening, mail_ports[i]);
	if (!have && !loopback_port(&lfd, &port, listening, 0)) {
		fprintf(stderr, "smtpsleuth: reproduce: cannot bind a loopback port: %s\n", strerror(errno));
		goto fail;
	}
	struct capture cap_ = {0};
	if (capture_open(&cap_, iface, port, out)) {
		close(lfd);
		goto fail;
	}
	int logp[2] = { -1, -1 };
	pid_t pid = -1;
	if (listening) {
		if (pipe(logp) < 0) {
			fprintf(stderr, "smtpsleuth: reproduce: pipe: %s\n", strerror(errno));
			pcap_dump_close(cap_.d);
			pcap_close(cap_.p);
			close(lfd);
			goto fail;
		}
		fflush(NULL);
		pid = fork();
		if (pid == 0) {
			close(logp[0]);
			signal(SIGTERM, child_term);
			char e[512];
			int r = srv_run(p, lfd, logp[1], &child_stop, e, sizeof(e));
			if (r)
				fprintf(stderr, "reproduce: server: %s\n", e);
			_exit(r);
		}
		close(logp[1]);
		if (pid < 0) {
			fprintf(stderr, "smtpsleuth: reproduce: fork: %s\n", strerror(errno));
			close(logp[0]);
			pcap_dump_close(cap_.d);
			pcap_close(cap_.p);
			close(lfd);
			goto fail;
		}
	}
	pthread_t th;
	if (pthread_create(&th, NULL, capture_loop, &cap_) != 0) {
		fprintf(stderr, "smtpsleuth: reproduce: cannot start the capture thread\n");
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			close(logp[0]);
		}
		pcap_dump_close(cap_.d);
		pcap_close(cap_.p);
		close(lfd);
		goto fail;
	}
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	in->sin_port = htons((uint16_t)port);
	double wait_close = (p->idle_timeout < 300 ? p->idle_timeout : cap) + 5.0;
	play_script(scr, &ss, sizeof(*in), speed, cap, wait_close);

	/* The server's log (its own account) goes to stderr when asked for
	 * with SLEUTH_REPLAY_LOG; here it only tells when the session ended. */
	if (pid > 0)
		server_drain(pid, logp[0], REPLAY_SERVER_WAIT, NULL, 0, getenv("SLEUTH_REPLAY_LOG") ? stderr : NULL);
	sleep_s(REPLAY_TAIL_SECONDS);
	cap_.stop = 1;
	pthread_join(th, NULL);
	pcap_dump_close(cap_.d);
	pcap_close(cap_.p);
	close(lfd);

	struct case_info rep;
	if (fromcap_analyze(out, 0, false, &rep, err, sizeof(err))) {
		fprintf(stderr, "smtpsleuth: reproduce: the reproduction: %s\n", err);
		case_info_free(&rep);
		goto fail;
	}
	char ra[32], rb[32];
	if (from)
		printf("reproduce: session %llu of %s replayed on 127.0.0.1:%u (speed %g) -> %s\n",
		       (unsigned long long)orig.id, from, port, speed, out);
	else
		printf("reproduce: profile %s replayed on 127.0.0.1:%u (speed %g) -> %s\n",
		       prof_in, port, speed, out);
	printf("  %-10s %-28s %-28s\n", "", "original", "reproduced");
	side("cause", src_cause, cause_name(rep.v.cause));
	if (from) {
		side("closed_by", closed_by_name(orig.v.closed_by), closed_by_name(rep.v.closed_by));
		side("close", close_kind_name(orig.v.close), close_kind_name(rep.v.close));
		side("phase", verdict_phase_name(orig.v.phase), verdict_phase_name(rep.v.phase));
		reply_str(&orig.v, ra, sizeof(ra));
		reply_str(&rep.v, rb, sizeof(rb));
		side("reply", ra, rb);
		print_dialog_diff(&orig.d, &rep.d);
	} else {
		printf("  %-10s %-28s %-28s\n", "closed_by", "", closed_by_name(rep.v.closed_by));
		printf("  %-10s %-28s %-28s\n", "phase", "", verdict_phase_name(rep.v.phase));
		reply_str(&rep.v, rb, sizeof(rb));
		printf("  %-10s %-28s %-28s\n", "reply", "", rb);
	}
	bool same = !strcmp(src_cause, cause_name(rep.v.cause));
	printf("result: %s\n", same ? "same cause" : "different causes");
	case_info_free(&rep);
	case_info_free(&orig);
	policy_free(p);
	free(p);
	free(scr);
	return same ? 0 : 1;
fail:
	case_info_free(&orig);
	policy_free(p);
	free(p);
	free(scr);
	return 1;
}
