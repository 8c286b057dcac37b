// `npm start` as a developer runs it, from node's test runner: on a spare port, with throwaway
// state and a TMPDIR of the test's own. Every process the server starts (npm, dev.mjs,
// wrangler, workerd, Chromium and its crash handler) either inherits that TMPDIR in its
// environment or names it on its command line (scripts/processes.mjs), so the test can count
// them, and the checks below see nothing of other servers or test runs on the machine.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { browserTrees, listProcesses } from "../../scripts/processes.mjs";

export const ROOT = join(dirname(new URL(import.meta.url).pathname), "..", "..");

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function sparePort() {
  const server = createServer();
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

/** Processes belonging to runs under `tmp` (see above). */
export function processesUnder(tmp) {
  return listProcesses().filter(({ pid, cmdline }) => {
    if (cmdline.includes(tmp)) return true;
    try {
      return readFileSync(`/proc/${pid}/environ`).includes(tmp);
    } catch {
      return false;
    }
  });
}

/** Browsers started for runs under `tmp`: Chromium's command lines name their profile there. */
export function browsersUnder(tmp) {
  return browserTrees(listProcesses().filter(({ cmdline }) => cmdline.includes(tmp)));
}

/**
 * Starts `command` (default `npm start`) in a process group of its own and waits until the
 * server answers GET /. `tty: true` runs it in a pseudo-terminal (util-linux `script`), as in
 * a developer's terminal: Ctrl-C is then typed with `ctrlC()`.
 */
export async function startServer({ tmp, state, tty = false, command = ["npm", "start"] }) {
  const port = await sparePort();
  const env = { ...process.env, PORT: String(port), SNAPTRACK_STATE_DIR: state, TMPDIR: tmp };
  const [cmd, args] = tty
    ? ["script", ["-q", "-f", "-e", "-c", command.join(" "), "/dev/null"]]
    : [command[0], command.slice(1)];
  const started = performance.now();
  const child = spawn(cmd, args, { cwd: ROOT, env, detached: true, stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d) => {
    output += d;
  });
  child.stderr.on("data", (d) => {
    output += d;
  });
  const exited = new Promise((r) => child.once("exit", (code, signal) => r({ code, signal })));
  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      const res = await fetch(`${origin}/`);
      await res.arrayBuffer();
      break;
    } catch {}
    if (Date.now() > deadline || child.exitCode !== null) {
      kill(child, tmp);
      throw new Error(`server did not start:\n${output}`);
    }
    await sleep(50);
  }
  const readyMs = Math.round(performance.now() - started);
  return {
    port,
    origin,
    readyMs,
    child,
    exited,
    output: () => output,
    /** Ctrl-C in the server's terminal (tty servers only). */
    ctrlC: () => child.stdin.write("\x03"),
    signalGroup: (signal) => process.kill(-child.pid, signal),
    kill: () => kill(child, tmp),
  };
}

/** Last resort after a failed test: nothing of the run may outlive it. */
function kill(child, tmp) {
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {}
  for (const { pid } of processesUnder(tmp)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
}

export function scratch(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** JSON request against the server; throws on a non-2xx answer. */
export async function call(origin, path, init = {}) {
  const res = await fetch(`${origin}${path}`, init);
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path} → ${res.status}: ${text}`);
  return { res, body: text ? JSON.parse(text) : null };
}

/** A Business account (60 requests a minute) with an API token: what a customer sets up. */
export async function account(origin, tag) {
  const email = `${tag}.${Date.now()}@example.com`;
  const { res } = await call(origin, "/auth/signup", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password: "correct horse battery", name: tag }),
  });
  const cookie = res.headers.getSetCookie()[0].split(";")[0];
  await call(origin, "/account/plan", {
    method: "PUT",
    headers: { "content-type": "application/json", cookie },
    body: JSON.stringify({ plan: "business" }),
  });
  const { body } = await call(origin, "/account/api-token", { method: "POST", headers: { cookie } });
  return { authorization: `Bearer ${body.token}`, "content-type": "application/json" };
}
