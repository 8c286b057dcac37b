import { and, eq, gte, inArray, lte, sql } from "drizzle-orm";
import { expectBrowserJobs } from "../capture/browser";
import { screenshotObjects } from "../capture/keys";
import { type CaptureOptions, type CaptureOptionsInput, resolveOptions } from "../capture/options";
import { compareKey, parseChangeDetection, type Trigger } from "../compare/settings";
import type { TextComparison } from "../compare/text";
import { chunks } from "../db/chunks";
import type { Db } from "../db/client";
import { newId } from "../db/ids";
import { listPage, rowById } from "../db/owned";
import { type AccountRecord, type Scenario, type Screenshot, screenshots, type Website } from "../db/schema";
import { DAY, iso, isoOrNull, retryAfterSeconds } from "../lib/clock";
import { ApiError, notFound } from "../lib/errors";
import type { Plan } from "../limits/plans";
import {
  type CaptureUsage,
  effectivePlan,
  type QuotaRefusal,
  quotaRefusal,
  subscriptionStatus,
} from "../limits/subscription";
import { type Completions, FINISHED, type JobKind } from "../queue/completion";
import { enqueue } from "../queue/messages";
import { storedSteps } from "./scenarios";
import type { AccountScope } from "./scope";
import { getWebsite, parseCapture } from "./websites";

export type ScreenshotSource = Screenshot["source"];
export type ScreenshotStatus = Screenshot["status"];

/** When retention will delete it: creation + the account's history window, as of now. */
export const expiresAt = (createdAt: number, plan: Plan) => createdAt + plan.historyDays * DAY;

export function screenshotView(s: Screenshot, plan: Plan) {
  return {
    id: s.id,
    website_id: s.websiteId,
    status: s.status,
    source: s.source,
    url: s.url,
    capture: JSON.parse(s.options) as CaptureOptions,
    error: s.error,
    format: s.format,
    width: s.width,
    height: s.height,
    bytes: s.bytes,
    sha256: s.sha256,
    schedule_id: s.scheduleId,
    run_id: s.runId,
    name: s.name,
    step_index: s.stepIndex,
    created_at: iso(s.createdAt),
    started_at: isoOrNull(s.startedAt),
    captured_at: isoOrNull(s.capturedAt),
    expires_at: iso(expiresAt(s.createdAt, plan)),
    download_url: s.status === "completed" ? `/v1/screenshots/${s.id}/download` : null,
    comparison: comparisonView(s),
  };
}

/** 429 `quota_exceeded` with the contract's fields. */
export function quotaExceeded(q: QuotaRefusal, now: number, detail = "") {
  const retryAfter = retryAfterSeconds(q.resetAt, now);
  return new ApiError(
    "quota_exceeded",
    `The ${q.period === "day" ? "daily" : "monthly"} capture quota of ${q.limit} is used up.${detail}`,
    {
      headers: { "Retry-After": String(retryAfter) },
      extra: {
        limit: q.limit,
        remaining: Math.max(0, q.limit - q.used),
        reset_at: iso(q.resetAt),
        retry_after: retryAfter,
      },
    },
  );
}

/**
 * A scenario whose steps take screenshots needs capture quota left to start (each screenshot
 * reserves its own as it is taken). Null when it may start.
 */
export function runQuotaRefusal(scenario: Scenario, plan: Plan, usage: CaptureUsage, now: number): QuotaRefusal | null {
  if (!storedSteps(scenario).some((s) => s.action === "screenshot")) return null;
  return quotaRefusal(plan, usage, 1, now);
}

/** `runQuotaRefusal` as the API's 429, or null. */
export function runQuotaProblem(scenario: Scenario, plan: Plan, usage: CaptureUsage, now: number): ApiError | null {
  const refusal = runQuotaRefusal(scenario, plan, usage, now);
  return refusal ? quotaExceeded(refusal, now, " This scenario takes screenshots.") : null;
}

export interface NewScreenshot {
  website: Website;
  override?: CaptureOptionsInput;
  /** Scenario-level options between the website's and the override. */
  scenarioCapture?: CaptureOptionsInput;
  source: ScreenshotSource;
  status?: ScreenshotStatus;
  scheduleId?: string | null;
  runId?: string | null;
  name?: string | null;
  stepIndex?: number | null;
  url?: string;
  /** A scenario `screenshot` step with `compare`: compared with the website's settings. */
  compare?: boolean;
  /** Fields set on the row as it is written (a confirming capture: the settings of the one it confirms). */
  fields?: Partial<Screenshot>;
}

export function screenshotRow(input: NewScreenshot, now: number): Screenshot {
  const options = resolveOptions(parseCapture(input.website.capture), input.scenarioCapture, input.override);
  return {
    id: newId("screenshot", now),
    websiteId: input.website.id,
    scheduleId: input.scheduleId ?? null,
    runId: input.runId ?? null,
    name: input.name ?? null,
    stepIndex: input.stepIndex ?? null,
    source: input.source,
    status: input.status ?? "queued",
    url: input.url ?? input.website.url,
    options: JSON.stringify(options),
    error: null,
    attempts: 0,
    r2Key: null,
    thumbKey: null,
    format: options.format,
    width: null,
    height: null,
    bytes: null,
    sha256: null,
    createdAt: now,
    updatedAt: now,
    startedAt: null,
    capturedAt: null,
    ...detectionFields(input, options),
    textSha256: null,
    ignoreText: null,
    confirmedBy: null,
    confirms: null,
    ...input.fields,
  };
}

/**
 * Website captures remember what finds their "previous" baseline and the website's change
 * detection as it is now (its ignore_selectors are measured at capture). A scenario's
 * screenshot keeps the settings only when its step asks to `compare` (even with the
 * website's detection off: the step asked); its baseline is found by run and name.
 */
function detectionFields(input: NewScreenshot, options: CaptureOptions) {
  const detection = parseChangeDetection(input.website.changeDetection);
  const compared = input.source === "scenario" ? input.compare === true : detection.enabled;
  return {
    compareKey: input.source === "scenario" ? null : compareKey(options),
    detection: compared ? JSON.stringify(detection) : null,
    ignoreBoxes: null,
    comparisonStatus: null,
    baselineId: null,
    comparison: null,
    changed: null,
    diffKey: null,
    comparedAt: null,
  };
}

/** The screenshot's `comparison`: null when there is none (no baseline, or detection off). */
export function comparisonView(s: Screenshot) {
  if (!s.comparisonStatus) return null;
  const figures = s.comparison ? (JSON.parse(s.comparison) as Partial<ComparisonFigures>) : {};
  return {
    status: s.comparisonStatus,
    baseline_id: s.baselineId,
    changed: s.changed,
    changed_pixels: figures.changed_pixels ?? null,
    change_ratio: figures.change_ratio ?? null,
    max_tile_ratio: figures.max_tile_ratio ?? null,
    regions: figures.regions ?? [],
    size_changed: figures.size_changed ?? null,
    diff_url: s.diffKey ? `/v1/screenshots/${s.id}/diff` : null,
    text: figures.text ?? null,
    triggered: figures.triggered ?? [],
    transient: figures.transient ?? false,
    ...(figures.error ? { error: figures.error } : {}),
  };
}

/** What a comparison stores on its screenshot (JSON in `comparison`). */
export interface ComparisonFigures {
  changed_pixels: number;
  change_ratio: number;
  max_tile_ratio: number;
  regions: { x: number; y: number; width: number; height: number }[];
  size_changed: boolean;
  error?: string;
  /** The line diff of the page's text against the same baseline; null when text is off or missing. */
  text?: TextComparison | null;
  /** The triggers that fired (with triggers set, only these make a change). */
  triggered?: Trigger[];
  /** `confirm: true`: the change was gone when the confirming capture looked again. */
  transient?: boolean;
}

/**
 * A queued capture: quota reserved, row written, job enqueued — or the quota refusal (the
 * dispatcher records it; the API answers 429). If the job cannot be enqueued the row is
 * removed and the quota given back, so nothing waits forever.
 */
export async function tryQueueCapture(
  scope: AccountScope,
  queue: Queue,
  input: NewScreenshot,
  now: number,
  delaySeconds?: number,
): Promise<{ ok: true; row: Screenshot } | { ok: false; refusal: QuotaRefusal }> {
  const quota = scope.quota.consume(1, now);
  if (!quota.ok) return { ok: false, refusal: quota };
  const row = screenshotRow(input, now);
  try {
    // Before sending: the queue may deliver at once (a delayed job is not on its way yet).
    if (!delaySeconds) expectBrowserJobs(1);
    await scope.db.insert(screenshots).values(row);
    await enqueue(queue, { type: "capture", screenshot_id: row.id, account_id: scope.accountId }, delaySeconds);
  } catch (err) {
    if (!delaySeconds) expectBrowserJobs(-1);
    await scope.db
      .delete(screenshots)
      .where(eq(screenshots.id, row.id))
      .catch(() => {});
    scope.quota.consume(-1, now);
    throw err;
  }
  return { ok: true, row };
}

/**
 * Waits (woken by the job, never polling) until the job has finished, then reads its row
 * once; undefined when the wait ended first or could not be waited on at all — the job is
 * queued either way, so the caller answers as without a wait (202), never with an error.
 */
export async function finishedWithin<T extends { status: string }>(
  completions: Completions,
  seconds: number,
  job: { kind: JobKind; id: string },
  reread: () => T | undefined | Promise<T | undefined>,
): Promise<T | undefined> {
  const done = async () => {
    const row = await reread();
    return row === undefined || FINISHED[job.kind].includes(row.status);
  };
  try {
    if (!(await completions.wait(job.id, done, seconds * 1000))) return undefined;
    const row = await reread();
    return row && FINISHED[job.kind].includes(row.status) ? row : undefined;
  } catch (err) {
    console.error(
      JSON.stringify({ level: "error", msg: "waiting for the job failed", id: job.id, error: String(err) }),
    );
    return undefined;
  }
}

/**
 * `POST /v1/screenshots`: the account's website, captured with per-capture overrides. With a
 * wait (`Prefer: wait=<seconds>`), `finished` tells whether the row returned is the finished screenshot.
 */
export async function requestScreenshot(
  scope: AccountScope,
  queue: Queue,
  account: AccountRecord,
  websiteId: string,
  override: CaptureOptionsInput | undefined,
  now: number,
  waitSeconds?: number,
  source: "api" | "dashboard" = "api",
) {
  const { db } = scope;
  const website = await getWebsite(db, websiteId);
  const row = await queueCapture(scope, queue, { website, override, source }, now);
  const done = waitSeconds
    ? await finishedWithin(scope.completions, waitSeconds, { kind: "screenshot", id: row.id }, () =>
        db.select().from(screenshots).where(eq(screenshots.id, row.id)).get(),
      )
    : undefined;
  return { row: done ?? row, finished: done !== undefined, plan: effectivePlan(account, now) };
}

/**
 * "Take screenshot" in the dashboard: the same quota as the API (reserved in the account's
 * object, exact under concurrency; a Free account may capture here), but not the API's
 * per-minute request limit. Refused while the subscription has expired, as the API is.
 */
export async function requestDashboardScreenshot(
  scope: AccountScope,
  queue: Queue,
  account: AccountRecord,
  websiteId: string,
  now: number,
) {
  if (subscriptionStatus(account, now) === "expired") {
    throw new ApiError("subscription_expired", "Your subscription has expired. Renew it to take screenshots again.");
  }
  return requestScreenshot(scope, queue, account, websiteId, undefined, now, undefined, "dashboard");
}

/** `tryQueueCapture` for the API: a refusal is the 429. */
export async function queueCapture(scope: AccountScope, queue: Queue, input: NewScreenshot, now: number) {
  const result = await tryQueueCapture(scope, queue, input, now);
  if (!result.ok) throw quotaExceeded(result.refusal, now);
  return result.row;
}

export const getScreenshot = (db: Db, id: string): Promise<Screenshot> => rowById(db, screenshots, id, "Screenshot");

export interface ScreenshotFilters {
  limit: number;
  cursor?: string;
  website_id?: string;
  status?: ScreenshotStatus;
  source?: ScreenshotSource;
  since?: number;
  until?: number;
  run_id?: string;
}

export function filterConditions(f: Omit<ScreenshotFilters, "limit" | "cursor">) {
  return [
    f.website_id ? eq(screenshots.websiteId, f.website_id) : undefined,
    f.status ? eq(screenshots.status, f.status) : undefined,
    f.source ? eq(screenshots.source, f.source) : undefined,
    f.run_id ? eq(screenshots.runId, f.run_id) : undefined,
    f.since !== undefined ? gte(screenshots.createdAt, f.since) : undefined,
    f.until !== undefined ? lte(screenshots.createdAt, f.until) : undefined,
  ];
}

export const listScreenshots = (db: Db, plan: Plan, f: ScreenshotFilters) =>
  listPage(db, screenshots, f, (s) => screenshotView(s, plan), ...filterConditions(f));

/** Row first (the API stops showing it), then the bytes. */
export async function deleteScreenshot(db: Db, bucket: R2Bucket, id: string): Promise<void> {
  const [row] = await db
    .delete(screenshots)
    .where(eq(screenshots.id, id))
    .returning({ r2Key: screenshots.r2Key, diffKey: screenshots.diffKey, thumbKey: screenshots.thumbKey });
  if (!row) throw notFound("Screenshot");
  const keys = screenshotObjects(row);
  if (keys.length > 0) await bucket.delete(keys);
}

/** Completed screenshots by ids (all must exist and be completed) for a bulk download. */
export async function screenshotsByIds(db: Db, ids: string[]): Promise<Screenshot[]> {
  const unique = [...new Set(ids)];
  const rows: Screenshot[] = [];
  for (const slice of chunks(unique)) {
    rows.push(...(await db.select().from(screenshots).where(inArray(screenshots.id, slice))));
  }
  const found = new Set(rows.map((r) => r.id));
  const missing = unique.filter((id) => !found.has(id));
  if (missing.length > 0)
    throw new ApiError(
      "not_found",
      `Screenshots not found: ${missing.slice(0, 10).join(", ")}${missing.length > 10 ? ", …" : ""}`,
    );
  const unfinished = rows.filter((r) => r.status !== "completed").map((r) => r.id);
  if (unfinished.length > 0) {
    throw new ApiError(
      "conflict",
      `Screenshots not completed yet: ${unfinished.slice(0, 10).join(", ")}${unfinished.length > 10 ? ", …" : ""}`,
    );
  }
  return rows.sort((a, b) => (a.id < b.id ? -1 : 1));
}

/** Completed screenshots of a website in a time range, oldest first (bulk download). */
export async function completedInRange(db: Db, f: { website_id: string; since?: number; until?: number }, max: number) {
  return db
    .select()
    .from(screenshots)
    .where(and(...filterConditions({ ...f, status: "completed" })))
    .orderBy(screenshots.id)
    .limit(max);
}

export async function countScreenshots(db: Db, f: Omit<ScreenshotFilters, "limit" | "cursor">) {
  const [row] = await db
    .select({ n: sql<number>`count(*)` })
    .from(screenshots)
    .where(and(...filterConditions(f)));
  return row?.n ?? 0;
}
