/**
 * The whole data model. Times are integer milliseconds since the epoch (UTC); JSON columns
 * hold documents that are only ever read and written whole (capture options, steps).
 * Screenshot bytes live in R2; rows keep their key.
 */
import { sql } from "drizzle-orm";
import { check, index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import {
  DEFAULT_RUN_TIMEOUT_MS,
  IMAGE_FORMATS,
  PLAN_IDS,
  RUN_STATUSES,
  RUN_TRIGGERS,
  SCREENSHOT_SOURCES,
  SCREENSHOT_STATUSES,
  USER_ROLES,
} from "../lib/values";

const createdAt = () => integer("created_at").notNull();
/** The owning account: deleting it deletes the row. */
const ownerId = () =>
  text("account_id")
    .notNull()
    .references(() => accounts.id, { onDelete: "cascade" });
const updatedAt = () => integer("updated_at").notNull();

export const accounts = sqliteTable("accounts", {
  id: text("id").primaryKey(),
  email: text("email").notNull().unique(),
  name: text("name").notNull(),
  plan: text("plan", { enum: PLAN_IDS }).notNull(),
  /** A downgrade waiting for `pendingPlanAt` (the period end when it was asked for). */
  pendingPlan: text("pending_plan", { enum: PLAN_IDS }),
  pendingPlanAt: integer("pending_plan_at"),
  currentPeriodEnd: integer("current_period_end").notNull(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/**
 * The people who log in. Every user belongs to one account; whoever signs up is its owner,
 * the others joined through an invitation. Emails are unique across SnapTrack.
 */
export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    accountId: ownerId(),
    email: text("email").notNull().unique(),
    name: text("name").notNull(),
    passwordHash: text("password_hash").notNull(),
    role: text("role", { enum: USER_ROLES }).notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("users_account").on(t.accountId)],
);

/** A single-use link to join an account; pending until accepted, revoked or expired. */
export const invitations = sqliteTable(
  "invitations",
  {
    id: text("id").primaryKey(),
    accountId: ownerId(),
    email: text("email").notNull(),
    role: text("role", { enum: USER_ROLES }).notNull(),
    /** SHA-256 of the link's token; the token itself is never stored. */
    tokenHash: text("token_hash").notNull().unique(),
    invitedBy: text("invited_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("invitations_account").on(t.accountId, t.expiresAt)],
);

export const sessions = sqliteTable(
  "sessions",
  {
    /** SHA-256 of the cookie value; the value itself is never stored. */
    idHash: text("id_hash").primaryKey(),
    accountId: ownerId(),
    /** Removing a user ends their sessions with them. */
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [
    index("sessions_account").on(t.accountId),
    index("sessions_user").on(t.userId),
    index("sessions_expires").on(t.expiresAt),
  ],
);

/** One active token per account (the primary key enforces it). */
export const apiTokens = sqliteTable("api_tokens", {
  accountId: text("account_id")
    .primaryKey()
    .references(() => accounts.id, { onDelete: "cascade" }),
  tokenHash: text("token_hash").notNull().unique(),
  prefix: text("prefix").notNull(),
  createdAt: createdAt(),
  lastUsedAt: integer("last_used_at"),
});

export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    accountId: ownerId(),
    key: text("key").notNull(),
    /** SHA-256 of method, path and body: the same key with another request is refused. */
    fingerprint: text("fingerprint").notNull(),
    state: text("state").$type<"in_flight" | "done">().notNull(),
    responseStatus: integer("response_status"),
    responseBody: text("response_body"),
    responseHeaders: text("response_headers"),
    createdAt: createdAt(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.key] }), index("idempotency_expires").on(t.expiresAt)],
);

export const websites = sqliteTable(
  "websites",
  {
    id: text("id").primaryKey(),
    accountId: ownerId(),
    name: text("name").notNull(),
    url: text("url").notNull(),
    /** Capture defaults (JSON, the capture-options schema). */
    capture: text("capture").notNull().default("{}"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    lastCaptureAt: integer("last_capture_at"),
  },
  (t) => [index("websites_account").on(t.accountId, t.id)],
);

export const scenarios = sqliteTable(
  "scenarios",
  {
    id: text("id").primaryKey(),
    accountId: ownerId(),
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
  (t) => [index("scenarios_account").on(t.accountId, t.id), index("scenarios_website").on(t.websiteId)],
);

export const schedules = sqliteTable(
  "schedules",
  {
    id: text("id").primaryKey(),
    accountId: ownerId(),
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
    index("schedules_account").on(t.accountId, t.id),
    index("schedules_due").on(t.enabled, t.nextRunAt),
    index("schedules_account_gap").on(t.accountId, t.gapMinutes),
    check("schedules_one_target", sql`(website_id IS NULL) <> (scenario_id IS NULL)`),
    check("schedules_one_timing", sql`(cron IS NULL) <> (interval_minutes IS NULL)`),
  ],
);

export const runs = sqliteTable(
  "runs",
  {
    id: text("id").primaryKey(),
    accountId: ownerId(),
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
    index("runs_account_created").on(t.accountId, t.createdAt),
    index("runs_created").on(t.createdAt),
    /** The crash sweeper finds queued/running runs without reading history. */
    index("runs_status").on(t.status, t.updatedAt),
  ],
);

export const screenshots = sqliteTable(
  "screenshots",
  {
    id: text("id").primaryKey(),
    accountId: ownerId(),
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
  },
  (t) => [
    index("screenshots_account").on(t.accountId, t.id),
    index("screenshots_website").on(t.websiteId, t.id),
    index("screenshots_run").on(t.runId),
    index("screenshots_created").on(t.createdAt),
    /** The crash sweeper finds queued/processing screenshots without reading history. */
    index("screenshots_status").on(t.status, t.updatedAt),
  ],
);

export type Account = typeof accounts.$inferSelect;
/** An account as handlers see it (logins and their passwords are users'). */
export type AccountRecord = Account;
export type User = typeof users.$inferSelect;
export type Invitation = typeof invitations.$inferSelect;
export type Website = typeof websites.$inferSelect;
export type Screenshot = typeof screenshots.$inferSelect;
export type Scenario = typeof scenarios.$inferSelect;
export type Run = typeof runs.$inferSelect;
export type Schedule = typeof schedules.$inferSelect;
