/**
 * The account's side of alerts (its rows; the sending is the queue consumer's, src/jobs/alert.ts):
 * raising an alert when a job sees something people should hear of, one delivery per instant
 * channel that wants it, the daily digests at 08:00 in the account's time zone, and each
 * delivery attempt claimed and recorded here with the webhooks' retry schedule.
 */
import { and, asc, eq, gt, inArray, isNull, lt, lte, or, sql } from "drizzle-orm";
import { alertTitle, verificationEmail } from "../alerts/messages";
import type { AlertData, AlertPayload, AlertWebsite } from "../alerts/types";
import { claimAttemptRow } from "../db/attempts";
import type { Db } from "../db/client";
import { keyedId, newId } from "../db/ids";
import { listPage } from "../db/owned";
import {
  type AlertChannel,
  type AlertDelivery,
  accountSettings,
  alertChannels,
  alertDeliveries,
  alerts,
  websites,
} from "../db/schema";
import { iso, isoOrNull, MINUTE } from "../lib/clock";
import { ApiError, notFound } from "../lib/errors";
import type { AlertDeliveryKind, AlertEventType } from "../lib/values";
import { WEBHOOK_DISABLE_AFTER_MS } from "../lib/values";
import { type MailEnv, sendMail } from "../mail/mail";
import { enqueue, enqueueMany, type JobMessage } from "../queue/messages";
import { lastDigestAt, nextDigestAt } from "../schedules/timing";
import { getAlertChannel } from "./alert-channels";
import type { EventScope } from "./webhooks";

/** An attempt claimed longer ago than this belongs to a consumer that died; it may be made again. */
export const STALE_ALERT_ATTEMPT = 2 * MINUTE;
export const ALERT_GONE_REASON = "The incoming webhook answered 410 Gone: alerts stopped. Enable it again to resume.";
export const ALERT_FAILING_REASON = "Every alert to this channel failed for 5 days. Enable it again to resume.";
/** A digest lists at most this many alerts (the rest are counted). */
export const DIGEST_MAX = 100;

export function alertDeliveryView(d: AlertDelivery) {
  return {
    id: d.id,
    kind: d.kind,
    alert_id: d.alertId,
    summary: d.summary,
    status: d.status,
    attempts: d.attempts,
    last_status_code: d.lastStatusCode,
    last_error: d.lastError,
    duration_ms: d.durationMs,
    next_attempt_at: isoOrNull(d.nextAttemptAt),
    created_at: iso(d.createdAt),
  };
}

export const listAlertDeliveries = async (db: Db, channelId: string, q: { limit: number; cursor?: string }) => {
  await getAlertChannel(db, channelId);
  return listPage(db, alertDeliveries, q, alertDeliveryView, eq(alertDeliveries.channelId, channelId));
};

const message = (accountId: string, d: { id: string }, attempt = 1): JobMessage => ({
  type: "alert",
  delivery_id: d.id,
  account_id: accountId,
  attempt,
});

const wants = (ch: AlertChannel, type: AlertEventType, websiteId: string | null) => {
  if (!(JSON.parse(ch.events) as string[]).includes(type)) return false;
  if (ch.websiteIds === null) return true;
  return websiteId !== null && (JSON.parse(ch.websiteIds) as string[]).includes(websiteId);
};

/** A website as alerts show it. */
export async function alertWebsite(db: Db, websiteId: string): Promise<AlertWebsite> {
  const w = await db
    .select({ id: websites.id, name: websites.name, url: websites.url })
    .from(websites)
    .where(eq(websites.id, websiteId))
    .get();
  return w ?? { id: websiteId, name: "A deleted website", url: "" };
}

/**
 * Raises an alert: recorded once (its id derives from `key`, so a repeated job raises nothing
 * twice) when some enabled, confirmed channel wants it, with one delivery per instant channel,
 * each sent as its own message; daily channels find it in their next digest. `data` is only
 * built when someone listens. Never throws: a job's own outcome is already stored, and a lost
 * alert is logged rather than undoing or repeating the work.
 */
export async function raiseAlert(
  scope: Pick<EventScope, "db" | "queue" | "accountId">,
  type: AlertEventType,
  websiteId: string | null,
  key: string,
  data: () => Promise<AlertData> | AlertData,
  now: number,
): Promise<string | null> {
  try {
    const { db, accountId } = scope;
    const channels = (
      await db
        .select()
        .from(alertChannels)
        .where(and(eq(alertChannels.enabled, true), eq(alertChannels.verified, true)))
    ).filter((ch) => wants(ch, type, websiteId));
    if (channels.length === 0) return null;
    const id = await keyedId("alert", `${accountId}:${key}`);
    const body = await data();
    const summary = alertTitle(body);
    const instant = channels.filter((ch) => ch.frequency === "instant");
    db.transaction((tx) => {
      tx.insert(alerts)
        .values({ id, type, websiteId, data: JSON.stringify(body), createdAt: now })
        .onConflictDoNothing()
        .run();
      if (instant.length > 0)
        tx.insert(alertDeliveries)
          .values(instant.map((ch) => newDelivery(ch.id, "alert", summary, now, id)))
          .onConflictDoNothing()
          .run();
    });
    const fresh = await db
      .select({ id: alertDeliveries.id })
      .from(alertDeliveries)
      .where(
        and(eq(alertDeliveries.alertId, id), eq(alertDeliveries.status, "pending"), eq(alertDeliveries.attempts, 0)),
      );
    await enqueueMany(
      scope.queue,
      fresh.map((d) => message(accountId, d)),
    );
    return id;
  } catch (err) {
    console.error(JSON.stringify({ level: "error", msg: "alert not raised", key, error: String(err) }));
    return null;
  }
}

function newDelivery(
  channelId: string,
  kind: AlertDeliveryKind,
  summary: string,
  now: number,
  alertId: string | null = null,
  status: AlertDelivery["status"] = "pending",
) {
  return {
    id: newId("alertDelivery", now),
    channelId,
    kind,
    alertId,
    summary,
    status,
    attempts: 0,
    nextAttemptAt: status === "pending" ? now : null,
    createdAt: now,
    updatedAt: now,
  };
}

/** `POST /v1/alert-channels/{id}/test`: a test alert to this channel only (unverified addresses get nothing). */
export async function sendTestAlert(db: Db, queue: Queue, accountId: string, id: string, now: number) {
  const channel = await getAlertChannel(db, id);
  if (!channel.enabled) throw new ApiError("conflict", "The channel is disabled; enable it first.");
  if (!channel.verified) throw new ApiError("conflict", "The address is not confirmed yet: nothing is sent to it.");
  const [row] = await db
    .insert(alertDeliveries)
    .values(newDelivery(id, "test", "Test alert", now))
    .returning();
  const delivery = row as AlertDelivery;
  await enqueue(queue, message(accountId, delivery));
  return delivery;
}

/**
 * Mails the confirmation link to an address outside the team (sent at once through the mail
 * path, not queued: the token exists only here) and logs it in the channel's deliveries.
 */
export async function sendVerification(
  env: MailEnv & { APP_ORIGIN: string },
  db: Db,
  accountName: string,
  channel: { id: string; target: string },
  token: string,
  now: number,
) {
  const link = `${env.APP_ORIGIN.replace(/\/+$/, "")}/alerts/verify/${token}`;
  const sent = await sendMail(env, db, verificationEmail(channel.target, link, accountName), now);
  await logVerificationMail(db, channel.id, { ok: sent.sent, error: sent.error }, now);
  return sent;
}

async function logVerificationMail(
  db: Db,
  channelId: string,
  sent: { ok: boolean; error: string | null },
  now: number,
) {
  await db.insert(alertDeliveries).values({
    ...newDelivery(channelId, "verification", "Address confirmation", now, null, sent.ok ? "delivered" : "failed"),
    attempts: 1,
    lastError: sent.error,
  });
}

// ---- Time zone and digests ----------------------------------------------------------------

export async function accountTimezone(db: Db): Promise<string> {
  const row = await db
    .select({ tz: accountSettings.timezone })
    .from(accountSettings)
    .where(eq(accountSettings.id, 1))
    .get();
  return row?.tz ?? "UTC";
}

export async function setAccountTimezone(db: Db, timezone: string, now: number): Promise<void> {
  await db
    .insert(accountSettings)
    .values({ id: 1, timezone, updatedAt: now })
    .onConflictDoUpdate({ target: accountSettings.id, set: { timezone, updatedAt: now } });
}

/** When the next digest is due (08:00 in the account's zone), or null when no daily channel exists. */
export async function nextDigest(db: Db, now: number): Promise<number | null> {
  const daily = await db
    .select({ id: alertChannels.id })
    .from(alertChannels)
    .where(and(eq(alertChannels.frequency, "daily"), eq(alertChannels.enabled, true)))
    .limit(1)
    .get();
  if (!daily) return null;
  const tz = await accountTimezone(db);
  // A digest not yet made for the period that has ended is due now.
  const from = lastDigestAt(tz, now);
  const behind = await db
    .select({ id: alertChannels.id })
    .from(alertChannels)
    .where(
      and(
        eq(alertChannels.frequency, "daily"),
        eq(alertChannels.enabled, true),
        or(isNull(alertChannels.digestedUntil), lt(alertChannels.digestedUntil, from)),
      ),
    )
    .limit(1)
    .get();
  return behind ? now : nextDigestAt(tz, now);
}

/**
 * The daily digests due at `now` (the account's alarm): every enabled, confirmed daily channel
 * whose last digest ended before the latest 08:00 gets one delivery listing what it wants of
 * the alerts since then, or nothing when nothing happened. A channel new since that period
 * starts at its creation. Idempotent: one digest per channel and period.
 */
export async function sendDueDigests(scope: Pick<EventScope, "db" | "queue" | "accountId">, now: number) {
  const { db } = scope;
  const tz = await accountTimezone(db);
  const periodEnd = lastDigestAt(tz, now);
  const due = await db
    .select()
    .from(alertChannels)
    .where(
      and(
        eq(alertChannels.frequency, "daily"),
        eq(alertChannels.enabled, true),
        or(isNull(alertChannels.digestedUntil), lt(alertChannels.digestedUntil, periodEnd)),
      ),
    );
  let sent = 0;
  for (const ch of due) {
    const since = Math.max(ch.digestedUntil ?? 0, ch.createdAt);
    const listed = ch.verified ? await digestAlerts(db, ch, since, periodEnd) : [];
    let delivery: { id: string } | undefined;
    db.transaction((tx) => {
      tx.update(alertChannels).set({ digestedUntil: periodEnd }).where(eq(alertChannels.id, ch.id)).run();
      if (listed.length > 0) {
        delivery = tx
          .insert(alertDeliveries)
          .values({
            ...newDelivery(
              ch.id,
              "digest",
              `Daily digest: ${listed.length} alert${listed.length === 1 ? "" : "s"}`,
              now,
            ),
            periodFrom: since,
            periodUntil: periodEnd,
          })
          .onConflictDoNothing()
          .returning({ id: alertDeliveries.id })
          .get();
      }
    });
    if (delivery) {
      await enqueue(scope.queue, message(scope.accountId, delivery));
      sent += 1;
    }
  }
  return sent;
}

async function digestAlerts(db: Db, ch: AlertChannel, from: number, until: number) {
  const rows = await db
    .select()
    .from(alerts)
    .where(and(gt(alerts.createdAt, from), lte(alerts.createdAt, until)))
    .orderBy(asc(alerts.createdAt));
  return rows.filter((a) => wants(ch, a.type, a.websiteId));
}

// ---- Delivery attempts (the queue consumer's calls) ----------------------------------------

export type AlertClaim =
  | { claimed: AlertDelivery; channel: AlertChannel; payload: AlertPayload }
  | { busy: true }
  | { done: true };

/**
 * Claims attempt `n` of a delivery (as webhook deliveries do: `attempts` moves to `n`, so a
 * redelivered message for an attempt already made sends nothing) and hands over what to send.
 */
export async function claimAlertAttempt(db: Db, deliveryId: string, n: number, now: number): Promise<AlertClaim> {
  const claim = await claimAttemptRow(db, alertDeliveries, deliveryId, n, now, STALE_ALERT_ATTEMPT);
  if (!("claimed" in claim)) return claim;
  const { claimed } = claim;
  const channel = await db.select().from(alertChannels).where(eq(alertChannels.id, claimed.channelId)).get();
  if (!channel) return { done: true };
  if (!channel.enabled || !channel.verified) {
    await record(
      db,
      claimed,
      {
        status: "failed",
        lastError: channel.enabled ? "The address is not confirmed" : "The channel is disabled",
        nextAttemptAt: null,
      },
      now,
    );
    return { done: true };
  }
  const payload = await payloadOf(db, claimed);
  if (!payload) {
    await record(
      db,
      claimed,
      { status: "failed", lastError: "The alert is gone (past the history window)", nextAttemptAt: null },
      now,
    );
    return { done: true };
  }
  return { claimed, channel, payload };
}

async function payloadOf(db: Db, d: AlertDelivery): Promise<AlertPayload | null> {
  if (d.kind === "test") return { kind: "test" };
  if (d.kind === "alert" && d.alertId) {
    const row = await db.select({ data: alerts.data }).from(alerts).where(eq(alerts.id, d.alertId)).get();
    return row ? { kind: "alert", alert: JSON.parse(row.data) as AlertData } : null;
  }
  if (d.kind === "digest" && d.periodUntil !== null) {
    const channel = await getAlertChannel(db, d.channelId);
    const listed = await digestAlerts(db, channel, d.periodFrom ?? 0, d.periodUntil);
    const tz = await accountTimezone(db);
    const day = new Intl.DateTimeFormat("en-CA", {
      timeZone: tz,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    }).format(d.periodUntil - 1);
    return {
      kind: "digest",
      alerts: listed.slice(0, DIGEST_MAX).map((a) => JSON.parse(a.data) as AlertData),
      more: Math.max(0, listed.length - DIGEST_MAX),
      day,
      timezone: tz,
    };
  }
  return null;
}

export type AlertOutcome =
  | { ok: true; status: number | null; durationMs: number }
  | { ok: false; status: number | null; error: string; durationMs: number | null };

/**
 * Records an attempt over its own claim: delivered; failed for good (410 disables a Slack or
 * Discord channel, and so do 5 days of failures); or pending with the next attempt's message
 * sent (delayed by `retryInSeconds`; null: that was the last attempt).
 */
export async function recordAlertAttempt(
  db: Db,
  queue: Queue,
  accountId: string,
  claimed: AlertDelivery,
  outcome: AlertOutcome,
  retryInSeconds: number | null,
  now: number,
): Promise<"delivered" | "failed" | "retry"> {
  const channel = await db.select().from(alertChannels).where(eq(alertChannels.id, claimed.channelId)).get();
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
    if (channel?.failingSince != null)
      await db.update(alertChannels).set({ failingSince: null }).where(eq(alertChannels.id, channel.id));
    return "delivered";
  }
  const failed = { lastStatusCode: outcome.status, lastError: outcome.error, durationMs: outcome.durationMs };
  const disable = (reason: string) =>
    db
      .update(alertChannels)
      .set({ enabled: false, disabledReason: reason, updatedAt: now })
      .where(and(eq(alertChannels.id, claimed.channelId), eq(alertChannels.enabled, true)));
  if (outcome.status === 410) {
    await record(db, claimed, { ...failed, status: "failed", nextAttemptAt: null }, now);
    await disable(ALERT_GONE_REASON);
    return "failed";
  }
  const failingSince = channel?.failingSince ?? now;
  if (now - failingSince >= WEBHOOK_DISABLE_AFTER_MS) {
    await record(db, claimed, { ...failed, status: "failed", nextAttemptAt: null }, now);
    await disable(ALERT_FAILING_REASON);
    return "failed";
  }
  if (channel && channel.failingSince === null)
    await db
      .update(alertChannels)
      .set({ failingSince: now })
      .where(and(eq(alertChannels.id, channel.id), isNull(alertChannels.failingSince)));
  if (retryInSeconds === null) {
    await record(db, claimed, { ...failed, status: "failed", nextAttemptAt: null }, now);
    return "failed";
  }
  await enqueue(queue, message(accountId, claimed, claimed.attempts + 1), retryInSeconds);
  await record(db, claimed, { ...failed, status: "pending", nextAttemptAt: now + retryInSeconds * 1000 }, now);
  return "retry";
}

async function record(db: Db, claimed: AlertDelivery, set: Partial<AlertDelivery>, now: number) {
  await db
    .update(alertDeliveries)
    .set({ ...set, claimedAt: null, updatedAt: now })
    .where(
      and(
        eq(alertDeliveries.id, claimed.id),
        eq(alertDeliveries.attempts, claimed.attempts),
        eq(alertDeliveries.claimedAt, claimed.claimedAt as number),
      ),
    );
}

/** Dead-lettered (the consumer itself kept failing): the delivery ends `failed`. */
export async function alertDeliveryGaveUp(db: Db, deliveryId: string, now: number) {
  await db
    .update(alertDeliveries)
    .set({ status: "failed", lastError: "The alert could not be processed", claimedAt: null, updatedAt: now })
    .where(and(eq(alertDeliveries.id, deliveryId), eq(alertDeliveries.status, "pending")));
}

/** Alerts (and their deliveries) leave with the account's history window, as webhook events do. */
export async function purgeAlerts(db: Db, before: number, batch: number): Promise<number> {
  const old = await db
    .delete(alerts)
    .where(
      inArray(alerts.id, db.select({ id: alerts.id }).from(alerts).where(lt(alerts.createdAt, before)).limit(batch)),
    )
    .returning({ id: alerts.id });
  await db.delete(alertDeliveries).where(
    inArray(
      alertDeliveries.id,
      db
        .select({ id: alertDeliveries.id })
        .from(alertDeliveries)
        .where(and(lt(alertDeliveries.createdAt, before), sql`${alertDeliveries.alertId} IS NULL`))
        .limit(batch),
    ),
  );
  return old.length;
}

/** One of the channel's deliveries; another channel's or account's is the same 404. */
export async function getAlertDelivery(db: Db, channelId: string, deliveryId: string) {
  const row = await db
    .select()
    .from(alertDeliveries)
    .where(and(eq(alertDeliveries.id, deliveryId), eq(alertDeliveries.channelId, channelId)))
    .get();
  if (!row) throw notFound("Delivery");
  return row;
}
