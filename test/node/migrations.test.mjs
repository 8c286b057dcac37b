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

// D1 becomes the directory (0008): an existing local database, with rows of every table for
// two accounts, is started with `npm start`; each account's rows move into its own object
// (served by the API as before, the other account's ids 404), and once every account has
// moved the minute cron drops the old tables.
test("0008_directory: every account's rows move into its own object, then the old tables go", async () => {
  const { createHash } = await import("node:crypto");
  const { startServer, scratch, call } = await import("./local-server.mjs");
  const state = scratch("snaptrack-move-state-");
  const tmp = scratch("snaptrack-move-tmp-");
  const config = join(tmp.dir, "wrangler.toml");
  // The project's database, as `npm start` persists it (the same binding, name and id).
  writeFileSync(
    config,
    `name = "migrations"\ncompatibility_date = "2026-04-01"\n[[d1_databases]]\nbinding = "DB"\ndatabase_name = "snaptrack"\ndatabase_id = "00000000-0000-0000-0000-000000000000"\n`,
  );
  const open = () => getPlatformProxy({ configPath: config, persist: { path: join(state.dir, "v3") } });
  let server;
  try {
    let proxy = await open();
    const db = proxy.env.DB;
    const directory = files.findIndex((f) => f.startsWith("0008_"));
    assert.ok(directory > 0, "the directory migration exists");
    // As `wrangler d1 migrations apply` left it: the migrations before 0008, recorded as applied.
    await db
      .prepare(
        "CREATE TABLE IF NOT EXISTS d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)",
      )
      .run();
    for (const file of files.slice(0, directory)) {
      await apply(db, file);
      await db.prepare("INSERT INTO d1_migrations (name) VALUES (?)").bind(file).run();
    }

    const now = Date.now();
    const sessions = {};
    for (const tag of ["a", "b"]) {
      const id = (p) => `${p}_01${tag.repeat(24)}`;
      const acc = id("acc");
      const rows = [
        [
          "INSERT INTO accounts (id, email, name, plan, current_period_end, created_at, updated_at) VALUES (?, ?, ?, 'business', ?, ?, ?)",
          acc,
          `${tag}@example.com`,
          `Account ${tag}`,
          now + 20 * 86400e3,
          now,
          now,
        ],
        [
          "INSERT INTO users (id, account_id, email, name, password_hash, role, created_at, updated_at) VALUES (?, ?, ?, ?, 'pbkdf2$100000$x$y', 'owner', ?, ?)",
          id("usr"),
          acc,
          `${tag}@example.com`,
          `Owner ${tag}`,
          now,
          now,
        ],
        [
          "INSERT INTO websites (id, account_id, name, url, capture, created_at, updated_at) VALUES (?, ?, ?, 'https://example.com/', '{}', ?, ?)",
          id("web"),
          acc,
          `Site ${tag}`,
          now,
          now,
        ],
        [
          "INSERT INTO scenarios (id, account_id, website_id, name, steps, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
          id("scn"),
          acc,
          id("web"),
          `Scenario ${tag}`,
          JSON.stringify([{ action: "screenshot", name: "home" }]),
          now,
          now,
        ],
        [
          "INSERT INTO schedules (id, account_id, website_id, interval_minutes, gap_minutes, next_run_at, created_at, updated_at) VALUES (?, ?, ?, 60, 60, ?, ?, ?)",
          id("sch"),
          acc,
          id("web"),
          now + 3600e3,
          now,
          now,
        ],
        [
          "INSERT INTO runs (id, account_id, scenario_id, website_id, trigger, status, steps, created_at, updated_at) VALUES (?, ?, ?, ?, 'api', 'passed', '[]', ?, ?)",
          id("run"),
          acc,
          id("scn"),
          id("web"),
          now,
          now,
        ],
        [
          "INSERT INTO screenshots (id, account_id, website_id, run_id, source, status, url, options, format, created_at, updated_at) VALUES (?, ?, ?, ?, 'scenario', 'failed', 'https://example.com/', '{}', 'png', ?, ?)",
          id("shot"),
          acc,
          id("web"),
          id("run"),
          now,
          now,
        ],
        [
          "INSERT INTO webhooks (id, account_id, url, events, secret, created_at, updated_at) VALUES (?, ?, 'https://example.com/hook', '[\"*\"]', 'sealed', ?, ?)",
          id("whk"),
          acc,
          now,
          now,
        ],
        [
          "INSERT INTO webhook_events (id, account_id, type, body, created_at) VALUES (?, ?, 'webhook.test', '{}', ?)",
          id("msg"),
          acc,
          now,
        ],
        [
          "INSERT INTO webhook_deliveries (id, account_id, webhook_id, event_id, type, status, attempts, created_at, updated_at) VALUES (?, ?, ?, ?, 'webhook.test', 'delivered', 1, ?, ?)",
          id("whd"),
          acc,
          id("whk"),
          id("msg"),
          now,
          now,
        ],
        [
          "INSERT INTO idempotency_keys (account_id, key, fingerprint, state, created_at, expires_at) VALUES (?, 'k1', 'f', 'done', ?, ?)",
          acc,
          now,
          now + 86400e3,
        ],
      ];
      for (const [sql, ...params] of rows)
        await db
          .prepare(sql)
          .bind(...params)
          .run();
      // A session (only its hash is stored), as the user's browser would hold it.
      sessions[tag] = `session-${tag}-${now}`;
      await db
        .prepare("INSERT INTO sessions (id_hash, account_id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)")
        .bind(createHash("sha256").update(sessions[tag]).digest("hex"), acc, id("usr"), now, now + 86400e3)
        .run();
    }
    await proxy.dispose();

    // `npm start` applies 0008 and serves; the account's first request moves its rows in.
    server = await startServer({ tmp: tmp.dir, state: state.dir });
    const as = (tag) => ({ cookie: `snaptrack_session=${sessions[tag]}` });
    const { body: token } = await call(server.origin, "/account/api-token", { method: "POST", headers: as("a") });
    const auth = { authorization: `Bearer ${token.token}` };
    const get = async (path) => (await call(server.origin, path, { headers: auth })).body;
    const a = (p) => `${p}_01${"a".repeat(24)}`;
    const b = (p) => `${p}_01${"b".repeat(24)}`;
    assert.deepEqual(
      (await get("/v1/websites")).data.map((w) => w.id),
      [a("web")],
    );
    assert.deepEqual(
      (await get("/v1/scenarios")).data.map((s) => s.id),
      [a("scn")],
    );
    assert.deepEqual(
      (await get("/v1/schedules")).data.map((s) => [s.id, s.next_run_at]),
      [[a("sch"), new Date(now + 3600e3).toISOString()]],
    );
    assert.equal((await get(`/v1/runs/${a("run")}`)).status, "passed");
    assert.deepEqual(
      (await get("/v1/screenshots")).data.map((s) => [s.id, s.run_id]),
      [[a("shot"), a("run")]],
    );
    assert.deepEqual(
      (await get(`/v1/webhooks/${a("whk")}/deliveries`)).data.map((d) => [d.id, d.status]),
      [[a("whd"), "delivered"]],
    );
    // The other account's rows are not this one's.
    for (const path of [`/v1/websites/${b("web")}`, `/v1/runs/${b("run")}`, `/v1/screenshots/${b("shot")}`]) {
      const res = await fetch(`${server.origin}${path}`, { headers: auth });
      assert.equal(res.status, 404, path);
    }

    // The minute cron moves the account nobody asked for yet, then drops the old tables.
    const tick = () =>
      fetch(`${server.origin}/__scheduled?cron=${encodeURIComponent("* * * * *")}`).then((r) => r.text());
    await tick();
    await tick();
    const { body: team } = await call(server.origin, "/account", { headers: as("b") });
    assert.equal(team.name, "Account b");
    const { body: bToken } = await call(server.origin, "/account/api-token", { method: "POST", headers: as("b") });
    const bWebsites = await call(server.origin, "/v1/websites", {
      headers: { authorization: `Bearer ${bToken.token}` },
    });
    assert.deepEqual(
      bWebsites.body.data.map((w) => w.name),
      ["Site b"],
    );
    server.kill();
    await server.exited;
    server = undefined;

    proxy = await open();
    const tables = (
      await proxy.env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()
    ).results.map((t) => t.name);
    for (const old of ["websites", "screenshots", "runs", "webhooks", "idempotency_keys"]) {
      assert.ok(!tables.includes(old), `${old} is gone from D1`);
    }
    const wakes = (await proxy.env.DB.prepare("SELECT wake_at FROM accounts").all()).results.map((r) => r.wake_at);
    assert.ok(!wakes.includes(0), "no account is left to move");
    await proxy.dispose();
  } finally {
    server?.kill();
    state.remove();
    tmp.remove();
  }
});
