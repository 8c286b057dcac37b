import { and, asc, eq, lte } from "drizzle-orm";
import { type Account, type Schedule, scenarios, schedules, websites } from "../db/schema";
import { effectivePlan, subscriptionStatus } from "../limits/subscription";
import { nextRunAfter, tooFast } from "../schedules/timing";
import { schedulePaused } from "./alert-events";
import { queueRun } from "./runs";
import type { AccountScope } from "./scope";
import { runQuotaRefusal, tryQueueCapture } from "./screenshots";
import { type EventScope, emitSchedulePaused, notify } from "./webhooks";

/** Due schedules read per query. */
export const DISPATCH_BATCH = 50;
/** Schedules one wake-up fires at most; the rest fire on the next (the alarm is set again at once). */
export const DISPATCH_PER_WAKE = 200;

export interface DispatchResult {
  fired: number;
  skipped: number;
  paused: number;
  /** More due schedules remain. */
  more: boolean;
}

const pausedReason = (reason: string) => `Paused: ${reason}`;

/**
 * Fires each of the account's due, enabled schedules exactly once, from its alarm. Each one
 * is claimed with a conditional UPDATE on the `next_run_at` it was read with, so a repeated
 * wake-up cannot fire it twice. `next_run_at` moves to the first slot after now: a window
 * missed while nothing ran fires once, not once per missed slot.
 */
export async function dispatchDue(
  scope: AccountScope,
  events: EventScope,
  jobs: Queue,
  account: Account,
  now: number,
  budget = DISPATCH_PER_WAKE,
): Promise<DispatchResult> {
  const { db } = scope;
  const result: DispatchResult = { fired: 0, skipped: 0, paused: 0, more: false };
  let handled = 0;
  while (handled < budget) {
    const due = await db
      .select()
      .from(schedules)
      .where(and(eq(schedules.enabled, true), lte(schedules.nextRunAt, now)))
      .orderBy(asc(schedules.nextRunAt), asc(schedules.id))
      .limit(Math.min(DISPATCH_BATCH, budget - handled));
    if (due.length === 0) return result;
    for (const schedule of due) {
      handled += 1;
      const [claimed] = await db
        .update(schedules)
        .set({ nextRunAt: nextRunAfter(schedule, now), lastRunAt: now, updatedAt: now })
        .where(
          and(
            eq(schedules.id, schedule.id),
            eq(schedules.enabled, true),
            eq(schedules.nextRunAt, schedule.nextRunAt as number),
          ),
        )
        .returning({ id: schedules.id });
      if (!claimed) continue; // fired already
      const outcome = await fire(scope, events, jobs, schedule, account, now);
      result[outcome] += 1;
    }
  }
  result.more = true;
  return result;
}

async function fire(
  scope: AccountScope,
  events: EventScope,
  jobs: Queue,
  schedule: Schedule,
  account: Account,
  now: number,
) {
  const { db } = scope;
  const setStatus = (lastStatus: string) =>
    db.update(schedules).set({ lastStatus }).where(eq(schedules.id, schedule.id));
  if (subscriptionStatus(account, now) === "expired") {
    await setStatus("skipped: subscription expired");
    return "skipped" as const;
  }
  const plan = effectivePlan(account, now);
  const fast = tooFast(schedule.gapMinutes, plan);
  if (fast) {
    const [paused] = await db
      .update(schedules)
      .set({
        enabled: false,
        pausedReason: pausedReason(fast),
        nextRunAt: null,
        lastStatus: "skipped: paused (plan)",
        updatedAt: now,
      })
      .where(eq(schedules.id, schedule.id))
      .returning();
    if (paused) {
      await notify(`schedule.paused:${paused.id}`, () => emitSchedulePaused(events, paused, now));
      await schedulePaused(events, paused, now);
    }
    return "paused" as const;
  }
  if (schedule.websiteId) {
    const website = await db.select().from(websites).where(eq(websites.id, schedule.websiteId)).get();
    if (!website) return "skipped" as const;
    const queued = await tryQueueCapture(scope, jobs, { website, source: "schedule", scheduleId: schedule.id }, now);
    if (!queued.ok) {
      await setStatus("skipped: capture quota exceeded");
      return "skipped" as const;
    }
  } else {
    const scenario = await db
      .select()
      .from(scenarios)
      .where(eq(scenarios.id, schedule.scenarioId as string))
      .get();
    if (!scenario) return "skipped" as const;
    if (runQuotaRefusal(scenario, plan, scope.quota.usage(now), now)) {
      await setStatus("skipped: capture quota exceeded");
      return "skipped" as const;
    }
    await queueRun(scope, jobs, scenario, "schedule", now, schedule.id);
  }
  await setStatus("queued");
  return "fired" as const;
}

/**
 * After a downgrade takes effect: schedules faster than the new plan allows are paused
 * with the reason, never deleted. The user can re-enable them at a rate the plan allows.
 */
export async function pauseTooFast(
  events: EventScope,
  plan: { id: string; fastestScheduleMinutes: number },
  now: number,
) {
  const { db } = events;
  const fast = await db
    .select({ id: schedules.id, gap: schedules.gapMinutes })
    .from(schedules)
    .where(eq(schedules.enabled, true));
  for (const s of fast) {
    const reason = tooFast(s.gap, plan);
    if (!reason) continue;
    const [paused] = await db
      .update(schedules)
      .set({ enabled: false, pausedReason: pausedReason(reason), nextRunAt: null, updatedAt: now })
      .where(and(eq(schedules.id, s.id), eq(schedules.enabled, true)))
      .returning();
    if (paused) {
      await notify(`schedule.paused:${paused.id}`, () => emitSchedulePaused(events, paused, now));
      await schedulePaused(events, paused, now);
    }
  }
}
