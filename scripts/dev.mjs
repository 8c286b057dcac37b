#!/usr/bin/env node
// `npm start`: the whole API locally, no Cloudflare account needed.
//   1. the local browser set-up (scripts/setup-browser.mjs),
//   2. D1 migrations applied to the local database,
//   3. `wrangler dev` on 127.0.0.1:$PORT (8787) with every binding emulated and the
//      local-only settings (loopback capture targets, a dev encryption key),
//   4. the cron triggers fired on time (wrangler only fires them when poked).
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Cron } from "croner";

const ROOT = join(dirname(new URL(import.meta.url).pathname), "..");
const PORT = Number(process.env.PORT ?? 8787);
const HOST = "127.0.0.1";
const wrangler = join(ROOT, "node_modules", ".bin", "wrangler");
const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };

// Local-only values; deployed config never has them (see wrangler.toml).
export const LOCAL_VARS = {
  ALLOW_PRIVATE_TARGETS: "127.0.0.1:*,localhost:*",
  // A fixed DNS table for the guard: no name is ever sent to an outside resolver locally.
  STATIC_DNS: JSON.stringify({ localhost: ["127.0.0.1"] }),
  SECRETS_KEY: "ZGV2LW9ubHkta2V5LWZvci1zbmFwdHJhY2stbG9jYWw=",
};

const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: "inherit", env });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

// SNAPTRACK_STATE_DIR keeps local data elsewhere (the benchmarks use a throwaway one).
const persist = process.env.SNAPTRACK_STATE_DIR ? ["--persist-to", process.env.SNAPTRACK_STATE_DIR] : [];

run(process.execPath, [join(ROOT, "scripts", "setup-browser.mjs")]);
run(wrangler, ["d1", "migrations", "apply", "DB", "--local", ...persist]);

const vars = Object.entries(LOCAL_VARS).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
const dev = spawn(wrangler, ["dev", "--ip", HOST, "--port", String(PORT), "--test-scheduled", ...persist, ...vars], {
  cwd: ROOT,
  stdio: "inherit",
  env,
});

// Cron triggers from wrangler.toml, fired at the top of each minute they match.
const crons = readFileSync(join(ROOT, "wrangler.toml"), "utf8").match(/crons\s*=\s*\[([^\]]*)\]/)?.[1] ?? "";
const triggers = [...crons.matchAll(/"([^"]+)"/g)].map((m) => ({
  pattern: m[1],
  cron: new Cron(m[1], { timezone: "UTC", paused: true, mode: "5-part" }),
}));

function tick() {
  const now = new Date();
  const minute = new Date(Math.floor(now.getTime() / 60_000) * 60_000);
  for (const { pattern, cron } of triggers) {
    if (!cron.match(minute)) continue;
    const url = `http://${HOST}:${PORT}/__scheduled?cron=${encodeURIComponent(pattern)}&time=${minute.getTime()}`;
    fetch(url).catch(() => {}); // the server may still be starting
  }
  setTimeout(tick, 60_000 - (Date.now() % 60_000) + 500);
}
setTimeout(tick, 60_000 - (Date.now() % 60_000) + 500);

const stop = () => {
  dev.kill("SIGINT");
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
dev.on("exit", (code) => process.exit(code ?? 0));
