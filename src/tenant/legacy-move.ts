/**
 * Moving an account's rows out of the shared D1 tables into its own object (migration 0008
 * kept those tables for this). Each account's object copies its rows when it first starts,
 * table by table in pages, idempotently (INSERT OR IGNORE: a copy interrupted part-way is
 * completed by the next start), then marks the account moved (`wake_at` is no longer 0). The
 * minute cron wakes accounts not moved yet, and drops the old tables once none is left.
 */
/** Parents before children (the account database's foreign keys). */
export const LEGACY_TABLES = [
  "websites",
  "scenarios",
  "schedules",
  "runs",
  "screenshots",
  "webhooks",
  "webhook_events",
  "webhook_deliveries",
  "idempotency_keys",
] as const;

/** Rows read from D1 per query. */
const PAGE = 500;

type Row = Record<string, unknown>;

async function legacyTablesExist(d1: D1Database): Promise<boolean> {
  const row = await d1
    .prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'screenshots'")
    .first<{ n: number }>();
  return (row?.n ?? 0) > 0;
}

/**
 * Copies the account's rows from the old D1 tables, if the account still has any there
 * (`wake_at = 0`). Returns the rows copied per table (empty when there was nothing to move).
 */
export async function moveLegacyRows(
  d1: D1Database,
  storage: DurableObjectStorage,
  accountId: string,
): Promise<Partial<Record<(typeof LEGACY_TABLES)[number], number>>> {
  const account = await d1
    .prepare("SELECT wake_at FROM accounts WHERE id = ?")
    .bind(accountId)
    .first<{ wake_at: number | null }>();
  if (account?.wake_at !== 0 || !(await legacyTablesExist(d1))) return {};
  const copied: Partial<Record<(typeof LEGACY_TABLES)[number], number>> = {};
  for (const table of LEGACY_TABLES) {
    const columns = new Set(
      storage.sql
        .exec<{ name: string }>(`PRAGMA table_info(${table})`)
        .toArray()
        .map((c) => c.name),
    );
    let after = 0;
    let n = 0;
    for (;;) {
      const { results } = await d1
        .prepare(
          `SELECT rowid AS _rowid, * FROM ${table} WHERE account_id = ? AND rowid > ? ORDER BY rowid LIMIT ${PAGE}`,
        )
        .bind(accountId, after)
        .all<Row>();
      for (const row of results) {
        const names = Object.keys(row).filter((k) => columns.has(k));
        storage.sql.exec(
          `INSERT OR IGNORE INTO ${table} (${names.join(", ")}) VALUES (${names.map(() => "?").join(", ")})`,
          ...names.map((k) => row[k] as SqlStorageValue),
        );
      }
      n += results.length;
      if (results.length < PAGE) break;
      after = results[results.length - 1]?._rowid as number;
    }
    copied[table] = n;
  }
  // Moved: the account's object sets its real wake time when it next arms its alarm.
  await d1.prepare("UPDATE accounts SET wake_at = NULL WHERE id = ? AND wake_at = 0").bind(accountId).run();
  console.log(JSON.stringify({ level: "info", msg: "account rows moved from D1", account_id: accountId, copied }));
  return copied;
}

/** Accounts the minute cron wakes per tick so their rows move before anyone asks for them. */
export const MOVES_PER_TICK = 20;

/**
 * The cron's part: accounts not moved yet (oldest first), and — once none is left — the old
 * tables dropped (children first). Returns the accounts to wake.
 */
export async function legacyMoves(d1: D1Database): Promise<string[]> {
  if (!(await legacyTablesExist(d1))) return [];
  const { results } = await d1
    .prepare(`SELECT id FROM accounts WHERE wake_at = 0 ORDER BY id LIMIT ${MOVES_PER_TICK}`)
    .all<{ id: string }>();
  if (results.length > 0) return results.map((r) => r.id);
  await d1.batch([...LEGACY_TABLES].reverse().map((t) => d1.prepare(`DROP TABLE IF EXISTS ${t}`)));
  console.log(JSON.stringify({ level: "info", msg: "every account moved: old D1 tables dropped" }));
  return [];
}
