import { and, eq, sql } from "drizzle-orm";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { checkUrl, type GuardPolicy, type GuardVerdict, isAllowlisted } from "../capture/url-guard";
import type { Db } from "../db/client";
import { keyedId, newId } from "../db/ids";
import { listPage, rowById, updateById } from "../db/owned";
import {
  type Run,
  type Schedule,
  type Screenshot,
  screenshots,
  type Webhook,
  type WebhookDelivery,
  webhookDeliveries,
  webhookEvents,
  webhooks,
} from "../db/schema";
import { iso, isoOrNull } from "../lib/clock";
import { bytesToBase64 } from "../lib/crypto";
import { ApiError, notFound, validationError } from "../lib/errors";
import { decryptSecret, encryptSecret, requireSecretsKey } from "../lib/secrets";
import { WEBHOOK_MAX_BODY_BYTES, WEBHOOK_SECRET_OVERLAP_MS, type WebhookEventType } from "../lib/values";
import type { Plan } from "../limits/plans";
import { enqueueMany, type JobMessage } from "../queue/messages";
import { runView } from "./runs";
import { scheduleView } from "./schedules";
import { screenshotView } from "./screenshots";

/** What an endpoint subscribes to: event types, or `["*"]` for every event. */
export type EventFilter = ("*" | WebhookEventType)[];

export function webhookView(w: Webhook) {
  return {
    id: w.id,
    url: w.url,
    events: JSON.parse(w.events) as EventFilter,
    description: w.description,
    enabled: w.enabled,
    disabled_reason: w.disabledReason,
    created_at: iso(w.createdAt),
    updated_at: iso(w.updatedAt),
  };
}

export function deliveryView(d: WebhookDelivery) {
  return {
    id: d.id,
    event_id: d.eventId,
    type: d.type,
    status: d.status,
    attempts: d.attempts,
    last_status_code: d.lastStatusCode,
    last_error: d.lastError,
    duration_ms: d.durationMs,
    next_attempt_at: isoOrNull(d.nextAttemptAt),
    created_at: iso(d.createdAt),
  };
}

/** `whsec_` + base64 of 32 random bytes (the Standard Webhooks form). */
const newSecret = () => `whsec_${bytesToBase64(crypto.getRandomValues(new Uint8Array(32)))}`;

/**
 * The SSRF guard (as for capture targets), and https only: a webhook body is account data.
 * Plain http is accepted only for allowlisted local receivers (local dev and tests).
 */
export async function checkWebhookUrl(raw: string, policy: GuardPolicy, mode: "storing" | "capturing") {
  const verdict: GuardVerdict = await checkUrl(raw, policy, mode);
  if (verdict.ok && verdict.url.protocol !== "https:" && !isAllowlisted(verdict.url, policy)) {
    return { ok: false, reason: "Must be an https URL" } as const;
  }
  return verdict;
}

async function storedUrl(raw: string, policy: GuardPolicy): Promise<string> {
  const verdict = await checkWebhookUrl(raw, policy, "storing");
  if (!verdict.ok) throw validationError({ url: [verdict.reason] });
  return verdict.url.toString();
}

/** `["*"]` stands alone; otherwise each type once, in the given order. */
function eventFilter(events: EventFilter): string {
  if (events.includes("*") && events.length > 1) throw validationError({ events: ['"*" cannot be combined'] });
  return JSON.stringify([...new Set(events)]);
}

export interface WebhookInput {
  url: string;
  events?: EventFilter;
  description?: string | null;
  enabled?: boolean;
}

export const getWebhook = (db: Db, id: string): Promise<Webhook> => rowById(db, webhooks, id, "Webhook");

/** Creates an endpoint (counted against the plan in the same statement); the secret is only in this answer. */
export async function createWebhook(
  db: Db,
  secretsKey: string | undefined,
  plan: Plan,
  input: WebhookInput,
  policy: GuardPolicy,
  now: number,
  createdBy: string | null = null,
): Promise<{ webhook: Webhook; secret: string }> {
  const key = requireSecretsKey(secretsKey);
  const url = await storedUrl(input.url, policy);
  const events = eventFilter(input.events ?? ["*"]);
  const id = newId("webhook", now);
  const secret = newSecret();
  const sealed = await encryptSecret(key, secret, id);
  const rows = await db.all<{ id: string }>(sql`
    INSERT INTO webhooks (id, url, events, description, enabled, secret, created_at, updated_at, created_by)
    SELECT ${id}, ${url}, ${events}, ${input.description ?? null}, ${input.enabled === false ? 0 : 1},
           ${sealed}, ${now}, ${now}, ${createdBy}
    WHERE (SELECT count(*) FROM webhooks) < ${plan.webhookEndpoints}
    RETURNING id`);
  if (rows.length === 0) {
    const n = plan.webhookEndpoints;
    throw new ApiError(
      "plan_limit_reached",
      `The ${plan.id} plan allows ${n} webhook endpoint${n === 1 ? "" : "s"}. Delete one or upgrade.`,
    );
  }
  return { webhook: await getWebhook(db, id), secret };
}

export const listWebhooks = (db: Db, q: { limit: number; cursor?: string }) => listPage(db, webhooks, q, webhookView);

/** Partial update. Enabling again clears SnapTrack's reason and the failure streak. */
export async function updateWebhook(
  db: Db,
  id: string,
  patch: Partial<WebhookInput>,
  policy: GuardPolicy,
  now: number,
): Promise<Webhook> {
  await getWebhook(db, id);
  const set: Partial<Webhook> = { updatedAt: now };
  if (patch.url !== undefined) set.url = await storedUrl(patch.url, policy);
  if (patch.events !== undefined) set.events = eventFilter(patch.events);
  if (patch.description !== undefined) set.description = patch.description;
  if (patch.enabled !== undefined) {
    set.enabled = patch.enabled;
    set.disabledReason = null;
    if (patch.enabled) set.failingSince = null;
  }
  return updateById(db, webhooks, id, set, "Webhook");
}

export async function deleteWebhook(db: Db, id: string): Promise<void> {
  const deleted = await db.delete(webhooks).where(eq(webhooks.id, id)).returning({ id: webhooks.id });
  if (deleted.length === 0) throw notFound("Webhook");
}

/**
 * A new secret, shown once. The one it replaces keeps signing next to it for 24 h (a
 * second rotation within that time drops the oldest).
 */
export async function rotateWebhookSecret(
  db: Db,
  secretsKey: string | undefined,
  id: string,
  now: number,
): Promise<{ webhook: Webhook; secret: string }> {
  const key = requireSecretsKey(secretsKey);
  const current = await getWebhook(db, id);
  const secret = newSecret();
  const webhook = await updateById(
    db,
    webhooks,
    id,
    {
      secret: await encryptSecret(key, secret, id),
      previousSecret: current.secret,
      previousSecretUntil: now + WEBHOOK_SECRET_OVERLAP_MS,
      updatedAt: now,
    },
    "Webhook",
  );
  return { webhook, secret };
}

/** The secrets that sign a message sent at `now`: the current one, and the previous one during its overlap. */
export async function signingSecrets(secretsKey: string | undefined, w: Webhook, now: number): Promise<string[]> {
  const secrets = [await decryptSecret(secretsKey, w.secret, w.id)];
  if (w.previousSecret && (w.previousSecretUntil ?? 0) > now) {
    secrets.push(await decryptSecret(secretsKey, w.previousSecret, w.id));
  }
  return secrets;
}

/** Standard Webhooks headers for one attempt: `webhook-signature` holds one `v1,…` per secret, space-separated. */
export function signedHeaders(secrets: string[], eventId: string, now: number, body: string): Record<string, string> {
  const timestamp = new Date(now);
  return {
    "webhook-id": eventId,
    "webhook-timestamp": String(Math.floor(now / 1000)),
    "webhook-signature": secrets.map((s) => new StandardWebhook(s).sign(eventId, timestamp, body)).join(" "),
  };
}

// ---------------------------------------------------------------------------------------
// Events

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text).byteLength;
const LONG_TEXT = 256;

function shortened(value: unknown): unknown {
  if (typeof value === "string") return value.length > LONG_TEXT ? `${value.slice(0, LONG_TEXT - 1)}…` : value;
  if (Array.isArray(value)) return value.map(shortened);
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shortened(v)]));
  return value;
}

/**
 * The body, at most WEBHOOK_MAX_BODY_BYTES. A resource too large to fit (a run with many
 * long step errors) has its long strings cut to 256 characters; if that is still too much,
 * `data` keeps only its top-level scalar fields. Either way the body says `truncated: true`
 * and the full resource is one GET away.
 */
export function eventBody(type: WebhookEventType, data: Record<string, unknown>, now: number): string {
  const full = JSON.stringify({ type, timestamp: iso(now), data });
  if (bytes(full) <= WEBHOOK_MAX_BODY_BYTES) return full;
  const cut = JSON.stringify({ type, timestamp: iso(now), data: shortened(data), truncated: true });
  if (bytes(cut) <= WEBHOOK_MAX_BODY_BYTES) return cut;
  const scalars = Object.fromEntries(
    Object.entries(shortened(data) as Record<string, unknown>).filter(([, v]) => v === null || typeof v !== "object"),
  );
  return JSON.stringify({ type, timestamp: iso(now), data: scalars, truncated: true });
}

const subscribes = (w: Webhook, type: WebhookEventType) => {
  const events = JSON.parse(w.events) as EventFilter;
  return events.includes("*") || events.includes(type);
};

const deliveryMessage = (accountId: string, d: { id: string }): JobMessage => ({
  type: "webhook",
  delivery_id: d.id,
  account_id: accountId,
  attempt: 1,
});

/** Where a job's events go: the account's database and id, the webhooks queue, the account's plan (for `expires_at`). */
export interface EventScope {
  db: Db;
  accountId: string;
  queue: Queue;
  plan: Plan;
}

/**
 * Emits an event: one delivery per enabled endpoint of the account that subscribes to
 * `type`, each sent as its own message on the webhooks queue. `key` names the occurrence
 * (e.g. `screenshot.completed:shot_…`): the event id derives from it, so emitting the same
 * occurrence again (a redelivered job) creates and sends nothing new. `data` is only built
 * when some endpoint listens. Returns the event id, or null when nobody listens.
 */
export async function emitEvent(
  { db, queue, accountId }: Pick<EventScope, "db" | "queue" | "accountId">,
  type: WebhookEventType,
  data: () => Promise<Record<string, unknown>> | Record<string, unknown>,
  now: number,
  key: string,
): Promise<string | null> {
  const endpoints = (await db.select().from(webhooks).where(eq(webhooks.enabled, true))).filter((w) =>
    subscribes(w, type),
  );
  if (endpoints.length === 0) return null;
  const eventId = await keyedId("event", `${accountId}:${key}`);
  const body = eventBody(type, await data(), now);
  db.transaction((tx) => {
    tx.insert(webhookEvents).values({ id: eventId, type, body, createdAt: now }).onConflictDoNothing().run();
    tx.insert(webhookDeliveries)
      .values(endpoints.map((w) => newDelivery(w, eventId, type, now)))
      .onConflictDoNothing()
      .run();
  });
  // Deliveries of this event not yet attempted are sent (again, after a crash: the claim
  // on the attempt number makes a duplicate message send nothing).
  const fresh = await db
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.eventId, eventId),
        eq(webhookDeliveries.status, "pending"),
        eq(webhookDeliveries.attempts, 0),
      ),
    );
  await enqueueMany(
    queue,
    fresh.map((d) => deliveryMessage(accountId, d)),
  );
  return eventId;
}

function newDelivery(
  w: { id: string },
  eventId: string,
  type: WebhookEventType,
  now: number,
  redeliveryOf: string | null = null,
) {
  return {
    id: newId("delivery", now),
    webhookId: w.id,
    eventId,
    type,
    status: "pending" as const,
    attempts: 0,
    nextAttemptAt: now,
    redeliveryOf,
    createdAt: now,
    updatedAt: now,
  };
}

/** `POST /v1/webhooks/{id}/test`: a `webhook.test` to this endpoint only (whatever it subscribes to). */
export async function sendTestEvent(
  db: Db,
  queue: Queue,
  accountId: string,
  id: string,
  now: number,
): Promise<WebhookDelivery> {
  const webhook = await getWebhook(db, id);
  if (!webhook.enabled) throw new ApiError("conflict", "The webhook is disabled; enable it first.");
  const eventId = newId("event", now);
  const delivery = newDelivery(webhook, eventId, "webhook.test", now);
  const body = eventBody("webhook.test", webhookView(webhook), now);
  db.transaction((tx) => {
    tx.insert(webhookEvents).values({ id: eventId, type: "webhook.test", body, createdAt: now }).run();
    tx.insert(webhookDeliveries).values(delivery).run();
  });
  await enqueueMany(queue, [deliveryMessage(accountId, delivery)]);
  return { ...delivery, lastStatusCode: null, lastError: null, durationMs: null, claimedAt: null };
}

export async function listDeliveries(db: Db, webhookId: string, q: { limit: number; cursor?: string }) {
  await getWebhook(db, webhookId);
  return listPage(db, webhookDeliveries, q, deliveryView, eq(webhookDeliveries.webhookId, webhookId));
}

/** One of the endpoint's deliveries; another endpoint's or account's is the same 404. */
export async function getDelivery(db: Db, webhookId: string, deliveryId: string): Promise<WebhookDelivery> {
  const row = await db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.webhookId, webhookId)))
    .get();
  if (!row) throw notFound("Delivery");
  return row;
}

/** Sends the same event (same `webhook-id` and body) again, as a new delivery with its own attempts. */
export async function redeliver(
  db: Db,
  queue: Queue,
  accountId: string,
  webhookId: string,
  deliveryId: string,
  now: number,
): Promise<WebhookDelivery> {
  const webhook = await getWebhook(db, webhookId);
  const original = await getDelivery(db, webhookId, deliveryId);
  if (!webhook.enabled) throw new ApiError("conflict", "The webhook is disabled; enable it first.");
  const [row] = await db
    .insert(webhookDeliveries)
    .values(newDelivery(webhook, original.eventId, original.type, now, original.id))
    .returning();
  const delivery = row as WebhookDelivery;
  await enqueueMany(queue, [deliveryMessage(accountId, delivery)]);
  return delivery;
}

// ---------------------------------------------------------------------------------------
// The events the jobs emit, with the resource as the API returns it.

/**
 * `screenshot.completed` / `screenshot.failed` for captures asked for through the API or a
 * schedule (a scenario's screenshots are reported by its `run.finished`). The row is read
 * (as it ended) only when some endpoint listens.
 */
export async function emitScreenshotEvent(
  scope: EventScope,
  shot: Pick<Screenshot, "id" | "source">,
  type: "screenshot.completed" | "screenshot.failed" | "change.detected",
  now: number,
) {
  if (shot.source === "scenario") return null;
  return emitEvent(
    scope,
    type,
    async () => {
      const row = await scope.db.select().from(screenshots).where(eq(screenshots.id, shot.id)).get();
      if (!row) throw new Error(`screenshot ${shot.id} is gone`);
      return screenshotView(row, scope.plan);
    },
    now,
    `${type}:${shot.id}`,
  );
}

/**
 * Emits from a job without ever failing it: the job's own outcome is already stored, and a
 * lost event (D1 failing right then) is logged rather than undoing or repeating the work.
 */
export async function notify(what: string, emit: () => Promise<unknown>): Promise<void> {
  try {
    await emit();
  } catch (err) {
    console.error(
      JSON.stringify({ level: "error", msg: "webhook event not emitted", event: what, error: String(err) }),
    );
  }
}

export const emitRunFinished = (scope: EventScope, run: Run, now: number) =>
  emitEvent(scope, "run.finished", () => runView(run), now, `run.finished:${run.id}`);

export const emitSchedulePaused = (scope: EventScope, schedule: Schedule, now: number) =>
  emitEvent(
    scope,
    "schedule.paused",
    () => scheduleView(schedule),
    now,
    `schedule.paused:${schedule.id}:${schedule.updatedAt}`,
  );
