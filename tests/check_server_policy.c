/*
 * check_server_policy.c - the bundled server's option parsing and policy
 * questions: ADDR:PORT and CIDR parsing (IPv4, IPv6, IPv4-mapped peers),
 * allow/deny precedence, local recipient domains, the users file, and usage
 * errors for bad values.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv.h"
#include "testutil.h"

static struct sockaddr_storage addr(const char *ip)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		ck_assert_int_eq(inet_pton(AF_INET6, ip, &in6->sin6_addr), 1);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		ck_assert_int_eq(inet_pton(AF_INET, ip, &in->sin_addr), 1);
	}
	return ss;
}

static int parse(struct policy *p, const char *args)
{
	char buf[8192], err[2048];
	char *argv[256];
	int argc = 0;
	snprintf(buf, sizeof(buf), "serve %s", args);
	for (char *t = strtok(buf, " "); t && argc < 255; t = strtok(NULL, " "))
		argv[argc++] = t;
	argv[argc] = NULL;
	policy_defaults(p);
	return policy_parse(p, argc, argv, err, sizeof(err));
}

START_TEST(hostport)
{
	struct sockaddr_storage ss;
	socklen_t l;
	ck_assert(parse_hostport("127.0.0.1:2525", &ss, &l));
	ck_assert_int_eq(ss.ss_family, AF_INET);
	ck_assert_int_eq(ntohs(((struct sockaddr_in *)&ss)->sin_port), 2525);
	ck_assert(parse_hostport("[::1]:25", &ss, &l));
	ck_assert_int_eq(ss.ss_family, AF_INET6);
	ck_assert_int_eq(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 25);
	ck_assert(!parse_hostport("::1:25", &ss, &l));      /* v6 needs brackets */
	ck_assert(!parse_hostport("127.0.0.1:65536", &ss, &l));
	ck_assert(!parse_hostport("127.0.0.1:", &ss, &l));
	ck_assert(!parse_hostport("localhost:25", &ss, &l));
	ck_assert(!parse_hostport("[::1]25", &ss, &l));
}
END_TEST

START_TEST(cidr)
{
	struct cidr c;
	struct sockaddr_storage a;
	ck_assert(cidr_parse("10.1.0.0/16", &c));
	a = addr("10.1.200.3");
	ck_assert(cidr_match(&c, &a));
	a = addr("10.2.0.1");
	ck_assert(!cidr_match(&c, &a));
	a = addr("::ffff:10.1.2.3");
	ck_assert(cidr_match(&c, &a));                       /* IPv4-mapped peer */
	ck_assert(cidr_parse("192.0.2.7", &c));              /* no prefix: host */
	a = addr("192.0.2.7");
	ck_assert(cidr_match(&c, &a));
	a = addr("192.0.2.6");
	ck_assert(!cidr_match(&c, &a));
	ck_assert(cidr_parse("2001:db8::/33", &c));
	a = addr("2001:db8:7fff::1");
	ck_assert(cidr_match(&c, &a));
	a = addr("2001:db8:8000::1");
	ck_assert(!cidr_match(&c, &a));
	a = addr("10.1.2.3");
	ck_assert(!cidr_match(&c, &a));                      /* family mismatch */
	ck_assert(cidr_parse("0.0.0.0/0", &c));
	a = addr("203.0.113.9");
	ck_assert(cidr_match(&c, &a));
	ck_assert(!cidr_parse("10.0.0.0/33", &c));
	ck_assert(!cidr_parse("::/129", &c));
	ck_assert(!cidr_parse("10.0.0.0/", &c));
	ck_assert(!cidr_parse("10.0.0.0/-1", &c));
	ck_assert(!cidr_parse("example.org/8", &c));
}
END_TEST

START_TEST(allow_deny)
{
	struct policy *p = calloc(1, sizeof(*p));
	struct sockaddr_storage a;
	ck_assert_int_eq(parse(p, "--deny 10.0.0.0/8 --deny 2001:db8::/32"), 0);
	a = addr("10.9.9.9");
	ck_assert(!policy_addr_allowed(p, &a));
	a = addr("2001:db8::5");
	ck_assert(!policy_addr_allowed(p, &a));
	a = addr("192.0.2.1");
	ck_assert(policy_addr_allowed(p, &a));
	ck_assert_int_eq(parse(p, "--deny 10.0.0.0/8 --allow 10.1.0.0/16"), 0);
	a = addr("10.1.0.9");
	ck_assert(policy_addr_allowed(p, &a));              /* allow wins */
	a = addr("192.0.2.1");
	ck_assert(!policy_addr_allowed(p, &a));             /* allow list is exclusive */
	free(p);
}
END_TEST

START_TEST(relay_domains)
{
	struct policy *p = calloc(1, sizeof(*p));
	ck_assert_int_eq(parse(p, ""), 0);
	ck_assert(policy_rcpt_local(p, "x@anywhere.test", 15));   /* no list: all local */
	ck_assert_int_eq(parse(p, "--relay-domain example.org --relay-domain b.test"), 0);
	ck_assert(policy_rcpt_local(p, "bob@Example.ORG", 15));
	ck_assert(policy_rcpt_local(p, "x@b.test", 8));
	ck_assert(!policy_rcpt_local(p, "bob@example.org.evil.test", 25));
	ck_assert(!policy_rcpt_local(p, "bob@sub.example.org", 19));
	ck_assert(!policy_rcpt_local(p, "a@example.org@evil.test", 23));  /* last @ decides */
	ck_assert(policy_rcpt_local(p, "postmaster", 10));
	free(p);
}
END_TEST

START_TEST(users_file)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/users", tu_tmpdir());
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("# lab users\nalice:correct horse\r\nbob:b:colon\n\n", f);
	fclose(f);
	struct policy *p = calloc(1, sizeof(*p));
	char args[600];
	snprintf(args, sizeof(args), "--users %s", path);
	ck_assert_int_eq(parse(p, args), 0);
	ck_assert_uint_eq(p->n_users, 2);
	ck_assert(policy_check_user(p, "alice", "correct horse"));
	ck_assert(!policy_check_user(p, "alice", "correct hors"));
	ck_assert(!policy_check_user(p, "alice", "correct horse!"));
	ck_assert(policy_check_user(p, "bob", "b:colon"));
	ck_assert(!policy_check_user(p, "carol", ""));
	policy_free(p);
	snprintf(args, sizeof(args), "--users %s/missing", tu_tmpdir());
	ck_assert_int_eq(parse(p, args), 1);                /* runtime error */
	policy_free(p);
	f = fopen(path, "w");
	fputs("no-colon-here\n", f);
	fclose(f);
	snprintf(args, sizeof(args), "--users %s", path);
	ck_assert_int_eq(parse(p, args), 1);
	policy_free(p);
	free(p);
}
END_TEST

START_TEST(values)
{
	struct policy *p = calloc(1, sizeof(*p));
	ck_assert_int_eq(parse(p, "--idle-timeout 0.5 --idle-action close --max-size 1000 "
	                          "--size-action reset --deny-action close --tls-fail abort "
	                          "--max-errors 3 --max-conn-per-ip 2 --greylist --json"), 0);
	ck_assert(p->idle_timeout > 0.49 && p->idle_timeout < 0.51);
	ck_assert_int_eq(p->idle_action, IDLE_CLOSE);
	ck_assert_uint_eq(p->max_size, 1000);
	ck_assert_int_eq(p->size_action, SIZE_RESET);
	ck_assert_int_eq(p->deny_action, DENY_CLOSE);
	ck_assert_int_eq(p->tls_fail, TLSF_ABORT);
	ck_assert_uint_eq(p->max_errors, 3);
	ck_assert_uint_eq(p->max_conn_per_ip, 2);
	ck_assert(p->greylist && p->json);
	/* defaults: safe and permissive */
	ck_assert_int_eq(parse(p, ""), 0);
	ck_assert_uint_eq(p->max_size, 0);
	ck_assert(!p->require_auth && !p->require_tls && !p->n_deny && !p->n_relay);
	ck_assert_int_eq(((struct sockaddr_in *)&p->listen)->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	/* usage errors */
	ck_assert_int_eq(parse(p, "--max-size -5"), 2);
	ck_assert_int_eq(parse(p, "--max-size 12abc"), 2);
	ck_assert_int_eq(parse(p, "--idle-timeout nan"), 2);
	ck_assert_int_eq(parse(p, "--idle-timeout 0"), 2);
	ck_assert_int_eq(parse(p, "--size-action drop"), 2);
	ck_assert_int_eq(parse(p, "--deny 300.0.0.1"), 2);
	ck_assert_int_eq(parse(p, "--max-errors 0"), 2);
	ck_assert_int_eq(parse(p, "--listen nowhere"), 2);
	ck_assert_int_eq(parse(p, "--bogus"), 2);
	ck_assert_int_eq(parse(p, "--max-size"), 2);
	ck_assert_int_eq(parse(p, "--cert only.pem"), 2);
	ck_assert_int_eq(parse(p, "--require-tls --no-tls"), 2);
	ck_assert_int_eq(parse(p, "stray"), 2);
	free(p);
}
END_TEST

START_TEST(cidr_cap)
{
	struct policy *p = calloc(1, sizeof(*p));
	char args[4096] = "";
	size_t k = 0;
	for (int i = 0; i <= SRV_MAX_CIDR; i++)
		k += (size_t)snprintf(args + k, sizeof(args) - k, "--deny 10.0.%d.0/24 ", i);
	ck_assert_int_eq(parse(p, args), 2);                /* over the cap: refused, not truncated */
	free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("server_policy");
	TCase *t = tcase_create("Parsing");
	tcase_add_test(t, hostport);
	tcase_add_test(t, cidr);
	tcase_add_test(t, values);
	tcase_add_test(t, cidr_cap);
	suite_add_tcase(s, t);
	t = tcase_create("Policy");
	tcase_add_test(t, allow_deny);
	tcase_add_test(t, relay_domains);
	tcase_add_test(t, users_file);
	suite_add_tcase(s, t);
	return tu_run(s);
}
