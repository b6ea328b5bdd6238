/*
 * verdict.c - names of the verdict's enums, exactly as the contract in
 * DESIGN.md spells them, and the parser the CLI uses for --cause.
 *
 * Invariant: every enum value has a name; an out-of-range value gets "?"
 * rather than an out-of-bounds read.
 */
#include "verdict.h"

#include <string.h>

static const char *const cause_names[CAUSE__COUNT] = {
#define X(e, s) [e] = s,
	CAUSES(X)
#undef X
};

const char *cause_name(enum cause c)
{
	return (unsigned)c < CAUSE__COUNT ? cause_names[c] : "?";
}

bool cause_parse(const char *s, enum cause *out)
{
	if (!s)
		return false;
	for (unsigned i = 0; i < CAUSE__COUNT; i++) {
		if (strcmp(s, cause_names[i]) == 0) {
			*out = (enum cause)i;
			return true;
		}
	}
	return false;
}

const char *closed_by_name(enum closed_by b)
{
	switch (b) {
	case BY_CLIENT: return "client";
	case BY_SERVER: return "server";
	case BY_MIDDLEBOX: return "middlebox";
	case BY_NOBODY: return "nobody";
	}
	return "?";
}

const char *close_kind_name(enum close_kind k)
{
	switch (k) {
	case CLOSE_FIN: return "fin";
	case CLOSE_RST: return "rst";
	case CLOSE_NONE: return "none";
	}
	return "?";
}

const char *confidence_name(enum confidence c)
{
	switch (c) {
	case CONF_HIGH: return "high";
	case CONF_MEDIUM: return "medium";
	case CONF_LOW: return "low";
	}
	return "?";
}

/* The phase names belong to the SMTP dissector's X-macro; the reporters and
 * the diagnosis read them through this table so they do not depend on the
 * dissector's object file. */
static const char *const phase_names[PH__COUNT] = {
#define X(e, s) [e] = s,
	SMTP_PHASES(X)
#undef X
};

const char *verdict_phase_name(enum smtp_phase p)
{
	return (unsigned)p < PH__COUNT ? phase_names[p] : "?";
}

static const char *const cmd_names[CMD__COUNT] = {
#define X(e, s) [e] = s,
	SMTP_COMMANDS(X)
#undef X
};

const char *verdict_cmd_name(enum smtp_cmd c)
{
	if ((unsigned)c >= CMD__COUNT)
		return "?";
	return c == CMD_NONE ? "(nothing)" : cmd_names[c];
}
