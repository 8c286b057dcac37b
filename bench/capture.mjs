// 30 captures of a loopback page through the whole pipeline (POST → queue → consumer →
// Browser binding → R2 → D1, observed through the API) against the same 30 taken directly
// with puppeteer-core on the same Chromium, a new page per shot. Prints both and the ratio.
import puppeteer from "puppeteer-core";
import { startFixtureServer } from "../test/fixtures/server.mjs";
import { json, startServer, tenant } from "./server.mjs";

const SHOTS = 30;
const CHROMIUM = process.env.CHROMIUM ?? "/usr/lib/chromium/chromium";
const VIEWPORT = { width: 1280, height: 800 };

async function direct(url) {
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--headless=new", "--disable-dev-shm-usage", "--hide-scrollbars"],
  });
  try {
    const once = async () => {
      const page = await browser.newPage();
      await page.setViewport(VIEWPORT);
      await page.goto(url, { waitUntil: "load" });
      await page.screenshot({ type: "png" });
      await page.close();
    };
    await once(); // warm-up
    const started = performance.now();
    for (let i = 0; i < SHOTS; i++) await once();
    return performance.now() - started;
  } finally {
    await browser.close();
  }
}

async function pipeline(origin, url) {
  const { token } = await tenant(origin, "business", "capture-bench");
  const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const { body: site } = await json(origin, "/v1/websites", {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ name: "bench", url, capture: { viewport: VIEWPORT } }),
  });
  const capture = () =>
    json(origin, "/v1/screenshots", {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ website_id: site.id }),
    }).then((r) => r.body.id);
  // Done when every capture completed; the time is read from their `captured_at` (set when
  // each was stored), so the poll interval — kept slow for the plan's 60 requests a minute —
  // does not count.
  const waitAll = async (ids) => {
    const pending = new Set(ids);
    let last = 0;
    while (pending.size > 0) {
      await new Promise((r) => setTimeout(r, 2000));
      const { body } = await json(origin, `/v1/screenshots?website_id=${site.id}&limit=100`, { headers: auth });
      for (const s of body.data) {
        if (!pending.has(s.id)) continue;
        if (s.status === "failed") throw new Error(`capture failed: ${s.error}`);
        if (s.status === "completed") {
          pending.delete(s.id);
          last = Math.max(last, Date.parse(s.captured_at));
        }
      }
    }
    return last;
  };
  await waitAll([await capture()]); // warm-up: the first batch launches the shared browser
  await new Promise((r) => setTimeout(r, 61_000 - (Date.now() % 60_000))); // a fresh rate-limit minute
  const started = Date.now();
  const ids = await Promise.all(Array.from({ length: SHOTS }, capture));
  return (await waitAll(ids)) - started;
}

export async function benchCapture() {
  const fixtures = await startFixtureServer();
  const server = await startServer(Number(process.env.BENCH_PORT ?? 8799));
  try {
    const url = `${fixtures.origin}/colors`;
    const directMs = await direct(url);
    const pipelineMs = await pipeline(server.origin, url);
    console.log(`\nCapture benchmark: ${SHOTS} captures of ${url} at ${VIEWPORT.width}×${VIEWPORT.height}`);
    console.table({
      "direct puppeteer-core (new page per shot)": {
        total_ms: Math.round(directMs),
        per_shot_ms: Math.round(directMs / SHOTS),
      },
      "SnapTrack pipeline (API → queue → R2/D1)": {
        total_ms: Math.round(pipelineMs),
        per_shot_ms: Math.round(pipelineMs / SHOTS),
      },
    });
    console.log(`ratio (pipeline ÷ direct): ${(pipelineMs / directMs).toFixed(2)}   target ≤ 1.20`);
    return { directMs, pipelineMs };
  } finally {
    await server.stop();
    await fixtures.close();
  }
}
