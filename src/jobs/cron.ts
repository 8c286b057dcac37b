import { getDb } from "../db/client";
import { applyDuePlanChanges } from "./plan-changes";

export const EVERY_MINUTE = "* * * * *";
export const DAILY = "30 3 * * *";

/** Cron entry point: the minute tick dispatches schedules and plan changes; the daily one purges. */
export async function handleScheduled(
  controller: ScheduledController,
  env: Env,
  _ctx: ExecutionContext,
): Promise<void> {
  const now = controller.scheduledTime;
  const db = getDb(env.DB);
  if (controller.cron === DAILY) {
    return;
  }
  await applyDuePlanChanges(db, now);
}
