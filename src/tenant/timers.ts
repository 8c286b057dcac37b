import { and, eq, isNotNull, min } from "drizzle-orm";
import type { Db } from "../db/client";
import { schedules } from "../db/schema";
import { MINUTE } from "../lib/clock";
import type { AccountSnapshot } from "../limits/counters";
import { PLANS } from "../limits/plans";
import { effectivePlan } from "../limits/subscription";
import { nextDigest, sendDueDigests } from "../services/alerts";
import { sweepComparisons } from "../services/comparisons";
import { dispatchDue, pauseTooFast } from "../services/dispatch";
import { purgeOnce } from "../services/one-time";
import { nextExpiry, purgeExpired } from "../services/retention";
import type { AccountScope } from "../services/scope";
import { nextStale, sweepStale } from "../services/sweep";
import type { EventScope } from "../services/webhooks";

/** Something due that one wake-up could not finish (more schedules, more to purge): go on this soon. */
const CONTINUE_IN = 1000;
/** A time already past that the work just done did not move (nothing it could do yet): look again this late. */
const RECHECK_IN = MINUTE;
/** How much earlier than the recorded wake time the next one must be for the directory to be told. */
export const RECORD_SLACK = 10 * MINUTE;

export interface WakeResult {
  planChanged: boolean;
  swept: { requeued: number; ended: number };
  comparisonsResent: number;
  dispatch: { fired: number; skipped: number; paused: number };
  purged: { screenshots: number; runs: number };
  /** Daily alert digests sent (08:00 in the account's time zone). */
  digests: number;
  /** When the alarm is set for next (null: nothing is due). */
  next: number | null;
}

/**
 * The account's own timers, run from its object's alarm: a downgrade whose time has come,
 * the stale-job sweep, due schedules, daily alert digests and retention. One alarm per object, always set to the
 * earliest thing due; every step is idempotent, so a repeated or early wake-up does no harm.
 *
 * The directory (D1) keeps, per account, when the object next needs waking (`wake_at`); the
 * minute cron wakes accounts whose time is well past, so a lost alarm delays nothing for
 * long. D1 is written only when that time moves earlier or the recorded one has passed.
 */
export class AccountTimers {
  /** What the alarm was last set for, on the clock of the call that set it (undefined: not since the object started). */
  private armedFor: number | null | undefined;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
    private readonly db: Db,
    private readonly scope: () => AccountScope,
  ) {}

  /** Does everything due at `now`, then sets the alarm for what comes next. */
  async run(
    now: number,
    snapshot: AccountSnapshot | null,
    reread: () => Promise<AccountSnapshot | null>,
  ): Promise<WakeResult> {
    this.armedFor = undefined; // an alarm that fired is no longer set; one that did not is set again below
    let account = snapshot;
    const result: WakeResult = {
      planChanged: false,
      swept: { requeued: 0, ended: 0 },
      comparisonsResent: 0,
      dispatch: { fired: 0, skipped: 0, paused: 0 },
      purged: { screenshots: 0, runs: 0 },
      digests: 0,
      next: null,
    };
    if (!account) {
      // The account is gone from the directory: nothing of its own runs any more.
      await this.ctx.storage.deleteAlarm();
      this.armedFor = null;
      return result;
    }
    const scope = this.scope();
    const plan = effectivePlan(account, now);
    const events: EventScope = { db: this.db, accountId: scope.accountId, queue: this.env.WEBHOOKS, plan };

    if (account.pendingPlan && account.pendingPlanAt !== null && account.pendingPlanAt <= now) {
      // A downgrade's time has come: it becomes the stored plan, and schedules faster than it pause.
      await this.env.DB.prepare(
        "UPDATE accounts SET plan = pending_plan, pending_plan = NULL, pending_plan_at = NULL, updated_at = ? WHERE id = ? AND pending_plan IS NOT NULL AND pending_plan_at <= ?",
      )
        .bind(now, account.id, now)
        .run();
      const downgrade = PLANS[account.pendingPlan];
      // The object's copy of the row is read again, so the quota and the alarm below follow the new plan.
      account = (await reread()) ?? account;
      await pauseTooFast(events, downgrade, now);
      result.planChanged = true;
    }

    let more = false;
    const swept = await sweepStale(events, this.env.JOBS, now);
    result.swept = {
      requeued: swept.requeued.captures + swept.requeued.runs,
      ended: swept.ended.captures + swept.ended.runs,
    };
    more ||= swept.more;
    result.comparisonsResent = await sweepComparisons(this.db, this.env.JOBS, scope.accountId, now);

    const dispatched = await dispatchDue(scope, events, this.env.JOBS, account, now);
    result.dispatch = { fired: dispatched.fired, skipped: dispatched.skipped, paused: dispatched.paused };
    more ||= dispatched.more;

    // One-time values nobody came back for (services/one-time.ts); no wake-up of their own.
    await purgeOnce(this.db, now);
    result.digests = await sendDueDigests(events, now);

    const expiry = await nextExpiry(this.db, plan);
    if (expiry !== null && expiry <= now) {
      const purged = await purgeExpired(this.db, this.env.SHOTS, plan, now);
      result.purged = { screenshots: purged.screenshots, runs: purged.runs };
      more ||= purged.more;
    }
    result.next = await this.rearm(now, account, more ? now + CONTINUE_IN : null);
    return result;
  }

  /** When the account next needs waking: its earliest due schedule, stale job, expiry or plan change. */
  async nextWake(now: number, account: AccountSnapshot | null): Promise<number | null> {
    const due = await this.db
      .select({ at: min(schedules.nextRunAt) })
      .from(schedules)
      .where(and(eq(schedules.enabled, true), isNotNull(schedules.nextRunAt)))
      .get();
    const plan = account ? effectivePlan(account, now) : PLANS.free;
    const times = [
      due?.at ?? null,
      await nextStale(this.db),
      await nextExpiry(this.db, plan),
      account?.pendingPlan ? account.pendingPlanAt : null,
      await nextDigest(this.db, now),
    ].filter((t): t is number => t !== null);
    return times.length > 0 ? Math.min(...times) : null;
  }

  /**
   * Sets the alarm for the next thing due (or `soon`, when earlier) and records the time in
   * the directory when it moved earlier or the recorded one has passed. A time already past
   * that nothing could move is looked at again RECHECK_IN later, never in a loop.
   *
   * The alarm fires after the same delay from real time as `next` is from `now`: deployed
   * the two clocks agree; a caller with an injected clock (tests) never fires a real alarm early.
   */
  async rearm(now: number, account: AccountSnapshot | null, soon: number | null = null): Promise<number | null> {
    let next = await this.nextWake(now, account);
    if (next !== null && next <= now) next = now + RECHECK_IN;
    if (soon !== null && (next === null || soon < next)) next = soon;
    if (next !== this.armedFor) {
      if (next === null) await this.ctx.storage.deleteAlarm();
      else await this.ctx.storage.setAlarm(Date.now() + (next - now));
      this.armedFor = next;
    }
    this.record(next, now, account);
    return next;
  }

  /**
   * `accounts.wake_at`, the cron's backstop for a lost alarm: written when the next wake-up
   * moved more than RECORD_SLACK earlier than the recorded one, or the recorded one has
   * passed. So the directory is written about once per alarm, not per request or job; a lost
   * alarm is caught at most RECORD_SLACK (plus the cron's minute) late.
   */
  private record(next: number | null, now: number, account: AccountSnapshot | null) {
    if (!account) return;
    const recorded = this.ctx.storage.kv.get<number | null>("wake_recorded") ?? null;
    const passed = recorded !== null && recorded <= now;
    const earlier = next !== null && (recorded === null || next < recorded - RECORD_SLACK);
    if (next === recorded || !(earlier || passed)) return;
    // Off the request's path: the alarm is what fires; this is only the backstop's hint.
    this.ctx.waitUntil(
      this.env.DB.prepare("UPDATE accounts SET wake_at = ? WHERE id = ? AND (wake_at IS NULL OR wake_at != 0)")
        .bind(next, account.id)
        .run()
        .then(() => this.ctx.storage.kv.put("wake_recorded", next)),
    );
  }
}

/** Accounts whose recorded wake time is this far past are woken by the minute cron. */
export const OVERDUE_AFTER = MINUTE;

/** The cron's backstop: accounts whose alarm should have fired by now (one indexed D1 read). */
export async function overdueAccounts(d1: D1Database, now: number, limit: number): Promise<string[]> {
  const { results } = await d1
    .prepare("SELECT id FROM accounts WHERE wake_at > 0 AND wake_at <= ? ORDER BY wake_at LIMIT ?")
    .bind(now - OVERDUE_AFTER, limit)
    .all<{ id: string }>();
  return results.map((r) => r.id);
}
