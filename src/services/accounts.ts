import { and, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { type Account, accounts, usageCounters, websites } from "../db/schema";
import { addMonths, DAY, iso, isoOrNull, startOfUtcDay, startOfUtcMonth } from "../lib/clock";
import { PLANS, type Plan, type PlanId, planLimits } from "../limits/plans";

/**
 * Subscription state is derived from stored times, so it is right at the boundary
 * whether or not the minute cron has run yet. The cron only does the side effects.
 */
export function effectivePlanId(account: Pick<Account, "plan" | "pendingPlan" | "pendingPlanAt">, now: number): PlanId {
  if (account.pendingPlan && account.pendingPlanAt !== null && now >= account.pendingPlanAt) return account.pendingPlan;
  return account.plan;
}

export const effectivePlan = (account: Pick<Account, "plan" | "pendingPlan" | "pendingPlanAt">, now: number): Plan =>
  PLANS[effectivePlanId(account, now)];

export function subscriptionStatus(account: Pick<Account, "currentPeriodEnd">, now: number): "active" | "expired" {
  return now >= account.currentPeriodEnd ? "expired" : "active";
}

/** A new account's first period: one month from signup. */
export const firstPeriodEnd = (now: number) => addMonths(now, 1);

/** Renewal extends by one month from the period end, or from now if it already lapsed. */
export const renewedPeriodEnd = (account: Pick<Account, "currentPeriodEnd">, now: number) =>
  addMonths(Math.max(account.currentPeriodEnd, now), 1);

/** Counter keys; `usage_counters.period`. */
export const dayPeriod = (now: number) => `d:${new Date(now).toISOString().slice(0, 10)}`;
export const monthPeriod = (now: number) => `m:${new Date(now).toISOString().slice(0, 7)}`;
export const nextDayStart = (now: number) => startOfUtcDay(now) + DAY;
export const nextMonthStart = (now: number) => addMonths(startOfUtcMonth(now), 1);

export async function captureUsage(db: Db, accountId: string, now: number) {
  const day = dayPeriod(now);
  const month = monthPeriod(now);
  const rows = await db
    .select({ period: usageCounters.period, count: usageCounters.count })
    .from(usageCounters)
    .where(and(eq(usageCounters.accountId, accountId), inArray(usageCounters.period, [day, month])));
  const count = (p: string) => rows.find((r) => r.period === p)?.count ?? 0;
  return { today: count(day), thisMonth: count(month) };
}

export async function websiteCount(db: Db, accountId: string): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)` }).from(websites).where(eq(websites.accountId, accountId));
  return row?.n ?? 0;
}

/** The account document shared by `GET /v1/account` and the session endpoints. */
export async function accountView(db: Db, account: Account, now: number) {
  const [usage, sites] = await Promise.all([captureUsage(db, account.id, now), websiteCount(db, account.id)]);
  const plan = effectivePlan(account, now);
  const pendingApplies = account.pendingPlan !== null && plan.id !== account.pendingPlan;
  return {
    id: account.id,
    email: account.email,
    name: account.name,
    plan: plan.id,
    limits: planLimits(plan),
    usage: {
      websites: sites,
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

export type AccountView = Awaited<ReturnType<typeof accountView>>;

/**
 * `PUT /account/plan`: an upgrade (or the same plan) applies at once and cancels any pending
 * downgrade; a downgrade waits for the end of the period that is already paid for.
 */
export async function changePlan(db: Db, account: Account, target: PlanId, now: number): Promise<Account> {
  const current = effectivePlan(account, now);
  const patch =
    PLANS[target].rank >= current.rank
      ? { plan: target, pendingPlan: null, pendingPlanAt: null }
      : { plan: current.id, pendingPlan: target, pendingPlanAt: account.currentPeriodEnd };
  const [updated] = await db
    .update(accounts)
    .set({ ...patch, updatedAt: now })
    .where(eq(accounts.id, account.id))
    .returning();
  return updated as Account;
}

export async function renew(db: Db, account: Account, now: number): Promise<Account> {
  const [updated] = await db
    .update(accounts)
    .set({ currentPeriodEnd: renewedPeriodEnd(account, now), updatedAt: now })
    .where(eq(accounts.id, account.id))
    .returning();
  return updated as Account;
}
