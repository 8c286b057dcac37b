import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { type Account, type AccountRecord, accounts } from "../db/schema";
import { addMonths, DAY, iso, isoOrNull, startOfUtcDay, startOfUtcMonth } from "../lib/clock";
import type { CaptureUsage, Limiter } from "../limits/account-limiter";
import { PLANS, type Plan, type PlanId, planLimits } from "../limits/plans";

type PlanFields = Pick<Account, "plan" | "pendingPlan" | "pendingPlanAt">;

/**
 * Subscription state is derived from stored times, so it is right at the boundary
 * whether or not the minute cron has run yet. The cron only does the side effects.
 */
export function effectivePlanId(account: PlanFields, now: number): PlanId {
  if (account.pendingPlan && account.pendingPlanAt !== null && now >= account.pendingPlanAt) return account.pendingPlan;
  return account.plan;
}

export const effectivePlan = (account: PlanFields, now: number): Plan => PLANS[effectivePlanId(account, now)];

export function subscriptionStatus(account: Pick<Account, "currentPeriodEnd">, now: number): "active" | "expired" {
  return now >= account.currentPeriodEnd ? "expired" : "active";
}

/** A new account's first period: one month from signup. */
export const firstPeriodEnd = (now: number) => addMonths(now, 1);

/** Renewal extends by one month from the period end, or from now if it already lapsed. */
export const renewedPeriodEnd = (account: Pick<Account, "currentPeriodEnd">, now: number) =>
  addMonths(Math.max(account.currentPeriodEnd, now), 1);

export const nextDayStart = (now: number) => startOfUtcDay(now) + DAY;
export const nextMonthStart = (now: number) => addMonths(startOfUtcMonth(now), 1);

/** The account document shared by `GET /v1/account` and the session endpoints. */
export function accountView(account: AccountRecord, usage: CaptureUsage, now: number) {
  const plan = effectivePlan(account, now);
  const pendingApplies = account.pendingPlan !== null && plan.id !== account.pendingPlan;
  return {
    id: account.id,
    email: account.email,
    name: account.name,
    plan: plan.id,
    limits: planLimits(plan),
    usage: {
      captures_today: usage.today,
      captures_this_month: usage.thisMonth,
      day_resets_at: iso(nextDayStart(now)),
      month_resets_at: iso(nextMonthStart(now)),
    },
    subscription: {
      status: subscriptionStatus(account, now),
      current_period_end: iso(account.currentPeriodEnd),
      pending_plan: pendingApplies ? account.pendingPlan : null,
      pending_plan_at: pendingApplies ? isoOrNull(account.pendingPlanAt) : null,
    },
    created_at: iso(account.createdAt),
  };
}

export type AccountView = ReturnType<typeof accountView>;

async function updateAccount(db: Db, limiter: Limiter, id: string, patch: Partial<Account>): Promise<Account> {
  const [updated] = await db.update(accounts).set(patch).where(eq(accounts.id, id)).returning();
  // The limiter caches the account for the gate; it must see the change on the next request.
  await limiter.invalidate(id);
  return updated as Account;
}

/**
 * `PUT /account/plan`: an upgrade (or the same plan) applies at once and cancels any pending
 * downgrade; a downgrade waits for the end of the period that is already paid for.
 */
export function changePlan(db: Db, limiter: Limiter, account: AccountRecord, target: PlanId, now: number) {
  const current = effectivePlan(account, now);
  const patch =
    PLANS[target].rank >= current.rank
      ? { plan: target, pendingPlan: null, pendingPlanAt: null }
      : { plan: current.id, pendingPlan: target, pendingPlanAt: account.currentPeriodEnd };
  return updateAccount(db, limiter, account.id, { ...patch, updatedAt: now });
}

export function renew(db: Db, limiter: Limiter, account: AccountRecord, now: number) {
  return updateAccount(db, limiter, account.id, { currentPeriodEnd: renewedPeriodEnd(account, now), updatedAt: now });
}
