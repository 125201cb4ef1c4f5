/* delivery: one message written once into the first mailbox's tmp/ (with
 * the trace headers in front), cloned into every other mailbox of the
 * transaction, then committed into every new/ — or into none: a failure
 * at any step removes the copies already committed. */
#ifndef POSTERN_SMTP_DELIVERY_H
#define POSTERN_SMTP_DELIVERY_H

#include <stddef.h>

#include "session.h"

struct smtp_delivery;

/* Open the tmp file in the first mailbox of the transaction and write
 * Return-Path and Received (with message id ID). NULL on failure
 * (logged, *err_r = errno). */
struct smtp_delivery *smtp_delivery_open(const struct smtp_session *s, const char *id, int *err_r);

/* Append content (an smtp_dot sink: ctx is the delivery). */
void smtp_delivery_write(void *ctx, const void *buf, size_t len);

/* Make the message visible in every mailbox, each copy fsync'd, or in none.
 * Returns 0 or -1 (logged, *err_r = errno of the failure). Frees dl. */
int smtp_delivery_commit(struct smtp_delivery *dl, const struct smtp_session *s, int *err_r);

/* Throw the message away (any state). Frees dl. */
void smtp_delivery_abort(struct smtp_delivery *dl);

#endif
