import { and, asc, eq, gte, inArray, isNotNull, isNull, lt, ne, notInArray, or, type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { runs, scenarios, schedules, screenshots } from "../db/schema";
import { MINUTE } from "../lib/clock";
import { enqueueMany, type JobMessage, MAX_DELIVERIES } from "../queue/messages";
import { captureFailed, runFailed } from "./alert-events";
import { STALE_CLAIM } from "./capture-jobs";
import { COMPARE_LOST, confirmationFailed } from "./comparisons";
import { RUN_GRACE, RUN_INTERRUPTED, STALE_RUN } from "./run-jobs";
import { type EventScope, emitRunFinished, emitScreenshotEvent, notify } from "./webhooks";

/**
 * A `queued` row nobody touched for this long has lost its message: a retry waits at most
 * five minutes (retryDelaySeconds), so a live message is not that late.
 */
export const LOST_MESSAGE = 10 * MINUTE;
/** Rows of each kind one sweep handles; a kind that fills it may have more (continued on the queue). */
export const SWEEP_BATCH = 50;
/** Claims of a screenshot, or starts of a run, before the sweeper stops sending its job again. */
export const MAX_ATTEMPTS = MAX_DELIVERIES;

export const CAPTURE_RETRY = "Retrying: the capture was interrupted (its worker stopped)";
export const CAPTURE_INTERRUPTED = "The capture was interrupted (its worker stopped) and has no attempts left";
export const CAPTURE_LOST = "The capture was interrupted (its job was lost) and has no attempts left";
export const RUN_LOST = "The run was interrupted (its job was lost) and has no attempts left";
export const RUN_SHOT_INTERRUPTED = "The run was interrupted before this screenshot was stored";

export interface SweepResult {
  /** Jobs sent again: screenshots (lost or interrupted) and queued runs. */
  requeued: { captures: number; runs: number };
  /** Screenshots ended `failed` and runs ended `error`, as interrupted. */
  ended: { captures: number; runs: number };
  /** A kind filled its batch: more may be left. */
  more: boolean;
}

/**
 * The crash sweeper, run by the account's alarm. The account's database is the truth and
 * the queue only the transport: a message lost with a crashed consumer must not strand its row.
 *
 * - A `queued` screenshot or run untouched for LOST_MESSAGE has its job sent again.
 * - A `processing` screenshot claimed more than STALE_CLAIM ago goes back to `queued` and
 *   its job is sent again.
 * - Either one with no attempt left (MAX_ATTEMPTS) ends `failed` / `error`, interrupted.
 * - A `running` run past its deadline (runDeadline) ends `error`, interrupted. It is never
 *   started again: its steps may have had effects on the site.
 * - Scenario screenshots belong to their run and are never captured on their own: once
 *   their run is no longer active they end `failed`.
 *
 * Each change is a conditional UPDATE whose condition is the staleness itself, all in one
 * transaction: a row one sweep handled is no longer stale for another, so a repeated sweep
 * sends each job once. A job sent for a row that was not lost after all is harmless: the
 * consumer's claim lets one message work on a row at a time. Jobs are sent once the
 * transaction has committed; if sending fails, the row is found again LOST_MESSAGE later.
 * Bounded: at most SWEEP_BATCH rows of each kind.
 */
export async function sweepStale(events: EventScope, jobsQueue: Queue, now: number): Promise<SweepResult> {
  const { db, accountId } = events;
  const lostBefore = now - LOST_MESSAGE;

  const standalone = ne(screenshots.source, "scenario");
  const lostShot = and(eq(screenshots.status, "queued"), standalone, lt(screenshots.updatedAt, lostBefore));
  const deadShot = and(
    eq(screenshots.status, "processing"),
    standalone,
    lt(sql`coalesce(${screenshots.startedAt}, ${screenshots.updatedAt})`, now - STALE_CLAIM),
  );
  // Scenario screenshots whose run has ended (or, with the run deleted, that went quiet).
  const activeRuns = db
    .select({ id: runs.id })
    .from(runs)
    .where(inArray(runs.status, ["queued", "running"]));
  const orphanShot = and(
    eq(screenshots.source, "scenario"),
    inArray(screenshots.status, ["queued", "processing"]),
    or(
      and(isNotNull(screenshots.runId), notInArray(screenshots.runId, activeRuns)),
      and(isNull(screenshots.runId), lt(screenshots.updatedAt, now - STALE_CLAIM)),
    ),
  );
  const shotsLeft = lt(screenshots.attempts, MAX_ATTEMPTS);
  const shotsSpent = gte(screenshots.attempts, MAX_ATTEMPTS);
  /** The oldest SWEEP_BATCH screenshots matching `where`, which the UPDATE then re-checks. */
  const shotsWhere = (where: SQL | undefined) =>
    and(
      inArray(
        screenshots.id,
        db
          .select({ id: screenshots.id })
          .from(screenshots)
          .where(where)
          .orderBy(asc(screenshots.updatedAt))
          .limit(SWEEP_BATCH),
      ),
      where,
    );

  const lostRun = and(eq(runs.status, "queued"), lt(runs.updatedAt, lostBefore));
  const overdueRun = and(
    eq(runs.status, "running"),
    lt(
      sql`coalesce(${runs.startedAt}, ${runs.updatedAt}) + max(${STALE_RUN}, ${scenarios.timeoutMs} + ${RUN_GRACE})`,
      now,
    ),
  );
  const runsLeft = lt(runs.attempts, MAX_ATTEMPTS);
  const runsSpent = gte(runs.attempts, MAX_ATTEMPTS);
  const runsWhere = (where: SQL | undefined) =>
    and(
      inArray(
        runs.id,
        db.select({ id: runs.id }).from(runs).where(where).orderBy(asc(runs.updatedAt)).limit(SWEEP_BATCH),
      ),
      where,
    );
  const overdueRuns = and(
    inArray(
      runs.id,
      db
        .select({ id: runs.id })
        .from(runs)
        .innerJoin(scenarios, eq(scenarios.id, runs.scenarioId))
        .where(overdueRun)
        .orderBy(asc(runs.updatedAt))
        .limit(SWEEP_BATCH),
    ),
    eq(runs.status, "running"),
  );
  const ended = (error: string) => ({
    status: "error" as const,
    error,
    finishedAt: now,
    durationMs: sql`${now} - ${runs.startedAt}`,
    updatedAt: now,
  });
  const shot = {
    id: screenshots.id,
    scheduleId: screenshots.scheduleId,
    source: screenshots.source,
    websiteId: screenshots.websiteId,
    error: screenshots.error,
  };
  const run = { id: runs.id, scheduleId: runs.scheduleId };

  const [lostShots, lostShotsEnded, deadShots, deadShotsEnded, overdueEnded, lostRuns, lostRunsEnded, orphans] =
    db.transaction((tx) => [
      // A lost message with attempts left: the row stays queued, its mark moves to now.
      tx
        .update(screenshots)
        .set({ updatedAt: now })
        .where(shotsWhere(and(lostShot, shotsLeft)))
        .returning(shot)
        .all(),
      tx
        .update(screenshots)
        .set({ status: "failed", error: CAPTURE_LOST, updatedAt: now })
        .where(shotsWhere(and(lostShot, shotsSpent)))
        .returning(shot)
        .all(),
      // A claim whose worker died: back to queued for another attempt, or failed.
      tx
        .update(screenshots)
        .set({ status: "queued", error: CAPTURE_RETRY, updatedAt: now })
        .where(shotsWhere(and(deadShot, shotsLeft)))
        .returning(shot)
        .all(),
      tx
        .update(screenshots)
        .set({ status: "failed", error: CAPTURE_INTERRUPTED, updatedAt: now })
        .where(shotsWhere(and(deadShot, shotsSpent)))
        .returning(shot)
        .all(),
      tx.update(runs).set(ended(RUN_INTERRUPTED)).where(overdueRuns).returning(run).all(),
      tx
        .update(runs)
        .set({ updatedAt: now })
        .where(runsWhere(and(lostRun, runsLeft)))
        .returning(run)
        .all(),
      tx
        .update(runs)
        .set(ended(RUN_LOST))
        .where(runsWhere(and(lostRun, runsSpent)))
        .returning(run)
        .all(),
      // Last, so it sees the runs just ended.
      tx
        .update(screenshots)
        .set({ status: "failed", error: RUN_SHOT_INTERRUPTED, updatedAt: now })
        .where(shotsWhere(orphanShot))
        .returning(shot)
        .all(),
    ]);

  await recordScheduleStatus(db, "failed", [...lostShotsEnded, ...deadShotsEnded]);
  await recordScheduleStatus(db, "error", [...overdueEnded, ...lostRunsEnded]);

  // Webhook events for what the sweep ended (bounded by its batch; a scenario's screenshots
  // are reported by their run).
  for (const r of [...lostShotsEnded, ...deadShotsEnded]) {
    await notify(`screenshot.failed:${r.id}`, () => emitScreenshotEvent(events, r, "screenshot.failed", now));
    await captureFailed(events, r, r.error ?? CAPTURE_INTERRUPTED, now);
    await confirmationFailed(db, r.id, `the confirming capture failed (${r.error ?? CAPTURE_INTERRUPTED})`, now);
  }
  const endedRunIds = [...overdueEnded, ...lostRunsEnded].map((r) => r.id);
  if (endedRunIds.length > 0) {
    for (const row of await db.select().from(runs).where(inArray(runs.id, endedRunIds))) {
      await notify(`run.finished:${row.id}`, () => emitRunFinished(events, row, now));
      await runFailed(events, row, now);
    }
  }

  const jobs: JobMessage[] = [
    ...[...lostShots, ...deadShots].map((r) => ({
      type: "capture" as const,
      screenshot_id: r.id,
      account_id: accountId,
    })),
    ...lostRuns.map((r) => ({ type: "run" as const, run_id: r.id, account_id: accountId })),
  ];
  try {
    await enqueueMany(jobsQueue, jobs);
  } catch (err) {
    // The rows stay queued with a fresh mark: the sweep LOST_MESSAGE from now sends them.
    console.error(JSON.stringify({ level: "error", msg: "sweep could not send jobs", error: String(err) }));
  }

  const result: SweepResult = {
    requeued: { captures: lostShots.length + deadShots.length, runs: lostRuns.length },
    ended: {
      captures: lostShotsEnded.length + deadShotsEnded.length + orphans.length,
      runs: overdueEnded.length + lostRunsEnded.length,
    },
    more: [lostShots, lostShotsEnded, deadShots, deadShotsEnded, overdueEnded, lostRuns, lostRunsEnded, orphans].some(
      (rows) => rows.length >= SWEEP_BATCH,
    ),
  };
  if (result.requeued.captures + result.requeued.runs + result.ended.captures + result.ended.runs > 0) {
    console.log(JSON.stringify({ level: "warn", msg: "swept stale jobs", ...result }));
  }
  return result;
}

/** The schedules of what the sweep ended say how their last job ended. */
async function recordScheduleStatus(db: Db, status: "failed" | "error", rows: { scheduleId: string | null }[]) {
  const ids = [...new Set(rows.flatMap((r) => (r.scheduleId ? [r.scheduleId] : [])))];
  if (ids.length > 0) await db.update(schedules).set({ lastStatus: status }).where(inArray(schedules.id, ids));
}

/**
 * When the sweep next has something to do: the earliest moment a queued job counts as lost,
 * a claim as stale, a run as overdue or a pending comparison as lost (null when no job is
 * under way). Scenario screenshots are left to their run's deadline.
 */
export async function nextStale(db: Db): Promise<number | null> {
  const row = await db
    .select({
      at: sql<number | null>`min(
        coalesce((SELECT min(updated_at) FROM screenshots WHERE status = 'queued' AND source != 'scenario') + ${LOST_MESSAGE}, 9e15),
        coalesce((SELECT min(coalesce(started_at, updated_at)) FROM screenshots WHERE status = 'processing' AND source != 'scenario') + ${STALE_CLAIM}, 9e15),
        coalesce((SELECT min(updated_at) FROM runs WHERE status = 'queued') + ${LOST_MESSAGE}, 9e15),
        coalesce((SELECT min(coalesce(r.started_at, r.updated_at) + max(${STALE_RUN}, s.timeout_ms + ${RUN_GRACE}))
                  FROM runs r JOIN scenarios s ON s.id = r.scenario_id WHERE r.status = 'running'), 9e15),
        coalesce((SELECT min(compared_at) FROM screenshots WHERE comparison_status = 'pending') + ${COMPARE_LOST}, 9e15))`,
    })
    .from(sql`(SELECT 1)`)
    .get();
  return row?.at != null && row.at < 9e15 ? row.at : null;
}
