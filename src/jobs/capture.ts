import type { Browser } from "@cloudflare/puppeteer";
import { and, eq, inArray, lt, or, sql } from "drizzle-orm";
import { describeError, permanentError, TargetError } from "../capture/errors";
import { CONTENT_TYPES } from "../capture/image";
import { screenshotKey, thumbnailKey } from "../capture/keys";
import type { BrowserTask } from "../capture/lanes";
import type { CaptureOptions } from "../capture/options";
import { assertContained, type GuardedPage, navigate, openPage, type Shot, shoot, withDeadline } from "../capture/page";
import { logTrace, type PhaseTrace, type Trace, tracedBucket, untraced } from "../capture/trace";
import { checkUrl, type GuardPolicy } from "../capture/url-guard";
import type { ChangeDetection } from "../compare/settings";
import { type Db, getDb } from "../db/client";
import { type Screenshot, schedules, screenshots, websites } from "../db/schema";
import { MINUTE } from "../lib/clock";
import { sha256Hex } from "../lib/crypto";
import { jobCompletions } from "../queue/completion";
import type { JobOf } from "../queue/messages";
import { emitScreenshotEvent, notify } from "../services/webhooks";
import { startComparison } from "./compare";

/** A `processing` claim older than this belongs to a consumer that died; it may be taken over. */
export const STALE_CLAIM = 3 * MINUTE;

export interface CaptureWork {
  message: Message<unknown>;
  job: JobOf<"capture">;
}

/** Backoff for transient failures: 10 s, 20 s, 40 s … capped at 5 minutes. */
export const retryDelaySeconds = (attempts: number) => Math.min(300, 10 * 2 ** Math.max(0, attempts - 1));

/**
 * Claims a queued screenshot (or a stale `processing` one). A redelivered message for a
 * finished screenshot claims nothing, so it creates nothing twice.
 */
async function claim(db: Db, id: string, now: number): Promise<Screenshot | "busy" | undefined> {
  const [row] = await db
    .update(screenshots)
    .set({ status: "processing", attempts: sql`${screenshots.attempts} + 1`, startedAt: now, updatedAt: now })
    .where(
      and(
        eq(screenshots.id, id),
        or(
          eq(screenshots.status, "queued"),
          and(eq(screenshots.status, "processing"), lt(screenshots.startedAt, now - STALE_CLAIM)),
        ),
      ),
    )
    .returning();
  if (row) return row;
  const existing = await db
    .select({ status: screenshots.status })
    .from(screenshots)
    .where(eq(screenshots.id, id))
    .get();
  return existing?.status === "processing" ? "busy" : undefined;
}

/**
 * A capture's page, opened before it is needed: the URL checked, then a fresh context and
 * page, armed and configured (page.ts). Close it with `shootCapture` (or `close()`).
 */
export async function openCapture(
  browser: Browser,
  opts: CaptureOptions,
  url: string,
  policy: GuardPolicy,
  trace: Trace = untraced,
): Promise<GuardedPage> {
  const verdict = await checkUrl(url, policy, "capturing");
  if (!verdict.ok) throw new TargetError(`Blocked ${url}: ${verdict.reason}`);
  return openPage(browser, verdict.url, opts, policy, trace);
}

/** The browser work on an opened page: navigate, picture and thumbnail; its context is closed after. */
export async function shootCapture(
  page: GuardedPage,
  opts: CaptureOptions,
  url: string,
  measure: string[] = [],
): Promise<Shot> {
  try {
    return await withDeadline(
      opts.timeout_ms + opts.delay_ms + 15_000,
      "Capture",
      (async () => {
        await navigate(page, url, opts);
        const shot = await shoot(page, opts, measure, true);
        assertContained(page);
        return shot;
      })(),
    );
  } finally {
    await page.close();
  }
}

/**
 * Stores the image and completes the row. The key carries the attempt, so a slower
 * duplicate of the same job can never delete the winner's bytes; whatever does not end up
 * referenced by a completed row is deleted again (no orphans).
 */
export async function storeShot(env: Env, db: Db, row: Screenshot, shot: Shot, scenarioId: string | null, now: number) {
  const format = row.format ?? "png";
  const sha256 = await sha256Hex(shot.bytes);
  const key = screenshotKey({ ...row, id: `${row.id}.${row.attempts}`, scenarioId, format });
  await env.SHOTS.put(key, shot.bytes, { httpMetadata: { contentType: CONTENT_TYPES[format] }, sha256 });
  // The gallery thumbnail next to the image, under the same attempt's key (deleted with it).
  const thumbKey = shot.thumb ? thumbnailKey(key) : null;
  const keys = thumbKey ? [key, thumbKey] : [key];
  if (thumbKey && shot.thumb) {
    try {
      await env.SHOTS.put(thumbKey, shot.thumb, { httpMetadata: { contentType: CONTENT_TYPES.jpeg } });
    } catch (err) {
      await env.SHOTS.delete(key);
      throw err;
    }
  }
  let completed: { id: string }[];
  try {
    completed = await db
      .update(screenshots)
      .set({
        status: "completed",
        r2Key: key,
        thumbKey,
        width: shot.width,
        height: shot.height,
        bytes: shot.bytes.byteLength,
        sha256,
        ignoreBoxes: shot.ignore ? JSON.stringify(shot.ignore) : null,
        capturedAt: now,
        updatedAt: now,
        error: null,
      })
      .where(
        and(eq(screenshots.id, row.id), eq(screenshots.status, "processing"), eq(screenshots.attempts, row.attempts)),
      )
      .returning({ id: screenshots.id });
  } catch (err) {
    await env.SHOTS.delete(keys);
    throw err;
  }
  if (completed.length === 0) {
    // Deleted (or taken over) while we worked: our bytes belong to nobody.
    await env.SHOTS.delete(keys);
    return false;
  }
  await db.update(websites).set({ lastCaptureAt: now }).where(eq(websites.id, row.websiteId));
  if (row.scheduleId)
    await db.update(schedules).set({ lastStatus: "completed" }).where(eq(schedules.id, row.scheduleId));
  return true;
}

/**
 * Ends a screenshot `failed`. With `attempts`, only the attempt that claimed it may: a
 * worker that lost its claim (taken over, or swept after it went quiet) changes nothing.
 */
export async function failScreenshot(
  db: Db,
  id: string,
  error: string,
  now: number,
  statuses: Screenshot["status"][] = ["processing"],
  attempts?: number,
  webhooks?: Queue,
) {
  const [row] = await db
    .update(screenshots)
    .set({ status: "failed", error, updatedAt: now })
    .where(
      and(
        eq(screenshots.id, id),
        inArray(screenshots.status, statuses),
        attempts === undefined ? undefined : eq(screenshots.attempts, attempts),
      ),
    )
    .returning({ scheduleId: screenshots.scheduleId, accountId: screenshots.accountId, source: screenshots.source });
  if (row?.scheduleId) await db.update(schedules).set({ lastStatus: "failed" }).where(eq(schedules.id, row.scheduleId));
  if (row && webhooks)
    await notify(`screenshot.failed:${id}`, () =>
      emitScreenshotEvent(db, webhooks, { id, ...row }, "screenshot.failed", now),
    );
}

/** Back to `queued` with the reason, for the retry to pick up (only by the attempt that claimed it). */
async function requeue(db: Db, row: Screenshot, error: string, now: number) {
  await db
    .update(screenshots)
    .set({ status: "queued", error: `Retrying: ${error}`, updatedAt: now })
    .where(
      and(eq(screenshots.id, row.id), eq(screenshots.status, "processing"), eq(screenshots.attempts, row.attempts)),
    );
}

export type ClaimedCapture = CaptureWork & { row: Screenshot };

/**
 * Claims each job's screenshot (all at once: each claim is its own conditional UPDATE);
 * finished or deleted ones are acked, busy ones retried later.
 */
export async function claimCaptures(db: Db, work: CaptureWork[], now: number): Promise<ClaimedCapture[]> {
  const rows = await Promise.all(
    work.map((w) =>
      claim(db, w.job.screenshot_id, now).catch((err) => {
        console.error(
          JSON.stringify({ level: "error", msg: "claim failed", id: w.job.screenshot_id, error: describeError(err) }),
        );
        return "failed" as const;
      }),
    ),
  );
  const claimed: ClaimedCapture[] = [];
  for (const [i, w] of work.entries()) {
    const row = rows[i];
    if (row === "busy" || row === "failed") w.message.retry({ delaySeconds: retryDelaySeconds(w.message.attempts) });
    else if (row === undefined)
      w.message.ack(); // done, failed or deleted already
    else claimed.push({ ...w, row });
  }
  return claimed;
}

/** A platform failure: back to `queued` and retried with backoff (the DLQ fails it in the end). */
export async function retryCapture(db: Db, w: ClaimedCapture, err: unknown, now: number) {
  await requeue(db, w.row, describeError(err), now);
  w.message.retry({ delaySeconds: retryDelaySeconds(w.message.attempts) });
}

/**
 * One capture as a task of the batch's browser (lanes.ts): its page opened ahead, the browser
 * work in a page slot, then — after the browser work, while the next page is already being
 * captured — the shot stored and the row completed. Target failures end it `failed` at once.
 */
export function captureTask(
  env: Env,
  db: Db,
  browser: Browser,
  policy: GuardPolicy,
  w: ClaimedCapture,
  now: () => number,
  trace: PhaseTrace,
): BrowserTask {
  let job: { opts: CaptureOptions; measure: string[] } | undefined;
  let page: Promise<GuardedPage> | undefined;
  let outcome: { shot: Shot } | { error: unknown } = { error: new Error("The capture was not run") };
  try {
    const opts = JSON.parse(w.row.options) as CaptureOptions;
    const detection = w.row.detection ? (JSON.parse(w.row.detection) as ChangeDetection) : null;
    job = { opts, measure: detection?.ignore_selectors ?? [] };
  } catch (error) {
    outcome = { error };
  }
  return {
    heavy: job?.opts.full_page === true,
    async open() {
      if (!job) return;
      page = openCapture(browser, job.opts, w.row.url, policy, trace);
      await page;
    },
    async run() {
      if (!job || !page) return;
      try {
        outcome = { shot: await shootCapture(await page, job.opts, w.row.url, job.measure) };
      } catch (error) {
        outcome = { error };
      }
    },
    after: () => finishCapture(env, db, w, outcome, now, trace),
  };
}

/** After the browser work: stores the shot (or records why there is none) and tells whoever waits. */
async function finishCapture(
  env: Env,
  db: Db,
  w: ClaimedCapture,
  outcome: { shot: Shot } | { error: unknown },
  now: () => number,
  trace: PhaseTrace,
) {
  try {
    if ("error" in outcome) throw outcome.error;
    const traced = { ...env, SHOTS: tracedBucket(env.SHOTS, trace) };
    const stored = await trace.span("store", () => storeShot(traced, db, w.row, outcome.shot, null, now()));
    w.message.ack();
    if (stored) {
      await trace.span("events", async () => {
        await queueComparison(env, db, { ...w.row, status: "completed" }, now());
        await notify(`screenshot.completed:${w.row.id}`, () =>
          emitScreenshotEvent(db, env.WEBHOOKS, w.row, "screenshot.completed", now()),
        );
      });
    }
  } catch (err) {
    const permanent = permanentError(err);
    if (!permanent) return retryCapture(db, w, err, now());
    await failScreenshot(db, w.row.id, describeError(permanent), now(), ["processing"], w.row.attempts, env.WEBHOOKS);
    w.message.ack();
  }
  // Finished either way: a request waiting for it (`Prefer: wait`) answers now.
  await trace.span("events", () => jobCompletions(env.JOB_WATCH).notify(w.row.accountId, w.row.id));
  logTrace(env, w.row.id, trace);
}

/** The comparison runs in the background; nothing about it may fail or delay the capture. */
async function queueComparison(env: Env, db: Db, row: Screenshot, now: number) {
  try {
    await startComparison(env, db, row, now);
  } catch (err) {
    console.error(
      JSON.stringify({ level: "error", msg: "comparison not queued", id: row.id, error: describeError(err) }),
    );
  }
}

/** Dead-lettered capture: its retries are exhausted, so the row ends `failed` with the last reason. */
export async function captureGaveUp(env: Env, job: JobOf<"capture">, now: number) {
  const db = getDb(env.DB);
  const row = await db
    .select({ error: screenshots.error, attempts: screenshots.attempts })
    .from(screenshots)
    .where(eq(screenshots.id, job.screenshot_id))
    .get();
  if (!row) return;
  const last = row.error?.replace(/^Retrying: /, "") ?? "the job could not be processed";
  await failScreenshot(
    db,
    job.screenshot_id,
    `Gave up after ${row.attempts} attempts: ${last}`,
    now,
    ["queued", "processing"],
    undefined,
    env.WEBHOOKS,
  );
}
