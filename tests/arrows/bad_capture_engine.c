/* Forbidden: a capture source depending on the engine. Must not build. */
#include "engine.h"

int arrow_probe_bad(void);
int arrow_probe_bad(void) { return 0; }
