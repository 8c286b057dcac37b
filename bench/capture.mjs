// 30 captures of one loopback page at 1280×800 PNG, four ways, one after the other in this
// process (so the ratios compare runs on the same machine at the same time):
//   - raw puppeteer-core on the same Chromium, a new page per shot;
//   - the floor: a bare Worker (bench/floor-worker) doing the naive loop through the same local
//     Browser binding (launch, then new page, viewport, goto, screenshot, close per shot);
//   - SnapTrack's pipeline (POST → queue → consumer → Browser binding → R2 → row, observed
//     through the API: each POST waits with `Prefer: wait` for its completed screenshot),
//     sequential (BROWSER_PAGES=1: one page at a time, as the floor) and batched (its default
//     pages at once), all 30 sent together;
// and the per-phase trace of single captures and of the sequential burst's jobs (CAPTURE_TRACE=1,
// src/capture/trace.ts).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer from "puppeteer-core";
import { startFixtureServer } from "../test/fixtures/server.mjs";
import { startFloor } from "./floor.mjs";
import { json, startServer, tenant } from "./server.mjs";

const SHOTS = Number(process.env.BENCH_SHOTS ?? 30);
const TRACES = Number(process.env.BENCH_TRACES ?? 5);
// The same browser the local Browser binding runs (scripts/setup-browser.mjs).
const CHROMIUM = process.env.CHROMIUM ?? "/usr/lib/chromium/chromium-headless-shell";
const VIEWPORT = { width: 1280, height: 800 };
// SnapTrack's default pages at once, read from its one home; the floor gets as many tabs for reference.
const PAGES = Number(
  /export const BROWSER_PAGES = (\d+)/.exec(
    readFileSync(new URL("../src/capture/browser.ts", import.meta.url), "utf8"),
  )?.[1] ?? 4,
);

/**
 * CPU time (ms) used so far, with reaped children's, by the processes of one run: its Chromium
 * (each browser process names its profile, under `dir`, on its command line; with it every
 * process it started: zygote, renderers, GPU process, utilities) and, apart, the rest
 * (wrangler, workerd: started with a TMPDIR under `dir`).
 */
function cpuMs(dir) {
  const used = { browser: 0, worker: 0 };
  const procs = [];
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      // Chromium's own (argv[0]), not the floor's wrangler, whose arguments name `dir` too.
      const root = cmdline.includes(dir) && /chrom/i.test(cmdline.split("\0")[0] ?? "");
      const worker = !root && readFileSync(`/proc/${pid}/environ`, "utf8").includes(`\0TMPDIR=${dir}`);
      procs.push({ pid, ppid: f[1], ms: ticks * 10, root, worker }); // USER_HZ is 100 on Linux
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  const browser = new Set(procs.filter((p) => p.root).map((p) => p.pid));
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) {
      if (!browser.has(p.pid) && browser.has(p.ppid)) {
        browser.add(p.pid);
        grew = true;
      }
    }
  }
  for (const p of procs) {
    if (browser.has(p.pid)) used.browser += p.ms;
    else if (p.worker) used.worker += p.ms;
  }
  return used;
}

/** A run's time, and the CPU its browser and its Worker side spent meanwhile. */
async function measured(dir, run) {
  const before = cpuMs(dir);
  const ms = await run();
  const after = cpuMs(dir);
  return { ms, cpuMs: after.browser - before.browser, workerCpuMs: after.worker - before.worker };
}

async function direct(url, dir) {
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: "shell",
    userDataDir: dir,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars"],
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
    const { ms, cpuMs } = await measured(dir, async () => {
      const started = performance.now();
      for (let i = 0; i < SHOTS; i++) await once();
      return performance.now() - started;
    });
    return { ms, cpuMs }; // no Worker side: puppeteer-core runs in this process
  } finally {
    await browser.close();
  }
}

/** A tenant of its own per run (the plan's 60 requests a minute are never the limit) and one website. */
async function site(origin, url, tag, changeDetection) {
  const { token } = await tenant(origin, "business", tag);
  const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const { body } = await json(origin, "/v1/websites", {
    method: "POST",
    headers: auth,
    body: JSON.stringify({
      name: tag,
      url,
      capture: { viewport: VIEWPORT },
      ...(changeDetection ? { change_detection: changeDetection } : {}),
    }),
  });
  return { origin, auth, id: body.id };
}

/** One capture, answered when it has completed (`Prefer: wait`; polled past the wait's deadline). */
async function capture(s) {
  const res = await fetch(`${s.origin}/v1/screenshots`, {
    method: "POST",
    headers: { ...s.auth, prefer: "wait=60" },
    body: JSON.stringify({ website_id: s.id }),
  });
  let shot = await res.json();
  if (res.status !== 200 && res.status !== 202) throw new Error(`POST → ${res.status}: ${JSON.stringify(shot)}`);
  // Past the wait's deadline (a very busy machine): polled gently, within the plan's rate limit.
  while (shot.status === "queued" || shot.status === "processing") {
    await new Promise((r) => setTimeout(r, 1000));
    const poll = await fetch(`${s.origin}/v1/screenshots/${shot.id}`, { headers: s.auth });
    if (poll.status === 429) await new Promise((r) => setTimeout(r, 1000 * Number(poll.headers.get("retry-after"))));
    else if (poll.ok) shot = await poll.json();
    else throw new Error(`GET /v1/screenshots/${shot.id} → ${poll.status}`);
  }
  if (shot.status !== "completed") throw new Error(`capture ${shot.status}: ${shot.error}`);
  return performance.now();
}

/** All `SHOTS` sent together; the time until the last one is seen completed. */
async function burst(s) {
  const started = performance.now();
  const ends = await Promise.all(Array.from({ length: SHOTS }, () => capture(s)));
  return Math.max(...ends) - started;
}

/** SnapTrack on a fresh server with `pages` pages at once: the browser launched first, then the burst. */
async function pipeline(url, pages, dir, traces = 0) {
  mkdirSync(dir, { recursive: true });
  const server = await startServer(Number(process.env.BENCH_PORT ?? 8799), {
    BROWSER_PAGES: String(pages),
    CAPTURE_TRACE: "1",
    TMPDIR: dir, // the server's scratch directory, and so its Chromium's profile, lie under it
  });
  try {
    const warm = await site(server.origin, url, `warm-${pages}`);
    await capture(warm); // the first batch launches the shared browser
    // Single captures, one at a time, for the trace (with an ignored element, so that phase shows).
    const traced = await site(server.origin, url, "trace", { ignore_selectors: ["#box"] });
    const latencies = [];
    for (let i = 0; i < traces; i++) {
      const started = performance.now();
      latencies.push((await capture(traced)) - started);
    }
    const burstSite = await site(server.origin, url, `burst-${pages}`);
    const { ms, cpuMs, workerCpuMs } = await measured(dir, () => burst(burstSite));
    const lines = server
      .log()
      .split("\n")
      .filter((l) => l.includes('"capture trace"'))
      .map((l) => JSON.parse(l.slice(l.indexOf("{"))));
    // The warm-up's first, then the single captures', then the burst's.
    return { ms, cpuMs, workerCpuMs, latencies, traces: lines.slice(1, 1 + traces), burst: lines.slice(1 + traces) };
  } finally {
    await server.stop();
  }
}

const PHASES = [
  "claim",
  "browser",
  "guard",
  "context",
  "arming",
  "viewport and emulation",
  "navigation",
  "waits",
  "ignore boxes",
  "screenshot",
  "thumbnail",
  "text",
  "R2 put",
  "row update",
  "events",
];
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? undefined : s[s.length >> 1];
};

/** Median per phase over the traces: its time, and when it started (ms after the batch began). */
function phaseTable(traces, latencies) {
  const table = {};
  for (const phase of PHASES) {
    const per = traces.map((t) => {
      // A phase's spans may overlap (the R2 puts run at once): its time is from the first start to the last end.
      const extent = (list) =>
        list.length === 0 ? 0 : Math.max(...list.map((s) => s.at + s.ms)) - Math.min(...list.map((s) => s.at));
      const spans = t.spans.filter((s) => s.phase === phase);
      let ms = extent(spans);
      // Storing traced as a whole (storeShot): the row update is what is not the R2 puts.
      if (phase === "row update" && spans.length === 0) {
        const store = extent(t.spans.filter((s) => s.phase === "store"));
        const puts = extent(t.spans.filter((s) => s.phase === "R2 put"));
        ms = store - puts;
        const at = t.spans.find((s) => s.phase === "store");
        return at ? { ms, at: at.at } : undefined;
      }
      return spans.length > 0 ? { ms, at: spans[0].at } : undefined;
    });
    const seen = per.filter(Boolean);
    table[phase] =
      seen.length === 0
        ? { ms: "–", starts_at_ms: "–" }
        : { ms: median(seen.map((p) => p.ms)), starts_at_ms: median(seen.map((p) => p.at)) };
  }
  table["consumer total (batch start → job notified)"] = { ms: median(traces.map((t) => t.total_ms)), starts_at_ms: 0 };
  if (latencies) table["client: POST → completed answer"] = { ms: Math.round(median(latencies)), starts_at_ms: "" };
  return table;
}

export async function benchCapture() {
  const fixtures = await startFixtureServer();
  const scratch = mkdtempSync(join(tmpdir(), "snaptrack-capture-bench-"));
  try {
    const url = `${fixtures.origin}/colors`;
    const direct_ = await direct(url, join(scratch, "direct"));
    const floor = await startFloor(Number(process.env.BENCH_FLOOR_PORT ?? 8798));
    let floorSeq;
    let floorTabs;
    try {
      // The Worker times its own loop; its browser stays up between requests, so its CPU is read around each loop.
      const session = await floor.launch(url);
      const loop = async (tabs) => {
        const run = await measured(floor.scratch, () => floor.loop(session, url, SHOTS, tabs));
        return { ...run, ms: run.ms.ms };
      };
      floorSeq = await loop(1);
      floorTabs = await loop(PAGES);
      await floor.close(session);
    } finally {
      await floor.stop();
    }
    const sequential = await pipeline(url, 1, join(scratch, "sequential"), TRACES);
    const batched = await pipeline(url, PAGES, join(scratch, "batched"));

    console.log(`\nCapture trace: median of ${TRACES} single captures (one at a time, browser warm), ms`);
    console.table(phaseTable(sequential.traces, sequential.latencies));
    // In a burst the next job's context is opened while a page works: what is left on the path shows here.
    console.log(
      `\nThe same, median over the sequential burst's ${sequential.burst.length} jobs (ms from their batch's start)`,
    );
    console.table(phaseTable(sequential.burst));

    for (const [name, run] of [
      ["sequential", sequential],
      ["batched", batched],
    ]) {
      // How the burst arrived: batches (a job's trace starts with its batch) and their browser.
      const batches = new Map();
      for (const t of run.burst) {
        const b = batches.get(t.batch) ?? { jobs: 0, browser: t.spans.find((s) => s.phase === "browser")?.ms };
        b.jobs++;
        batches.set(t.batch, b);
      }
      const list = [...batches.values()];
      console.log(
        `${name} burst: ${list.length} batches of ${list.map((b) => b.jobs).join(", ")} jobs; browser acquired in ${list.map((b) => b.browser).join(", ")} ms`,
      );
    }

    console.log(`\nCapture benchmark: ${SHOTS} captures of ${url} at ${VIEWPORT.width}×${VIEWPORT.height} PNG`);
    const row = ({ ms, cpuMs, workerCpuMs }) => ({
      total_ms: Math.round(ms),
      per_shot_ms: Math.round(ms / SHOTS),
      "Chromium CPU/shot": Math.round(cpuMs / SHOTS),
      "worker-side CPU/shot": workerCpuMs === undefined ? "–" : Math.round(workerCpuMs / SHOTS),
    });
    console.table({
      "raw puppeteer-core, same Chromium (new page per shot)": row(direct_),
      "floor: bare Worker, same Browser binding (naive loop)": row(floorSeq),
      [`  (reference: bare Worker, ${PAGES} tabs at once)`]: row(floorTabs),
      "SnapTrack sequential (1 page at a time)": row(sequential),
      [`SnapTrack batched (${PAGES} pages at once)`]: row(batched),
    });
    const ratio = (a, b) => (a.ms / b.ms).toFixed(2);
    console.log(
      [
        `floor ÷ raw puppeteer-core:           ${ratio(floorSeq, direct_)}`,
        `SnapTrack sequential ÷ floor:         ${ratio(sequential, floorSeq)}   (target ≤ 1.20)`,
        `SnapTrack sequential ÷ raw puppeteer: ${ratio(sequential, direct_)}`,
        `SnapTrack batched ÷ floor:            ${ratio(batched, floorSeq)}   (target ≤ 1.00)`,
        `SnapTrack batched ÷ raw puppeteer:    ${ratio(batched, direct_)}`,
      ].join("\n"),
    );
    return { direct: direct_, floor: floorSeq, floorTabs, sequential, batched };
  } finally {
    await fixtures.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}
