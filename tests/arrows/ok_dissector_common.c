/* Allowed: a dissector uses the shared vocabulary. Must build. */
#include "smtp_words.h"
#include "timeline.h"

int arrow_probe_ok(void);
int arrow_probe_ok(void) { return CMD__COUNT + EV__COUNT; }
