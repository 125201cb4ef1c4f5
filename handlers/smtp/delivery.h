/* delivery: one message written once into the first local mailbox's tmp/
 * (with the trace headers in front), cloned into every other local mailbox
 * of the transaction, and — when the transaction has remote recipients —
 * written into the queue too (lib/queue.h); then committed into every
 * new/ and the queue — or into none: a failure at any step removes the
 * copies already committed. After a commit that queued something, a queue
 * runner is started (queue_kick). */
#ifndef POSTERN_SMTP_DELIVERY_H
#define POSTERN_SMTP_DELIVERY_H

#include <stddef.h>

#include "session.h"

struct smtp_delivery;

/* Open the tmp file in the first local mailbox of the transaction and/or
 * the queue file, and write the trace headers (Return-Path only for the
 * local copies; Received with message id ID for all). NULL on failure
 * (logged, *err_r = errno). */
struct smtp_delivery *smtp_delivery_open(const struct smtp_session *s, const char *id, int *err_r);

/* Append content (an smtp_dot sink: ctx is the delivery). */
void smtp_delivery_write(void *ctx, const void *buf, size_t len);

/* Make the message visible in every mailbox and the queue, each copy
 * fsync'd, or in none. More than HOP_COUNT_MAX Received: fields queue the
 * remote recipients as failed (the runner bounces them: a mail loop).
 * Returns 0 or -1 (logged, *err_r = errno of the failure). Frees dl. */
int smtp_delivery_commit(struct smtp_delivery *dl, const struct smtp_session *s, int *err_r);

/* Throw the message away (any state). Frees dl. */
void smtp_delivery_abort(struct smtp_delivery *dl);

#endif
