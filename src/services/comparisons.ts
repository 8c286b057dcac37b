/**
 * The account's side of change detection (its rows; the pixel work is the queue consumer's,
 * src/jobs/compare.ts): finding a capture's baseline, handing out what a comparison needs,
 * recording its outcome once, and finding comparisons whose message was lost.
 */
import { and, desc, eq, lt, sql } from "drizzle-orm";
import { alertImageKey } from "../capture/keys";
import { type ChangeDetection, parseChangeDetection } from "../compare/settings";
import { UNCHANGED_TEXT } from "../compare/text";
import type { Db } from "../db/client";
import { runs, type Screenshot, screenshots, websites } from "../db/schema";
import { iso, MINUTE } from "../lib/clock";
import { enqueue } from "../queue/messages";
import { alertWebsite, raiseAlert } from "./alerts";
import type { AccountScope } from "./scope";
import { type ComparisonFigures, comparisonView, tryQueueCapture } from "./screenshots";
import { type EventScope, emitScreenshotEvent, notify } from "./webhooks";
import { getWebsite } from "./websites";

/** A `pending` comparison untouched this long lost its message: the sweeper sends it again. */
export const COMPARE_LOST = 10 * MINUTE;
/** A comparison still pending this long after its capture ends `failed`. */
export const COMPARE_GIVE_UP = 60 * MINUTE;
const SWEEP_BATCH = 50;

/** `confirm: true`: the confirming capture is taken this long after the change was seen. */
export const CONFIRM_DELAY_SECONDS = 60;

/** What completing a comparison may need besides the events: queueing a confirming capture. */
export interface ConfirmContext {
  scope: AccountScope;
  jobs: Queue;
  /** Seconds before the confirming capture (CONFIRM_DELAY_SECONDS; tests shorten it). */
  delaySeconds: number;
}

type BaselineRow = Pick<Screenshot, "id" | "sha256" | "textSha256" | "ignoreText">;
const baselineColumns = {
  id: screenshots.id,
  sha256: screenshots.sha256,
  textSha256: screenshots.textSha256,
  ignoreText: screenshots.ignoreText,
};

/**
 * After a website capture completed: finds its baseline (the approved one, or the latest
 * earlier completed capture with the same compare key, one indexed query; a confirming
 * capture uses the baseline of the capture it confirms). Identical bytes and identical text
 * are unchanged without decoding anything, so that comparison completes here at once;
 * otherwise it is marked `pending` and queued.
 */
export async function startComparison(events: EventScope, jobs: Queue, row: Screenshot, now: number) {
  const { db, accountId } = events;
  if (!row.detection || !row.compareKey) return;
  const detection = JSON.parse(row.detection) as ChangeDetection;
  let baseline: BaselineRow | undefined;
  if (row.confirms) {
    const original = await db
      .select({ baselineId: screenshots.baselineId })
      .from(screenshots)
      .where(eq(screenshots.id, row.confirms))
      .get();
    baseline = original?.baselineId
      ? await db.select(baselineColumns).from(screenshots).where(eq(screenshots.id, original.baselineId)).get()
      : undefined;
    if (!baseline) {
      await failComparison(db, row.confirms, "The change could not be confirmed: its baseline no longer exists", now);
      return;
    }
  } else if (detection.baseline === "approved") {
    const site = await db
      .select({ id: websites.baselineScreenshotId })
      .from(websites)
      .where(eq(websites.id, row.websiteId))
      .get();
    const id = site?.id && site.id !== row.id ? site.id : undefined;
    baseline = id ? await db.select(baselineColumns).from(screenshots).where(eq(screenshots.id, id)).get() : undefined;
  } else {
    baseline = await db
      .select(baselineColumns)
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
  const same = identical(baseline, row, detection);
  if (same) {
    await completeComparison(events, row.id, false, same, null, now);
    return;
  }
  await enqueue(jobs, { type: "compare", screenshot_id: row.id, account_id: accountId });
}

/**
 * The figures of a comparison decided without reading anything: the same image bytes and (when
 * text is compared and both captures kept one) the same text with the same ignored parts.
 * Null when the compare job must look.
 */
export function identical(base: BaselineRow, row: BaselineRow, detection: ChangeDetection): ComparisonFigures | null {
  if (base.sha256 === null || base.sha256 !== row.sha256) return null;
  const texts = detection.text !== false && base.textSha256 !== null && row.textSha256 !== null;
  if (texts && (base.textSha256 !== row.textSha256 || base.ignoreText !== row.ignoreText)) return null;
  return { ...UNCHANGED, text: texts ? UNCHANGED_TEXT : null, triggered: [] };
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
  // Waiting for its confirming capture: nothing to compare again.
  if (row?.comparisonStatus !== "pending" || !row.baselineId || !row.r2Key || row.confirmedBy) return { skip: true };
  const base = await db.select().from(screenshots).where(eq(screenshots.id, row.baselineId)).get();
  if (base?.status !== "completed" || !base.r2Key) {
    await failComparison(db, row.id, "The baseline screenshot no longer exists", now);
    return { skip: true };
  }
  return { row, base };
}

/**
 * Records a comparison's outcome, once (only a `pending` one is completed), and reports a
 * change: `change.detected` and the alerts. With `confirm: true` a change of a website capture
 * is not reported yet: its figures are kept (still `pending`) and a confirming capture with the
 * same settings is queued `delaySeconds` on; its comparison, against the same baseline, decides
 * (see `resolveConfirmation`). False when there was nothing to complete (deleted, or done by a
 * twin delivery).
 */
export async function completeComparison(
  events: EventScope,
  id: string,
  changed: boolean,
  figures: ComparisonFigures,
  diffKey: string | null,
  now: number,
  confirm?: ConfirmContext,
): Promise<boolean> {
  const { db } = events;
  const row = await db
    .select()
    .from(screenshots)
    .where(and(eq(screenshots.id, id), eq(screenshots.comparisonStatus, "pending")))
    .get();
  if (!row) return false;
  if (row.confirmedBy) return true; // waiting for its confirming capture already
  const detection = parseChangeDetection(row.detection);
  const reported = row.source !== "scenario";
  if (changed && reported && detection.confirm && !row.confirms && confirm) {
    return awaitConfirmation(events, row, figures, diffKey, now, confirm);
  }
  const done = await db
    .update(screenshots)
    .set({ comparisonStatus: "completed", changed, comparison: JSON.stringify(figures), diffKey, comparedAt: now })
    .where(and(eq(screenshots.id, id), eq(screenshots.comparisonStatus, "pending")))
    .returning();
  const completed = done[0];
  if (!completed) return false;
  // A confirming capture reports nothing itself: it decides about the capture it confirms.
  if (completed.confirms) await resolveConfirmation(events, completed.confirms, changed, now);
  else if (changed && reported) await reportChange(events, completed, now);
  return true;
}

/** `change.detected` (data: the screenshot as the API shows it) and the change alert. */
async function reportChange(events: EventScope, row: Screenshot, now: number) {
  await notify(`change.detected:${row.id}`, () => emitScreenshotEvent(events, row, "change.detected", now));
  const c = comparisonView(row);
  await raiseAlert(
    events,
    "change.detected",
    row.websiteId,
    `change.detected:${row.id}`,
    async () => ({
      type: "change.detected",
      website: await alertWebsite(events.db, row.websiteId),
      screenshot_id: row.id,
      baseline_id: row.baselineId,
      captured_at: iso(row.capturedAt ?? row.createdAt),
      change_ratio: c?.change_ratio ?? null,
      regions: c?.regions.length ?? 0,
      size_changed: c?.size_changed ?? null,
      text: c?.text ?? null,
      triggered: c?.triggered ?? [],
      image_key: row.diffKey && row.r2Key ? alertImageKey(row.r2Key) : null,
    }),
    now,
  );
}

/** The change is held (figures kept, still `pending`) until a capture `delaySeconds` on shows it too. */
async function awaitConfirmation(
  events: EventScope,
  row: Screenshot,
  figures: ComparisonFigures,
  diffKey: string | null,
  now: number,
  ctx: ConfirmContext,
): Promise<boolean> {
  const { db } = events;
  const website = await getWebsite(db, row.websiteId).catch(() => null);
  if (!website) return false;
  const queued = await tryQueueCapture(
    ctx.scope,
    ctx.jobs,
    {
      website,
      // The same settings as the capture it confirms.
      override: JSON.parse(row.options),
      source: row.source,
      scheduleId: row.scheduleId,
      url: row.url,
      fields: { detection: row.detection, compareKey: row.compareKey, confirms: row.id },
    },
    now,
    ctx.delaySeconds,
  );
  if (!queued.ok) {
    await failComparison(
      db,
      row.id,
      `The change could not be confirmed: the ${queued.refusal.period === "day" ? "daily" : "monthly"} capture quota is used up`,
      now,
    );
    return true;
  }
  await db
    .update(screenshots)
    .set({ comparison: JSON.stringify(figures), diffKey, confirmedBy: queued.row.id, comparedAt: now })
    .where(and(eq(screenshots.id, row.id), eq(screenshots.comparisonStatus, "pending")));
  return true;
}

/**
 * The confirming capture's comparison decided: the change it showed too is reported on the
 * capture that saw it first; one gone by then is stored as `transient` (no event, no alert).
 */
async function resolveConfirmation(events: EventScope, originalId: string, confirmed: boolean, now: number) {
  const { db } = events;
  const original = await db
    .select()
    .from(screenshots)
    .where(and(eq(screenshots.id, originalId), eq(screenshots.comparisonStatus, "pending")))
    .get();
  if (!original) return;
  const figures = JSON.parse(original.comparison ?? "{}") as ComparisonFigures;
  const [done] = await db
    .update(screenshots)
    .set({
      comparisonStatus: "completed",
      changed: confirmed,
      comparison: JSON.stringify(confirmed ? figures : { ...figures, transient: true }),
      comparedAt: now,
    })
    .where(and(eq(screenshots.id, originalId), eq(screenshots.comparisonStatus, "pending")))
    .returning();
  if (done && confirmed) await reportChange(events, done, now);
}

/** A confirming capture that failed (or whose comparison did): the change it was to confirm stays unconfirmed. */
export async function confirmationFailed(db: Db, confirmingId: string, why: string, now: number) {
  const row = await db
    .select({ confirms: screenshots.confirms })
    .from(screenshots)
    .where(eq(screenshots.id, confirmingId))
    .get();
  if (row?.confirms) await failComparison(db, row.confirms, `The change could not be confirmed: ${why}`, now);
}

export async function failComparison(db: Db, id: string, error: string, now: number): Promise<void> {
  const [failed] = await db
    .update(screenshots)
    .set({ comparisonStatus: "failed", comparison: JSON.stringify({ error }), comparedAt: now })
    .where(and(eq(screenshots.id, id), eq(screenshots.comparisonStatus, "pending")))
    .returning({ confirms: screenshots.confirms });
  if (failed?.confirms)
    await failComparison(
      db,
      failed.confirms,
      `The change could not be confirmed: its confirming capture's comparison failed (${error})`,
      now,
    );
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
