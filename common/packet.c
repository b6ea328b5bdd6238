/*
 * packet.c - names of decode results, as the summary prints them.
 */
#include "packet.h"

const char *decode_result_name(enum decode_result r)
{
#define X(e, s) s,
	static const char *const names[] = { DECODE_RESULTS(X) };
#undef X
	return (unsigned)r < DEC__COUNT ? names[r] : "?";
}
