// Migrations against data that existed before them, on the D1 that wrangler and the tests run
// (miniflare's), statement by statement as `wrangler d1 migrations apply` runs them.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { getPlatformProxy } from "wrangler";
import { ROOT } from "./local-server.mjs";

// No metrics, error reports or update checks from wrangler: nothing may leave the machine.
Object.assign(process.env, {
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  DO_NOT_TRACK: "1",
  WRANGLER_HIDE_BANNER: "true",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
});

const DIR = join(ROOT, "migrations");
const files = readdirSync(DIR)
  .filter((f) => f.endsWith(".sql"))
  .sort();

async function apply(db, file) {
  const statements = readFileSync(join(DIR, file), "utf8")
    .split("--> statement-breakpoint")
    .map((s) => s.trim())
    .filter((s) => s.replace(/^--.*$/gm, "").trim() !== "");
  await db.batch(statements.map((s) => db.prepare(s)));
}

test("0004_teams moves every account's login into its owner user, keeping sessions and data", async () => {
  // A throwaway Worker config with only the database, so nothing else starts.
  const tmp = mkdtempSync(join(tmpdir(), "snaptrack-migrations-"));
  const config = join(tmp, "wrangler.toml");
  writeFileSync(
    config,
    `name = "migrations"\ncompatibility_date = "2026-04-01"\n[[d1_databases]]\nbinding = "DB"\ndatabase_name = "m"\ndatabase_id = "m"\n`,
  );
  const proxy = await getPlatformProxy({ configPath: config, persist: { path: join(tmp, "state") } });
  try {
    const db = proxy.env.DB;
    const teams = files.findIndex((f) => f.startsWith("0004_"));
    assert.ok(teams > 0, "the teams migration exists");
    for (const file of files.slice(0, teams)) await apply(db, file);

    // Two accounts as the previous schema stored them, with a session, a token and a website.
    const now = Date.now();
    for (const [id, email] of [
      ["acc_01aaaaaaaaaaaaaaaaaaaaaaaa", "ann@example.com"],
      ["acc_01bbbbbbbbbbbbbbbbbbbbbbbb", "bob@example.com"],
    ]) {
      await db
        .prepare(
          "INSERT INTO accounts (id, email, name, password_hash, plan, current_period_end, created_at, updated_at) VALUES (?, ?, ?, ?, 'pro', ?, ?, ?)",
        )
        .bind(id, email, `Name of ${email}`, `pbkdf2$100000$salt$${email}`, now + 1e9, now, now)
        .run();
    }
    await db
      .prepare("INSERT INTO sessions (id_hash, account_id, created_at, expires_at) VALUES ('h1', ?, ?, ?)")
      .bind("acc_01aaaaaaaaaaaaaaaaaaaaaaaa", now, now + 1e9)
      .run();
    await db
      .prepare(
        "INSERT INTO api_tokens (account_id, token_hash, prefix, created_at) VALUES ('acc_01aaaaaaaaaaaaaaaaaaaaaaaa', 'th', 'snpt_Abc', ?)",
      )
      .bind(now)
      .run();
    await db
      .prepare(
        "INSERT INTO websites (id, account_id, name, url, capture, created_at, updated_at) VALUES ('web_1', 'acc_01aaaaaaaaaaaaaaaaaaaaaaaa', 'Site', 'https://example.com', '{}', ?, ?)",
      )
      .bind(now, now)
      .run();

    for (const file of files.slice(teams)) await apply(db, file);

    const users = (await db.prepare("SELECT * FROM users ORDER BY email").all()).results;
    assert.deepEqual(
      users.map((u) => [u.id, u.account_id, u.email, u.name, u.password_hash, u.role]),
      [
        [
          "usr_01aaaaaaaaaaaaaaaaaaaaaaaa",
          "acc_01aaaaaaaaaaaaaaaaaaaaaaaa",
          "ann@example.com",
          "Name of ann@example.com",
          "pbkdf2$100000$salt$ann@example.com",
          "owner",
        ],
        [
          "usr_01bbbbbbbbbbbbbbbbbbbbbbbb",
          "acc_01bbbbbbbbbbbbbbbbbbbbbbbb",
          "bob@example.com",
          "Name of bob@example.com",
          "pbkdf2$100000$salt$bob@example.com",
          "owner",
        ],
      ],
    );
    const session = await db.prepare("SELECT * FROM sessions").first();
    assert.equal(session.user_id, "usr_01aaaaaaaaaaaaaaaaaaaaaaaa");
    assert.equal(session.account_id, "acc_01aaaaaaaaaaaaaaaaaaaaaaaa");
    assert.equal((await db.prepare("SELECT count(*) AS n FROM websites").first()).n, 1);
    assert.equal((await db.prepare("SELECT count(*) AS n FROM api_tokens").first()).n, 1);
    const columns = (await db.prepare("PRAGMA table_info(accounts)").all()).results.map((c) => c.name);
    assert.ok(!columns.includes("password_hash"), "passwords live with users only");

    // Removing a user ends their sessions (the rebuilt table keeps its foreign keys).
    await db.prepare("DELETE FROM users WHERE id = 'usr_01aaaaaaaaaaaaaaaaaaaaaaaa'").run();
    assert.equal((await db.prepare("SELECT count(*) AS n FROM sessions").first()).n, 0);
    assert.equal((await db.prepare("SELECT count(*) AS n FROM websites").first()).n, 1, "the account's data stays");
  } finally {
    await proxy.dispose();
    rmSync(tmp, { recursive: true, force: true });
  }
});
