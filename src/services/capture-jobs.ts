/**
 * The account's side of a capture job (its rows; the browser work is the queue consumer's,
 * src/jobs/capture.ts): claiming, completing, failing and requeueing, each a conditional
 * UPDATE, so a redelivered message or a slower twin changes nothing twice.
 */
import { and, eq, inArray, lt, or, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { type Screenshot, schedules, screenshots, websites } from "../db/schema";
import { MINUTE } from "../lib/clock";
import { captureFailed, captureSucceeded } from "./alert-events";
import { confirmationFailed, startComparison } from "./comparisons";
import { type EventScope, emitScreenshotEvent, notify } from "./webhooks";

/** A `processing` claim older than this belongs to a consumer that died; it may be taken over. */
export const STALE_CLAIM = 3 * MINUTE;

/** What the consumer stored in R2 for a capture, recorded on its row. */
export interface StoredShot {
  r2Key: string;
  thumbKey: string | null;
  width: number;
  height: number;
  bytes: number;
  sha256: string;
  ignoreBoxes: string | null;
  /** SHA-256 of the page's text stored next to the image; null when none was kept. */
  textSha256: string | null;
  /** Texts of the ignored elements (JSON array), for the text comparison. */
  ignoreText: string | null;
}

export type Claim = { claimed: Screenshot } | { busy: true } | { done: true };

/**
 * Claims a queued screenshot (or a stale `processing` one). A redelivered message for a
 * finished or deleted screenshot claims nothing, so it creates nothing twice.
 */
export async function claimCapture(db: Db, id: string, now: number): Promise<Claim> {
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
  if (row) return { claimed: row };
  const existing = await db
    .select({ status: screenshots.status })
    .from(screenshots)
    .where(eq(screenshots.id, id))
    .get();
  return existing?.status === "processing" ? { busy: true } : { done: true };
}

/**
 * Completes the row with what was stored, only over the attempt that claimed it. False when
 * the row was deleted or taken over meanwhile: the consumer then deletes its bytes (they
 * belong to nobody).
 */
export async function completeCapture(
  db: Db,
  row: Pick<Screenshot, "id" | "attempts" | "websiteId" | "scheduleId">,
  shot: StoredShot,
  now: number,
): Promise<boolean> {
  const completed = await db
    .update(screenshots)
    .set({ status: "completed", ...shot, capturedAt: now, updatedAt: now, error: null })
    .where(
      and(eq(screenshots.id, row.id), eq(screenshots.status, "processing"), eq(screenshots.attempts, row.attempts)),
    )
    .returning({ id: screenshots.id });
  if (completed.length === 0) return false;
  await db.update(websites).set({ lastCaptureAt: now }).where(eq(websites.id, row.websiteId));
  if (row.scheduleId)
    await db.update(schedules).set({ lastStatus: "completed" }).where(eq(schedules.id, row.scheduleId));
  return true;
}

/**
 * After a website capture completed: its comparison is started (never failing the capture:
 * the sweeper finds a `pending` comparison whose message was lost) and `screenshot.completed`
 * is emitted.
 */
export async function afterCapture(events: EventScope, jobs: Queue, row: Screenshot, now: number) {
  try {
    await startComparison(events, jobs, { ...row, status: "completed" }, now);
  } catch (err) {
    console.error(JSON.stringify({ level: "error", msg: "comparison not queued", id: row.id, error: String(err) }));
  }
  await notify(`screenshot.completed:${row.id}`, () => emitScreenshotEvent(events, row, "screenshot.completed", now));
  await notify(`recovered:${row.id}`, () => captureSucceeded(events, row, now));
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
  events?: EventScope,
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
    .returning({ scheduleId: screenshots.scheduleId, source: screenshots.source, websiteId: screenshots.websiteId });
  if (row?.scheduleId) await db.update(schedules).set({ lastStatus: "failed" }).where(eq(schedules.id, row.scheduleId));
  if (row) await confirmationFailed(db, id, `the confirming capture failed (${error})`, now);
  if (row && events) {
    await notify(`screenshot.failed:${id}`, () =>
      emitScreenshotEvent(events, { id, ...row }, "screenshot.failed", now),
    );
    await captureFailed(events, { id, ...row }, error, now);
  }
  return row !== undefined;
}

/** Back to `queued` with the reason, for the retry to pick up (only by the attempt that claimed it). */
export async function requeueCapture(db: Db, id: string, attempts: number, error: string, now: number) {
  await db
    .update(screenshots)
    .set({ status: "queued", error: `Retrying: ${error}`, updatedAt: now })
    .where(and(eq(screenshots.id, id), eq(screenshots.status, "processing"), eq(screenshots.attempts, attempts)));
}

/** Dead-lettered capture: its retries are exhausted, so the row ends `failed` with the last reason. */
export async function captureGaveUp(events: EventScope, id: string, now: number) {
  const row = await events.db
    .select({ error: screenshots.error, attempts: screenshots.attempts })
    .from(screenshots)
    .where(eq(screenshots.id, id))
    .get();
  if (!row) return;
  const last = row.error?.replace(/^Retrying: /, "") ?? "the job could not be processed";
  await failScreenshot(
    events.db,
    id,
    `Gave up after ${row.attempts} attempts: ${last}`,
    now,
    ["queued", "processing"],
    undefined,
    events,
  );
}
