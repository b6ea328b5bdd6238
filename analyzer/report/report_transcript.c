/*
 * report_transcript.c - --transcript: a session's dialog in time order,
 * relative times, C:/S: marks for the two sides, TCP and TLS events in
 * between, bodies abbreviated to their size.
 *
 * Secrets: the timeline never holds AUTH credentials (the dissector masks
 * them); this writer masks an AUTH initial response again anyway, so a
 * producer's slip cannot print a password.
 */
#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "report_int.h"

void report_mask_command(const char *in, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s", in);
	if (strncasecmp(in, "AUTH ", 5) != 0)
		return;
	/* AUTH <mechanism> [initial-response]: keep the verb and mechanism. */
	const char *mech = in + 5;
	while (*mech == ' ')
		mech++;
	size_t ml = strcspn(mech, " ");
	const char *rest = mech + ml;
	while (*rest == ' ')
		rest++;
	if (*rest && strcmp(rest, "********") != 0)
		snprintf(out, outlen, "AUTH %.*s ********", (int)ml, mech);
}

void report_transcript_session(struct reporter *r, const struct session_view *s, const struct verdict *v)
{
	FILE *f = r->o.out;
	const struct flow_info *fi = s->fi;
	const struct timeline *tl = s->tl;
	char ca[SL_ADDRSTRLEN], sa[SL_ADDRSTRLEN], rel[32], line[EV_TEXT_MAX + 16];
	fprintf(f, "=== session %" PRIu64 "  %s:%u -> %s:%u  %s  verdict %s\n", s->id,
		sl_addr_str(&fi->client, ca, sizeof(ca)), fi->client_port,
		sl_addr_str(&fi->server, sa, sizeof(sa)), fi->server_port,
		s->protocol ? s->protocol : "Unknown", cause_name(v->cause));
	if (!tl)
		return;
	sl_time data_start = 0;
	for (uint32_t i = 0; i < tl_count(tl); i++) {
		if (i == TL_HEAD_KEEP && tl->dropped)
			fprintf(f, "          ... %" PRIu64 " events omitted ...\n", tl->dropped);
		const struct event *e = tl_at(tl, i);
		const char *who = e->dir == DIR_C2S ? "C" : "S";
		report_rel_time(e->ts, fi->first_ts, rel, sizeof(rel));
		switch ((enum ev_kind)e->kind) {
		case EV_COMMAND:
			report_mask_command(e->text, line, sizeof(line));
			fprintf(f, "%10s  C: %s\n", rel, line);
			break;
		case EV_GREETING:
		case EV_REPLY:
			if (e->code)
				fprintf(f, "%10s  S: %u%s%s %s%s\n", rel, e->code, e->enhanced[0] ? " " : "", e->enhanced,
					e->text, e->num > 1 ? " [multi-line]" : "");
			else
				fprintf(f, "%10s  S: %s [no reply code]\n", rel, e->text);
			break;
		case EV_REPLY_UNPAIRED:
			fprintf(f, "%10s  S: %u%s%s %s [unpaired reply]\n", rel, e->code, e->enhanced[0] ? " " : "",
				e->enhanced, e->text);
			break;
		case EV_DATA_START:
			data_start = e->ts;
			fprintf(f, "%10s  C: [body starts]\n", rel);
			break;
		case EV_DATA_END:
			fprintf(f, "%10s  C: [body: %" PRIu64 " bytes%s] .\n", rel, e->num,
				data_start ? "" : ", start not seen");
			data_start = 0;
			break;
		case EV_BDAT:
			fprintf(f, "%10s  C: [BDAT chunk: %" PRIu64 " bytes%s]\n", rel, e->num, e->code == 1 ? ", LAST" : "");
			break;
		case EV_AUTH:
			report_mask_command(e->text, line, sizeof(line));
			fprintf(f, "%10s  C: [auth %s]\n", rel, line);
			break;
		case EV_AUTH_RESULT:
			fprintf(f, "%10s  -- auth %s (%u)\n", rel, e->text, e->code);
			break;
		case EV_NOCODE_LINE:
			fprintf(f, "%10s  %s  [note " NOCODE_NOTE_PREFIX "%s] #%" PRIu64 "\n", rel, who, e->text, e->frame);
			break;
		default:
			fprintf(f, "%10s  %s  [%s%s%s]", rel, who, ev_kind_name((enum ev_kind)e->kind), e->text[0] ? " " : "", e->text);
			if (e->kind == EV_GAP || e->kind == EV_RETRANSMISSION || e->kind == EV_TLS_APPDATA)
				fprintf(f, " %" PRIu64 " bytes", e->num);
			fprintf(f, " #%" PRIu64 "\n", e->frame);
			break;
		}
	}
	if (tl->oom)
		fprintf(f, "          ... later events not kept (out of memory) ...\n");
}
