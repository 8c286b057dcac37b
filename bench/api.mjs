// GET /v1/account (auth + Durable Object rate limit + D1) spread over 200 business
// tenants, against the cheapest route (GET /). Prints req/s, p50/p99 and the ratio.
import autocannon from "autocannon";
import { startServer, tenant } from "./server.mjs";

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

export async function benchApi() {
  const server = await startServer(Number(process.env.BENCH_PORT ?? 8799));
  try {
    console.log(`setting up ${TENANTS} business tenants…`);
    const tokens = [];
    for (let i = 0; i < TENANTS; i += 10) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(10, TENANTS - i) }, (_, j) => tenant(server.origin, "business", `t${i + j}`)),
      );
      tokens.push(...batch.map((t) => t.token));
    }

    await run({ url: `${server.origin}/`, duration: 3 }); // warm-up

    // Warm-up (JIT, each tenant's Durable Object, the token lookups): 20 calls per tenant
    // at the start of a minute; measured runs then start on fresh minutes, so the warm-up
    // costs no measured allowance.
    await untilNextMinute();
    let w = 0;
    await run({
      url: `${server.origin}/v1/account`,
      amount: TENANTS * 20,
      requests: [
        { method: "GET", path: "/v1/account", setupRequest: (req) => withToken(req, tokens[w++ % tokens.length]) },
      ],
    });

    // Two rounds, each on a fresh minute: the tenants' whole allowance on /v1/account, then
    // the same number of requests on GET / right after, so both see the same machine state.
    const rounds = [];
    for (let round = 0; round < ROUNDS; round++) {
      await untilNextMinute();
      let i = 0;
      const account = summary(
        await run({
          url: `${server.origin}/v1/account`,
          amount: ACCOUNT_REQUESTS,
          requests: [
            { method: "GET", path: "/v1/account", setupRequest: (req) => withToken(req, tokens[i++ % tokens.length]) },
          ],
        }),
      );
      const root = summary(await run({ url: `${server.origin}/`, amount: ACCOUNT_REQUESTS }));
      rounds.push({ account, root });
    }
    const table = {};
    for (const [n, r] of rounds.entries()) {
      table[`round ${n + 1}: GET /v1/account (200 tenants)`] = r.account;
      table[`round ${n + 1}: GET /`] = r.root;
    }
    const account = rounds.reduce(
      (a, r) => ({
        rps: a.rps + r.account.rps / ROUNDS,
        p99: Math.max(a.p99, r.account.p99),
        non2xx: a.non2xx + r.account.non2xx,
      }),
      { rps: 0, p99: 0, non2xx: 0 },
    );
    const root = { rps: rounds.reduce((a, r) => a + r.root.rps / ROUNDS, 0) };
    const ratio = account.rps / root.rps;
    console.log("\nAPI benchmark (wrangler dev, local bindings, %d connections)", CONNECTIONS);
    console.table(table);
    console.log(`ratio (mean account req/s ÷ mean root req/s): ${ratio.toFixed(2)}   target ≥ 0.60`);
    console.log(`p99 GET /v1/account (worst round): ${account.p99} ms   target ≤ 50 ms`);
    if (account.non2xx > 0) console.log(`WARNING: ${account.non2xx} non-2xx answers on /v1/account`);
    return { root, account, ratio };
  } finally {
    await server.stop();
  }
}
