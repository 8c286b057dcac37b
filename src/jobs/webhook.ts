import { and, eq, isNull, lt, or } from "drizzle-orm";
import { describeError } from "../capture/errors";
import type { GuardPolicy } from "../capture/url-guard";
import { config, guardPolicy } from "../config";
import type { Db } from "../db/client";
import { type Webhook, type WebhookDelivery, webhookDeliveries, webhookEvents, webhooks } from "../db/schema";
import { MINUTE } from "../lib/clock";
import { WEBHOOK_DISABLE_AFTER_MS, WEBHOOK_RETRY_DELAYS_S, WEBHOOK_TIMEOUT_MS } from "../lib/values";
import { enqueue, type JobOf } from "../queue/messages";
import { checkWebhookUrl, signedHeaders, signingSecrets } from "../services/webhooks";

export interface WebhookWork {
  message: Message<unknown>;
  job: JobOf<"webhook">;
}

/** An attempt claimed longer ago than this belongs to a consumer that died; it may be made again. */
export const STALE_ATTEMPT = 2 * MINUTE;
/** The longest wait between attempts; a receiver's `Retry-After` is honoured up to it. */
export const MAX_RETRY_DELAY_S = WEBHOOK_RETRY_DELAYS_S[WEBHOOK_RETRY_DELAYS_S.length - 1] as number;
export const GONE_REASON = "The endpoint answered 410 Gone: deliveries stopped. Enable it again to resume.";
export const FAILING_REASON = "Every delivery attempt failed for 5 days. Enable it again to resume.";

/**
 * Seconds before the attempt after attempt `n` (1-based) failed, or null when that was the
 * last one. The schedule's delay, or the receiver's `Retry-After` when it asks for longer,
 * up to the schedule's longest delay (10 h).
 */
export function retryDelay(n: number, retryAfterSeconds: number | null): number | null {
  const scheduled = WEBHOOK_RETRY_DELAYS_S[n - 1];
  if (scheduled === undefined) return null;
  return Math.max(scheduled, Math.min(retryAfterSeconds ?? 0, MAX_RETRY_DELAY_S));
}

/** `Retry-After` as seconds from `now`: delay-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

type Outcome =
  | { ok: true; status: number; durationMs: number }
  | { ok: false; status: number | null; error: string; durationMs: number | null; retryAfter: number | null };

export interface DeliveryOptions {
  policy?: GuardPolicy;
  timeoutMs?: number;
}

/**
 * One attempt of one delivery. The message names the attempt it makes; claiming it moves
 * the delivery's `attempts` to that number, so a redelivered message for an attempt already
 * made sends nothing (at least once, and normally exactly once). An attempt whose consumer
 * died (claimed, never recorded) is made again after STALE_ATTEMPT. Returns `busy` when the
 * attempt is in flight elsewhere (the message should come back later).
 */
export async function deliverWebhook(
  env: Env,
  db: Db,
  job: JobOf<"webhook">,
  now: () => number,
  options: DeliveryOptions = {},
): Promise<"done" | "busy"> {
  const n = job.attempt;
  const start = now();
  const stale = start - STALE_ATTEMPT;
  const [claimed] = await db
    .update(webhookDeliveries)
    .set({ attempts: n, claimedAt: start, updatedAt: start })
    .where(
      and(
        eq(webhookDeliveries.id, job.delivery_id),
        eq(webhookDeliveries.accountId, job.account_id),
        eq(webhookDeliveries.status, "pending"),
        or(
          and(
            eq(webhookDeliveries.attempts, n - 1),
            or(isNull(webhookDeliveries.claimedAt), lt(webhookDeliveries.claimedAt, stale)),
          ),
          and(eq(webhookDeliveries.attempts, n), lt(webhookDeliveries.claimedAt, stale)),
        ),
      ),
    )
    .returning();
  if (!claimed) {
    const row = await db
      .select({ attempts: webhookDeliveries.attempts, claimedAt: webhookDeliveries.claimedAt })
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.id, job.delivery_id))
      .get();
    // Finished, deleted, or this attempt made already: nothing to do. In flight elsewhere: later.
    return row && row.claimedAt !== null && (row.attempts === n || row.attempts === n - 1) ? "busy" : "done";
  }

  const found = await db
    .select({ webhook: webhooks, body: webhookEvents.body })
    .from(webhooks)
    .innerJoin(webhookEvents, eq(webhookEvents.id, claimed.eventId))
    .where(eq(webhooks.id, claimed.webhookId))
    .get();
  if (!found) return "done"; // deleted meanwhile (its deliveries went with it)
  const { webhook, body } = found;
  if (!webhook.enabled) {
    await record(db, claimed, { status: "failed", lastError: "The webhook is disabled", nextAttemptAt: null }, now());
    return "done";
  }

  const outcome = await attempt(env, webhook, claimed.eventId, body, now(), options);
  const at = now();
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
      at,
    );
    if (webhook.failingSince !== null)
      await db.update(webhooks).set({ failingSince: null }).where(eq(webhooks.id, webhook.id));
    return "done";
  }

  const failed = { lastStatusCode: outcome.status, lastError: outcome.error, durationMs: outcome.durationMs };
  const disable = (reason: string) =>
    db
      .update(webhooks)
      .set({ enabled: false, disabledReason: reason, updatedAt: at })
      .where(and(eq(webhooks.id, webhook.id), eq(webhooks.enabled, true)));
  if (outcome.status === 410) {
    await record(db, claimed, { ...failed, status: "failed", nextAttemptAt: null }, at);
    await disable(GONE_REASON);
    return "done";
  }
  const failingSince = webhook.failingSince ?? at;
  if (at - failingSince >= WEBHOOK_DISABLE_AFTER_MS) {
    await record(db, claimed, { ...failed, status: "failed", nextAttemptAt: null }, at);
    await disable(FAILING_REASON);
    return "done";
  }
  if (webhook.failingSince === null)
    await db
      .update(webhooks)
      .set({ failingSince: at })
      .where(and(eq(webhooks.id, webhook.id), isNull(webhooks.failingSince)));
  const delay = retryDelay(n, outcome.retryAfter);
  if (delay === null) {
    await record(db, claimed, { ...failed, status: "failed", nextAttemptAt: null }, at);
    return "done";
  }
  // The next attempt's message first: if recording fails, that message waits for the claim to go stale.
  await enqueue(env.WEBHOOKS, { ...job, attempt: n + 1 }, delay);
  await record(db, claimed, { ...failed, status: "pending", nextAttemptAt: at + delay * 1000 }, at);
  return "done";
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

/** The SSRF guard again (DNS may have changed since the URL was stored), then one signed POST. */
async function attempt(
  env: Env,
  webhook: Webhook,
  eventId: string,
  body: string,
  now: number,
  options: DeliveryOptions,
): Promise<Outcome> {
  const failure = (error: string, status: number | null = null, durationMs: number | null = null) =>
    ({ ok: false, status, error, durationMs, retryAfter: null }) as const;
  const verdict = await checkWebhookUrl(webhook.url, options.policy ?? guardPolicy(env), "capturing");
  if (!verdict.ok) return failure(`Blocked ${webhook.url}: ${verdict.reason}`);
  let secrets: string[];
  try {
    secrets = await signingSecrets(config(env).SECRETS_KEY, webhook, now);
  } catch (err) {
    return failure(`The message could not be signed: ${describeError(err)}`);
  }
  const timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  const started = Date.now();
  let res: Response;
  try {
    res = await fetch(verdict.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "SnapTrack-Webhooks/1.0",
        ...signedHeaders(secrets, eventId, now, body),
      },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
    return failure(
      timedOut ? `No answer within ${timeoutMs / 1000} s` : `Request failed: ${describeError(err)}`,
      null,
      Date.now() - started,
    );
  }
  const durationMs = Date.now() - started;
  await res.body?.cancel().catch(() => {});
  if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, durationMs };
  const error =
    res.status >= 300 && res.status < 400
      ? `Redirects are not followed (${res.status} to ${res.headers.get("location") ?? "nowhere"})`
      : `The endpoint answered ${res.status}`;
  return {
    ok: false,
    status: res.status,
    error,
    durationMs,
    retryAfter: parseRetryAfter(res.headers.get("retry-after"), now),
  };
}

/** Dead-lettered (the consumer itself kept failing): the delivery ends `failed`. */
export async function deliveryGaveUp(db: Db, job: JobOf<"webhook">, now: number) {
  await db
    .update(webhookDeliveries)
    .set({ status: "failed", lastError: "The delivery could not be processed", claimedAt: null, updatedAt: now })
    .where(and(eq(webhookDeliveries.id, job.delivery_id), eq(webhookDeliveries.status, "pending")));
}
