import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { newId } from "../db/ids";
import { listPage, rowById, updateById } from "../db/owned";
import { type Schedule, schedules } from "../db/schema";
import { iso, isoOrNull } from "../lib/clock";
import { type FieldErrors, notFound, validationError } from "../lib/errors";
import type { Plan } from "../limits/plans";
import { cronError, gapOf, isValidTimezone, nextRunAfter, tooFast } from "../schedules/timing";

/** A gap that never comes (fires at most once in two years) is stored as the largest integer. */
const MAX_GAP = 2_147_483_647;

import { getScenario } from "./scenarios";
import { getWebsite } from "./websites";

export function scheduleView(s: Schedule) {
  return {
    id: s.id,
    website_id: s.websiteId,
    scenario_id: s.scenarioId,
    cron: s.cron,
    interval_minutes: s.intervalMinutes,
    timezone: s.timezone,
    enabled: s.enabled,
    paused_reason: s.pausedReason,
    next_run_at: isoOrNull(s.nextRunAt),
    last_run_at: isoOrNull(s.lastRunAt),
    last_status: s.lastStatus,
    created_at: iso(s.createdAt),
    updated_at: iso(s.updatedAt),
  };
}

interface TimingInput {
  cron?: string | null;
  interval_minutes?: number | null;
  timezone?: string;
}

/**
 * Cron or interval (exactly one), a real time zone, and — when enabled — no faster than the
 * plan allows. Returns the shortest gap, which is stored for later plan checks.
 */
function checkTiming(
  t: { cron: string | null; intervalMinutes: number | null; timezone: string },
  plan: Plan,
  enabled: boolean,
): number {
  const errors: FieldErrors = {};
  if ((t.cron === null) === (t.intervalMinutes === null)) {
    errors.cron = ["Give either cron or interval_minutes"];
  } else if (t.cron !== null) {
    const problem = cronError(t.cron);
    if (problem) errors.cron = [problem];
  }
  if (!isValidTimezone(t.timezone)) errors.timezone = ["Is not an IANA time zone (e.g. Europe/Berlin)"];
  if (Object.keys(errors).length > 0) throw validationError(errors);
  const gap = Math.min(gapOf(t), MAX_GAP);
  const reason = enabled ? tooFast(gap, plan) : null;
  if (reason) throw validationError({ [t.cron !== null ? "cron" : "interval_minutes"]: [reason] });
  return gap;
}

export interface ScheduleInput extends TimingInput {
  website_id?: string;
  scenario_id?: string;
  enabled?: boolean;
}

export async function createSchedule(db: Db, plan: Plan, input: ScheduleInput, now: number) {
  if ((input.website_id === undefined) === (input.scenario_id === undefined)) {
    throw validationError({ website_id: ["Give either website_id or scenario_id"] });
  }
  const timing = {
    cron: input.cron ?? null,
    intervalMinutes: input.interval_minutes ?? null,
    timezone: input.timezone ?? "UTC",
    createdAt: now,
  };
  const enabled = input.enabled ?? true;
  const gap = checkTiming(timing, plan, enabled);
  if (input.website_id) await getWebsite(db, input.website_id);
  if (input.scenario_id) await getScenario(db, input.scenario_id);
  const [row] = await db
    .insert(schedules)
    .values({
      id: newId("schedule", now),
      websiteId: input.website_id ?? null,
      scenarioId: input.scenario_id ?? null,
      cron: timing.cron?.trim() ?? null,
      intervalMinutes: timing.intervalMinutes,
      timezone: timing.timezone,
      gapMinutes: gap,
      enabled,
      pausedReason: null,
      nextRunAt: enabled ? nextRunAfter(timing, now) : null,
      lastRunAt: null,
      lastStatus: null,
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  return row as Schedule;
}

export const getSchedule = (db: Db, id: string): Promise<Schedule> => rowById(db, schedules, id, "Schedule");

export const listSchedules = (
  db: Db,
  q: { limit: number; cursor?: string; website_id?: string; scenario_id?: string },
) =>
  listPage(
    db,
    schedules,
    q,
    scheduleView,
    q.website_id ? eq(schedules.websiteId, q.website_id) : undefined,
    q.scenario_id ? eq(schedules.scenarioId, q.scenario_id) : undefined,
  );

/** Partial update; timing changes (or re-enabling) are checked against the plan and re-plan next_run_at. */
export async function updateSchedule(
  db: Db,
  plan: Plan,
  id: string,
  patch: TimingInput & { enabled?: boolean },
  now: number,
) {
  const current = await getSchedule(db, id);
  const timing = {
    cron: patch.cron !== undefined ? patch.cron : patch.interval_minutes != null ? null : current.cron,
    intervalMinutes:
      patch.interval_minutes !== undefined
        ? patch.interval_minutes
        : patch.cron != null
          ? null
          : current.intervalMinutes,
    timezone: patch.timezone ?? current.timezone,
    createdAt: current.createdAt,
  };
  const enabled = patch.enabled ?? current.enabled;
  const gap = checkTiming(timing, plan, enabled);
  return updateById(
    db,
    schedules,
    id,
    {
      cron: timing.cron?.trim() ?? null,
      intervalMinutes: timing.intervalMinutes,
      timezone: timing.timezone,
      gapMinutes: gap,
      enabled,
      pausedReason: enabled ? null : patch.enabled === false ? null : current.pausedReason,
      nextRunAt: enabled ? nextRunAfter(timing, now) : null,
      updatedAt: now,
    },
    "Schedule",
  );
}

/** How many upcoming runs a preview shows. */
export const PREVIEW_RUNS = 3;

/**
 * The next runs a schedule with this timing would make from `now`, checked exactly as
 * creating it would be (cron or interval, time zone, the plan's fastest frequency); a new
 * interval schedule is anchored at its creation, so at `now`.
 */
export function previewSchedule(plan: Plan, input: TimingInput, now: number): number[] {
  const timing = {
    cron: input.cron ?? null,
    intervalMinutes: input.interval_minutes ?? null,
    timezone: input.timezone ?? "UTC",
    createdAt: now,
  };
  checkTiming(timing, plan, true);
  const runs: number[] = [];
  let after = now;
  while (runs.length < PREVIEW_RUNS) {
    const next = nextRunAfter(timing, after);
    if (next === null) break;
    runs.push(next);
    after = next;
  }
  return runs;
}

export async function deleteSchedule(db: Db, id: string) {
  const deleted = await db.delete(schedules).where(eq(schedules.id, id)).returning({ id: schedules.id });
  if (deleted.length === 0) throw notFound("Schedule");
}
