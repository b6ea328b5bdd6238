/*
 * common.h - small types shared by every stage of smtpsleuth.
 *
 * Time is carried as signed nanoseconds since the Unix epoch (int64_t), taken from
 * the capture records and never from the wall clock, so a capture analysed twice
 * gives the same verdicts. Addresses are stored in one 16-byte form for IPv4 and
 * IPv6 so a flow key has one shape.
 */
#ifndef SLEUTH_COMMON_H
#define SLEUTH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NS_PER_SEC  1000000000LL
#define NS_PER_MS   1000000LL
#define NS_PER_USEC 1000LL

typedef int64_t sl_time;    /* nanoseconds since the epoch */

/* An IPv4 address is stored in a[0..3], the rest zero; v says which. */
struct sl_addr {
	uint8_t v;              /* 4 or 6 */
	uint8_t a[16];
};

/* Direction of bytes or packets inside a flow, relative to its roles. */
enum sl_dir {
	DIR_C2S = 0,            /* client (SYN sender) to server */
	DIR_S2C = 1
};

#define SL_ADDRSTRLEN 46    /* INET6_ADDRSTRLEN */

/* Formats an address into buf (at least SL_ADDRSTRLEN bytes); returns buf. */
const char *sl_addr_str(const struct sl_addr *a, char *buf, size_t len);
/* Parses dotted IPv4 or IPv6 text; false when it is neither. */
bool sl_addr_parse(const char *s, struct sl_addr *out);
bool sl_addr_eq(const struct sl_addr *x, const struct sl_addr *y);
/* Formats a timestamp as ISO 8601 UTC with microseconds: 2024-01-31T12:00:00.123456Z */
const char *sl_time_str(sl_time t, char *buf, size_t len);

/* The monotonic clock, for timers and rates (never for packet times). */
double sl_mono_sec(void);
sl_time sl_mono_ns(void);

#define SL_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SL_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SL_MAX(a, b) ((a) > (b) ? (a) : (b))

#if defined(__GNUC__)
#define SL_LIKELY(x)   __builtin_expect(!!(x), 1)
#define SL_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define SL_LIKELY(x)   (x)
#define SL_UNLIKELY(x) (x)
#endif

/*
 * Copies at most n bytes of untrusted text into dst (size dstlen, always
 * NUL-terminated), replacing control bytes and bytes >= 0x7f that are not part
 * of valid UTF-8 with '?', so any text that reaches a report is printable.
 * Returns the number of bytes written (without the NUL).
 */
size_t sl_text_copy(char *dst, size_t dstlen, const uint8_t *src, size_t n);

/*
 * Decodes base64 (RFC 4648 alphabet) into out, stopping at the first '=' or
 * byte outside the alphabet, and at outlen. Returns the bytes written. *ok
 * says whether the input was well-formed and fit: alphabet bytes, then only
 * '=' padding, and no more than outlen bytes decoded. Used by the AUTH
 * dissector (which takes what it can) and the server (which wants *ok).
 */
size_t sl_b64_decode(const uint8_t *in, size_t n, uint8_t *out, size_t outlen, bool *ok);

#endif
