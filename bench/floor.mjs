// The bare-binding floor (bench/floor-worker): `wrangler dev` of a tiny Worker with the same
// local Browser binding (the same miniflare, the same Chromium wrapper) as SnapTrack.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { ownedProcesses, TAG_VAR } from "../scripts/processes.mjs";

const ROOT = join(dirname(new URL(import.meta.url).pathname), "..");

export async function startFloor(port = 8798) {
  // As scripts/dev.mjs: a scratch TMPDIR and a tag, so every process it leaves is found and ended.
  const scratch = mkdtempSync(join(tmpdir(), "snaptrack-floor-"));
  const tag = basename(scratch);
  const wrangler = join(ROOT, "node_modules", "wrangler", "wrangler-dist", "cli.js");
  const child = spawn(
    process.execPath,
    [
      "--no-warnings",
      wrangler,
      "dev",
      "--config",
      join(ROOT, "bench", "floor-worker", "wrangler.toml"),
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--persist-to",
      join(scratch, "state"),
      "--show-interactive-dev-session=false",
    ],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        TMPDIR: scratch,
        [TAG_VAR]: tag,
        WRANGLER_SEND_METRICS: "false",
        WRANGLER_SEND_ERROR_REPORTS: "false",
        DO_NOT_TRACK: "1",
        WRANGLER_HIDE_BANNER: "true",
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
        WRANGLER_NO_SKILLS_UPDATE_PROMPTS: "true",
      },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const origin = `http://127.0.0.1:${port}`;
  const stop = async () => {
    const exited = new Promise((r) => child.once("exit", r));
    try {
      process.kill(-child.pid, "SIGINT");
    } catch {}
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    // Chromium runs in a session of its own (scripts/processes.mjs): found by its profile path.
    for (let i = 0; i < 100; i++) {
      const left = ownedProcesses({ tag, tmpDir: scratch });
      if (left.length === 0) break;
      for (const { pid } of left) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {}
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    rmSync(scratch, { recursive: true, force: true });
  };
  const call = async (path) => {
    const res = await fetch(`${origin}${path}`);
    const text = await res.text();
    if (!res.ok) throw new Error(`floor ${path} → ${res.status}: ${text}\n${log}`);
    return JSON.parse(text);
  };
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      const res = await fetch(`${origin}/`);
      await res.arrayBuffer();
      if (res.status === 400) break; // the Worker answers (no session=)
    } catch {}
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error(`the floor Worker did not start:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    origin,
    /** Every process of this run (Chromium's too) has it on its command line or as its TMPDIR. */
    scratch,
    /** A browser kept between requests, warmed up with one shot of `url`: its session id. */
    async launch(url) {
      return (await call(`/launch?${new URLSearchParams({ url })}`)).session;
    },
    /** `n` shots of `url` in that browser, `tabs` pages at a time: the Worker's own timing. */
    async loop(session, url, n, tabs = 1) {
      return call(`/?${new URLSearchParams({ session, url, n: String(n), tabs: String(tabs) })}`);
    },
    async close(session) {
      await call(`/close?${new URLSearchParams({ session })}`);
    },
    stop,
  };
}
