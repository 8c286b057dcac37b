// Starts `npm start`'s server (scripts/dev.mjs) on a spare port with throwaway state.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const ROOT = join(dirname(new URL(import.meta.url).pathname), "..");

export async function startServer(port = 8799, extraEnv = {}) {
  const state = mkdtempSync(join(tmpdir(), "snaptrack-bench-"));
  const child = spawn(process.execPath, [join(ROOT, "scripts", "dev.mjs")], {
    cwd: ROOT,
    // The deployed browser reuse (an idle browser kept for the next batch), as the direct
    // puppeteer run reuses its one browser; `npm start` closes idle browsers instead. Any
    // browser miniflare loses track of meanwhile ends with the server (scripts/dev.mjs).
    env: {
      ...process.env,
      PORT: String(port),
      SNAPTRACK_STATE_DIR: state,
      BROWSER_KEEP_ALIVE_MS: "600000",
      ...extraEnv,
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      if ((await fetch(`${origin}/`)).ok) break;
    } catch {}
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`server did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    origin,
    log: () => log,
    async stop() {
      // SIGINT to the whole group (dev.mjs, wrangler, workerd, the browsers), then wait.
      const exited = new Promise((r) => child.once("exit", r));
      try {
        process.kill(-child.pid, "SIGINT");
      } catch {}
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
      rmSync(state, { recursive: true, force: true });
    },
  };
}

export async function json(origin, path, init = {}) {
  const res = await fetch(`${origin}${path}`, init);
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path} → ${res.status}: ${text}`);
  return { res, body: text ? JSON.parse(text) : null };
}

/** Sign up, set the plan, issue a token: the same calls a customer makes. */
export async function tenant(origin, plan, tag) {
  const email = `${tag}.${Date.now()}.${Math.random().toString(36).slice(2)}@bench.example`;
  const { res } = await json(origin, "/auth/signup", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password: "bench-password-123", name: tag }),
  });
  const cookie = res.headers.getSetCookie()[0].split(";")[0];
  await json(origin, "/account/plan", {
    method: "PUT",
    headers: { "content-type": "application/json", cookie },
    body: JSON.stringify({ plan }),
  });
  const { body } = await json(origin, "/account/api-token", { method: "POST", headers: { cookie } });
  return { email, cookie, token: body.token };
}

/**
 * A Worker of the benchmark's own (bench/workers/) under `wrangler dev`, with a config made
 * here: `bindings` as wrangler.json fields, throwaway state, D1 migrations applied first when
 * `migrations` names a folder.
 */
export async function startBenchWorker({ name, main, port, bindings, migrations }) {
  const { writeFileSync } = await import("node:fs");
  const { spawnSync } = await import("node:child_process");
  const state = mkdtempSync(join(tmpdir(), `snaptrack-bench-${name}-`));
  const config = join(state, "wrangler.json");
  writeFileSync(
    config,
    JSON.stringify({
      name,
      main: join(ROOT, main),
      compatibility_date: "2026-04-01",
      compatibility_flags: ["nodejs_compat"],
      send_metrics: false,
      rules: [{ type: "Text", globs: ["**/*.sql"], fallthrough: true }],
      ...bindings,
      ...(migrations
        ? { d1_databases: bindings.d1_databases.map((d) => ({ ...d, migrations_dir: join(ROOT, migrations) })) }
        : {}),
    }),
  );
  const wrangler = join(ROOT, "node_modules", "wrangler", "wrangler-dist", "cli.js");
  const env = {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    DO_NOT_TRACK: "1",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    CI: "1",
    TMPDIR: state,
  };
  if (migrations) {
    const r = spawnSync(
      process.execPath,
      [wrangler, "d1", "migrations", "apply", "DB", "--local", "-c", config, "--persist-to", join(state, "data")],
      { env, encoding: "utf8" },
    );
    if (r.status !== 0) throw new Error(`migrations failed:\n${r.stdout}${r.stderr}`);
  }
  const child = spawn(
    process.execPath,
    [
      wrangler,
      "dev",
      "-c",
      config,
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--persist-to",
      join(state, "data"),
      "--show-interactive-dev-session=false",
    ],
    { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      await (await fetch(`${origin}/`)).arrayBuffer();
      break;
    } catch {}
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${name} did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    origin,
    async stop() {
      const exited = new Promise((r) => child.once("exit", r));
      try {
        process.kill(-child.pid, "SIGINT");
      } catch {}
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
      rmSync(state, { recursive: true, force: true });
    },
  };
}
