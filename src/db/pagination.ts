import { z } from "@hono/zod-openapi";
import { validationError } from "../lib/errors";
import { ID_PATTERN } from "./ids";

/** `?limit=&cursor=` for every list. */
export const pageQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1, "Must be between 1 and 100")
    .max(100, "Must be between 1 and 100")
    .default(20)
    .openapi({ description: "Page size, 1–100.", example: 20 }),
  cursor: z.string().max(200).optional().openapi({ description: "`next_cursor` of the previous page." }),
});

/**
 * Cursors are opaque to clients: base64url of the last id on the page. Ids are
 * time-sortable and unique, so "id < cursor, newest first" is a stable keyset.
 */
export function encodeCursor(id: string): string {
  return btoa(id).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  let id: string;
  try {
    id = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    throw validationError({ cursor: ["Is not a cursor this API returned"] });
  }
  if (!ID_PATTERN.test(id)) throw validationError({ cursor: ["Is not a cursor this API returned"] });
  return id;
}

/** Fetch `limit + 1` rows, newest first; this turns them into a page. */
export function toPage<T extends { id: string }, U>(rows: T[], limit: number, serialize: (row: T) => U) {
  const more = rows.length > limit;
  const pageRows = more ? rows.slice(0, limit) : rows;
  const last = pageRows[pageRows.length - 1];
  return {
    data: pageRows.map(serialize),
    next_cursor: more && last ? encodeCursor(last.id) : null,
  };
}

export const pageSchema = <T extends z.ZodTypeAny>(item: T) =>
  z.object({
    data: z.array(item),
    next_cursor: z.string().nullable().openapi({ description: "Pass as `cursor` for the next page; null at the end." }),
  });
