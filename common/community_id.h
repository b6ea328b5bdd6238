/*
 * community_id.h - the Community ID v1 flow hash (corelight/community-id-spec),
 * as Zeek and Suricata write it, so a session can be found in their logs.
 *
 * "1:" + base64(SHA-1(seed, lower address, higher address, protocol, 0,
 * lower port, higher port)), all in network byte order, the endpoint with
 * the smaller address (ties broken by the smaller port) first. The value does
 * not depend on which side is the client.
 */
#ifndef SLEUTH_COMMUNITY_ID_H
#define SLEUTH_COMMUNITY_ID_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

#define COMMUNITY_ID_DIGEST_LEN 20
/* "1:" + 28 base64 characters + NUL */
#define COMMUNITY_ID_STRLEN 31
#define COMMUNITY_ID_PROTO_TCP 6

/* The SHA-1 digest of the flow tuple. a and b must be of the same family.
 * Returns false when they are not, or when the hash cannot be computed. */
bool community_id_digest(uint16_t seed, uint8_t proto, const struct sl_addr *a, uint16_t aport,
			 const struct sl_addr *b, uint16_t bport, uint8_t digest[COMMUNITY_ID_DIGEST_LEN]);

/* The text form "1:...=" in out (at least COMMUNITY_ID_STRLEN bytes). On
 * failure out is "" and false is returned. */
bool community_id_v1(uint16_t seed, uint8_t proto, const struct sl_addr *a, uint16_t aport,
		     const struct sl_addr *b, uint16_t bport, char *out, size_t outlen);

/* The text form from a digest computed with community_id_digest(). */
void community_id_format(const uint8_t digest[COMMUNITY_ID_DIGEST_LEN], char *out, size_t outlen);

#endif
