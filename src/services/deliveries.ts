/**
 * The account's side of a webhook delivery attempt (its rows; the signed POST is the queue
 * consumer's, src/jobs/webhook.ts): claiming the attempt and recording what happened.
 */
import { and, eq, isNull } from "drizzle-orm";
import { claimAttemptRow } from "../db/attempts";
import type { Db } from "../db/client";
import { type Webhook, type WebhookDelivery, webhookDeliveries, webhookEvents, webhooks } from "../db/schema";
import { MINUTE } from "../lib/clock";
import { WEBHOOK_DISABLE_AFTER_MS } from "../lib/values";
import { enqueue } from "../queue/messages";

/** An attempt claimed longer ago than this belongs to a consumer that died; it may be made again. */
export const STALE_ATTEMPT = 2 * MINUTE;
export const GONE_REASON = "The endpoint answered 410 Gone: deliveries stopped. Enable it again to resume.";
export const FAILING_REASON = "Every delivery attempt failed for 5 days. Enable it again to resume.";

export type AttemptClaim =
  | { claimed: WebhookDelivery; webhook: Webhook; body: string }
  | { busy: true }
  | { done: true };

/**
 * Claims attempt `n` of a delivery: its `attempts` moves to `n`, so a redelivered message for
 * an attempt already made sends nothing (at least once, and normally exactly once). An
 * attempt whose consumer died (claimed, never recorded) may be made again after
 * STALE_ATTEMPT. `busy` when it is in flight elsewhere (the message should come back later).
 */
export async function claimAttempt(db: Db, deliveryId: string, n: number, now: number): Promise<AttemptClaim> {
  const claim = await claimAttemptRow(db, webhookDeliveries, deliveryId, n, now, STALE_ATTEMPT);
  if (!("claimed" in claim)) return claim;
  const { claimed } = claim;
  const found = await db
    .select({ webhook: webhooks, body: webhookEvents.body })
    .from(webhooks)
    .innerJoin(webhookEvents, eq(webhookEvents.id, claimed.eventId))
    .where(eq(webhooks.id, claimed.webhookId))
    .get();
  if (!found) return { done: true }; // deleted meanwhile (its deliveries went with it)
  if (!found.webhook.enabled) {
    await record(db, claimed, { status: "failed", lastError: "The webhook is disabled", nextAttemptAt: null }, now);
    return { done: true };
  }
  return { claimed, webhook: found.webhook, body: found.body };
}

/** What one attempt came to. */
export type AttemptOutcome =
  | { ok: true; status: number; durationMs: number }
  | { ok: false; status: number | null; error: string; durationMs: number | null };

/**
 * Records an attempt over its own claim: delivered; failed for good (410 disables the
 * endpoint, and so do 5 days of failures); or pending, with the next attempt's message sent
 * (delayed by `retryInSeconds`; null: that was the last attempt) before the result is
 * recorded — if recording fails, that message waits for the claim to go stale.
 */
export async function recordAttempt(
  db: Db,
  queue: Queue,
  accountId: string,
  claimed: WebhookDelivery,
  outcome: AttemptOutcome,
  retryInSeconds: number | null,
  now: number,
): Promise<"delivered" | "failed" | "retry"> {
  const webhook = await db.select().from(webhooks).where(eq(webhooks.id, claimed.webhookId)).get();
  if (outcome.ok) {
    await record(
      db,
      claimed,
      {
        status: "delivered",
        lastStatusCode: outcome.status,
        lastError: null,
        durationMs: outcome.durationMs,
        nextAttemptAt: null,
      },
      now,
    );
    if (webhook && webhook.failingSince !== null)
      await db.update(webhooks).set({ failingSince: null }).where(eq(webhooks.id, webhook.id));
    return "delivered";
  }
  const failed = { lastStatusCode: outcome.status, lastError: outcome.error, durationMs: outcome.durationMs };
  const disable = (reason: string) =>
    db
      .update(webhooks)
      .set({ enabled: false, disabledReason: reason, updatedAt: now })
      .where(and(eq(webhooks.id, claimed.webhookId), eq(webhooks.enabled, true)));
  if (outcome.status === 410) {
    await record(db, claimed, { ...failed, status: "failed", nextAttemptAt: null }, now);
    await disable(GONE_REASON);
    return "failed";
  }
  const failingSince = webhook?.failingSince ?? now;
  if (now - failingSince >= WEBHOOK_DISABLE_AFTER_MS) {
    await record(db, claimed, { ...failed, status: "failed", nextAttemptAt: null }, now);
    await disable(FAILING_REASON);
    return "failed";
  }
  if (webhook && webhook.failingSince === null)
    await db
      .update(webhooks)
      .set({ failingSince: now })
      .where(and(eq(webhooks.id, webhook.id), isNull(webhooks.failingSince)));
  if (retryInSeconds === null) {
    await record(db, claimed, { ...failed, status: "failed", nextAttemptAt: null }, now);
    return "failed";
  }
  const next = {
    type: "webhook" as const,
    delivery_id: claimed.id,
    account_id: accountId,
    attempt: claimed.attempts + 1,
  };
  await enqueue(queue, next, retryInSeconds);
  await record(db, claimed, { ...failed, status: "pending", nextAttemptAt: now + retryInSeconds * 1000 }, now);
  return "retry";
}

/** Writes an attempt's result, only over this attempt's own claim. */
async function record(db: Db, claimed: WebhookDelivery, set: Partial<WebhookDelivery>, now: number) {
  await db
    .update(webhookDeliveries)
    .set({ ...set, claimedAt: null, updatedAt: now })
    .where(
      and(
        eq(webhookDeliveries.id, claimed.id),
        eq(webhookDeliveries.attempts, claimed.attempts),
        eq(webhookDeliveries.claimedAt, claimed.claimedAt as number),
      ),
    );
}

/** Dead-lettered (the consumer itself kept failing): the delivery ends `failed`. */
export async function deliveryGaveUp(db: Db, deliveryId: string, now: number) {
  await db
    .update(webhookDeliveries)
    .set({ status: "failed", lastError: "The delivery could not be processed", claimedAt: null, updatedAt: now })
    .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.status, "pending")));
}
