/*
 * client.h - the scripted SMTP client `reproduce` plays scenarios with:
 * blocking sockets with timeouts, a reply reader that survives EOF and RST,
 * a TLS handshake attempt for STARTTLS scenarios, and (reproduce --tls) a
 * dialog that goes on inside TLS after STARTTLS.
 */
#ifndef SLEUTH_CLIENT_H
#define SLEUTH_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define CL_BUF 4096

struct ssl_st;
struct ssl_ctx_st;

struct cl {
	int fd;
	struct ssl_st *ssl;             /* after cl_starttls: the dialog goes on inside TLS */
	struct ssl_ctx_st *ctx;
	unsigned local_port;   /* known even when the connect failed */
	size_t len;
	char buf[CL_BUF];
};

/* Connects with a timeout; 0 on success, else an errno (ECONNREFUSED ...). */
int cl_connect(struct cl *c, const struct sockaddr_storage *ss, socklen_t sl, double timeout);
/* Reads one reply (multi-line aware). Returns its code (100..599), 0 on EOF,
 * -1 on reset/timeout/garbage. */
int cl_reply(struct cl *c, double timeout);
/* Sends all bytes; false when the peer is gone. */
bool cl_send(struct cl *c, const void *p, size_t n);
/* Sends LINE CRLF and reads the reply; returns as cl_reply (or -1 when the
 * send failed). */
int cl_cmd(struct cl *c, const char *line);
/* Runs a TLS client handshake on the connection; true when it succeeded. */
bool cl_tls_handshake(struct cl *c);
/* STARTTLS, its 220, a TLS handshake, then EHLO again inside TLS; true
 * when all succeeded (cl_send and cl_reply then speak TLS). */
bool cl_starttls(struct cl *c, const char *ehlo);
/* Closes with FIN, or with RST when rst is true. */
void cl_close(struct cl *c, bool rst);

#endif
