/*
 * tu_replay.c - see tu_replay.h.
 */
#include "tu_replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session_view.h"
#include "sessions.h"
#include "source.h"

void (*tu_replay_hook)(const struct session_view *sv, const struct verdict *v);

static void on_session(void *ctx, const struct session_view *sv, struct summary *sum)
{
	struct tu_replay *o = ctx;
	(void)sum;
	if (o->n >= TU_REPLAY_MAX)
		return;
	struct tu_replayed *r = &o->s[o->n++];
	struct diag_config cfg;
	diag_config_default(&cfg);
	diagnose(sv, &cfg, &r->v);
	if (tu_replay_hook)
		tu_replay_hook(sv, &r->v);
	r->id = sv->fi->id;
	r->client_port = sv->fi->client_port;
	r->server_port = sv->fi->server_port;
	r->is_smtp = sv->smtp->is_smtp;
}

static int by_id(const void *a, const void *b)
{
	const struct tu_replayed *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

bool tu_replay_file(const char *path, struct tu_replay *out)
{
	memset(out, 0, sizeof(*out));
	char err[256] = "";
	struct source *src = source_open_file(path, err, sizeof(err));
	if (!src)
		return false;
	struct sessions_config cfg;
	sessions_config_default(&cfg);
	struct sessions *p = sessions_new(&cfg, on_session, out, err, sizeof(err));
	if (!p) {
		source_close(src);
		return false;
	}
	sessions_set_input(p, source_name(src));
	struct raw_packet raw;
	int rc;
	while ((rc = source_next(src, &raw, err, sizeof(err))) == 1)
		sessions_feed(p, &raw);
	if (rc < 0)
		snprintf(out->err, sizeof(out->err), "%s", err);
	sessions_finish(p);
	sessions_free(p);
	source_close(src);
	qsort(out->s, out->n, sizeof(out->s[0]), by_id);
	return true;
}

const struct tu_replayed *tu_replay_get(const struct tu_replay *r, uint16_t port, size_t nth)
{
	for (size_t i = 0; i < r->n; i++)
		if (!port || r->s[i].server_port == port) {
			if (!nth)
				return &r->s[i];
			nth--;
		}
	return NULL;
}
