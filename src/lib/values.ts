/**
 * Value sets shared by the data model (drizzle), the API schemas (zod) and the tests: each
 * list has this one home.
 */
export const PLAN_IDS = ["free", "starter", "pro", "business"] as const;
export type PlanId = (typeof PLAN_IDS)[number];

export const SCREENSHOT_STATUSES = ["queued", "processing", "completed", "failed"] as const;
export type ScreenshotStatus = (typeof SCREENSHOT_STATUSES)[number];

/** Where a capture came from: the API, a schedule, a scenario's step, or "Take screenshot" in the dashboard. */
export const SCREENSHOT_SOURCES = ["api", "schedule", "scenario", "dashboard"] as const;
export type ScreenshotSource = (typeof SCREENSHOT_SOURCES)[number];

export const COMPARISON_STATUSES = ["pending", "completed", "failed"] as const;
export type ComparisonStatus = (typeof COMPARISON_STATUSES)[number];

export const IMAGE_FORMATS = ["png", "jpeg", "webp"] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

export const RUN_STATUSES = ["queued", "running", "passed", "failed", "error"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** A user's role in their account: owners also manage plan, API token and members. */
export const USER_ROLES = ["owner", "member"] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** Who started a run: the API, a schedule, or "Run now" in the dashboard. */
export const RUN_TRIGGERS = ["api", "schedule", "dashboard"] as const;
export type RunTrigger = (typeof RUN_TRIGGERS)[number];

/**
 * A step the run has not reached yet is `pending`; `skipped` is a step passed over on
 * purpose (an optional click whose element was absent) or never reached because the run
 * ended before it (a step failed, the run errored). A finished run has no `pending` step.
 */
export const STEP_STATUSES = ["pending", "passed", "failed", "skipped"] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/** Webhook events (the contract's list); an endpoint subscribes to some of them or to `*`. */
export const WEBHOOK_EVENT_TYPES = [
  "screenshot.completed",
  "screenshot.failed",
  "change.detected",
  "run.finished",
  "schedule.paused",
  "webhook.test",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Alert channels: how people are told (email through the Email Service binding, Slack and Discord incoming webhooks). */
export const ALERT_CHANNEL_TYPES = ["email", "slack", "discord"] as const;
export type AlertChannelType = (typeof ALERT_CHANNEL_TYPES)[number];

/** What a channel can be told of (the contract's list); `recovered` is a website's first success after failures. */
export const ALERT_EVENT_TYPES = [
  "change.detected",
  "screenshot.failed",
  "run.failed",
  "schedule.paused",
  "recovered",
] as const;
export type AlertEventType = (typeof ALERT_EVENT_TYPES)[number];

export const ALERT_FREQUENCIES = ["instant", "daily"] as const;
export type AlertFrequency = (typeof ALERT_FREQUENCIES)[number];

/** One delivery to a channel: an alert (instant), a day's digest, a test, or an address's confirmation. */
export const ALERT_DELIVERY_KINDS = ["alert", "digest", "test", "verification"] as const;
export type AlertDeliveryKind = (typeof ALERT_DELIVERY_KINDS)[number];

export const DELIVERY_STATUSES = ["pending", "delivered", "failed"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** A receiver has this long to answer one delivery attempt. */
export const WEBHOOK_TIMEOUT_MS = 15_000;
/** Seconds before each retry of a failed delivery: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h; then it is `failed`. */
export const WEBHOOK_RETRY_DELAYS_S = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600] as const;
/** After a secret rotation the previous secret keeps signing (next to the new one) this long. */
export const WEBHOOK_SECRET_OVERLAP_MS = 24 * 3_600_000;
/** An endpoint whose every attempt failed for this long is disabled. */
export const WEBHOOK_DISABLE_AFTER_MS = 5 * 24 * 3_600_000;
/** A webhook body (`{type, timestamp, data}`) is at most this many bytes. */
export const WEBHOOK_MAX_BODY_BYTES = 20 * 1024;

/** A scenario run's overall time budget unless the scenario sets `timeout_ms`. */
export const DEFAULT_RUN_TIMEOUT_MS = 120_000;

/** Request bodies are refused past this size (413). */
export const MAX_BODY_BYTES = 1024 * 1024;
export const MAX_BODY_TEXT = `${MAX_BODY_BYTES / (1024 * 1024)} MB`;

/** `Prefer: wait=<seconds>` on the POSTs that start work: the longest wait honoured (RFC 7240). */
export const MAX_PREFER_WAIT_SECONDS = 60;
