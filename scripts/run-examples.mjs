#!/usr/bin/env node
// `npm test` runs the examples (examples/) against a throwaway local server, as a user would:
// the server as `npm start` starts it, and a local page to capture.
import { spawn } from "node:child_process";
import { startServer } from "../bench/server.mjs";
import { startFixtureServer } from "../test/fixtures/server.mjs";

const EXAMPLES = [
  ["JavaScript", process.execPath, ["examples/javascript/quickstart.ts"]],
  ["Python", "python3", ["examples/python/quickstart.py"]],
  ["cURL", "bash", ["examples/curl/quickstart.sh"]],
];

const only = process.env.EXAMPLES?.split(",");
const selected = EXAMPLES.filter(([name]) => !only || only.includes(name));
const fixtures = await startFixtureServer();
const server = await startServer(Number(process.env.EXAMPLES_PORT ?? 8797));
let failed = 0;
try {
  for (const [name, cmd, args] of selected) {
    const started = Date.now();
    // Asynchronously: the page the examples capture is served from this very process.
    const run = await new Promise((resolve) => {
      const child = spawn(cmd, args, {
        cwd: new URL("..", import.meta.url),
        env: {
          ...process.env,
          SNAPTRACK_URL: server.origin,
          TARGET_URL: `${fixtures.origin}/colors`,
          // A page whose text changes between its first and second capture (test/fixtures/pages.mjs).
          CHANGING_URL: `${fixtures.origin}/seq?t=${name}-${Date.now()}&v=a,b`,
        },
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
      child.on("error", (error) => resolve({ status: null, stdout, stderr, error }));
      child.on("close", (status) => {
        clearTimeout(timer);
        resolve({ status, stdout, stderr });
      });
    });
    const ok = run.status === 0;
    if (!ok) failed++;
    console.log(`${ok ? "✓" : "✗"} ${name} example (${Date.now() - started} ms)`);
    if (!ok) console.log(`${run.stdout}\n${run.stderr}${run.error ? `\n${run.error}` : ""}`);
  }
} finally {
  if (failed > 0) console.log(`--- server log ---\n${server.log().slice(-6000)}`);
  await server.stop();
  await fixtures.close();
}
console.log(`examples: ${selected.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
