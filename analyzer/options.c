/*
 * options.c - the option table of every command and what is built from it:
 * getopt_long arrays, --help text, usage errors. The man page lists the
 * same options (tests/check_options.c compares them).
 */
#include "options.h"

#include <stdarg.h>
#include <string.h>

#include "live.h"
#include "pipeline.h"

#define P(n) (PIPELINE_OPT_BASE + (n))

/*
 * One row per option, grouped by command. A row shared by analyze and live
 * is listed once (OPT_PIPELINE). Keep help lines short: --help prints them
 * beside the option, wrapped at 80 columns.
 */
const struct opt_def opt_table[] = {
	/* what analyze reads */
	{ "filter", 'f', 'f', "BPF", OPT_PIPELINE,
	  "capture filter; analyze applies it to each file offline (as tcpdump -r FILE EXPR); live default \"tcp\"" },
	{ "count", 'c', 'c', "N", OPT_PIPELINE, "stop after N packets (after -f and the time window)" },
	{ "since", 0, OPT_KEY_SINCE, "TIME", OPT_ANALYZE, "only records at or after TIME (ISO 8601 or epoch seconds)" },
	{ "until", 0, OPT_KEY_UNTIL, "TIME", OPT_ANALYZE, "only records up to TIME (ISO 8601 or epoch seconds)" },
	{ "progress", 0, OPT_KEY_PROGRESS, NULL, OPT_ANALYZE,
	  "progress line on stderr (default: when stderr is a terminal and the inputs are files)" },
	{ "no-progress", 0, OPT_KEY_NO_PROGRESS, NULL, OPT_ANALYZE, "no progress line" },
	{ "html", 0, OPT_KEY_HTML, "FILE", OPT_ANALYZE, "also write the report as one self-contained HTML page" },
	{ "pair", 0, OPT_KEY_PAIR, NULL, OPT_ANALYZE,
	  "two captures of the same sessions, CLIENT_SIDE SERVER_SIDE (each a file or a comma-separated list): what the path dropped, delayed or forged" },
	{ "shard", 0, OPT_KEY_SHARD, "K/N", OPT_ANALYZE,
	  "analyse only the flows of shard K of N (a flow hash that does not depend on direction); join the N --json outputs with 'smtpsleuth merge'" },
	{ "ladder", 0, OPT_KEY_LADDER, NULL, OPT_ANALYZE, "each session's dialog as a ladder diagram (with or without --transcript)" },

	/* live capture */
	{ "interface", 'i', 'i', "IFACE", OPT_LIVE, "interface to capture on (required; \"any\" for all)" },
	{ "write", 'w', 'w', "FILE", OPT_LIVE | OPT_REPRODUCE,
	  "live: also keep the raw packets in FILE; reproduce: the capture to write (required)" },
	{ "file-size", 'C', 'C', "MB", OPT_LIVE, "with -w: a new file when this one would pass MB million bytes" },
	{ "file-count", 'W', 'W', "N", OPT_LIVE, "with -C: keep at most N files in a ring" },
	{ "user", 'Z', 'Z', "USER", OPT_LIVE, "drop root privileges to USER after opening the interface and FILE" },
	{ "duration", 0, LIVE_OPT_DURATION, "SECONDS", OPT_LIVE, "stop after SECONDS" },
	{ "buffer-size", 'B', 'B', "MB", OPT_LIVE, "kernel capture buffer (default 64)" },
	{ "promisc", 0, LIVE_OPT_PROMISC, NULL, OPT_LIVE, "put the interface in promiscuous mode" },
	{ "fanout", 0, LIVE_OPT_FANOUT, "N", OPT_LIVE, "N capture processes (2..64) sharing the packets by flow (PACKET_FANOUT, hash mode); one merged report" },
	{ "fanout-split", 0, LIVE_OPT_FANOUT_SPLIT, "PREFIX", OPT_LIVE, "with --fanout: process K writes its own report to PREFIX.K" },
	{ "linger", 0, LIVE_OPT_LINGER, "SECONDS", OPT_LIVE,
	  "keep a closed flow this long for stray packets before its verdict (default 0.3)" },

	/* the analysis (analyze and live) */
	{ "json", 0, P(0), NULL, OPT_PIPELINE | OPT_SERVE | OPT_REPRODUCE,
	  "JSON Lines (analyze/live: a session per line, then a summary; serve/reproduce: the server's log)" },
	{ "transcript", 0, P(1), NULL, OPT_PIPELINE, "each session's dialog with times and frames (in the JSON with --json)" },
	{ "extract", 0, P(2), "DIR", OPT_PIPELINE, "per session: ID.pcap, ID.c2s, ID.s2c, ID-N.eml (with a key log ID.tls.c2s, ID.tls.s2c) in DIR" },
	{ "json-format", 0, P(13), "native|ecs", OPT_PIPELINE, "JSON field names: ours (default) or Elastic Common Schema; implies --json" },
	{ "force", 0, P(12), NULL, OPT_PIPELINE, "with --extract: replace regular files already in DIR (a link is never followed or replaced)" },
	{ "idle-threshold", 0, P(3), "SECONDS", OPT_PIPELINE, "silence that counts as an idle timeout (default 300)" },
	{ "cause", 0, P(4), "LIST", OPT_PIPELINE, "report only these causes (comma-separated, any case)" },
	{ "failures", 0, P(5), NULL, OPT_PIPELINE, "report only sessions whose cause is not 'completed'" },
	{ "host", 0, P(6), "ADDR[/BITS]", OPT_PIPELINE, "report only sessions with a client or server in this block (repeatable)" },
	{ "port", 0, P(7), "PORT", OPT_PIPELINE, "report only sessions with this client or server port (repeatable)" },
	{ "quiet", 'q', 'q', NULL, OPT_PIPELINE | OPT_SERVE, "analyze/live: the summary only; serve: no session log" },
	{ "color", 0, P(8), "auto|always|never", OPT_PIPELINE, "colour in the text report: auto (default), always, never" },
	{ "max-flows", 0, P(9), "N", OPT_PIPELINE, "flows tracked at once (default 1048576); the oldest idle is evicted" },
	{ "flow-timeout", 0, P(10), "SECONDS", OPT_PIPELINE, "a flow without packets for this long is ended (default 600)" },
	{ "reassembly-cap", 0, P(11), "BYTES", OPT_PIPELINE, "out-of-order bytes buffered in all flows (default 256M)" },
	{ "tls-keylog", 0, P(14), "FILE", OPT_PIPELINE | OPT_SERVE,
	  "analyze/live: decrypt TLS with this NSS key log (default $SSLKEYLOGFILE); serve: append its TLS keys to FILE" },
	{ "memory-cap", 0, P(15), "BYTES", OPT_PIPELINE,
	  "memory for all per-flow state (default 1G); past it the least recently active flows are evicted, each reported" },
	{ "threads", 0, P(16), "N", OPT_PIPELINE,
	  "threads: 1 does everything in one; 2 or more (default: the cores, at most 2) report on a second" },

	/* reproduce */
	{ "log", 0, OPT_KEY_OTHER, "FILE", OPT_SERVE | OPT_REPRODUCE, "the server's session log (default stderr)" },
	{ "iface", 0, OPT_KEY_OTHER, "IF", OPT_REPRODUCE, "interface to capture on (default lo)" },
	{ "from", 0, OPT_KEY_OTHER, "FILE", OPT_REPRODUCE,
	  "rebuild one session of a capture: profile and client script derived, replayed, captured, compared (exit 0 same cause, 1 other, 3 cannot)" },
	{ "session", 0, OPT_KEY_OTHER, "ID", OPT_REPRODUCE, "with --from: the session to rebuild" },
	{ "profile-out", 0, OPT_KEY_OTHER, "P.json", OPT_REPRODUCE, "with --from: write the derived server profile (editable)" },
	{ "speed", 0, OPT_KEY_OTHER, "X", OPT_REPRODUCE, "divide the captured pauses by X (default 1: real time)" },
	{ "max-pause", 0, OPT_KEY_OTHER, "SECONDS", OPT_REPRODUCE, "cap each replayed pause (default 30)" },
	{ "profile", 0, OPT_KEY_OTHER, "FILE.json", OPT_SERVE | OPT_REPRODUCE,
	  "play a server profile (serve), or replay an edited profile and its script (reproduce)" },
	{ "tls", 0, OPT_KEY_OTHER, NULL, OPT_REPRODUCE,
	  "play the dialog inside STARTTLS; the server's key log goes to OUT.keys beside OUT.pcap" },
	{ "variant", 0, OPT_KEY_OTHER, "V", OPT_REPRODUCE,
	  "size_limit: data|mail; rate_limited: conn|greylist|msgs; client_abort: fin|rst" },

	/* serve (and reproduce, which passes them to its server) */
	{ "listen", 0, OPT_KEY_OTHER, "ADDR:PORT", OPT_SERVE, "where to listen (127.0.0.1:2525; [::1]:2525 for IPv6)" },
	{ "hostname", 0, OPT_KEY_OTHER, "NAME", OPT_SERVE | OPT_REPRODUCE, "name in the greeting (smtpsleuth.test)" },
	{ "max-size", 0, OPT_KEY_OTHER, "BYTES", OPT_SERVE | OPT_REPRODUCE, "advertise SIZE and enforce it (552 5.3.4)" },
	{ "size-action", 0, OPT_KEY_OTHER, "reply|close|reset", OPT_SERVE | OPT_REPRODUCE,
	  "oversize DATA: reply (552 after the dot), close or reset mid-DATA" },
	{ "users", 0, OPT_KEY_OTHER, "FILE", OPT_SERVE | OPT_REPRODUCE, "user:password lines; enables AUTH PLAIN LOGIN" },
	{ "require-auth", 0, OPT_KEY_OTHER, NULL, OPT_SERVE | OPT_REPRODUCE, "530 5.7.0 for MAIL until authenticated" },
	{ "max-auth-failures", 0, OPT_KEY_OTHER, "N", OPT_SERVE | OPT_REPRODUCE, "421 4.7.0 and close after N refused AUTHs" },
	{ "allow", 0, OPT_KEY_OTHER, "CIDR", OPT_SERVE | OPT_REPRODUCE, "clients allowed (repeatable)" },
	{ "deny", 0, OPT_KEY_OTHER, "CIDR", OPT_SERVE | OPT_REPRODUCE, "clients refused (repeatable)" },
	{ "deny-action", 0, OPT_KEY_OTHER, "greeting|close|reset", OPT_SERVE | OPT_REPRODUCE,
	  "greeting (554 5.7.1), close before the greeting, or reset" },
	{ "idle-timeout", 0, OPT_KEY_OTHER, "SECONDS", OPT_SERVE | OPT_REPRODUCE, "idle client timeout (default 300)" },
	{ "idle-action", 0, OPT_KEY_OTHER, "reply|close", OPT_SERVE | OPT_REPRODUCE, "reply (421 4.4.2, then close) or close silently" },
	{ "max-errors", 0, OPT_KEY_OTHER, "N", OPT_SERVE | OPT_REPRODUCE, "421 4.7.0 after N bad commands (default 20)" },
	{ "relay-domain", 0, OPT_KEY_OTHER, "DOMAIN", OPT_SERVE | OPT_REPRODUCE,
	  "local domain (repeatable); others get 554 5.7.1 relay denied" },
	{ "max-conn-per-ip", 0, OPT_KEY_OTHER, "N", OPT_SERVE | OPT_REPRODUCE, "connections at once per client address" },
	{ "max-conns", 0, OPT_KEY_OTHER, "N", OPT_SERVE | OPT_REPRODUCE, "connections at once in all" },
	{ "max-msgs", 0, OPT_KEY_OTHER, "N", OPT_SERVE | OPT_REPRODUCE, "messages per session" },
	{ "max-rcpts", 0, OPT_KEY_OTHER, "N", OPT_SERVE | OPT_REPRODUCE, "recipients per message" },
	{ "greylist", 0, OPT_KEY_OTHER, NULL, OPT_SERVE | OPT_REPRODUCE, "451 4.7.1 on a triplet's first attempt" },
	{ "greylist-delay", 0, OPT_KEY_OTHER, "SECONDS", OPT_SERVE | OPT_REPRODUCE, "how long a triplet stays greylisted" },
	{ "shutdown", 0, OPT_KEY_OTHER, NULL, OPT_SERVE | OPT_REPRODUCE, "421 4.3.2 at the greeting" },
	{ "greeting-delay", 0, OPT_KEY_OTHER, "SECONDS", OPT_SERVE | OPT_REPRODUCE, "wait this long before the greeting" },
	{ "early-talker", 0, OPT_KEY_OTHER, NULL, OPT_SERVE | OPT_REPRODUCE, "554 5.5.0 to clients that talk before the greeting" },
	{ "require-tls", 0, OPT_KEY_OTHER, NULL, OPT_SERVE | OPT_REPRODUCE, "530 5.7.0 until STARTTLS" },
	{ "tls-fail", 0, OPT_KEY_OTHER, "refuse|abort", OPT_SERVE | OPT_REPRODUCE, "refuse (454 4.7.0 to STARTTLS) or abort (a broken handshake)" },
	{ "no-tls", 0, OPT_KEY_OTHER, NULL, OPT_SERVE | OPT_REPRODUCE, "do not offer STARTTLS" },
	{ "cert", 0, OPT_KEY_OTHER, "FILE", OPT_SERVE | OPT_REPRODUCE, "PEM certificate (with --key; else a self-signed pair)" },
	{ "key", 0, OPT_KEY_OTHER, "FILE", OPT_SERVE | OPT_REPRODUCE, "PEM private key (with --cert)" },
	{ "maildir", 0, OPT_KEY_OTHER, "DIR", OPT_SERVE | OPT_REPRODUCE, "write accepted messages to DIR/new (default: discard)" },
	{ "max-sessions", 0, OPT_KEY_OTHER, "N", OPT_SERVE, "exit after N sessions" },

	/* every command */
	{ "help", 'h', 'h', NULL, OPT_ALL, "this text" },
	{ "version", 'V', 'V', NULL, OPT_ALL, "the version" },
};
const size_t opt_table_len = SL_ARRAY_LEN(opt_table);

static const struct {
	unsigned cmd;
	const char *name, *usage, *what;
} commands[] = {
	{ OPT_ANALYZE, "analyze", "smtpsleuth analyze [options] FILE...",
	  "Reads pcap or pcapng files (gzip-compressed too), or - for stdin; several files are\n"
	  "merged by time as one capture. Prints a verdict for each SMTP session, then a summary." },
	{ OPT_LIVE, "live", "smtpsleuth live -i IFACE [-f BPF] [options]",
	  "Captures from IFACE and prints a verdict for each SMTP session as soon as it ends.\n"
	  "Ctrl-C or SIGTERM: open sessions get their verdict and the summary is printed." },
	{ OPT_SERVE, "serve", "smtpsleuth serve [--listen ADDR:PORT] [policy options]",
	  "The bundled SMTP server: safe by default (127.0.0.1:2525, delivers nowhere); each\n"
	  "policy option reproduces a way servers end sessions." },
	{ OPT_REPRODUCE, "reproduce", "smtpsleuth reproduce CAUSE -w OUT.pcap [options] [serve options]",
	  "Runs the bundled server with the policy for CAUSE and a scripted client on\n"
	  "loopback, and captures the session into OUT.pcap." },
};

unsigned opt_cmd(const char *name)
{
	for (size_t i = 0; i < SL_ARRAY_LEN(commands); i++)
		if (!strcmp(commands[i].name, name))
			return commands[i].cmd;
	return 0;
}

const char *opt_cmd_name(unsigned cmd)
{
	for (size_t i = 0; i < SL_ARRAY_LEN(commands); i++)
		if (commands[i].cmd == cmd)
			return commands[i].name;
	return "?";
}

bool opt_getopt(unsigned cmd, struct option *longs, size_t nlongs, char *shorts, size_t nshorts)
{
	size_t nl = 0, ns = 0;
	if (nshorts < 3)
		return false;
	shorts[ns++] = '+';
	shorts[ns++] = ':';
	for (size_t i = 0; i < opt_table_len; i++) {
		const struct opt_def *o = &opt_table[i];
		if (!(o->cmds & cmd))
			continue;
		if (o->name) {
			if (nl + 1 >= nlongs)
				return false;
			longs[nl++] = (struct option){ o->name, o->arg ? required_argument : no_argument, NULL, o->key };
		}
		if (o->shortname) {
			if (ns + 3 >= nshorts)
				return false;
			shorts[ns++] = o->shortname;
			if (o->arg)
				shorts[ns++] = ':';
		}
	}
	longs[nl] = (struct option){ NULL, 0, NULL, 0 };
	shorts[ns] = '\0';
	return true;
}

/* Writes text at column col, wrapped at 79 columns. */
static void wrap(FILE *f, const char *text, int col, int start)
{
	int x = start;
	const char *p = text;
	while (*p) {
		while (*p == ' ')
			p++;
		int w = (int)strcspn(p, " ");
		if (!w)
			break;
		if (x > col && x + 1 + w > 79) {
			fprintf(f, "\n%*s", col, "");
			x = col;
		} else if (x > col) {
			fputc(' ', f);
			x++;
		}
		fwrite(p, 1, (size_t)w, f);
		x += w;
		p += w;
	}
	fputc('\n', f);
}

void opt_help(FILE *f, unsigned cmd)
{
	for (size_t i = 0; i < SL_ARRAY_LEN(commands); i++) {
		if (commands[i].cmd != cmd)
			continue;
		fprintf(f, "usage: %s\n\n%s\n\noptions:\n", commands[i].usage, commands[i].what);
	}
	for (size_t i = 0; i < opt_table_len; i++) {
		const struct opt_def *o = &opt_table[i];
		if (!(o->cmds & cmd))
			continue;
		char left[96];
		int n;
		if (o->shortname && o->name)
			n = snprintf(left, sizeof(left), "  -%c, --%s", o->shortname, o->name);
		else if (o->shortname)
			n = snprintf(left, sizeof(left), "  -%c", o->shortname);
		else
			n = snprintf(left, sizeof(left), "      --%s", o->name);
		if (o->arg && n > 0 && (size_t)n < sizeof(left))
			n += snprintf(left + n, sizeof(left) - (size_t)n, " %s", o->arg);
		fputs(left, f);
		const int col = 28;
		if (n >= col) {
			fprintf(f, "\n%*s", col, "");
			n = col;
		} else {
			fprintf(f, "%*s", col - n, "");
			n = col;
		}
		wrap(f, o->help, col, n);
	}
	if (cmd == OPT_REPRODUCE)
		fprintf(f, "\nThe serve options above go to the reproduction's server.\n");
	fprintf(f, "\nSee smtpsleuth(1).\n");
}

const char *opt_display(unsigned cmd, int key, char *buf, size_t len)
{
	for (size_t i = 0; i < opt_table_len; i++) {
		const struct opt_def *o = &opt_table[i];
		if ((o->cmds & cmd) && o->key == key) {
			if (o->name)
				snprintf(buf, len, "--%s", o->name);
			else
				snprintf(buf, len, "-%c", o->shortname);
			return buf;
		}
	}
	if (key > 0 && key < 128)
		snprintf(buf, len, "-%c", key);
	else
		snprintf(buf, len, "(option)");
	return buf;
}

int opt_usage_error(unsigned cmd, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cmd)
		fprintf(stderr, "smtpsleuth: %s: %s; see 'smtpsleuth %s --help'\n", opt_cmd_name(cmd), msg,
			opt_cmd_name(cmd));
	else
		fprintf(stderr, "smtpsleuth: %s; see 'smtpsleuth --help'\n", msg);
	return 2;
}

void opt_getopt_error(unsigned cmd, int c, char *const *argv, char *buf, size_t len)
{
	char name[64];
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	if (c == ':') {
		/* As the user wrote it ("-i" or "--interface"). */
		if (arg[0] == '-')
			snprintf(buf, len, "%s needs a value", arg);
		else
			snprintf(buf, len, "%s needs a value", opt_display(cmd, optopt, name, sizeof(name)));
	} else if (optopt) {
		snprintf(buf, len, "unknown option -%c", optopt);
	} else {
		snprintf(buf, len, "unknown option %s", arg);
	}
}
