/* Forbidden: a dissector reaching for packets and flows. Must not build. */
#include "engine.h"

int arrow_probe_bad(void);
int arrow_probe_bad(void) { return 0; }
