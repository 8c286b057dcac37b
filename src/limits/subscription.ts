import type { Account } from "../db/schema";
import { addMonths, DAY, startOfUtcDay, startOfUtcMonth } from "../lib/clock";
import type { PlanId } from "../lib/values";
import { PLANS, type Plan } from "./plans";

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

/** When the daily and monthly capture quotas start over (UTC). */
export const nextDayStart = (now: number) => startOfUtcDay(now) + DAY;
export const nextMonthStart = (now: number) => addMonths(startOfUtcMonth(now), 1);

/** Capture usage against the day and month quotas. */
export interface CaptureUsage {
  today: number;
  thisMonth: number;
}

/** Why a capture does not fit the quota: the period, its limit, what is used and when it resets. */
export interface QuotaRefusal {
  period: "day" | "month";
  limit: number;
  used: number;
  resetAt: number;
}

/** Whether `captures` more fit today's and this month's quota under `plan`; null when they do. */
export function quotaRefusal(plan: Plan, usage: CaptureUsage, captures: number, now: number): QuotaRefusal | null {
  if (usage.today + captures > plan.capturesPerDay)
    return { period: "day", limit: plan.capturesPerDay, used: usage.today, resetAt: nextDayStart(now) };
  if (usage.thisMonth + captures > plan.capturesPerMonth)
    return { period: "month", limit: plan.capturesPerMonth, used: usage.thisMonth, resetAt: nextMonthStart(now) };
  return null;
}
