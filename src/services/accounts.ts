import { eq, sql } from "drizzle-orm";
import type { DirectoryDb } from "../db/client";
import { type Account, type AccountRecord, accounts, invitations, users } from "../db/schema";
import { iso, isoOrNull } from "../lib/clock";
import type { PlanId, UserRole } from "../lib/values";
import { PLANS, planLimits } from "../limits/plans";
import type { CaptureUsage } from "../limits/subscription";
import {
  effectivePlan,
  nextDayStart,
  nextMonthStart,
  renewedPeriodEnd,
  subscriptionStatus,
} from "../limits/subscription";

/** Seats taken (owner + members + pending invitations) as one SQL expression, for reads and guarded writes. */
export const seatsUsedSql = (accountId: string, now: number) =>
  sql<number>`(SELECT count(*) FROM ${users} WHERE ${users.accountId} = ${accountId}) + (SELECT count(*) FROM ${invitations} WHERE ${invitations.accountId} = ${accountId} AND ${invitations.expiresAt} > ${now})`;

/** Owner + members + pending invitations. */
export async function seatsUsed(db: DirectoryDb, accountId: string, now: number): Promise<number> {
  const row = await db
    .select({ n: seatsUsedSql(accountId, now) })
    .from(accounts)
    .where(eq(accounts.id, accountId))
    .get();
  return Number(row?.n ?? 0);
}

export const seatsLimit = (account: AccountRecord, now: number) => effectivePlan(account, now).teamUsers;

/** The account document shared by `GET /v1/account` and the session endpoints. */
export function accountView(account: AccountRecord, usage: CaptureUsage, seatsUsed: number, now: number) {
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
    team: { seats_used: seatsUsed, seats_limit: plan.teamUsers },
    created_at: iso(account.createdAt),
  };
}

/**
 * The account document for session requests (no gate ran, so usage comes from the account's
 * object), with the logged-in user when the caller has them.
 */
export async function sessionAccountView(
  db: DirectoryDb,
  usage: CaptureUsage,
  account: AccountRecord,
  now: number,
  user?: { id: string; email: string; name: string; role: UserRole },
) {
  const view = accountView(account, usage, await seatsUsed(db, account.id, now), now);
  return user ? { ...view, user: { id: user.id, email: user.email, name: user.name, role: user.role } } : view;
}

/**
 * `changed` is told at once: the account's object keeps the directory row for its gate and
 * must see the change on the very next request.
 */
async function updateAccount(db: DirectoryDb, changed: () => void, id: string, patch: Partial<Account>) {
  const [updated] = await db.update(accounts).set(patch).where(eq(accounts.id, id)).returning();
  changed();
  return updated as Account;
}

/**
 * `PUT /account/plan`: an upgrade (or the same plan) applies at once and cancels any pending
 * downgrade; a downgrade waits for the end of the period that is already paid for.
 */
export function changePlan(db: DirectoryDb, changed: () => void, account: AccountRecord, target: PlanId, now: number) {
  const current = effectivePlan(account, now);
  const patch =
    PLANS[target].rank >= current.rank
      ? { plan: target, pendingPlan: null, pendingPlanAt: null }
      : { plan: current.id, pendingPlan: target, pendingPlanAt: account.currentPeriodEnd };
  return updateAccount(db, changed, account.id, { ...patch, updatedAt: now });
}

export function renew(db: DirectoryDb, changed: () => void, account: AccountRecord, now: number) {
  return updateAccount(db, changed, account.id, { currentPeriodEnd: renewedPeriodEnd(account, now), updatedAt: now });
}
