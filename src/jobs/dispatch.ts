import { and, asc, eq, inArray, lte } from "drizzle-orm";
import { getDb } from "../db/client";
import { type Account, accounts, type Schedule, scenarios, schedules, websites } from "../db/schema";
import type { Limiter } from "../limits/account-limiter";
import { effectivePlan, subscriptionStatus } from "../limits/subscription";
import { nextRunAfter, tooFast } from "../schedules/timing";
import { queueRun } from "../services/runs";
import { runQuotaRefusal, tryQueueCapture } from "../services/screenshots";
import { emitSchedulePaused, notify } from "../services/webhooks";

/** Due schedules read per query. */
export const DISPATCH_BATCH = 50;
/**
 * Schedules handled per Worker invocation (about four D1 queries and one queue send each,
 * well inside 1,000 queries per invocation); the rest continue in a queued `dispatch` job.
 */
export const DISPATCH_PER_INVOCATION = 200;

export interface DispatchResult {
  fired: number;
  skipped: number;
  paused: number;
  /** More due schedules remain; a continuation should run. */
  more: boolean;
}

const pausedReason = (reason: string) => `Paused: ${reason}`;

/**
 * Fires every due, enabled schedule exactly once. Each one is claimed with a conditional
 * UPDATE on the `next_run_at` it was read with, so overlapping or repeated invocations
 * cannot both fire it. `next_run_at` moves to the first slot after now: a window missed
 * while nothing ran fires once, not once per missed slot.
 */
export async function dispatchDue(
  env: Env,
  limiter: Limiter,
  now: number,
  budget = DISPATCH_PER_INVOCATION,
): Promise<DispatchResult> {
  const db = getDb(env.DB);
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
    const owners = new Map(
      (
        await db
          .select()
          .from(accounts)
          .where(inArray(accounts.id, [...new Set(due.map((s) => s.accountId))]))
      ).map((a) => [a.id, a]),
    );
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
      if (!claimed) continue; // another invocation fired it
      const account = owners.get(schedule.accountId);
      if (!account) continue;
      const outcome = await fire(env, db, limiter, schedule, account, now);
      result[outcome] += 1;
    }
  }
  result.more = true;
  return result;
}

async function fire(
  env: Env,
  db: ReturnType<typeof getDb>,
  limiter: Limiter,
  schedule: Schedule,
  account: Account,
  now: number,
) {
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
    if (paused) await notify(`schedule.paused:${paused.id}`, () => emitSchedulePaused(db, env.WEBHOOKS, paused, now));
    return "paused" as const;
  }
  if (schedule.websiteId) {
    const website = await db.select().from(websites).where(eq(websites.id, schedule.websiteId)).get();
    if (!website) return "skipped" as const;
    const queued = await tryQueueCapture(
      db,
      limiter,
      env.JOBS,
      { website, source: "schedule", scheduleId: schedule.id },
      now,
    );
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
    if (runQuotaRefusal(scenario, plan, await limiter.usage(account.id, now), now)) {
      await setStatus("skipped: capture quota exceeded");
      return "skipped" as const;
    }
    await queueRun(db, env.JOBS, scenario, "schedule", now, schedule.id);
  }
  await setStatus("queued");
  return "fired" as const;
}

/**
 * After a downgrade takes effect: schedules faster than the new plan allows are paused
 * with the reason, never deleted. The user can re-enable them at a rate the plan allows.
 */
export async function pauseTooFast(
  env: Env,
  accountId: string,
  plan: { id: string; fastestScheduleMinutes: number },
  now: number,
) {
  const db = getDb(env.DB);
  const fast = await db
    .select({ id: schedules.id, gap: schedules.gapMinutes })
    .from(schedules)
    .where(and(eq(schedules.accountId, accountId), eq(schedules.enabled, true)));
  for (const s of fast) {
    const reason = tooFast(s.gap, plan);
    if (!reason) continue;
    const [paused] = await db
      .update(schedules)
      .set({ enabled: false, pausedReason: pausedReason(reason), nextRunAt: null, updatedAt: now })
      .where(and(eq(schedules.id, s.id), eq(schedules.enabled, true)))
      .returning();
    if (paused) await notify(`schedule.paused:${paused.id}`, () => emitSchedulePaused(db, env.WEBHOOKS, paused, now));
  }
}
