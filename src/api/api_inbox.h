/*
 * api_inbox.h - handlers for notifications (inbox.c, CS-39): the member's
 * inbox and the operator's view of the mail outbox.
 */
#ifndef ENEMANE_API_API_INBOX_H
#define ENEMANE_API_API_INBOX_H

#include "api/api.h"

void api_me_inbox_list(struct api_ctx *c);
void api_me_inbox_read(struct api_ctx *c);
void api_op_outbox_list(struct api_ctx *c);

#endif
