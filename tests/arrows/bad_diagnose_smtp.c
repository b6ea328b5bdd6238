/* Forbidden: the diagnosis reaching into a dissector. Must not build. */
#include "smtp.h"

int arrow_probe_bad(void);
int arrow_probe_bad(void) { return 0; }
