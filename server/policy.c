/*
 * policy.c - `smtpsleuth serve` options turned into a struct policy, and the
 * policy's questions: is this client address allowed, are these credentials
 * right, is this recipient local.
 *
 * Invariants: every list has a named cap (srv.h); an option over its cap is a
 * usage error, never a silent truncation. The users file is read once at start;
 * passwords stay in memory only and are never logged.
 */
#include "srv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *policy_usage(void)
{
	return
	"usage: smtpsleuth serve [--listen ADDR:PORT] [policy options]\n"
	"  --listen ADDR             PORT, :PORT (127.0.0.1), HOST:PORT or [V6]:PORT (default 127.0.0.1:2525)\n"
	"  --profile FILE.json       play a captured server's replies and closes (docs/reproduce.md);\n"
	"                            options after it override the knobs it sets\n"
	"  --hostname NAME           name in the greeting (smtpsleuth.test)\n"
	"  --max-size BYTES          advertise SIZE and enforce it (552 5.3.4)\n"
	"  --size-action reply|close|reset   oversize DATA: 552 after the dot, FIN or RST mid-DATA\n"
	"  --users FILE              user:password lines; enables AUTH PLAIN LOGIN\n"
	"  --require-auth            530 5.7.0 for MAIL until authenticated\n"
	"  --max-auth-failures N     421 4.7.0 and close after N refused AUTHs\n"
	"  --allow CIDR, --deny CIDR (repeatable, IPv4 and IPv6)\n"
	"  --deny-action greeting|close|reset   554 5.7.1 greeting, close before greeting, RST\n"
	"  --idle-timeout SECONDS    fractional allowed (default 300)\n"
	"  --idle-action reply|close 421 4.4.2 then close, or a silent close\n"
	"  --max-errors N            421 4.7.0 after N bad commands (default 20)\n"
	"  --relay-domain DOMAIN     local domain (repeatable); others: 554 5.7.1 relay denied\n"
	"  --reject-rcpt ADDR        550 5.1.1 user unknown for this address or domain (repeatable)\n"
	"  --reject-sender ADDR      553 5.1.8 to MAIL FROM this address or domain (repeatable)\n"
	"  --reject-content TEXT     554 5.7.1 after the data when the body holds TEXT (repeatable)\n"
	"  --max-conn-per-ip N       connections at once from one address (default 16, 0: no cap)\n"
	"  --max-conns N, --max-msgs N, --max-rcpts N\n"
	"  --greylist [--greylist-delay S]   451 4.7.1 on a triplet's first attempt\n"
	"  --shutdown                421 4.3.2 at the greeting\n"
	"  --greeting-delay S [--early-talker]   554 5.5.0 to clients that talk first\n"
	"  --require-tls             530 5.7.0 until STARTTLS\n"
	"  --tls-fail refuse|abort   454 4.7.0 to STARTTLS, or 220 then a broken handshake\n"
	"  --no-tls                  do not offer STARTTLS\n"
	"  --cert FILE --key FILE    PEM; a self-signed pair is made in memory otherwise\n"
	"  --tls-keylog FILE         append the TLS secrets (NSS key log, for decryption) to FILE (0600)\n"
	"  --maildir DIR             write accepted messages to DIR/new (default: discard)\n"
	"  --log FILE                session log (default stderr)\n"
	"  --json                    session log as JSON Lines\n"
	"  --max-sessions N          exit after N sessions\n";
}

void policy_defaults(struct policy *p)
{
	memset(p, 0, sizeof(*p));
	struct sockaddr_in *in = (struct sockaddr_in *)&p->listen;
	in->sin_family = AF_INET;
	in->sin_port = htons(2525);
	in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p->listen_len = sizeof(*in);
	snprintf(p->hostname, sizeof(p->hostname), "smtpsleuth.test");
	p->max_errors = SRV_DEFAULT_MAX_ERRORS;
	p->max_conns = SRV_DEFAULT_MAX_CONNS;
	p->max_conn_per_ip = SRV_DEFAULT_MAX_CONN_PER_IP;
	p->idle_timeout = 300;
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	free(p->users);
	p->users = NULL;
	p->n_users = 0;
	profile_free(p->profile);
	p->profile = NULL;
}

bool parse_hostport(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128];
	const char *colon, *portp;
	memset(ss, 0, sizeof(*ss));
	/* PORT and :PORT listen on the loopback address (safe by default) */
	if (s[0] == ':' || (s[0] >= '0' && s[0] <= '9' && !strpbrk(s, ":."))) {
		snprintf(host, sizeof(host), "127.0.0.1");
		portp = s[0] == ':' ? s + 1 : s;
	} else if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':' || (size_t)(rb - s - 1) >= sizeof(host))
			return false;
		memcpy(host, s + 1, (size_t)(rb - s - 1));
		host[rb - s - 1] = 0;
		colon = rb + 1;
		portp = colon + 1;
	} else {
		colon = strchr(s, ':');
		/* an IPv6 address needs brackets, or its last group reads as a port */
		if (!colon || strchr(colon + 1, ':') || (size_t)(colon - s) >= sizeof(host))
			return false;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = 0;
		portp = colon + 1;
	}
	char *end;
	errno = 0;
	unsigned long port = strtoul(portp, &end, 10);
	if (errno || *end || end == portp || port > 65535 || *portp < '0' || *portp > '9')
		return false;
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		*len = sizeof(*in4);
		return true;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
		return true;
	}
	return false;
}

bool cidr_parse(const char *s, struct cidr *c)
{
	char buf[80];
	size_t n = strlen(s);
	if (n >= sizeof(buf))
		return false;
	memcpy(buf, s, n + 1);
	char *slash = strchr(buf, '/');
	long prefix = -1;
	if (slash) {
		char *end;
		*slash = 0;
		prefix = strtol(slash + 1, &end, 10);
		if (*end || end == slash + 1 || prefix < 0)
			return false;
	}
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, buf, c->addr) == 1) {
		c->family = AF_INET;
		if (prefix < 0)
			prefix = 32;
		if (prefix > 32)
			return false;
	} else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
		c->family = AF_INET6;
		if (prefix < 0)
			prefix = 128;
		if (prefix > 128)
			return false;
	} else {
		return false;
	}
	c->prefix = (unsigned)prefix;
	return true;
}

static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;
	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));
		return (a[whole] & mask) == (b[whole] & mask);
	}
	return true;
}

bool cidr_match(const struct cidr *c, const struct sockaddr_storage *ss)
{
	const uint8_t *a;
	if (ss->ss_family == AF_INET) {
		a = (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr;
		if (c->family == AF_INET)
			return prefix_eq(a, c->addr, c->prefix);
		return false;
	}
	if (ss->ss_family != AF_INET6)
		return false;
	a = ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;
	if (c->family == AF_INET6)
		return prefix_eq(a, c->addr, c->prefix);
	/* An IPv4-mapped IPv6 peer (::ffff:a.b.c.d) matches IPv4 rules. */
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (memcmp(a, mapped, 12) == 0)
		return prefix_eq(a + 12, c->addr, c->prefix);
	return false;
}

/* An --allow match always admits; with any --allow given, nothing else is
 * admitted; otherwise a --deny match refuses. */
bool policy_addr_allowed(const struct policy *p, const struct sockaddr_storage *ss)
{
	for (unsigned i = 0; i < p->n_allow; i++)
		if (cidr_match(&p->allow[i], ss))
			return true;
	if (p->n_allow)
		return false;
	for (unsigned i = 0; i < p->n_deny; i++)
		if (cidr_match(&p->deny[i], ss))
			return false;
	return true;
}

bool policy_check_user(const struct policy *p, const char *user, const char *pass)
{
	for (unsigned i = 0; i < p->n_users; i++) {
		if (strcmp(p->users[i].user, user) != 0)
			continue;
		/* Constant-time compare of equal-length strings; length leaks, which
		 * is acceptable for a lab server. */
		size_t a = strlen(p->users[i].pass), b = strlen(pass);
		if (a != b)
			return false;
		unsigned char diff = 0;
		for (size_t k = 0; k < a; k++)
			diff |= (unsigned char)(p->users[i].pass[k] ^ pass[k]);
		return diff == 0;
	}
	return false;
}

bool policy_addr_listed(const char (*list)[SRV_ADDR_MAX], unsigned n, const char *addr, size_t len)
{
	while (len && (addr[len - 1] == '>' || addr[len - 1] == ' '))
		len--;
	const char *at = memchr(addr, '@', len);
	const char *dom = at ? at + 1 : NULL;
	size_t dlen = at ? len - (size_t)(dom - addr) : 0;
	for (unsigned i = 0; i < n; i++) {
		const char *e = list[i];
		size_t el = strlen(e);
		if (strchr(e, '@') && e[0] != '@') {
			if (el == len && strncasecmp(e, addr, len) == 0)
				return true;
		} else {
			if (e[0] == '@')
				e++, el--;
			if (dom && el == dlen && strncasecmp(e, dom, dlen) == 0)
				return true;
		}
	}
	return false;
}

bool policy_rcpt_local(const struct policy *p, const char *addr, size_t len)
{
	if (!p->n_relay)
		return true;
	const char *at = NULL;
	for (size_t i = 0; i < len; i++)
		if (addr[i] == '@')
			at = addr + i;
	if (!at)
		return true;    /* a bare local part (postmaster) is local */
	const char *dom = at + 1;
	size_t dlen = len - (size_t)(dom - addr);
	while (dlen && (dom[dlen - 1] == '>' || dom[dlen - 1] == ' '))
		dlen--;
	for (unsigned i = 0; i < p->n_relay; i++)
		if (strlen(p->relay[i]) == dlen && strncasecmp(p->relay[i], dom, dlen) == 0)
			return true;
	return false;
}

static int load_users(struct policy *p, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "cannot read --users %s: %s", path, strerror(errno));
		return 1;
	}
	p->users = calloc(SRV_MAX_USERS, sizeof(*p->users));
	if (!p->users) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return 1;
	}
	char line[512];
	unsigned lineno = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\r\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		char *colon = strchr(line, ':');
		if (!colon || colon == line || strlen(line) - 1 >= sizeof(p->users[0].user) ||
		    strlen(colon + 1) >= SRV_USER_MAX || (size_t)(colon - line) >= SRV_USER_MAX) {
			snprintf(err, errlen, "%s:%u: expected user:password (each under %d bytes)",
			         path, lineno, SRV_USER_MAX);
			fclose(f);
			return 1;
		}
		if (p->n_users >= SRV_MAX_USERS) {
			snprintf(err, errlen, "%s: more than %d users", path, SRV_MAX_USERS);
			fclose(f);
			return 1;
		}
		/* Both lengths were checked against SRV_USER_MAX above. */
		size_t ulen = (size_t)(colon - line), plen = strlen(colon + 1);
		memcpy(p->users[p->n_users].user, line, ulen);
		p->users[p->n_users].user[ulen] = '\0';
		memcpy(p->users[p->n_users].pass, colon + 1, plen);
		p->users[p->n_users].pass[plen] = '\0';
		p->n_users++;
	}
	fclose(f);
	return 0;
}

enum {
	O_LISTEN = 256, O_HOSTNAME, O_MAX_SIZE, O_SIZE_ACTION, O_USERS, O_REQ_AUTH, O_MAX_AUTHF,
	O_ALLOW, O_DENY, O_DENY_ACTION, O_IDLE, O_IDLE_ACTION, O_MAX_ERRORS, O_RELAY,
	O_REJECT_RCPT, O_REJECT_SENDER, O_REJECT_CONTENT,
	O_MAX_CONN_IP, O_MAX_CONNS, O_MAX_MSGS, O_MAX_RCPTS, O_GREYLIST, O_GREY_DELAY,
	O_SHUTDOWN, O_GREET_DELAY, O_EARLY, O_REQ_TLS, O_NO_TLS, O_TLS_FAIL, O_CERT, O_KEY, O_TLS_KEYLOG,
	O_MAILDIR, O_LOG, O_JSON, O_MAX_SESSIONS, O_QUIET, O_HELP, O_PROFILE
};

static const struct option long_opts[] = {
	{"listen", required_argument, 0, O_LISTEN},
	{"hostname", required_argument, 0, O_HOSTNAME},
	{"max-size", required_argument, 0, O_MAX_SIZE},
	{"size-action", required_argument, 0, O_SIZE_ACTION},
	{"users", required_argument, 0, O_USERS},
	{"profile", required_argument, 0, O_PROFILE},
	{"require-auth", no_argument, 0, O_REQ_AUTH},
	{"max-auth-failures", required_argument, 0, O_MAX_AUTHF},
	{"allow", required_argument, 0, O_ALLOW},
	{"deny", required_argument, 0, O_DENY},
	{"deny-action", required_argument, 0, O_DENY_ACTION},
	{"idle-timeout", required_argument, 0, O_IDLE},
	{"idle-action", required_argument, 0, O_IDLE_ACTION},
	{"max-errors", required_argument, 0, O_MAX_ERRORS},
	{"relay-domain", required_argument, 0, O_RELAY},
	{"reject-rcpt", required_argument, 0, O_REJECT_RCPT},
	{"reject-sender", required_argument, 0, O_REJECT_SENDER},
	{"reject-content", required_argument, 0, O_REJECT_CONTENT},
	{"max-conn-per-ip", required_argument, 0, O_MAX_CONN_IP},
	{"max-conns", required_argument, 0, O_MAX_CONNS},
	{"max-msgs", required_argument, 0, O_MAX_MSGS},
	{"max-rcpts", required_argument, 0, O_MAX_RCPTS},
	{"greylist", no_argument, 0, O_GREYLIST},
	{"greylist-delay", required_argument, 0, O_GREY_DELAY},
	{"shutdown", no_argument, 0, O_SHUTDOWN},
	{"greeting-delay", required_argument, 0, O_GREET_DELAY},
	{"early-talker", no_argument, 0, O_EARLY},
	{"require-tls", no_argument, 0, O_REQ_TLS},
	{"no-tls", no_argument, 0, O_NO_TLS},
	{"tls-fail", required_argument, 0, O_TLS_FAIL},
	{"cert", required_argument, 0, O_CERT},
	{"key", required_argument, 0, O_KEY},
	{"tls-keylog", required_argument, 0, O_TLS_KEYLOG},
	{"maildir", required_argument, 0, O_MAILDIR},
	{"log", required_argument, 0, O_LOG},
	{"json", no_argument, 0, O_JSON},
	{"max-sessions", required_argument, 0, O_MAX_SESSIONS},
	{"quiet", no_argument, 0, O_QUIET},
	{"help", no_argument, 0, O_HELP},
	{0, 0, 0, 0}
};

#define USAGE_ERR(...) do { snprintf(err, errlen, __VA_ARGS__); return 2; } while (0)

int policy_parse(struct policy *p, int argc, char **argv, char *err, size_t errlen)
{
	uint64_t u;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", long_opts, NULL)) != -1) {
		const char *a = optarg;
		switch (c) {
		case O_LISTEN:
			if (!parse_hostport(a, &p->listen, &p->listen_len))
				USAGE_ERR("--listen: expected ADDR:PORT or [V6]:PORT, got '%s'", a);
			break;
		case O_HOSTNAME:
			if (strlen(a) >= sizeof(p->hostname) || strpbrk(a, " \r\n\t"))
				USAGE_ERR("--hostname: bad name");
			snprintf(p->hostname, sizeof(p->hostname), "%s", a);
			break;
		case O_MAX_SIZE:
			if (!sl_parse_uint(a, UINT64_MAX / 2, &u))
				USAGE_ERR("--max-size: expected a byte count");
			p->max_size = u;
			break;
		case O_SIZE_ACTION:
			if (!strcmp(a, "reply")) p->size_action = SIZE_REPLY;
			else if (!strcmp(a, "close")) p->size_action = SIZE_CLOSE;
			else if (!strcmp(a, "reset")) p->size_action = SIZE_RESET;
			else USAGE_ERR("--size-action: reply, close or reset");
			break;
		case O_USERS: {
			int rc = load_users(p, a, err, errlen);
			if (rc)
				return rc;
			break;
		}
		case O_REQ_AUTH: p->require_auth = true; break;
		case O_MAX_AUTHF:
			if (!sl_parse_uint(a, 1000000, &u))
				USAGE_ERR("--max-auth-failures: expected a count");
			p->max_auth_failures = (unsigned)u;
			break;
		case O_ALLOW:
		case O_DENY: {
			struct cidr *list = c == O_ALLOW ? p->allow : p->deny;
			unsigned *n = c == O_ALLOW ? &p->n_allow : &p->n_deny;
			if (*n >= SRV_MAX_CIDR)
				USAGE_ERR("at most %d --allow and %d --deny", SRV_MAX_CIDR, SRV_MAX_CIDR);
			if (!cidr_parse(a, &list[*n]))
				USAGE_ERR("bad CIDR '%s'", a);
			(*n)++;
			break;
		}
		case O_DENY_ACTION:
			if (!strcmp(a, "greeting")) p->deny_action = DENY_GREETING;
			else if (!strcmp(a, "close")) p->deny_action = DENY_CLOSE;
			else if (!strcmp(a, "reset")) p->deny_action = DENY_RESET;
			else USAGE_ERR("--deny-action: greeting, close or reset");
			break;
		case O_IDLE:
			if (!sl_parse_number(a, 86400 * 7, &p->idle_timeout) || p->idle_timeout < 0.01)
				USAGE_ERR("--idle-timeout: expected seconds >= 0.01");
			break;
		case O_IDLE_ACTION:
			if (!strcmp(a, "reply")) p->idle_action = IDLE_REPLY;
			else if (!strcmp(a, "close")) p->idle_action = IDLE_CLOSE;
			else USAGE_ERR("--idle-action: reply or close");
			break;
		case O_MAX_ERRORS:
			if (!sl_parse_uint(a, 1000000, &u) || u == 0)
				USAGE_ERR("--max-errors: expected a count >= 1");
			p->max_errors = (unsigned)u;
			break;
		case O_RELAY:
			if (p->n_relay >= SRV_MAX_RELAY)
				USAGE_ERR("at most %d --relay-domain", SRV_MAX_RELAY);
			if (strlen(a) >= SRV_ADDR_MAX || !a[0])
				USAGE_ERR("--relay-domain: bad domain");
			snprintf(p->relay[p->n_relay++], SRV_ADDR_MAX, "%s", a);
			break;
		case O_REJECT_RCPT:
		case O_REJECT_SENDER: {
			bool r = c == O_REJECT_RCPT;
			unsigned *nl = r ? &p->n_reject_rcpt : &p->n_reject_sender;
			if (*nl >= SRV_MAX_REJECT)
				USAGE_ERR("at most %d --reject-%s", SRV_MAX_REJECT, r ? "rcpt" : "sender");
			if (strlen(a) >= SRV_ADDR_MAX || !a[0] || strchr(a, ' '))
				USAGE_ERR("--reject-%s: expected an address or a domain", r ? "rcpt" : "sender");
			snprintf((r ? p->reject_rcpt : p->reject_sender)[(*nl)++], SRV_ADDR_MAX, "%s", a);
			break;
		}
		case O_REJECT_CONTENT:
			if (p->n_reject_content >= SRV_MAX_PATTERNS)
				USAGE_ERR("at most %d --reject-content", SRV_MAX_PATTERNS);
			if (!a[0] || strlen(a) >= SRV_PATTERN_MAX)
				USAGE_ERR("--reject-content: 1 to %d bytes", SRV_PATTERN_MAX - 1);
			snprintf(p->reject_content[p->n_reject_content++], SRV_PATTERN_MAX, "%s", a);
			break;
		case O_MAX_CONN_IP:
		case O_MAX_CONNS:
		case O_MAX_MSGS:
		case O_MAX_RCPTS:
		case O_MAX_SESSIONS:
			if (!sl_parse_uint(a, 1000000, &u))
				USAGE_ERR("%s: expected a count", argv[optind - 1]);
			if (c == O_MAX_CONN_IP) p->max_conn_per_ip = (unsigned)u;
			else if (c == O_MAX_CONNS) p->max_conns = (unsigned)u;
			else if (c == O_MAX_MSGS) p->max_msgs = (unsigned)u;
			else if (c == O_MAX_RCPTS) p->max_rcpts = (unsigned)u;
			else p->max_sessions = (unsigned)u;
			break;
		case O_GREYLIST: p->greylist = true; break;
		case O_GREY_DELAY:
			if (!sl_parse_number(a, 86400 * 7, &p->greylist_delay))
				USAGE_ERR("--greylist-delay: expected seconds");
			break;
		case O_SHUTDOWN: p->shutdown = true; break;
		case O_GREET_DELAY:
			if (!sl_parse_number(a, 86400 * 7, &p->greeting_delay))
				USAGE_ERR("--greeting-delay: expected seconds");
			break;
		case O_EARLY: p->early_talker = true; break;
		case O_REQ_TLS: p->require_tls = true; break;
		case O_NO_TLS: p->no_tls = true; break;
		case O_TLS_FAIL:
			if (!strcmp(a, "refuse")) p->tls_fail = TLSF_REFUSE;
			else if (!strcmp(a, "abort")) p->tls_fail = TLSF_ABORT;
			else USAGE_ERR("--tls-fail: refuse or abort");
			break;
		case O_CERT:
		case O_KEY:
		case O_TLS_KEYLOG:
		case O_MAILDIR:
		case O_LOG: {
			char *dst = c == O_CERT ? p->cert : c == O_KEY ? p->key : c == O_TLS_KEYLOG ? p->tls_keylog :
			            c == O_MAILDIR ? p->maildir : p->log_path;
			if (strlen(a) >= sizeof(p->cert) || !a[0])
				USAGE_ERR("%s: bad path", argv[optind - 1]);
			snprintf(dst, sizeof(p->cert), "%s", a);
			break;
		}
		case O_JSON: p->json = true; break;
		case O_PROFILE: {
			/* in argv order: options after --profile override its knobs */
			int rc = profile_load(p, optarg, err, errlen);
			if (rc)
				return rc;
			break;
		}
		case O_QUIET: p->quiet = true; break;
		case O_HELP:
			return -1;
		case ':':
			USAGE_ERR("%s needs a value", argv[optind - 1]);
		default:
			USAGE_ERR("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		USAGE_ERR("unexpected argument '%s'", argv[optind]);
	if (!!p->cert[0] != !!p->key[0])
		USAGE_ERR("--cert and --key go together");
	if (p->require_tls && p->no_tls)
		USAGE_ERR("--require-tls and --no-tls contradict each other");
	if (p->require_auth && !p->n_users)
		USAGE_ERR("--require-auth needs --users FILE (without accounts no client could ever authenticate)");
	return 0;
}
