/* Forbidden: a reporter reaching into the session glue. Must not build. */
#include "sessions.h"

int arrow_probe_bad(void);
int arrow_probe_bad(void) { return 0; }
