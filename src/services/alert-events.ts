/**
 * The occurrences people are told of, raised where the jobs see them: a website's captures
 * starting to fail (the first failure of a streak; later ones are not told again), the first
 * success after failures (`recovered`), a failed scenario run, a paused schedule. Changes are
 * raised by the comparison (services/comparisons.ts). Each is raised once per occurrence.
 */
import { and, eq, isNull } from "drizzle-orm";
import { type Run, type Schedule, type Screenshot, scenarios, websites } from "../db/schema";
import { iso } from "../lib/clock";
import { alertWebsite, raiseAlert } from "./alerts";
import type { EventScope } from "./webhooks";

type Shot = Pick<Screenshot, "id" | "websiteId" | "source">;

/** A website capture failed: its website starts failing (and people hear of it) unless it already was. */
export async function captureFailed(events: EventScope, shot: Shot, error: string, now: number) {
  if (shot.source === "scenario") return;
  const [marked] = await events.db
    .update(websites)
    .set({ failingSince: now })
    .where(and(eq(websites.id, shot.websiteId), isNull(websites.failingSince)))
    .returning({ id: websites.id });
  if (!marked) return;
  await raiseAlert(
    events,
    "screenshot.failed",
    shot.websiteId,
    `screenshot.failed:${shot.id}`,
    async () => ({
      type: "screenshot.failed",
      website: await alertWebsite(events.db, shot.websiteId),
      screenshot_id: shot.id,
      error,
      at: iso(now),
    }),
    now,
  );
}

/** A website capture completed: a website that was failing has recovered. */
export async function captureSucceeded(events: EventScope, shot: Shot, now: number) {
  if (shot.source === "scenario") return;
  const site = await events.db
    .select({ failingSince: websites.failingSince })
    .from(websites)
    .where(eq(websites.id, shot.websiteId))
    .get();
  const since = site?.failingSince;
  if (since === null || since === undefined) return;
  const [cleared] = await events.db
    .update(websites)
    .set({ failingSince: null })
    .where(and(eq(websites.id, shot.websiteId), eq(websites.failingSince, since)))
    .returning({ id: websites.id });
  if (!cleared) return;
  await raiseAlert(
    events,
    "recovered",
    shot.websiteId,
    `recovered:${shot.id}`,
    async () => ({
      type: "recovered",
      website: await alertWebsite(events.db, shot.websiteId),
      screenshot_id: shot.id,
      failing_since: iso(since),
      at: iso(now),
    }),
    now,
  );
}

/** A scenario run ended `failed` or `error`. */
export async function runFailed(events: EventScope, run: Run, now: number) {
  if (run.status !== "failed" && run.status !== "error") return;
  await raiseAlert(
    events,
    "run.failed",
    run.websiteId,
    `run.failed:${run.id}`,
    async () => {
      const scenario = await events.db
        .select({ id: scenarios.id, name: scenarios.name })
        .from(scenarios)
        .where(eq(scenarios.id, run.scenarioId))
        .get();
      return {
        type: "run.failed",
        website: await alertWebsite(events.db, run.websiteId),
        scenario: scenario ?? { id: run.scenarioId, name: "A deleted scenario" },
        run_id: run.id,
        status: run.status,
        error: run.error,
        at: iso(run.finishedAt ?? now),
      };
    },
    now,
  );
}

/** SnapTrack paused a schedule (too fast for the plan after a downgrade). */
export async function schedulePaused(events: EventScope, schedule: Schedule, now: number) {
  let websiteId = schedule.websiteId;
  let target = "a website";
  if (schedule.scenarioId) {
    const scenario = await events.db
      .select({ name: scenarios.name, websiteId: scenarios.websiteId })
      .from(scenarios)
      .where(eq(scenarios.id, schedule.scenarioId))
      .get();
    websiteId = scenario?.websiteId ?? null;
    target = scenario ? `the scenario “${scenario.name}”` : "a scenario";
  }
  const website = websiteId ? await alertWebsite(events.db, websiteId) : null;
  if (website && !schedule.scenarioId) target = website.name;
  await raiseAlert(
    events,
    "schedule.paused",
    websiteId,
    `schedule.paused:${schedule.id}:${schedule.updatedAt}`,
    () => ({
      type: "schedule.paused",
      website,
      schedule_id: schedule.id,
      target,
      reason: schedule.pausedReason,
      at: iso(now),
    }),
    now,
  );
}
