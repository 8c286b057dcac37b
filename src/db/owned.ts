import { and, eq } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import { notFound } from "../lib/errors";
import type { Db } from "./client";

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
