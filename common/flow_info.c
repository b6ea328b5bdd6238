/*
 * flow_info.c - names of the reasons a flow ended.
 */
#include "flow_info.h"

const char *flow_end_name(enum flow_end e)
{
#define X(en, s) s,
	static const char *const names[] = { FLOW_ENDS(X) };
#undef X
	return (unsigned)e < END__COUNT ? names[e] : "?";
}
