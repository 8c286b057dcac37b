// GET /v1/account (auth + Durable Object rate limit + D1) spread over 200 business
// tenants, against the cheapest route (GET /). Prints req/s, p50/p99 and the ratio.
import autocannon from "autocannon";
import { startServer, tenant } from "./server.mjs";

const TENANTS = 200;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const DURATION_S = 10;
// Business is 60 requests/minute per tenant; stay inside one window's allowance.
const ACCOUNT_REQUESTS = TENANTS * 60;

const run = (opts) =>
  new Promise((resolve, reject) => {
    const started = performance.now();
    autocannon({ connections: CONNECTIONS, ...opts }, (err, result) =>
      err ? reject(err) : resolve({ ...result, elapsedMs: performance.now() - started }),
    );
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
    const root = summary(await run({ url: `${server.origin}/`, duration: DURATION_S }));

    // Warm-up (JIT, each tenant's Durable Object, the token lookups): 20 calls per tenant
    // at the start of a minute, then the measured run starts on the next, fresh minute, so
    // the warm-up costs no measured allowance.
    await untilNextMinute();
    let w = 0;
    await run({
      url: `${server.origin}/v1/account`,
      amount: TENANTS * 20,
      requests: [
        { method: "GET", path: "/v1/account", setupRequest: (req) => withToken(req, tokens[w++ % tokens.length]) },
      ],
    });
    await untilNextMinute();
    let i = 0;
    const account = summary(
      await run({
        url: `${server.origin}/v1/account`,
        amount: ACCOUNT_REQUESTS,
        requests: [
          {
            method: "GET",
            path: "/v1/account",
            setupRequest: (req) => ({
              ...req,
              headers: { ...req.headers, authorization: `Bearer ${tokens[i++ % tokens.length]}` },
            }),
          },
        ],
      }),
    );

    const ratio = account.rps / root.rps;
    console.log("\nAPI benchmark (wrangler dev, local bindings, %d connections)", CONNECTIONS);
    console.table({ "GET /": root, "GET /v1/account (200 tenants)": account });
    console.log(`ratio (account req/s ÷ root req/s): ${ratio.toFixed(2)}   target ≥ 0.60`);
    console.log(`p99 GET /v1/account: ${account.p99} ms   target ≤ 50 ms`);
    if (account.non2xx > 0) console.log(`WARNING: ${account.non2xx} non-2xx answers on /v1/account`);
    return { root, account, ratio };
  } finally {
    await server.stop();
  }
}
