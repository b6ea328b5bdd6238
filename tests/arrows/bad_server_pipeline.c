/* Forbidden: the server depending on the analyzer. Must not build. */
#include "pipeline.h"

int arrow_probe_bad(void);
int arrow_probe_bad(void) { return 0; }
