/*
 * tu_script.h - a tu_dialog session written as text, one step per line, so
 * the diagnosis runners state each case as a row (the wire as it was, the
 * verdict wanted) instead of repeating the same dozen helper calls:
 *
 *     open                     handshake, 50 ms, "220 mx.example.net ESMTP", 10 ms
 *     ehlo PIPELINING SIZE 10  dl_ehlo (the words are the extensions)
 *     C MAIL FROM:<a@b>        a client line (dl_cmd)
 *     R 250 2.1.0 Ok           a reply (dl_reply); "-" for no enhanced code
 *     S 4.7.0 [x] deferred     a server line sent as is (dl_sline)
 *     greet 554 5.7.1 text     the greeting alone (dl_greet)
 *     mail MAIL FROM:<a@b>     that MAIL, RCPT and DATA, each accepted, to the 354
 *     body 931 | body 500 cut  n body bytes, then "." (or not: cut)
 *     fin c2s | rst s2c [ttl] | ack c2s | retrans c2s N
 *     init | handshake | syn | synack | refuse | other
 *     tls-ch | tls-sh | tls-alert DIR LEVEL DESC | tls-data DIR N
 *     wait 0.2                 seconds pass
 *
 * A step written "!step" marks its frame: the verdict must cite it. Script
 * errors (an unknown step, a missing argument) fail the test that ran it.
 */
#ifndef SLEUTH_TU_SCRIPT_H
#define SLEUTH_TU_SCRIPT_H

#include <stdint.h>

#include "tu_dialog.h"

#define SCRIPT_MAX_MARKS 8

struct script_marks {
	uint64_t frame[SCRIPT_MAX_MARKS];
	unsigned n;
};

/* Runs every step of script on t (which dl_init has set up unless the
 * script starts with "open" or "init"); the marked frames go to marks. */
void dl_script(struct dl *t, const char *script, struct script_marks *marks);

#endif
