/**
 * One account's own data, in that account's Durable Object (src/tenant/account-object.ts):
 * one SQLite database per account, so no row names its account and no query can reach
 * another's. Times are integer milliseconds since the epoch (UTC); JSON columns hold
 * documents that are only ever read and written whole (capture options, steps). Screenshot
 * bytes live in R2; rows keep their key. Migrations: drizzle-kit (drizzle.account.config.ts),
 * applied when the object starts.
 */
import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import {
  ALERT_CHANNEL_TYPES,
  ALERT_DELIVERY_KINDS,
  ALERT_EVENT_TYPES,
  ALERT_FREQUENCIES,
  COMPARISON_STATUSES,
  DEFAULT_RUN_TIMEOUT_MS,
  DELIVERY_STATUSES,
  IMAGE_FORMATS,
  RUN_STATUSES,
  RUN_TRIGGERS,
  SCREENSHOT_SOURCES,
  SCREENSHOT_STATUSES,
  WEBHOOK_EVENT_TYPES,
} from "../lib/values";

const createdAt = () => integer("created_at").notNull();
const updatedAt = () => integer("updated_at").notNull();

export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    key: text("key").primaryKey(),
    /** SHA-256 of method, path and body: the same key with another request is refused. */
    fingerprint: text("fingerprint").notNull(),
    state: text("state").$type<"in_flight" | "done">().notNull(),
    responseStatus: integer("response_status"),
    responseBody: text("response_body"),
    responseHeaders: text("response_headers"),
    createdAt: createdAt(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("idempotency_expires").on(t.expiresAt)],
);

export const websites = sqliteTable(
  "websites",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    url: text("url").notNull(),
    /** Capture defaults (JSON, the capture-options schema). */
    capture: text("capture").notNull().default("{}"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    lastCaptureAt: integer("last_capture_at"),
    /** Change detection settings (JSON, the change-detection schema; defaults when empty). */
    changeDetection: text("change_detection").notNull().default("{}"),
    /** The approved baseline (`POST /v1/screenshots/{id}/approve`); retention keeps it. */
    baselineScreenshotId: text("baseline_screenshot_id"),
    /**
     * When its captures started failing (the first failure since the last success); null while
     * they succeed. Alerts: the first failure of a streak is told, and `recovered` ends it.
     */
    failingSince: integer("failing_since"),
  },
  (t) => [index("websites_baseline").on(t.baselineScreenshotId)],
);

export const scenarios = sqliteTable(
  "scenarios",
  {
    id: text("id").primaryKey(),
    websiteId: text("website_id")
      .notNull()
      .references(() => websites.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    capture: text("capture"),
    /** Overall time budget of a run; past it the run ends `error`. */
    timeoutMs: integer("timeout_ms").notNull().default(DEFAULT_RUN_TIMEOUT_MS),
    /** Ordered steps (JSON); `type` steps marked secret hold ciphertext, never the text. */
    steps: text("steps").notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("scenarios_website").on(t.websiteId)],
);

export const schedules = sqliteTable(
  "schedules",
  {
    id: text("id").primaryKey(),
    websiteId: text("website_id").references(() => websites.id, { onDelete: "cascade" }),
    scenarioId: text("scenario_id").references(() => scenarios.id, { onDelete: "cascade" }),
    cron: text("cron"),
    intervalMinutes: integer("interval_minutes"),
    timezone: text("timezone").notNull().default("UTC"),
    /** Shortest gap between two runs (minutes), computed once from cron/interval: plan checks read it. */
    gapMinutes: integer("gap_minutes").notNull().default(0),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    /** Why the system paused or skipped it (e.g. too fast for the plan after a downgrade). */
    pausedReason: text("paused_reason"),
    nextRunAt: integer("next_run_at"),
    lastRunAt: integer("last_run_at"),
    lastStatus: text("last_status"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("schedules_due").on(t.enabled, t.nextRunAt),
    check("schedules_one_target", sql`(website_id IS NULL) <> (scenario_id IS NULL)`),
    check("schedules_one_timing", sql`(cron IS NULL) <> (interval_minutes IS NULL)`),
  ],
);

export const runs = sqliteTable(
  "runs",
  {
    id: text("id").primaryKey(),
    scenarioId: text("scenario_id")
      .notNull()
      .references(() => scenarios.id, { onDelete: "cascade" }),
    websiteId: text("website_id").notNull(),
    scheduleId: text("schedule_id").references(() => schedules.id, { onDelete: "set null" }),
    trigger: text("trigger", { enum: RUN_TRIGGERS }).notNull(),
    status: text("status", { enum: RUN_STATUSES }).notNull(),
    error: text("error"),
    /** Per-step results (JSON). */
    steps: text("steps").notNull().default("[]"),
    attempts: integer("attempts").notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    startedAt: integer("started_at"),
    finishedAt: integer("finished_at"),
    durationMs: integer("duration_ms"),
  },
  (t) => [
    index("runs_scenario").on(t.scenarioId, t.id),
    index("runs_created").on(t.createdAt),
    /** The crash sweeper finds queued/running runs without reading history. */
    index("runs_status").on(t.status, t.updatedAt),
  ],
);

export const screenshots = sqliteTable(
  "screenshots",
  {
    id: text("id").primaryKey(),
    websiteId: text("website_id")
      .notNull()
      .references(() => websites.id, { onDelete: "cascade" }),
    scheduleId: text("schedule_id").references(() => schedules.id, { onDelete: "set null" }),
    runId: text("run_id").references(() => runs.id, { onDelete: "set null" }),
    /** Scenario screenshots: the step's name and index. */
    name: text("name"),
    stepIndex: integer("step_index"),
    source: text("source", { enum: SCREENSHOT_SOURCES }).notNull(),
    status: text("status", { enum: SCREENSHOT_STATUSES }).notNull(),
    url: text("url").notNull(),
    /** Effective capture options (website defaults merged with overrides), JSON. */
    options: text("options").notNull(),
    error: text("error"),
    attempts: integer("attempts").notNull().default(0),
    r2Key: text("r2_key"),
    /** A small JPEG of the top of the page for galleries (made at capture time), next to the image. */
    thumbKey: text("thumb_key"),
    format: text("format", { enum: IMAGE_FORMATS }),
    width: integer("width"),
    height: integer("height"),
    bytes: integer("bytes"),
    sha256: text("sha256"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    startedAt: integer("started_at"),
    capturedAt: integer("captured_at"),
    /** Website captures: viewport, scale, format, full page and clip, to find the "previous" baseline. */
    compareKey: text("compare_key"),
    /** The website's change detection when the capture was asked for (JSON); null when off. */
    detection: text("detection"),
    /** Boxes of `ignore_selectors` measured at capture time (JSON, image pixels). */
    ignoreBoxes: text("ignore_boxes"),
    /** pending | completed | failed; null when there is no comparison. */
    comparisonStatus: text("comparison_status", { enum: COMPARISON_STATUSES }),
    baselineId: text("baseline_id"),
    /** The comparison's figures (JSON) once completed, or its error. */
    comparison: text("comparison"),
    changed: integer("changed", { mode: "boolean" }),
    diffKey: text("diff_key"),
    /** When the comparison last changed state (the sweeper finds stuck pending ones). */
    comparedAt: integer("compared_at"),
    /** SHA-256 of the page's visible text (kept in R2 next to the image); null when none was kept. */
    textSha256: text("text_sha256"),
    /** The text of `ignore_selectors` elements at capture time (JSON array): left out of the text comparison. */
    ignoreText: text("ignore_text"),
    /**
     * `confirm: true`: the capture taken 60 s after this one's change to confirm it (on the
     * changed capture), and the capture it confirms (on the confirming one).
     */
    confirmedBy: text("confirmed_by"),
    confirms: text("confirms"),
  },
  (t) => [
    index("screenshots_baseline").on(t.websiteId, t.compareKey, t.id),
    index("screenshots_changes").on(t.websiteId, t.changed, t.id),
    index("screenshots_comparison").on(t.comparisonStatus, t.comparedAt),
    index("screenshots_website").on(t.websiteId, t.id),
    index("screenshots_run").on(t.runId),
    index("screenshots_created").on(t.createdAt),
    /** The crash sweeper finds queued/processing screenshots without reading history. */
    index("screenshots_status").on(t.status, t.updatedAt),
  ],
);

/** Webhook endpoints. Secrets are sealed (lib/secrets.ts, bound to the webhook id), never stored in clear. */
export const webhooks = sqliteTable("webhooks", {
  id: text("id").primaryKey(),
  url: text("url").notNull(),
  /** JSON array of event types, or `["*"]`. */
  events: text("events").notNull(),
  description: text("description"),
  enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
  /** Why SnapTrack disabled it (410 Gone, failing for days); null when the user did. */
  disabledReason: text("disabled_reason"),
  secret: text("secret").notNull(),
  /** The secret before the last rotation: it signs next to the new one until `previousSecretUntil`. */
  previousSecret: text("previous_secret"),
  previousSecretUntil: integer("previous_secret_until"),
  /** First failed attempt since the last successful one; null while deliveries succeed. */
  failingSince: integer("failing_since"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
  /**
   * The user who added it in the dashboard (their id in the directory); null when it came
   * through the API (the account's token) or before this was recorded. Removing that user
   * disables it unless an owner keeps it (services/created-by.ts).
   */
  createdBy: text("created_by"),
});

/** One event (its body is what every endpoint receives), kept for the account's history window. */
export const webhookEvents = sqliteTable(
  "webhook_events",
  {
    /** Deterministic per (resource, type) for job events: a repeated job emits nothing twice. */
    id: text("id").primaryKey(),
    type: text("type", { enum: WEBHOOK_EVENT_TYPES }).notNull(),
    /** The exact JSON body sent (and signed), `{type, timestamp, data}`. */
    body: text("body").notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("webhook_events_created").on(t.createdAt)],
);

/** One event to one endpoint; a redelivery is a new row for the same event. */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    webhookId: text("webhook_id")
      .notNull()
      .references(() => webhooks.id, { onDelete: "cascade" }),
    eventId: text("event_id")
      .notNull()
      .references(() => webhookEvents.id, { onDelete: "cascade" }),
    type: text("type", { enum: WEBHOOK_EVENT_TYPES }).notNull(),
    status: text("status", { enum: DELIVERY_STATUSES }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    durationMs: integer("duration_ms"),
    nextAttemptAt: integer("next_attempt_at"),
    /** Set while an attempt is in flight (null between attempts): a stale one was a consumer that died. */
    claimedAt: integer("claimed_at"),
    redeliveryOf: text("redelivery_of"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("webhook_deliveries_webhook").on(t.webhookId, t.id),
    index("webhook_deliveries_event").on(t.eventId),
    // An event is delivered once per endpoint (redeliveries aside), however often it is emitted.
    uniqueIndex("webhook_deliveries_once").on(t.webhookId, t.eventId).where(sql`redelivery_of IS NULL`),
  ],
);

/**
 * A value shown once, by the page a form redirects to (Post/Redirect/Get): a new API token,
 * a webhook's signing secret, an invitation link. Sealed (lib/secrets, bound to its id and
 * user), readable once by the user who caused it, and only for a few minutes
 * (services/one-time.ts); the row is deleted when shown, and expired ones on the next use or
 * wake-up.
 */
export const oneTimeValues = sqliteTable(
  "one_time_values",
  {
    /** Random, in the redirect's URL. */
    id: text("id").primaryKey(),
    userId: text("user_id").notNull(),
    kind: text("kind").notNull(),
    /** What it belongs to (the webhook's id, the invited email), shown with it. */
    subject: text("subject"),
    value: text("value").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("one_time_values_expires").on(t.expiresAt)],
);

/**
 * Alert channels: where people are told (an email address, a Slack or Discord incoming
 * webhook). The address-confirmation token is stored as its SHA-256 hash (mailed once); the
 * unsubscribe token is kept as it is, since every email repeats it (it can only disable this channel).
 */
export const alertChannels = sqliteTable(
  "alert_channels",
  {
    id: text("id").primaryKey(),
    type: text("type", { enum: ALERT_CHANNEL_TYPES }).notNull(),
    /** The address or the incoming-webhook URL. */
    target: text("target").notNull(),
    /** JSON array of alert event types. */
    events: text("events").notNull(),
    /** JSON array of website ids; null: every website. */
    websiteIds: text("website_ids"),
    frequency: text("frequency", { enum: ALERT_FREQUENCIES }).notNull().default("instant"),
    /** Email to an address outside the team: false until the address confirms; unverified channels send nothing. */
    verified: integer("verified", { mode: "boolean" }).notNull().default(true),
    verifyTokenHash: text("verify_token_hash"),
    unsubscribeToken: text("unsubscribe_token").notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    /** Why SnapTrack disabled it (unsubscribed, failing, its creator removed); null when the user did. */
    disabledReason: text("disabled_reason"),
    /** First failed attempt since the last successful one (Slack/Discord); null while they succeed. */
    failingSince: integer("failing_since"),
    /** Daily channels: the end of the period their last digest covered. */
    digestedUntil: integer("digested_until"),
    /** The user who added it (their id in the directory); null when it came through the API token. */
    createdBy: text("created_by"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("alert_channels_verify").on(t.verifyTokenHash),
    uniqueIndex("alert_channels_unsubscribe").on(t.unsubscribeToken),
    index("alert_channels_created_by").on(t.createdBy),
  ],
);

/**
 * One occurrence worth telling people of (a change, a failure streak starting, a recovery, a
 * failed run, a paused schedule). The id derives from the occurrence, so a repeated job
 * raises nothing twice. `data` holds what the messages show (JSON), kept for the history window.
 */
export const alerts = sqliteTable(
  "alerts",
  {
    id: text("id").primaryKey(),
    type: text("type", { enum: ALERT_EVENT_TYPES }).notNull(),
    websiteId: text("website_id"),
    data: text("data").notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("alerts_created").on(t.createdAt)],
);

/** One message to one channel: an alert, a daily digest, a test or an address confirmation. */
export const alertDeliveries = sqliteTable(
  "alert_deliveries",
  {
    id: text("id").primaryKey(),
    channelId: text("channel_id")
      .notNull()
      .references(() => alertChannels.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: ALERT_DELIVERY_KINDS }).notNull(),
    /** The alert (kind `alert`); null for digests, tests and confirmations. */
    alertId: text("alert_id").references(() => alerts.id, { onDelete: "cascade" }),
    /** What it says in one line (the subject), for the delivery log. */
    summary: text("summary").notNull(),
    /** Digests: the period covered (alerts created after `from`, up to `until`). */
    periodFrom: integer("period_from"),
    periodUntil: integer("period_until"),
    status: text("status", { enum: DELIVERY_STATUSES }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    durationMs: integer("duration_ms"),
    nextAttemptAt: integer("next_attempt_at"),
    /** Set while an attempt is in flight: a stale one was a consumer that died. */
    claimedAt: integer("claimed_at"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("alert_deliveries_channel").on(t.channelId, t.id),
    index("alert_deliveries_created").on(t.createdAt),
    // An alert is delivered once per channel, however often it is raised.
    uniqueIndex("alert_deliveries_once").on(t.channelId, t.alertId).where(sql`alert_id IS NOT NULL`),
    // One digest per channel and period.
    uniqueIndex("alert_deliveries_digest").on(t.channelId, t.periodUntil).where(sql`kind = 'digest'`),
  ],
);

/** The account's own settings (one row, id 1): the time zone its daily digests follow. */
export const accountSettings = sqliteTable("account_settings", {
  id: integer("id").primaryKey(),
  /** IANA time zone; daily digests go out at 08:00 there. */
  timezone: text("timezone").notNull().default("UTC"),
  updatedAt: updatedAt(),
});

/**
 * Local only (`MAIL_OUTBOX=1`): every message the account's mail path sent, as its recipient
 * gets it, for the dashboard's Settings → Outbox and the tests. The newest 200 are kept.
 */
export const outbox = sqliteTable(
  "outbox",
  {
    id: text("id").primaryKey(),
    from: text("from_address").notNull(),
    to: text("to_address").notNull(),
    subject: text("subject").notNull(),
    html: text("html").notNull(),
    text: text("text").notNull(),
    /** JSON object of extra headers. */
    headers: text("headers").notNull().default("{}"),
    /** JSON array of inline images: `{ contentId, filename, type, base64 }`. */
    inline: text("inline").notNull().default("[]"),
    sent: integer("sent", { mode: "boolean" }).notNull(),
    error: text("error"),
    createdAt: createdAt(),
  },
  (t) => [index("outbox_to").on(t.to, t.id)],
);

export type Website = typeof websites.$inferSelect;
export type Screenshot = typeof screenshots.$inferSelect;
export type Scenario = typeof scenarios.$inferSelect;
export type Run = typeof runs.$inferSelect;
export type Schedule = typeof schedules.$inferSelect;
export type Webhook = typeof webhooks.$inferSelect;
export type WebhookEvent = typeof webhookEvents.$inferSelect;
export type WebhookDelivery = typeof webhookDeliveries.$inferSelect;
export type OutboxMail = typeof outbox.$inferSelect;
export type AlertChannel = typeof alertChannels.$inferSelect;
export type Alert = typeof alerts.$inferSelect;
export type AlertDelivery = typeof alertDeliveries.$inferSelect;
