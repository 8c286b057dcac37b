#!/usr/bin/env node
// `npm start`: the whole API locally, no Cloudflare account needed.
//   1. the local browser set-up (scripts/setup-browser.mjs),
//   2. D1 migrations applied to the local database, without asking,
//   3. `wrangler dev` on 127.0.0.1:$PORT (8787) with every binding emulated and the
//      local-only settings (loopback capture targets, a dev encryption key, browsers closed
//      when idle), its start-up output held back until it answers, then one banner,
//   4. the cron triggers fired on time (wrangler only fires them when poked),
//   5. on Ctrl-C (SIGINT), SIGTERM or SIGHUP: wrangler stopped, then every process it left
//      (workerd, Chromium) ended and waited for, and the scratch directory removed.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { Cron } from "croner";
import { ownedProcesses, TAG_VAR } from "./processes.mjs";

const ROOT = join(dirname(new URL(import.meta.url).pathname), "..");

// Local-only values; deployed config never has them (see wrangler.toml).
export const LOCAL_VARS = {
  ALLOW_PRIVATE_TARGETS: "127.0.0.1:*,localhost:*",
  // A fixed DNS table for the guard: no name is ever sent to an outside resolver locally.
  STATIC_DNS: JSON.stringify({ localhost: ["127.0.0.1"] }),
  SECRETS_KEY: "ZGV2LW9ubHkta2V5LWZvci1zbmFwdHJhY2stbG9jYWw=",
  // No idle browser: miniflare would keep it forever and lose track of it (src/capture/browser.ts).
  // The capture benchmark sets the deployed behaviour (reuse) through the environment.
  BROWSER_KEEP_ALIVE_MS: process.env.BROWSER_KEEP_ALIVE_MS ?? "0",
  // The capture benchmark's knobs: the per-phase trace, and pages at once (src/capture/).
  ...(process.env.CAPTURE_TRACE ? { CAPTURE_TRACE: process.env.CAPTURE_TRACE } : {}),
  ...(process.env.BROWSER_PAGES ? { BROWSER_PAGES: process.env.BROWSER_PAGES } : {}),
  // Every message the mail path sends is also kept in the account's outbox (Settings → Outbox).
  MAIL_OUTBOX: "1",
};

// The project's own Node (the pinned `node` devDependency). `npm start` already runs on it;
// `node scripts/dev.mjs` on another Node starts it again on the right one.
const pinned = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).devDependencies.node;
const projectNode = join(ROOT, "node_modules", "node", "bin", "node");
if (process.versions.node !== pinned) {
  if (!existsSync(projectNode)) {
    console.error(`SnapTrack runs on Node ${pinned}, installed by \`npm install\`: run that first.`);
    process.exit(1);
  }
  const child = spawn(projectNode, process.argv.slice(1), { stdio: "inherit" });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  await main();
}

async function main() {
  const PORT = Number(process.env.PORT ?? 8787);
  const HOST = "127.0.0.1";
  const origin = `http://${HOST}:${PORT}`;
  const wrangler = join(ROOT, "node_modules", "wrangler", "wrangler-dist", "cli.js");

  // A scratch directory of our own: miniflare's temporary files and the browser profiles go
  // there, so every process of this run can be found (scripts/processes.mjs) and the
  // directory removed at the end.
  const scratch = mkdtempSync(join(tmpdir(), "snaptrack-dev-"));
  const tag = basename(scratch);
  const env = {
    ...process.env,
    TMPDIR: scratch,
    [TAG_VAR]: tag,
    // Nothing leaves the machine and nothing asks: no telemetry or error reports, no banner
    // (where wrangler checks the registry for a newer version), no download of the
    // `Request.cf` sample (a placeholder is used), no suggestions fetched after commands.
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    DO_NOT_TRACK: "1",
    WRANGLER_HIDE_BANNER: "true",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_NO_SKILLS_UPDATE_PROMPTS: "true",
  };
  const owned = () => ownedProcesses({ tag, tmpDir: scratch });

  const quiet = (args, extraEnv = {}) => {
    const r = spawnSync(process.execPath, args, { cwd: ROOT, env: { ...env, ...extraEnv }, encoding: "utf8" });
    if (r.status !== 0) {
      process.stderr.write(`${r.stdout ?? ""}${r.stderr ?? ""}`);
      rmSync(scratch, { recursive: true, force: true });
      process.exit(r.status ?? 1);
    }
    return r.stdout;
  };

  // SNAPTRACK_STATE_DIR keeps local data elsewhere (the benchmarks and tests use throwaway ones).
  const persist = process.env.SNAPTRACK_STATE_DIR ? ["--persist-to", process.env.SNAPTRACK_STATE_DIR] : [];

  // In the terminal as it happens: an install of Chromium says so before it starts.
  const browser = spawnSync(process.execPath, [join(ROOT, "scripts", "setup-browser.mjs")], {
    cwd: ROOT,
    env,
    stdio: "inherit",
  });
  if (browser.status !== 0) {
    rmSync(scratch, { recursive: true, force: true });
    process.exit(browser.status ?? 1);
  }
  if (await migrationsPending(process.env.SNAPTRACK_STATE_DIR ?? join(ROOT, ".wrangler", "state"))) {
    // CI=1: apply without the "continue? (Y/n)" prompt, which a terminal would otherwise wait on.
    quiet(["--no-warnings", wrangler, "d1", "migrations", "apply", "DB", "--local", ...persist], {
      CI: "1",
      WRANGLER_LOG: "warn",
    });
  }

  // Links in the mails and chat alerts it keeps point at this server.
  const vars = Object.entries({ ...LOCAL_VARS, APP_ORIGIN: origin }).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const dev = spawn(
    process.execPath,
    [
      "--no-warnings",
      wrangler,
      "dev",
      "--ip",
      HOST,
      "--port",
      String(PORT),
      "--test-scheduled",
      "--show-interactive-dev-session=false",
      ...persist,
      ...vars,
    ],
    // No stdin: no hotkeys, and Ctrl-C stays a signal to this whole process group.
    { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] },
  );

  // Start-up output is held until the server answers, and shown only if it never does;
  // after the banner everything wrangler prints (requests, Worker logs) passes through.
  let ready = false;
  let held = "";
  // A reader that went away (a closed pipe) is no reason to die and leave wrangler running.
  for (const out of [process.stdout, process.stderr]) out.on("error", () => {});
  const pass = (out) => (d) => {
    if (ready) out.write(d);
    else held += d;
  };
  dev.stdout.on("data", pass(process.stdout));
  dev.stderr.on("data", pass(process.stderr));

  let stopping = false;
  const devExited = new Promise((resolve) => dev.once("exit", resolve));
  devExited.then((code) => {
    if (stopping) return;
    if (!ready) process.stderr.write(held);
    cleanUp().then(() => process.exit(code ?? 1));
  });

  // Cron triggers from wrangler.toml, fired at the top of each minute they match.
  const crons = readFileSync(join(ROOT, "wrangler.toml"), "utf8").match(/crons\s*=\s*\[([^\]]*)\]/)?.[1] ?? "";
  const triggers = [...crons.matchAll(/"([^"]+)"/g)].map((m) => ({
    pattern: m[1],
    cron: new Cron(m[1], { timezone: "UTC", paused: true, mode: "5-part" }),
  }));
  let tickTimer;
  const scheduleTick = () => {
    tickTimer = setTimeout(tick, 60_000 - (Date.now() % 60_000) + 500);
  };
  function tick() {
    const minute = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    for (const { pattern, cron } of triggers) {
      if (!cron.match(minute)) continue;
      const url = `${origin}/__scheduled?cron=${encodeURIComponent(pattern)}&time=${minute.getTime()}`;
      fetch(url).catch(() => {}); // the server may still be starting
    }
    scheduleTick();
  }
  scheduleTick();

  async function cleanUp() {
    clearTimeout(tickTimer);
    // Whatever wrangler left: workerd, and Chromium, which miniflare starts in a session of
    // its own (so no terminal or group signal reaches it) and does not always close.
    for (let i = 0; i < 100; i++) {
      const left = owned();
      if (left.length === 0) break;
      for (const { pid } of left) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {}
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    rmSync(scratch, { recursive: true, force: true });
  }

  const stop = async () => {
    if (stopping) return; // npm forwards the terminal's Ctrl-C as well: one stop is enough
    stopping = true;
    // wrangler closes workerd and its browsers itself when it can; give it a few seconds.
    dev.kill("SIGINT");
    await Promise.race([devExited, new Promise((r) => setTimeout(r, 5_000))]);
    await cleanUp();
    process.exit(0);
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, stop);

  // Ready: the server answers GET /.
  for (;;) {
    if (stopping) return;
    try {
      const res = await fetch(`${origin}/`);
      await res.arrayBuffer();
      break;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  ready = true;
  console.log(
    [
      "",
      "SnapTrack is running locally:",
      `  API        ${origin}/v1`,
      `  Docs       ${origin}/docs`,
      `  Dashboard  ${origin}/`,
      "Open the dashboard in a browser and sign up; Ctrl-C stops it.",
      "",
    ].join("\n"),
  );
}

/**
 * Whether the local database lacks a migration. Reading it directly saves starting wrangler
 * (seconds) on every restart; anything unexpected (no database yet, two of them, an error)
 * counts as pending, and wrangler then applies what is missing.
 */
async function migrationsPending(stateDir) {
  try {
    const { DatabaseSync } = await import("node:sqlite"); // not in every Node: see the re-exec above
    const dir = join(stateDir, "v3", "d1", "miniflare-D1DatabaseObject");
    const files = readdirSync(dir).filter((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite");
    if (files.length !== 1) return true;
    const db = new DatabaseSync(join(dir, files[0]), { readOnly: true });
    try {
      const applied = new Set(
        db
          .prepare("SELECT name FROM d1_migrations")
          .all()
          .map((r) => r.name),
      );
      return readdirSync(join(ROOT, "migrations")).some((f) => f.endsWith(".sql") && !applied.has(f));
    } finally {
      db.close();
    }
  } catch {
    return true;
  }
}
