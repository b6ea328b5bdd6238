/*
 * tlsio.c - the server's TLS after STARTTLS (OpenSSL 3): the context, a
 * self-signed certificate made in memory when --cert/--key are not given, and
 * non-blocking handshake/read/write wrappers with read()/write()-like results.
 *
 * Invariants: every OpenSSL call here starts with an empty error queue
 * (ERR_clear_error) so SSL_get_error() speaks about that call only. An
 * unexpected EOF from the peer reads as EOF (SSL_OP_IGNORE_UNEXPECTED_EOF),
 * since SMTP clients often close without close_notify.
 *
 * --tls-keylog FILE: OpenSSL's key log callback appends each secret line (the
 * NSS format) to FILE, created 0600, opened once (O_APPEND, O_NOFOLLOW), each
 * line written with one write() so concurrent sessions do not interleave.
 * The lines are secrets: they go to that file only, never to a log.
 */
#include "srv.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

static void ssl_err(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];
	ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(err, errlen, "%s: %s", what, e ? buf : "failed");
}

/* A P-256 key and a one-year self-signed certificate for the hostname. */
static bool self_signed(SSL_CTX *ctx, const char *host, char *err, size_t errlen)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	bool ok = false;
	if (!pk || !x)
		goto out;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 365L * 86400);
	X509_set_pubkey(x, pk);
	X509_NAME *nm = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)host, -1, -1, 0);
	X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_ASC, (const unsigned char *)"smtpsleuth lab", -1, -1, 0);
	X509_set_issuer_name(x, nm);
	if (!X509_sign(x, pk, EVP_sha256()))
		goto out;
	ok = SSL_CTX_use_certificate(ctx, x) == 1 && SSL_CTX_use_PrivateKey(ctx, pk) == 1;
out:
	if (!ok)
		ssl_err(err, errlen, "self-signed certificate");
	X509_free(x);
	EVP_PKEY_free(pk);
	return ok;
}

/* The key log file of this process's server context; -1 when none. */
static int keylog_fd = -1;

static void keylog_line(const SSL *ssl, const char *line)
{
	(void)ssl;
	char buf[1024];
	size_t n = strnlen(line, sizeof(buf) - 1);
	if (keylog_fd < 0 || n == sizeof(buf) - 1)
		return;
	memcpy(buf, line, n);
	buf[n++] = '\n';
	ssize_t w = write(keylog_fd, buf, n);
	(void)w;                /* a full disk loses a key line, nothing else */
	OPENSSL_cleanse(buf, sizeof(buf));
}

struct ssl_ctx_st *tls_server_ctx(const struct policy *p, char *err, size_t errlen)
{
	ERR_clear_error();
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		ssl_err(err, errlen, "SSL_CTX_new");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	                      SSL_MODE_RELEASE_BUFFERS);
	bool ok;
	if (p->cert[0]) {
		ok = SSL_CTX_use_certificate_chain_file(ctx, p->cert) == 1 &&
		     SSL_CTX_use_PrivateKey_file(ctx, p->key, SSL_FILETYPE_PEM) == 1 &&
		     SSL_CTX_check_private_key(ctx) == 1;
		if (!ok)
			ssl_err(err, errlen, "--cert/--key");
	} else {
		ok = self_signed(ctx, p->hostname, err, errlen);
	}
	if (ok && p->tls_keylog[0]) {
		if (keylog_fd >= 0)
			close(keylog_fd);
		keylog_fd = open(p->tls_keylog, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (keylog_fd < 0) {
			snprintf(err, errlen, "--tls-keylog %s: %s", p->tls_keylog, strerror(errno));
			ok = false;
		} else {
			SSL_CTX_set_keylog_callback(ctx, keylog_line);
		}
	}
	if (!ok) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

void tls_ctx_free(struct ssl_ctx_st *ctx)
{
	SSL_CTX_free(ctx);
	if (ctx && keylog_fd >= 0) {
		close(keylog_fd);
		keylog_fd = -1;
	}
}

struct ssl_st *tls_session_new(struct ssl_ctx_st *ctx, int fd)
{
	if (!ctx)
		return NULL;
	ERR_clear_error();
	SSL *ssl = SSL_new(ctx);
	if (!ssl)
		return NULL;
	if (SSL_set_fd(ssl, fd) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_accept_state(ssl);
	return ssl;
}

/* Maps an SSL result to our convention; sets errno. */
static long ssl_result(SSL *ssl, int r, bool *want_write)
{
	int e = SSL_get_error(ssl, r);
	*want_write = false;
	switch (e) {
	case SSL_ERROR_WANT_READ:
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		*want_write = true;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		if (errno == 0)
			return 0;
		return -1;
	default:
		errno = EPROTO;
		return -1;
	}
}

int tls_handshake(struct ssl_st *ssl, bool *want_write)
{
	ERR_clear_error();
	int r = SSL_do_handshake(ssl);
	if (r == 1)
		return 1;
	errno = 0;
	long x = ssl_result(ssl, r, want_write);
	if (x < 0 && errno == EAGAIN)
		return 0;
	return -1;
}

long tls_read(struct ssl_st *ssl, void *buf, size_t len, bool *want_write)
{
	ERR_clear_error();
	errno = 0;
	int r = SSL_read(ssl, buf, (int)SRV_MIN(len, (size_t)1 << 30));
	if (r > 0)
		return r;
	return ssl_result(ssl, r, want_write);
}

long tls_write(struct ssl_st *ssl, const void *buf, size_t len, bool *want_write)
{
	ERR_clear_error();
	errno = 0;
	int r = SSL_write(ssl, buf, (int)SRV_MIN(len, (size_t)1 << 30));
	if (r > 0)
		return r;
	long x = ssl_result(ssl, r, want_write);
	if (x == 0) {
		errno = EPIPE;
		return -1;
	}
	return x;
}

void tls_session_free(struct ssl_st *ssl)
{
	SSL_free(ssl);
}
