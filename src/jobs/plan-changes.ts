import { and, isNotNull, lte, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { accounts } from "../db/schema";

/**
 * Downgrades recorded as `pending_plan` become the plan once their time has come. Reads
 * already treat them as applied (see effectivePlan); this makes it durable.
 */
export async function applyDuePlanChanges(db: Db, now: number) {
  return db
    .update(accounts)
    .set({ plan: sql`${accounts.pendingPlan}`, pendingPlan: null, pendingPlanAt: null, updatedAt: now })
    .where(and(isNotNull(accounts.pendingPlan), lte(accounts.pendingPlanAt, now)))
    .returning({ id: accounts.id, plan: accounts.plan });
}
