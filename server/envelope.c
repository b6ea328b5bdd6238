/*
 * envelope.c - what the session log says of the mail itself: the sender,
 * the first recipient accepted and how many, the size of the last message
 * and its queue id, and the AUTH user tried (set by auth.c; the password
 * is never kept). The transaction's own fields are reset after each message
 * (txn_reset), so they are copied here as the dialog goes. Addresses were
 * already made printable without quotes when stored (sess_safe_copy).
 */
#include "srv.h"

#include <stdio.h>
#include <string.h>

void env_after_command(struct session *ss)
{
	if (ss->in_mail && ss->mail_from[0] && strcmp(ss->env_from, ss->mail_from)) {
		memcpy(ss->env_from, ss->mail_from, sizeof(ss->env_from));
		ss->env_rcpt[0] = 0;
		ss->env_rcpts = 0;
	}
	if (ss->in_mail && ss->n_rcpt) {
		if (!ss->env_rcpt[0])
			memcpy(ss->env_rcpt, ss->rcpt0, sizeof(ss->env_rcpt));
		ss->env_rcpts = ss->n_rcpt;
	}
}

void env_message_end(struct session *ss, uint64_t body_bytes, bool accepted)
{
	ss->env_size = body_bytes;
	if (accepted)
		snprintf(ss->queue_id, sizeof(ss->queue_id), "S%lluM%u", (unsigned long long)ss->id, ss->n_msgs);
}
