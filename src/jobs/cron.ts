import { accountStub } from "../db/account-stub";
import { legacyMoves } from "../tenant/legacy-move";
import { overdueAccounts } from "../tenant/timers";

/** The cron trigger in wrangler.toml (a test checks they agree). */
export const EVERY_MINUTE = "* * * * *";

/** Accounts woken per tick; more overdue than this are woken on the next ticks. */
export const WAKES_PER_TICK = 100;
/** Expired sessions and invitations deleted per tick (the directory's own housekeeping). */
const DIRECTORY_BATCH = 500;

/**
 * The minute cron is only a backstop. Each account's own object runs its schedules,
 * retention and stale-job sweep from its alarm; this wakes the accounts whose recorded wake
 * time is well past (a lost alarm), with one small indexed read of the directory, and the
 * accounts whose rows have not yet moved out of the old shared tables. Nothing scans every
 * account. `scheduledTime` is the clock, so tests and missed ticks use the tick's own time.
 */
export async function handleScheduled(controller: ScheduledController, env: Env, _ctx: ExecutionContext) {
  await minuteTick(env, controller.scheduledTime);
}

export async function minuteTick(env: Env, now: number) {
  const ids = [...(await legacyMoves(env.DB)), ...(await overdueAccounts(env.DB, now, WAKES_PER_TICK))];
  const woken = await Promise.allSettled(ids.map((id) => accountStub(env.ACCOUNT, id).wake(id, now)));
  const failed = woken.filter((r) => r.status === "rejected");
  for (const r of failed)
    console.error(JSON.stringify({ level: "error", msg: "wake failed", error: String(r.reason) }));
  await env.DB.batch([
    env.DB.prepare(
      `DELETE FROM sessions WHERE rowid IN (SELECT rowid FROM sessions WHERE expires_at < ? LIMIT ${DIRECTORY_BATCH})`,
    ).bind(now),
    env.DB.prepare(
      `DELETE FROM invitations WHERE rowid IN (SELECT rowid FROM invitations WHERE expires_at < ? LIMIT ${DIRECTORY_BATCH})`,
    ).bind(now),
  ]);
  return { woken: ids.length - failed.length, failed: failed.length };
}
