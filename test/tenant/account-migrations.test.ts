import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { migrate } from "drizzle-orm/durable-sqlite/migrator";
import { describe, expect, it } from "vitest";
import migrations from "../../src/db/account-migrations/migrations.js";
import { accountDatabase, migrateAccountDatabase } from "../../src/db/client";
import type { LoginThrottle } from "../../src/limits/login-throttle";

/**
 * An account's object started by a newer Worker migrates its database when it starts. Its
 * rows of the previous schema must survive that. A blank SQLite Durable Object storage (a
 * LoginThrottle object's: it has no drizzle tables) is brought to the schema just before the
 * migration under test, given rows, then migrated the way every account's object is.
 */
const { journal } = migrations;

/** The journal up to (not including) the migration whose tag contains `tag`. */
function upTo(tag: string) {
  const at = journal.entries.findIndex((e) => e.tag.includes(tag));
  expect(at, `a migration tagged …${tag}…`).toBeGreaterThan(0);
  return { journal: { ...journal, entries: journal.entries.slice(0, at) }, migrations: migrations.migrations };
}

const blankStorage = () => env.LOGIN_THROTTLE.get(env.LOGIN_THROTTLE.idFromName(`migration-${crypto.randomUUID()}`));

describe("account database migrations", () => {
  it("webhooks.created_by and one_time_values: existing webhooks, captures and deliveries are kept, created_by is null", async () => {
    await runInDurableObject(blankStorage(), async (_instance: LoginThrottle, state) => {
      const db = accountDatabase(state.storage);
      await migrate(db, upTo("created_by"));
      const sql = state.storage.sql;
      const columns = () => sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('webhooks')").toArray();
      expect(columns().map((c) => c.name)).not.toContain("created_by");
      sql.exec(
        `INSERT INTO webhooks (id, url, events, description, enabled, secret, created_at, updated_at)
         VALUES ('whk_old', 'https://example.com/hook', '["*"]', 'Old receiver', 1, 'v1.x.y', 1, 2)`,
      );
      sql.exec(`INSERT INTO webhook_events (id, type, body, created_at) VALUES ('msg_old', 'webhook.test', '{}', 3)`);
      sql.exec(
        `INSERT INTO webhook_deliveries (id, webhook_id, event_id, type, status, attempts, created_at, updated_at)
         VALUES ('whd_old', 'whk_old', 'msg_old', 'webhook.test', 'delivered', 1, 3, 4)`,
      );
      sql.exec(
        `INSERT INTO websites (id, name, url, created_at, updated_at) VALUES ('web_old', 'Old', 'https://example.com/', 1, 1)`,
      );
      sql.exec(
        `INSERT INTO screenshots (id, website_id, source, status, url, options, created_at, updated_at)
         VALUES ('shot_old', 'web_old', 'api', 'completed', 'https://example.com/', '{}', 5, 5)`,
      );

      await migrateAccountDatabase(db);
      await migrateAccountDatabase(db); // a second start changes nothing

      expect(columns().map((c) => c.name)).toContain("created_by");
      expect(sql.exec("SELECT id, url, description, enabled, created_by FROM webhooks").toArray()).toEqual([
        { id: "whk_old", url: "https://example.com/hook", description: "Old receiver", enabled: 1, created_by: null },
      ]);
      expect(sql.exec("SELECT id, status FROM webhook_deliveries").toArray()).toEqual([
        { id: "whd_old", status: "delivered" },
      ]);
      expect(sql.exec("SELECT id FROM screenshots").toArray()).toEqual([{ id: "shot_old" }]);
      expect(sql.exec("SELECT count(*) AS n FROM one_time_values").one()).toEqual({ n: 0 });
    });
  });

  it("the outbox table comes with an empty outbox and keeps what was there", async () => {
    await runInDurableObject(blankStorage(), async (_instance: LoginThrottle, state) => {
      const db = accountDatabase(state.storage);
      await migrate(db, upTo("outbox"));
      state.storage.sql.exec(
        `INSERT INTO websites (id, name, url, created_at, updated_at) VALUES ('web_1', 'One', 'https://example.com/', 1, 1)`,
      );
      await migrateAccountDatabase(db);
      expect(state.storage.sql.exec("SELECT id FROM websites").toArray()).toEqual([{ id: "web_1" }]);
      expect(state.storage.sql.exec("SELECT count(*) AS n FROM outbox").one()).toEqual({ n: 0 });
    });
  });
});
