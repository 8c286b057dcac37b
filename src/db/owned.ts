import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import { notFound } from "../lib/errors";
import type { Db } from "./client";
import { decodeCursor, toPage } from "./pagination";

type IdTable = SQLiteTable & { id: SQLiteColumn };

/**
 * A row of the account's database by id. Every row there is the account's own (one database
 * per account), so an id of another account is simply absent: the same 404 as a missing one.
 */
export async function rowById<T extends IdTable>(
  db: Db,
  table: T,
  id: string,
  what: string,
): Promise<T["$inferSelect"]> {
  const row = await db
    .select()
    .from(table as SQLiteTable)
    .where(eq(table.id, id))
    .get();
  if (!row) throw notFound(what);
  return row as T["$inferSelect"];
}

/** Updates a row by id; a missing one is the same 404 as `rowById`. */
export async function updateById<T extends IdTable>(
  db: Db,
  table: T,
  id: string,
  set: Partial<T["$inferInsert"]>,
  what: string,
): Promise<T["$inferSelect"]> {
  const [row] = await db
    .update(table as SQLiteTable)
    .set(set)
    .where(eq(table.id, id))
    .returning();
  if (!row) throw notFound(what);
  return row as T["$inferSelect"];
}

/**
 * One page of rows, newest first: `id < cursor` (a stable keyset: ids are time-sortable and
 * unique), `limit + 1` fetched to know whether there is a next page.
 */
export async function listPage<T extends IdTable, U>(
  db: Db,
  table: T,
  q: { limit: number; cursor?: string },
  serialize: (row: T["$inferSelect"]) => U,
  ...filters: (SQL | undefined)[]
) {
  const before = decodeCursor(q.cursor);
  const rows = (await db
    .select()
    .from(table as SQLiteTable)
    .where(and(before ? lt(table.id, before) : undefined, ...filters))
    .orderBy(desc(table.id))
    .limit(q.limit + 1)) as (T["$inferSelect"] & { id: string })[];
  return toPage(rows, q.limit, serialize);
}
