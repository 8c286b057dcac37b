// The benchmark's own entry: SnapTrack's Worker and objects as deployed, plus one route that
// seeds many accounts at once (`POST /__bench/seed`), which no deployed Worker has. The
// account object is SnapTrack's, with a seeding method added in this subclass only.
import { newId } from "../../src/db/ids";
import worker from "../../src/index";
import { generateApiToken, hashApiToken } from "../../src/lib/api-token";
import { AccountObject } from "../../src/tenant/account-object";

export { LoginThrottle } from "../../src/index";

export class BenchAccountObject extends AccountObject {
  /** One website and `n` completed screenshots of it, written in one transaction. */
  seed(accountId: string, n: number, now: number): number {
    const sql = this.ctx.storage.sql;
    this.ctx.storage.kv.put("account_id", accountId);
    this.ctx.storage.kv.put("directory_checked", true);
    const website = `web_01${accountId.slice(-24)}`;
    this.ctx.storage.transactionSync(() => {
      sql.exec(
        "INSERT OR IGNORE INTO websites (id, name, url, capture, change_detection, created_at, updated_at) VALUES (?, 'Bench', 'https://example.com/', '{}', '{}', ?, ?)",
        website,
        now,
        now,
      );
      for (let i = 0; i < n; i++) {
        const id = newId("screenshot", now + i);
        sql.exec(
          `INSERT OR IGNORE INTO screenshots (id, website_id, source, status, url, options, format, width, height, bytes, sha256, r2_key, created_at, updated_at, captured_at)
           VALUES (?, ?, 'api', 'completed', 'https://example.com/', '{"viewport":{"width":1280,"height":800}}', 'png', 1280, 800, 54321, 'e3b0c442', ?, ?, ?, ?)`,
          id,
          website,
          `acc/${accountId}/web/${website}/shot/${id}.png`,
          now + i,
          now + i,
          now + i,
        );
      }
    });
    return n;
  }
}

interface Seed {
  from: number;
  count: number;
  screenshots: number;
}

async function seed(env: Env, { from, count, screenshots }: Seed) {
  const now = Date.now();
  const tokens: { id: string; token: string }[] = [];
  const statements: D1PreparedStatement[] = [];
  for (let i = from; i < from + count; i++) {
    const id = `acc_01${i.toString().padStart(24, "0")}`;
    const token = generateApiToken();
    tokens.push({ id, token });
    statements.push(
      env.DB.prepare(
        "INSERT OR REPLACE INTO accounts (id, email, name, plan, current_period_end, created_at, updated_at) VALUES (?, ?, ?, 'business', ?, ?, ?)",
      ).bind(id, `t${i}@bench.example`, `Tenant ${i}`, now + 30 * 86_400_000, now, now),
      env.DB.prepare(
        "INSERT OR REPLACE INTO api_tokens (account_id, token_hash, prefix, created_at) VALUES (?, ?, ?, ?)",
      ).bind(id, await hashApiToken(token), token.slice(0, 9), now),
    );
  }
  await env.DB.batch(statements);
  const ns = env.ACCOUNT as unknown as DurableObjectNamespace<BenchAccountObject>;
  for (let i = 0; i < tokens.length; i += 25) {
    await Promise.all(
      tokens.slice(i, i + 25).map(({ id }) => ns.get(ns.idFromName(id)).seed(id, screenshots, now - screenshots)),
    );
  }
  return tokens;
}

export default {
  ...worker,
  async fetch(request: Request, env: Env, ctx: ExecutionContext) {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/seed" && request.method === "POST") {
      return Response.json(await seed(env, (await request.json()) as Seed));
    }
    return worker.fetch(request, env, ctx);
  },
};
