// Does an account's API get slower as SnapTrack holds more accounts? `GET /v1/screenshots`
// on a server with 10 accounts, then on one with 1,000 accounts, each account holding 1,000
// screenshots (seeded straight into each account's own database by the benchmark's Worker,
// bench/workers/tenants.ts). Same requests on both: every account's object warmed once, then
// timed requests spread over all of the server's accounts, each within its rate limit.
import autocannon from "autocannon";
import { startBenchWorker } from "./server.mjs";

const SCREENSHOTS = Number(process.env.BENCH_SCREENSHOTS ?? 1000);
const SIZES = (process.env.BENCH_TENANTS ?? "10,1000").split(",").map(Number);
const REQUESTS = 1100;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const SEED_CHUNK = 50;
/** The accounts asked on both servers, for the like-for-like figure. */
const FEW = 10;

const bindings = {
  d1_databases: [{ binding: "DB", database_name: "bench", database_id: "bench" }],
  r2_buckets: [{ binding: "SHOTS", bucket_name: "bench" }],
  queues: {
    producers: [
      { binding: "JOBS", queue: "bench-jobs" },
      { binding: "WEBHOOKS", queue: "bench-hooks" },
    ],
  },
  durable_objects: {
    bindings: [
      { name: "ACCOUNT", class_name: "BenchAccountObject" },
      { name: "LOGIN_THROTTLE", class_name: "LoginThrottle" },
    ],
  },
  migrations: [{ tag: "v1", new_sqlite_classes: ["BenchAccountObject", "LoginThrottle"] }],
};

const run = (opts) =>
  new Promise((resolve, reject) => {
    const connections = Math.min(CONNECTIONS, opts.amount);
    autocannon({ connections, ...opts }, (err, result) => (err ? reject(err) : resolve(result)));
  });

async function measure(size, port) {
  const server = await startBenchWorker({
    name: `tenants-${size}`,
    main: "bench/workers/tenants.ts",
    port,
    bindings,
    migrations: "migrations",
  });
  try {
    const seeded = performance.now();
    const tokens = [];
    for (let from = 0; from < size; from += SEED_CHUNK) {
      const res = await fetch(`${server.origin}/__bench/seed`, {
        method: "POST",
        body: JSON.stringify({ from, count: Math.min(SEED_CHUNK, size - from), screenshots: SCREENSHOTS }),
      });
      if (!res.ok) throw new Error(`seed: ${res.status} ${await res.text()}`);
      tokens.push(...(await res.json()).map((t) => t.token));
    }
    const seedSeconds = (performance.now() - seeded) / 1000;
    // Warm-up: each account's object started once (and the isolate's token cache filled).
    let w = 0;
    await run({
      url: `${server.origin}/v1/screenshots`,
      amount: tokens.length,
      requests: [{ method: "GET", path: "/v1/screenshots?limit=20", setupRequest: (req) => auth(req, tokens[w++]) }],
    });
    // Spread over every account (each object asked about once a minute: the cost of many
    // objects), then over the first FEW only (the same accounts as on the small server: what a
    // tenant sees as others are added).
    const all = await timed(server.origin, tokens);
    const few = size > FEW ? await timed(server.origin, tokens.slice(0, FEW)) : all;
    return {
      accounts: size,
      screenshots: size * SCREENSHOTS,
      seedSeconds: Math.round(seedSeconds),
      "p50 (all accounts asked)": all.p50,
      "p99 (all accounts asked)": all.p99,
      [`p50 (${FEW} accounts asked)`]: few.p50,
      [`p99 (${FEW} accounts asked)`]: few.p99,
      non2xx: all.non2xx + (few === all ? 0 : few.non2xx),
    };
  } finally {
    await server.stop();
  }
}

/**
 * REQUESTS timed requests spread over `tokens`. Business allows 60 requests a minute per
 * account, so they are spread over whole minutes' allowances (a new minute is waited for).
 */
async function timed(origin, tokens) {
  const perMinute = tokens.length * 55;
  const results = [];
  let done = 0;
  let i = 0;
  while (done < REQUESTS) {
    const wait = 60_000 - (Date.now() % 60_000) + 200;
    await new Promise((r) => setTimeout(r, wait));
    const amount = Math.min(perMinute, REQUESTS - done);
    results.push(
      await run({
        url: `${origin}/v1/screenshots`,
        amount,
        requests: [
          {
            method: "GET",
            path: "/v1/screenshots?limit=20",
            setupRequest: (req) => auth(req, tokens[i++ % tokens.length]),
          },
        ],
      }),
    );
    done += amount;
  }
  return {
    non2xx: results.reduce((a, r) => a + r.non2xx, 0),
    p50: Math.max(...results.map((r) => r.latency.p50)),
    p99: Math.max(...results.map((r) => r.latency.p99)),
  };
}

const auth = (req, token) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${token}` } });

export async function benchTenants() {
  const port = Number(process.env.BENCH_PORT ?? 8799);
  const rows = [];
  for (const size of SIZES) rows.push(await measure(size, port));
  console.log(
    "\nTenants benchmark: GET /v1/screenshots?limit=20, %d requests, %d connections, %d screenshots per account",
    REQUESTS,
    CONNECTIONS,
    SCREENSHOTS,
  );
  console.table(rows);
  const [small, big] = rows;
  const ratio = (key) => (big[key] / small[key]).toFixed(2);
  console.log(
    `the same ${FEW} accounts asked, ${big.accounts} accounts ÷ ${small.accounts}: p50 ${ratio(`p50 (${FEW} accounts asked)`)}   p99 ${ratio(`p99 (${FEW} accounts asked)`)}   (no growth ≈ 1.0)`,
  );
  console.log(
    `every account asked once a minute, ${big.accounts} accounts ÷ ${small.accounts}: p50 ${ratio("p50 (all accounts asked)")}   p99 ${ratio("p99 (all accounts asked)")}`,
  );
  return rows;
}
