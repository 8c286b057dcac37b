import { getDb } from "../db/client";
import { durableObjectLimiter } from "../limits/account-limiter";
import { PLANS } from "../limits/plans";
import { enqueue } from "../queue/messages";
import { sweepComparisons } from "./compare";
import { dispatchDue, pauseTooFast } from "./dispatch";
import { applyDuePlanChanges } from "./plan-changes";
import { purgeExpired } from "./retention";
import { sweepStale } from "./sweep";

/** The cron triggers in wrangler.toml (a test checks they agree). */
export const EVERY_MINUTE = "* * * * *";
export const DAILY = "30 3 * * *";

/**
 * Cron entry point (`scheduledTime` is the clock, so tests and missed ticks use the tick's
 * own time). Every minute: the crash sweeper (work a dead consumer left behind), then plan
 * changes whose time has come, then due schedules. Daily: the retention purge. Work past
 * one invocation's bounds continues on the queue.
 */
export async function handleScheduled(
  controller: ScheduledController,
  env: Env,
  _ctx: ExecutionContext,
): Promise<void> {
  const now = controller.scheduledTime;
  if (controller.cron === DAILY) {
    // Retention reads the stored plan, so due downgrades are applied first.
    await applyPlanChanges(env, now);
    const pass = await purgeExpired(env, now);
    if (pass.more) await enqueue(env.JOBS, { type: "retention", round: 1 });
    return;
  }
  // A failing sweep must not hold up due schedules (nor hide: it is thrown once they ran).
  let sweepFailure: unknown;
  try {
    const swept = await sweepStale(env, now);
    if (swept.more) await enqueue(env.JOBS, { type: "sweep", round: 1 });
    await sweepComparisons(env, now);
  } catch (err) {
    sweepFailure = err ?? new Error("sweep failed");
  }
  await minuteTick(env, now);
  if (sweepFailure) throw sweepFailure;
}

/** Due downgrades become the plan, and schedules faster than the new plan are paused. */
export async function applyPlanChanges(env: Env, now: number) {
  const changed = await applyDuePlanChanges(getDb(env.DB), now);
  for (const account of changed) await pauseTooFast(env, account.id, PLANS[account.plan], now);
}

export async function minuteTick(env: Env, now: number) {
  await applyPlanChanges(env, now);
  const result = await dispatchDue(env, durableObjectLimiter(env.LIMITER), now);
  if (result.more) await enqueue(env.JOBS, { type: "dispatch", round: 1 });
  return result;
}
