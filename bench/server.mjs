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
