import { and, eq, isNull, lt, or } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Db } from "./client";

/** A table of deliveries made in numbered attempts (webhook deliveries, alert deliveries). */
type AttemptTable = SQLiteTable & {
  id: SQLiteColumn;
  status: SQLiteColumn;
  attempts: SQLiteColumn;
  claimedAt: SQLiteColumn;
  updatedAt: SQLiteColumn;
};

export type AttemptRowClaim<Row> = { claimed: Row } | { busy: true } | { done: true };

/**
 * Claims attempt `n` of a pending delivery: its `attempts` moves to `n`, so a redelivered
 * message for an attempt already made sends nothing (at least once, and normally exactly
 * once). An attempt whose consumer died (claimed longer ago than `staleMs`, never recorded)
 * may be made again. `busy` when it is in flight elsewhere (the message should come back
 * later); `done` when it is finished, deleted, or this attempt was made already.
 */
export async function claimAttemptRow<T extends AttemptTable>(
  db: Db,
  table: T,
  id: string,
  n: number,
  now: number,
  staleMs: number,
): Promise<AttemptRowClaim<T["$inferSelect"]>> {
  const stale = now - staleMs;
  const [claimed] = await db
    .update(table as SQLiteTable)
    .set({ attempts: n, claimedAt: now, updatedAt: now } as Partial<T["$inferInsert"]>)
    .where(
      and(
        eq(table.id, id),
        eq(table.status, "pending"),
        or(
          and(eq(table.attempts, n - 1), or(isNull(table.claimedAt), lt(table.claimedAt, stale))),
          and(eq(table.attempts, n), lt(table.claimedAt, stale)),
        ),
      ),
    )
    .returning();
  if (claimed) return { claimed: claimed as T["$inferSelect"] };
  const row = (await db
    .select({ attempts: table.attempts, claimedAt: table.claimedAt })
    .from(table as SQLiteTable)
    .where(eq(table.id, id))
    .get()) as { attempts: number; claimedAt: number | null } | undefined;
  return row && row.claimedAt !== null && (row.attempts === n || row.attempts === n - 1)
    ? { busy: true }
    : { done: true };
}
