import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import { notFound } from "../lib/errors";
import type { Db } from "./client";
import { decodeCursor, toPage } from "./pagination";

type OwnedTable = SQLiteTable & { id: SQLiteColumn; accountId: SQLiteColumn };

/**
 * A row by id, only if it belongs to the account. Anything else — missing, or another
 * account's — is the same 404, so ids never reveal that they exist.
 */
export async function ownedRow<T extends OwnedTable>(
  db: Db,
  table: T,
  accountId: string,
  id: string,
  what: string,
): Promise<T["$inferSelect"]> {
  const row = await db
    .select()
    .from(table as SQLiteTable)
    .where(and(eq(table.id, id), eq(table.accountId, accountId)))
    .get();
  if (!row) throw notFound(what);
  return row as T["$inferSelect"];
}

/** Updates a row only if it belongs to the account; otherwise the same 404 as `ownedRow`. */
export async function updateOwned<T extends OwnedTable>(
  db: Db,
  table: T,
  accountId: string,
  id: string,
  set: Partial<T["$inferInsert"]>,
  what: string,
): Promise<T["$inferSelect"]> {
  const [row] = await db
    .update(table as SQLiteTable)
    .set(set)
    .where(and(eq(table.id, id), eq(table.accountId, accountId)))
    .returning();
  if (!row) throw notFound(what);
  return row as T["$inferSelect"];
}

/**
 * One page of the account's rows, newest first: `id < cursor` (a stable keyset: ids are
 * time-sortable and unique), `limit + 1` fetched to know whether there is a next page.
 */
export async function listOwned<T extends OwnedTable, U>(
  db: Db,
  table: T,
  accountId: string,
  q: { limit: number; cursor?: string },
  serialize: (row: T["$inferSelect"]) => U,
  ...filters: (SQL | undefined)[]
) {
  const before = decodeCursor(q.cursor);
  const rows = (await db
    .select()
    .from(table as SQLiteTable)
    .where(and(eq(table.accountId, accountId), before ? lt(table.id, before) : undefined, ...filters))
    .orderBy(desc(table.id))
    .limit(q.limit + 1)) as (T["$inferSelect"] & { id: string })[];
  return toPage(rows, q.limit, serialize);
}
