/**
 * The account's side of a scenario run (its rows; the browser steps are the queue
 * consumer's, src/jobs/run.ts): claiming, the screenshots it takes, and its end, recorded once.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import { screenshotObjects } from "../capture/keys";
import type { StepResult } from "../capture/steps";
import type { Db } from "../db/client";
import {
  type Run,
  runs,
  type Scenario,
  type Screenshot,
  scenarios,
  schedules,
  screenshots,
  type Website,
  websites,
} from "../db/schema";
import { MINUTE } from "../lib/clock";
import type { Quota } from "../limits/counters";
import { runFailed } from "./alert-events";
import { screenshotRow } from "./screenshots";
import { type EventScope, emitRunFinished, notify } from "./webhooks";
import { parseCapture } from "./websites";

/** A `running` run is never considered stopped before this long after it started. */
export const STALE_RUN = 10 * MINUTE;
/**
 * What a live run may take beyond its scenario's budget (`timeoutMs`, counted from the
 * claim): waiting for its turn in the batch's browser, opening the page, storing results.
 */
export const RUN_GRACE = 5 * MINUTE;
/** When a run started at `startedAt` has certainly stopped; past it, it ends interrupted. */
export const runDeadline = (startedAt: number, timeoutMs: number) =>
  startedAt + Math.max(STALE_RUN, timeoutMs + RUN_GRACE);
export const RUN_INTERRUPTED = "The run was interrupted (its worker stopped) and was not repeated";

/** Ends a run (once: only from queued/running) and reports it to webhooks as `run.finished`. */
export async function finishRun(
  db: Db,
  row: Pick<Run, "id" | "startedAt">,
  fields: Partial<Run>,
  now: number,
  events?: EventScope,
): Promise<Run | undefined> {
  const status = fields.status as Run["status"];
  // Steps the run never reached are `skipped` once it has ended (none stays `pending` for ever).
  const stepsJson =
    fields.steps ?? (await db.select({ steps: runs.steps }).from(runs).where(eq(runs.id, row.id)).get())?.steps;
  const steps = stepsJson
    ? JSON.stringify(
        (JSON.parse(stepsJson) as StepResult[]).map((s) => (s.status === "pending" ? { ...s, status: "skipped" } : s)),
      )
    : undefined;
  const [done] = await db
    .update(runs)
    .set({
      ...fields,
      ...(steps ? { steps } : {}),
      finishedAt: now,
      durationMs: row.startedAt ? now - row.startedAt : null,
      updatedAt: now,
    })
    .where(and(eq(runs.id, row.id), inArray(runs.status, ["queued", "running"])))
    .returning();
  // A run that stopped part-way leaves no screenshot half-made.
  await db
    .update(screenshots)
    .set({ status: "failed", error: "The run ended before this screenshot was stored", updatedAt: now })
    .where(and(eq(screenshots.runId, row.id), eq(screenshots.status, "processing")));
  if (done?.scheduleId) await db.update(schedules).set({ lastStatus: status }).where(eq(schedules.id, done.scheduleId));
  if (done && events) {
    await notify(`run.finished:${done.id}`, () => emitRunFinished(events, done, now));
    await runFailed(events, done, now);
  }
  return done;
}

/** A claimed run with what executing it needs. */
export interface RunStart {
  run: Run;
  scenario: Scenario;
  website: Website;
}

export type RunClaim = { claimed: RunStart } | { retry: true } | { done: true };

/**
 * Claims a queued run. A run still `running` is never executed twice (its steps may have had
 * effects on the site): past its deadline (runDeadline) it is ended `error` as interrupted,
 * otherwise the message comes back later. A run whose scenario or website is gone is done.
 */
export async function claimRun(db: Db, id: string, now: number, events: EventScope): Promise<RunClaim> {
  const [row] = await db
    .update(runs)
    .set({ status: "running", attempts: sql`${runs.attempts} + 1`, startedAt: now, updatedAt: now })
    .where(and(eq(runs.id, id), eq(runs.status, "queued")))
    .returning();
  if (row) {
    const scenario = await db.select().from(scenarios).where(eq(scenarios.id, row.scenarioId)).get();
    const website = await db.select().from(websites).where(eq(websites.id, row.websiteId)).get();
    if (!scenario || !website) return { done: true }; // deleted meanwhile (the run row went with them)
    return { claimed: { run: row, scenario, website } };
  }
  const found = await db
    .select({ run: runs, timeoutMs: scenarios.timeoutMs })
    .from(runs)
    .leftJoin(scenarios, eq(scenarios.id, runs.scenarioId))
    .where(eq(runs.id, id))
    .get();
  const existing = found?.run;
  if (existing?.status !== "running") return { done: true }; // finished or deleted
  if (runDeadline(existing.startedAt ?? 0, found?.timeoutMs ?? 0) < now) {
    await finishRun(db, existing, { status: "error", error: RUN_INTERRUPTED }, now, events);
    return { done: true };
  }
  return { retry: true };
}

/** No browser for the batch: nothing ran yet, so the run goes back to the queue. */
export async function requeueRun(db: Db, id: string, error: string, now: number) {
  await db
    .update(runs)
    .set({ status: "queued", error: `Retrying: ${error}`, updatedAt: now })
    .where(and(eq(runs.id, id), eq(runs.status, "running")));
}

/**
 * A `screenshot` step about to be taken: its capture quota reserved and its row written
 * (`processing`, the first attempt). Refused with the reason when the quota is used up.
 */
export async function beginRunShot(
  db: Db,
  quota: Quota,
  start: { runId: string; scenario: Scenario; website: Website },
  step: { index: number; name: string; compare: boolean },
  now: number,
): Promise<{ row: Screenshot } | { refused: string }> {
  const shotRow = screenshotRow(
    {
      website: start.website,
      scenarioCapture: parseCapture(start.scenario.capture),
      source: "scenario",
      status: "processing",
      runId: start.runId,
      name: step.name,
      stepIndex: step.index,
      scheduleId: null,
      compare: step.compare,
    },
    now,
  );
  const reserved = quota.consume(1, now);
  if (!reserved.ok)
    return {
      refused: `The ${reserved.period === "day" ? "daily" : "monthly"} capture quota of ${reserved.limit} is used up`,
    };
  const row = { ...shotRow, attempts: 1, startedAt: now };
  await db.insert(screenshots).values(row);
  return { row };
}

/** Deletes a run's stored screenshots: bytes first, then rows. */
export async function discardRunShots(db: Db, bucket: R2Bucket, runId: string) {
  const rows = await db
    .select({ r2Key: screenshots.r2Key, thumbKey: screenshots.thumbKey, diffKey: screenshots.diffKey })
    .from(screenshots)
    .where(eq(screenshots.runId, runId));
  const keys = rows.flatMap(screenshotObjects);
  if (keys.length > 0) await bucket.delete(keys);
  await db.delete(screenshots).where(eq(screenshots.runId, runId));
}

/** Dead-lettered run (its retries to get a browser ran out): it ends `error`. */
export async function runGaveUp(events: EventScope, id: string, now: number) {
  const row = await events.db.select().from(runs).where(eq(runs.id, id)).get();
  if (!row) return;
  const last = row.error?.replace(/^Retrying: /, "") ?? "the job could not be processed";
  await finishRun(
    events.db,
    row,
    { status: "error", error: `Gave up after ${row.attempts} attempts: ${last}` },
    now,
    events,
  );
}
