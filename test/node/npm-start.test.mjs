// `npm start` end to end, outside workerd: start-up, the one local browser, the README
// walkthrough, and stopping (Ctrl-C in a terminal, SIGTERM to the process group).
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { stripVTControlCharacters } from "node:util";
import {
  account,
  browsersUnder,
  call,
  processesUnder,
  ROOT,
  scratch,
  sleep,
  sparePort,
  startServer,
} from "./local-server.mjs";

const hasScript = spawnSync("script", ["--version"]).status === 0;
const tmp = scratch("snaptrack-test-tmp-");
const state = scratch("snaptrack-test-state-");
let server;

// The pages captured: `/` at once; `/slow` answers after 30 s, so a capture is in flight.
const site = createServer((req, res) => {
  const send = () => res.end(`<h1 style="font: 48px sans-serif">${req.url}</h1>`);
  res.setHeader("content-type", "text/html");
  if (req.url === "/slow") setTimeout(send, 30_000).unref();
  else send();
});
let sitePort;

before(async () => {
  await new Promise((r) => site.listen(0, "127.0.0.1", r));
  sitePort = site.address().port;
});

after(() => {
  site.closeAllConnections();
  site.close();
  server?.kill();
  tmp.remove();
  state.remove();
});

/** Samples how many browsers run for this file's servers, all along. */
function watchBrowsers() {
  const seen = { max: 0, samples: 0 };
  const timer = setInterval(() => {
    seen.max = Math.max(seen.max, browsersUnder(tmp.dir).length);
    seen.samples++;
  }, 150);
  return { seen, stop: () => clearInterval(timer) };
}

async function waitFor(what, check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function website(headers, path) {
  const { body } = await call(server.origin, "/v1/websites", {
    method: "POST",
    headers,
    body: JSON.stringify({ name: path, url: `http://127.0.0.1:${sitePort}${path}` }),
  });
  return body.id;
}

async function capture(headers, websiteId) {
  const { body } = await call(server.origin, "/v1/screenshots", {
    method: "POST",
    headers,
    body: JSON.stringify({ website_id: websiteId }),
  });
  return body.id;
}

/** Waits until every screenshot finished; one list request a second keeps within the rate limit. */
async function finished(headers, ids) {
  return waitFor(
    "the captures",
    async () => {
      const { body } = await call(server.origin, "/v1/screenshots?limit=100", { headers });
      const rows = ids.map((id) => body.data.find((s) => s.id === id));
      if (!rows.every((s) => s && (s.status === "completed" || s.status === "failed"))) {
        await sleep(1_000);
        return null;
      }
      return rows;
    },
    120_000,
  );
}

/**
 * A process of the run that no signal to the server's group reaches, like a Chromium that
 * miniflare lost track of: in a session of its own, naming the run's scratch directory.
 * `npm start` must end it too.
 */
function strayProcess() {
  const [devScratch] = readdirSync(tmp.dir).filter((f) => f.startsWith("snaptrack-dev-"));
  assert.ok(devScratch, "npm start's scratch directory");
  const stray = spawn(process.execPath, ["-e", "setTimeout(() => {}, 600_000)", join(tmp.dir, devScratch, "stray")], {
    detached: true,
    stdio: "ignore",
  });
  stray.exited = new Promise((r) => stray.once("exit", (_code, signal) => r(signal)));
  return stray;
}

/** After stopping: no process of the run is left (Chromium, its crash handler, workerd, wrangler, node). */
async function nothingLeft() {
  const deadline = Date.now() + 10_000;
  let left = processesUnder(tmp.dir);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(100);
    left = processesUnder(tmp.dir);
  }
  assert.deepEqual(
    left.map(({ pid, cmdline }) => `${pid} ${cmdline.slice(0, 120)}`),
    [],
    "processes outlived the server",
  );
  // dev.mjs's scratch directory (miniflare's files, browser profiles) is gone as well.
  assert.deepEqual(
    readdirSync(tmp.dir).filter((f) => f.startsWith("snaptrack-dev-")),
    [],
  );
}

describe("npm start", () => {
  test("starts without asking or reaching out, and ends with one banner", async (t) => {
    // In a terminal (a pseudo-terminal) when util-linux `script` is there, as a developer runs it.
    server = await startServer({ tmp: tmp.dir, state: state.dir, tty: hasScript });
    t.diagnostic(
      `ready after ${server.readyMs} ms (new state: migrations applied)${hasScript ? " in a terminal" : ""}`,
    );
    await waitFor("the banner", () => server.output().includes("Ctrl-C stops it."), 10_000);
    const out = stripVTControlCharacters(server.output()).replaceAll("\r", "");
    const beforeBanner = out.slice(0, out.indexOf("SnapTrack is running locally:"));
    // Only npm's header ("> snaptrack@… start", "> node scripts/dev.mjs") and, when the local
    // browser had to be set up, its one line.
    const extra = beforeBanner
      .split("\n")
      .filter((l) => l.trim() && !l.startsWith("> ") && !l.startsWith("[setup-browser]"));
    assert.deepEqual(extra, []);
    assert.match(out, new RegExp(`API +${server.origin}/v1\n`));
    assert.match(out, new RegExp(`Docs +${server.origin}/docs\n`));
    assert.match(out, new RegExp(`Dashboard +${server.origin}/\n`));
    for (const noise of ["ENOTFOUND", "update available", "About to apply", "(Y/n)", "telemetry", "Request.cf"]) {
      assert.ok(!out.includes(noise), `output mentions ${noise}`);
    }
  });

  test("captures with idle gaps between them: one browser while working, none while idle", async () => {
    const headers = await account(server.origin, "gaps");
    const home = await website(headers, "/");
    const watch = watchBrowsers();
    try {
      for (const gapMs of [1_000, 4_000, 8_000]) {
        const [shot] = await finished(headers, [await capture(headers, home)]);
        assert.equal(shot.status, "completed", shot.error);
        // Closed when idle: miniflare would otherwise keep it, and lose track of it.
        await waitFor("the idle browser to close", () => browsersUnder(tmp.dir).length === 0, 10_000);
        await sleep(gapMs);
      }
    } finally {
      watch.stop();
    }
    assert.ok(watch.seen.samples > 20);
    assert.equal(watch.seen.max, 1, "more than one browser ran at once");
  });

  test("a burst spanning overlapping queue batches shares that one browser", async () => {
    const headers = await account(server.origin, "burst");
    const home = await website(headers, "/");
    const watch = watchBrowsers();
    try {
      // The first batch starts after its 1 s wait; ten more messages meanwhile make the queue
      // deliver a second batch at once, while the first still holds the browser.
      const first = await capture(headers, home);
      await waitFor("the first batch's browser", () => browsersUnder(tmp.dir).length === 1, 30_000);
      const more = [];
      for (let i = 0; i < 12; i++) more.push(await capture(headers, home));
      const shots = await finished(headers, [first, ...more]);
      assert.deepEqual(
        shots.filter((s) => s.status !== "completed").map((s) => s.error),
        [],
      );
      await waitFor("the idle browser to close", () => browsersUnder(tmp.dir).length === 0, 10_000);
    } finally {
      watch.stop();
    }
    assert.equal(watch.seen.max, 1, "more than one browser ran at once");
  });

  test("the README's Try it walkthrough runs as written", async (t) => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("### Try it"));
    const block = section.match(/```sh\n([\s\S]*?)```/)?.[1];
    assert.ok(block, "README has a Try it sh block");
    const walkTmp = scratch("snaptrack-test-readme-");
    const pagePort = await sparePort();
    const gitStatus = () => execFileSync("git", ["status", "--porcelain"], { cwd: ROOT, encoding: "utf8" });
    const repoBefore = gitStatus();
    try {
      const r = spawnSync("bash", ["-euo", "pipefail", "-c", block], {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 120_000,
        env: { ...process.env, PORT: String(server.port), PAGE_PORT: String(pagePort), TMPDIR: walkTmp.dir },
      });
      t.diagnostic(r.stdout.trim().split("\n").slice(-3).join(" | "));
      assert.equal(r.status, 0, `walkthrough failed:\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /: completed\n/);
      // Its scratch directory is outside the repository and keeps only the screenshot.
      const [dir, ...others] = readdirSync(walkTmp.dir);
      assert.deepEqual(others, []);
      assert.deepEqual(readdirSync(join(walkTmp.dir, dir)), ["shot.png"]);
      const png = readFileSync(join(walkTmp.dir, dir, "shot.png"));
      assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      assert.equal(gitStatus(), repoBefore, "the walkthrough changed files in the repository");
      // The page server it started is stopped.
      const refused = await new Promise((resolve) => {
        const socket = connect(pagePort, "127.0.0.1");
        socket.once("connect", () => {
          socket.destroy();
          resolve(false);
        });
        socket.once("error", () => resolve(true));
      });
      assert.ok(refused, "the walkthrough's page server is still running");
    } finally {
      walkTmp.remove();
    }
  });

  test("Ctrl-C with a capture in flight leaves no process behind, not even one no signal reaches", async () => {
    const headers = await account(server.origin, "ctrl-c");
    await capture(headers, await website(headers, "/slow"));
    await waitFor("a browser", () => browsersUnder(tmp.dir).length === 1, 30_000);
    const stray = strayProcess();
    await sleep(1_000);
    if (hasScript) server.ctrlC();
    else server.signalGroup("SIGINT");
    await Promise.race([server.exited, sleep(30_000)]);
    assert.notEqual(server.child.exitCode ?? server.child.signalCode, null, "npm start did not exit");
    await nothingLeft();
    assert.equal(await Promise.race([stray.exited, sleep(5_000)]), "SIGKILL");
  });

  test("restarts on the same state without migrating again; SIGTERM with a capture in flight leaves no process behind, not even one no signal reaches", async (t) => {
    server = await startServer({ tmp: tmp.dir, state: state.dir });
    t.diagnostic(`ready after ${server.readyMs} ms (same state: no migration pending)`);
    const headers = await account(server.origin, "sigterm");
    await capture(headers, await website(headers, "/slow"));
    await waitFor("a browser", () => browsersUnder(tmp.dir).length === 1, 30_000);
    const stray = strayProcess();
    await sleep(1_000);
    server.signalGroup("SIGTERM");
    await Promise.race([server.exited, sleep(30_000)]);
    assert.notEqual(server.child.exitCode ?? server.child.signalCode, null, "npm start did not exit");
    await nothingLeft();
    assert.equal(await Promise.race([stray.exited, sleep(5_000)]), "SIGKILL");
  });
});
