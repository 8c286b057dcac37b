#!/usr/bin/env node
// Checks a running server (`npm start`, or PORT=8799 npm start) against the oversized-body
// regression: a chunked POST over 1 MB must answer 413, and the POSTs after it, each on a
// new connection, must still be served (they once answered `503 Your worker restarted
// mid-request` under `wrangler dev`). Loopback only; three rounds; exits 1 on failure.
import http from "node:http";

const PORT = Number(process.env.PORT ?? 8787);

function post(path, chunks) {
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port: PORT,
        path,
        method: "POST",
        agent: false,
        headers: { "content-type": "application/json" },
      },
      (res) => {
        let body = "";
        res.on("data", (d) => {
          body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode, body }));
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error("timed out")));
    req.on("error", (e) => resolve({ status: 0, body: e.message }));
    for (const chunk of chunks) req.write(chunk); // no content-length: chunked
    req.end();
  });
}

const chunk = "x".repeat(64 * 1024);
let failed = false;
for (let round = 1; round <= 3; round++) {
  const big = await post(
    "/auth/signup",
    Array.from({ length: 25 }, () => chunk),
  ); // 1.6 MB
  const next = await post("/auth/login", [
    JSON.stringify({ email: `nobody.${Date.now()}.${round}@example.com`, password: "not the password" }),
  ]);
  // A wrong password: 401 (429 once login throttling counts too many from this address).
  const ok = big.status === 413 && (next.status === 401 || next.status === 429);
  failed ||= !ok;
  console.log(
    `round ${round}: oversized ${big.status}, next ${next.status} ${ok ? "ok" : `FAIL ${next.body.slice(0, 100)}`}`,
  );
}
process.exit(failed ? 1 : 0);
