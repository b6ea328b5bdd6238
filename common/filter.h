/*
 * filter.h - what a user can narrow an analysis to, as tcpdump and tshark
 * users expect: address blocks (--host ADDR or ADDR/BITS), time windows
 * (--since/--until, ISO 8601 or epoch seconds). The BPF expression (-f) is
 * compiled per capture file by the source (source_set_filter), since it
 * depends on the file's link type.
 */
#ifndef SLEUTH_FILTER_H
#define SLEUTH_FILTER_H

#include "common.h"

/* An address block: bits = 32 (IPv4) or 128 (IPv6) for one address. */
struct sl_cidr {
	struct sl_addr net;
	uint8_t bits;
};

/* "192.0.2.7", "192.0.2.0/24", "2001:db8::/32". Host bits past the prefix
 * are ignored (192.0.2.7/24 is 192.0.2.0/24), as tcpdump's "net" does. */
bool sl_cidr_parse(const char *s, struct sl_cidr *out);
bool sl_cidr_match(const struct sl_cidr *c, const struct sl_addr *a);

/* A point in time: epoch seconds ("1700000000", "1700000000.25") or ISO 8601
 * UTC ("2023-11-14T22:13:20Z", "2023-11-14 22:13:20", fractional seconds and
 * "+HH:MM" offsets allowed, a date alone meaning midnight UTC). */
bool time_parse(const char *s, sl_time *out);

#endif
