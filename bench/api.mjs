// The API's hot path against floors run on the same machine and wrangler:
// - GET /v1/websites spread over 200 business tenants (bearer auth, then one call to the
//   account's object, which checks the token, counts the request and reads its own
//   database), against a bare Worker doing one D1 read (bench/workers/d1-read.ts);
// - GET /v1/account against the cheapest route, GET /.
// Prints req/s, p50/p99 and the ratios.
import autocannon from "autocannon";
import { json, startBenchWorker, startServer, tenant } from "./server.mjs";

const TENANTS = 200;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const ROUNDS = 2;
// Business is 60 requests/minute per tenant; stay inside one window's allowance.
const ACCOUNT_REQUESTS = TENANTS * 60;

// autocannon stops `amount` runs on its once-a-second tick, so its own duration is rounded
// up to whole seconds; req/s here is measured from the first request to the last response.
const run = (opts) =>
  new Promise((resolve, reject) => {
    const started = performance.now();
    let last = started;
    const instance = autocannon({ connections: CONNECTIONS, ...opts }, (err, result) =>
      err ? reject(err) : resolve({ ...result, elapsedMs: last - started }),
    );
    instance.on("response", () => {
      last = performance.now();
    });
  });

const summary = (r) => ({
  requests: r.requests.total,
  rps: Math.round((r.requests.total * 1000) / r.elapsedMs),
  p50: r.latency.p50,
  p99: r.latency.p99,
  non2xx: r.non2xx,
  errors: r.errors + r.timeouts,
});

const withToken = (req, token) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${token}` } });

async function untilNextMinute() {
  const wait = 60_000 - (Date.now() % 60_000) + 200;
  console.log(`waiting ${Math.round(wait / 1000)} s for a fresh rate-limit window…`);
  await new Promise((r) => setTimeout(r, wait));
}

/** Requests spread over the tenants' tokens (each within its per-minute allowance). */
const tenantRun = (origin, path, tokens, amount) => {
  let i = 0;
  return run({
    url: `${origin}${path}`,
    amount,
    requests: [{ method: "GET", path, setupRequest: (req) => withToken(req, tokens[i++ % tokens.length]) }],
  });
};

export async function benchApi() {
  const port = Number(process.env.BENCH_PORT ?? 8799);
  const server = await startServer(port);
  const floor = await startBenchWorker({
    name: "d1-read",
    main: "bench/workers/d1-read.ts",
    port: port + 1,
    bindings: { d1_databases: [{ binding: "DB", database_name: "floor", database_id: "floor" }] },
  });
  try {
    await fetch(`${floor.origin}/seed`);
    console.log(`setting up ${TENANTS} business tenants, a website each…`);
    const tokens = [];
    for (let i = 0; i < TENANTS; i += 10) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(10, TENANTS - i) }, async (_, j) => {
          const t = await tenant(server.origin, "business", `t${i + j}`);
          await json(server.origin, "/v1/websites", {
            method: "POST",
            headers: { authorization: `Bearer ${t.token}`, "content-type": "application/json" },
            body: JSON.stringify({ name: "Bench", url: "https://example.com/" }),
          });
          return t;
        }),
      );
      tokens.push(...batch.map((t) => t.token));
    }

    await run({ url: `${server.origin}/`, duration: 3 }); // warm-up
    await run({ url: `${floor.origin}/`, duration: 3 });
    // Warm-up (JIT, each tenant's object, the token lookups): 20 calls per tenant at the start
    // of a minute; measured runs then start on fresh minutes, so it costs no measured allowance.
    await untilNextMinute();
    await tenantRun(server.origin, "/v1/websites", tokens, TENANTS * 20);

    // Each round on fresh minutes: the tenants' whole allowance on one route, then the same
    // number of requests on its floor right after, so both see the same machine state.
    const rounds = [];
    for (let round = 0; round < ROUNDS; round++) {
      await untilNextMinute();
      const websites = summary(await tenantRun(server.origin, "/v1/websites", tokens, ACCOUNT_REQUESTS));
      const d1 = summary(await run({ url: `${floor.origin}/`, amount: ACCOUNT_REQUESTS }));
      await untilNextMinute();
      const account = summary(await tenantRun(server.origin, "/v1/account", tokens, ACCOUNT_REQUESTS));
      const root = summary(await run({ url: `${server.origin}/`, amount: ACCOUNT_REQUESTS }));
      rounds.push({ websites, d1, account, root });
    }
    const table = {};
    for (const [n, r] of rounds.entries()) {
      table[`round ${n + 1}: GET /v1/websites (${TENANTS} tenants)`] = r.websites;
      table[`round ${n + 1}: bare Worker, one D1 read`] = r.d1;
      table[`round ${n + 1}: GET /v1/account (${TENANTS} tenants)`] = r.account;
      table[`round ${n + 1}: GET /`] = r.root;
    }
    const mean = (key, field) => rounds.reduce((a, r) => a + r[key][field] / ROUNDS, 0);
    const worst = (key, field) => Math.max(...rounds.map((r) => r[key][field]));
    const websitesRatio = mean("websites", "rps") / mean("d1", "rps");
    const p99Ratio = worst("websites", "p99") / Math.max(1, worst("d1", "p99"));
    const accountRatio = mean("account", "rps") / mean("root", "rps");
    console.log("\nAPI benchmark (wrangler dev, local bindings, %d connections)", CONNECTIONS);
    console.table(table);
    console.log(`GET /v1/websites ÷ bare D1 read, req/s: ${websitesRatio.toFixed(2)}   goal ≥ 0.80`);
    console.log(`GET /v1/websites ÷ bare D1 read, p99 (worst rounds): ${p99Ratio.toFixed(2)}   goal ≤ 1.50`);
    console.log(`GET /v1/account ÷ GET /, req/s: ${accountRatio.toFixed(2)}   goal ≥ 0.80`);
    const non2xx = rounds.reduce((a, r) => a + r.websites.non2xx + r.account.non2xx, 0);
    if (non2xx > 0) console.log(`WARNING: ${non2xx} non-2xx answers on the tenants' routes`);
    return { websitesRatio, p99Ratio, accountRatio };
  } finally {
    await floor.stop();
    await server.stop();
  }
}
