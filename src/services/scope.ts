import type { Db } from "../db/client";
import type { Quota } from "../limits/counters";
import type { Completions } from "../queue/completion";

/**
 * What services work with inside the account's object: the account's own database, its id
 * (for R2 keys and job messages), its capture quota (exact: the object counts) and where
 * `Prefer: wait` requests wait for its jobs.
 */
export interface AccountScope {
  accountId: string;
  db: Db;
  quota: Quota;
  completions: Completions;
}
