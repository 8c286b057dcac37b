/**
 * The account's side of change detection (its rows; the pixel work is the queue consumer's,
 * src/jobs/compare.ts): finding a capture's baseline, handing out what a comparison needs,
 * recording its outcome once, and finding comparisons whose message was lost.
 */
import { and, desc, eq, lt, sql } from "drizzle-orm";
import type { ChangeDetection } from "../compare/settings";
import type { Db } from "../db/client";
import { runs, type Screenshot, screenshots, websites } from "../db/schema";
import { MINUTE } from "../lib/clock";
import { enqueue } from "../queue/messages";
import type { ComparisonFigures } from "./screenshots";
import { type EventScope, emitScreenshotEvent, notify } from "./webhooks";

/** A `pending` comparison untouched this long lost its message: the sweeper sends it again. */
export const COMPARE_LOST = 10 * MINUTE;
/** A comparison still pending this long after its capture ends `failed`. */
export const COMPARE_GIVE_UP = 60 * MINUTE;
const SWEEP_BATCH = 50;

/**
 * After a website capture completed: finds its baseline (the approved one, or the latest
 * earlier completed capture with the same compare key, one indexed query). Identical bytes
 * (the same SHA-256) are unchanged without decoding anything, so that comparison completes
 * here at once; otherwise it is marked `pending` and queued.
 */
export async function startComparison(events: EventScope, jobs: Queue, row: Screenshot, now: number) {
  const { db, accountId } = events;
  if (!row.detection || !row.compareKey) return;
  const detection = JSON.parse(row.detection) as ChangeDetection;
  let baseline: { id: string; sha256: string | null } | undefined;
  if (detection.baseline === "approved") {
    const site = await db
      .select({ id: websites.baselineScreenshotId })
      .from(websites)
      .where(eq(websites.id, row.websiteId))
      .get();
    const id = site?.id && site.id !== row.id ? site.id : undefined;
    baseline = id
      ? await db
          .select({ id: screenshots.id, sha256: screenshots.sha256 })
          .from(screenshots)
          .where(eq(screenshots.id, id))
          .get()
      : undefined;
  } else {
    baseline = await db
      .select({ id: screenshots.id, sha256: screenshots.sha256 })
      .from(screenshots)
      .where(
        and(
          eq(screenshots.websiteId, row.websiteId),
          eq(screenshots.compareKey, row.compareKey),
          lt(screenshots.id, row.id),
          eq(screenshots.status, "completed"),
        ),
      )
      .orderBy(desc(screenshots.id))
      .limit(1)
      .get();
  }
  if (!baseline) return;
  await markPending(db, row.id, baseline.id, now);
  if (baseline.sha256 !== null && baseline.sha256 === row.sha256) {
    await completeComparison(events, row.id, false, UNCHANGED, null, now);
    return;
  }
  await enqueue(jobs, { type: "compare", screenshot_id: row.id, account_id: accountId });
}

/** The figures of a comparison whose images are byte for byte the same. */
export const UNCHANGED: ComparisonFigures = {
  changed_pixels: 0,
  change_ratio: 0,
  max_tile_ratio: 0,
  regions: [],
  size_changed: false,
};

const markPending = (db: Db, id: string, baselineId: string, now: number) =>
  db
    .update(screenshots)
    .set({ comparisonStatus: "pending", baselineId, comparedAt: now })
    .where(and(eq(screenshots.id, id), sql`${screenshots.comparisonStatus} IS NULL`));

/** What a comparison works on: the capture and its baseline, or why there is nothing to do. */
export type ComparisonInput = { row: Screenshot; base: Screenshot } | { skip: true };

/**
 * A `pending` comparison's two rows. Anything else (done already, deleted) is skipped; a
 * baseline that no longer exists ends the comparison `failed` here.
 */
export async function comparisonInput(db: Db, id: string, now: number): Promise<ComparisonInput> {
  const row = await db.select().from(screenshots).where(eq(screenshots.id, id)).get();
  if (row?.comparisonStatus !== "pending" || !row.baselineId || !row.r2Key) return { skip: true };
  const base = await db.select().from(screenshots).where(eq(screenshots.id, row.baselineId)).get();
  if (base?.status !== "completed" || !base.r2Key) {
    await failComparison(db, row.id, "The baseline screenshot no longer exists", now);
    return { skip: true };
  }
  return { row, base };
}

/**
 * Records a comparison's outcome, once (only a `pending` one is completed), and emits
 * `change.detected` for a change. False when there was nothing to complete (deleted, or done
 * by a twin delivery).
 */
export async function completeComparison(
  events: EventScope,
  id: string,
  changed: boolean,
  figures: ComparisonFigures,
  diffKey: string | null,
  now: number,
): Promise<boolean> {
  const done = await events.db
    .update(screenshots)
    .set({ comparisonStatus: "completed", changed, comparison: JSON.stringify(figures), diffKey, comparedAt: now })
    .where(and(eq(screenshots.id, id), eq(screenshots.comparisonStatus, "pending")))
    .returning({ id: screenshots.id, source: screenshots.source });
  const row = done[0];
  if (!row) return false;
  // `data` is the screenshot as the API shows it, its completed `comparison` included.
  if (changed) await notify(`change.detected:${id}`, () => emitScreenshotEvent(events, row, "change.detected", now));
  return true;
}

export async function failComparison(db: Db, id: string, error: string, now: number): Promise<void> {
  await db
    .update(screenshots)
    .set({ comparisonStatus: "failed", comparison: JSON.stringify({ error }), comparedAt: now })
    .where(and(eq(screenshots.id, id), eq(screenshots.comparisonStatus, "pending")));
}

/** Whether a screenshot row is still there (a comparison's copies of a deleted one are removed). */
export async function screenshotExists(db: Db, id: string): Promise<boolean> {
  return (await db.select({ id: screenshots.id }).from(screenshots).where(eq(screenshots.id, id)).get()) !== undefined;
}

/**
 * A scenario's `screenshot` step with `compare: true`: its baseline is the same-named
 * screenshot of the scenario's latest passed run (none ⇒ no comparison, false). With one,
 * the comparison is marked `pending`.
 */
export async function startScenarioComparison(
  db: Db,
  shot: { id: string; name: string },
  run: { id: string; scenarioId: string },
  now: number,
): Promise<boolean> {
  const lastPassed = db
    .select({ id: runs.id })
    .from(runs)
    .where(and(eq(runs.scenarioId, run.scenarioId), eq(runs.status, "passed"), lt(runs.id, run.id)))
    .orderBy(desc(runs.id))
    .limit(1);
  const baseline = await db
    .select({ id: screenshots.id })
    .from(screenshots)
    .where(
      and(
        eq(screenshots.runId, sql`(${lastPassed})`),
        eq(screenshots.name, shot.name),
        eq(screenshots.status, "completed"),
      ),
    )
    .limit(1)
    .get();
  if (!baseline) return false;
  await markPending(db, shot.id, baseline.id, now);
  return true;
}

/**
 * The sweep: a `pending` comparison whose message was lost is sent again (a conditional
 * UPDATE on its staleness); one pending for COMPARE_GIVE_UP since its capture ends `failed`.
 * Returns the ids sent again.
 */
export async function sweepComparisons(db: Db, jobs: Queue, accountId: string, now: number): Promise<number> {
  await db
    .update(screenshots)
    .set({
      comparisonStatus: "failed",
      comparison: JSON.stringify({ error: "The comparison was interrupted and did not finish in time" }),
      comparedAt: now,
    })
    .where(
      and(
        eq(screenshots.comparisonStatus, "pending"),
        lt(screenshots.comparedAt, now - COMPARE_LOST),
        lt(screenshots.capturedAt, now - COMPARE_GIVE_UP),
      ),
    );
  const lost = await db
    .update(screenshots)
    .set({ comparedAt: now })
    .where(
      sql`${screenshots.id} IN (SELECT id FROM screenshots WHERE comparison_status = 'pending' AND compared_at < ${now - COMPARE_LOST} LIMIT ${SWEEP_BATCH})`,
    )
    .returning({ id: screenshots.id });
  for (const r of lost) await enqueue(jobs, { type: "compare", screenshot_id: r.id, account_id: accountId });
  return lost.length;
}
