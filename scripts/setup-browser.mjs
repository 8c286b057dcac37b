#!/usr/bin/env node
// Idempotent local set-up for the Browser Rendering binding.
//
// miniflare (inside wrangler and inside the vitest pool) launches a pinned Chrome from the
// wrangler cache and downloads it when missing. Machines without internet cannot download,
// so on Linux we point that cache path at Debian's chromium (or SNAPTRACK_BROWSER) through a
// small wrapper. A missing chromium is installed with apt-get, saying so first, with no
// recommended packages; without root or passwordless sudo we print the command to run and
// leave Chrome to miniflare's own download (a developer laptop with internet).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

const ROOT = join(dirname(new URL(import.meta.url).pathname), "..");
// Captures run in Debian's headless shell (Chromium's old headless mode): what a capture needs,
// and each fresh browser context costs a few ms instead of a new window with its WebUI
// renderers (about 400 ms and three processes a job in the full browser, measured). The
// full `chromium` is installed beside it for the dashboard's browser tests (/usr/bin/chromium).
const DEBIAN_CHROMIUM = "/usr/lib/chromium/chromium-headless-shell";
// SNAPTRACK_BROWSER=/path/to/chrome: use that browser, install nothing.
const CHROMIUM = process.env.SNAPTRACK_BROWSER || DEBIAN_CHROMIUM;
const MARKER = "# snaptrack: wraps Debian chromium";
const APT = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium-headless-shell", "chromium"];
const log = (msg) => console.log(`[setup-browser] ${msg}`);

if (process.platform !== "linux" || process.arch !== "x64") {
  log(`${process.platform}/${process.arch}: leaving Chrome to miniflare's own download`);
  process.exit(0);
}

/** Runs a command quietly; its output is shown only when it fails. */
function quietly(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  if (r.status === 0) return true;
  process.stderr.write(`${r.stdout ?? ""}${r.stderr ?? r.error?.message ?? ""}\n`);
  return false;
}

function ensureChromium() {
  if (existsSync(CHROMIUM) && (process.env.SNAPTRACK_BROWSER || existsSync("/usr/bin/chromium"))) return true;
  if (process.env.SNAPTRACK_BROWSER) {
    log(`SNAPTRACK_BROWSER=${CHROMIUM} does not exist; set it to a Chrome or Chromium executable`);
    process.exit(1);
  }
  if (!existsSync("/usr/bin/apt-get")) {
    log(
      "no Chromium and no apt-get: miniflare will try to download Chrome (set SNAPTRACK_BROWSER=/path/to/chrome to use your own)",
    );
    return false;
  }
  const asRoot = process.getuid?.() === 0;
  const sudo = asRoot || spawnSync("sudo", ["-n", "true"], { stdio: "ignore" }).status !== 0 ? null : ["sudo", "-n"];
  if (!asRoot && !sudo) {
    log(
      [
        "captures need Chromium's headless shell, which is not installed, and installing it needs root. Either run",
        `    sudo apt-get update && sudo ${APT.filter((a) => a !== "-qq").join(" ")}`,
        "  and start again, or set SNAPTRACK_BROWSER=/path/to/chrome. Meanwhile miniflare will try to download Chrome (needs internet).",
      ].join("\n"),
    );
    return false;
  }
  log(
    "captures need a browser: installing Debian's chromium-headless-shell and chromium with apt-get (--no-install-recommends, about a minute; " +
      "SNAPTRACK_BROWSER=/path/to/chrome skips this)",
  );
  const run = (args) => (sudo ? quietly(sudo[0], [...sudo.slice(1), ...args]) : quietly(args[0], args.slice(1)));
  if (!run(["apt-get", "update", "-qq"]) || !run(APT)) {
    log(`could not install chromium (above); run \`${APT.join(" ")}\` yourself or set SNAPTRACK_BROWSER`);
    return false;
  }
  log(`installed ${DEBIAN_CHROMIUM}`);
  return existsSync(CHROMIUM);
}

// Every miniflare copy npm installed (wrangler's and the vitest pool's) pins its own version.
function pinnedVersions() {
  const versions = new Set();
  const candidates = [];
  const walk = (dir, depth) => {
    if (depth > 6 || !existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      if (name === ".bin" || name === ".cache") continue;
      const path = join(dir, name);
      if (name === "miniflare") candidates.push(join(path, "dist/src/index.js"));
      if (name.startsWith("@") || name === "node_modules") walk(path, depth + 1);
      else if (existsSync(join(path, "node_modules"))) walk(join(path, "node_modules"), depth + 1);
    }
  };
  walk(join(ROOT, "node_modules"), 0);
  for (const file of candidates) {
    if (!existsSync(file)) continue;
    const match = readFileSync(file, "utf8").match(/BROWSER_VERSION = "([\d.]+)"/);
    if (match) versions.add(match[1]);
  }
  return [...versions];
}

const cacheRoot = join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), ".wrangler", "chrome");
const versions = pinnedVersions();
if (versions.length === 0) {
  log("no miniflare found under node_modules; run npm install first");
  process.exit(1);
}
if (!ensureChromium()) process.exit(0);

// Local-only browser flags. Root needs --no-sandbox. The rest keeps Chromium on loopback:
// no background traffic, and only loopback hosts resolve — `localhost`, loopback literals
// (the product's own guard decides which of those a page may reach), and `rebind.test`,
// which the tests' fixed DNS table calls public while it answers 127.0.0.2 here (a DNS
// answer that changed between the guard and the browser). Every other name and address
// fails to resolve, so nothing is ever looked up or reached outside this machine.
const HOST_RULES = "MAP rebind.test 127.0.0.2, MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.*, EXCLUDE ::1";
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-component-update",
  "--disable-quic",
  "--disable-background-networking",
  "--disable-sync",
  "--disable-domain-reliability",
  "--no-first-run",
  `--host-resolver-rules="${HOST_RULES}"`,
].join(" ");
// Chromium's crash handler (chrome_crashpad_handler) detaches from the browser, and its
// command line names only its database, under the config directory: pointing that into the
// profile (which lies under the scratch directory of `npm start`, see scripts/processes.mjs)
// makes it findable too, and keeps crash files out of the home directory.
const wrapper = `#!/bin/sh
${MARKER}
for arg; do
  case "$arg" in --user-data-dir=*) XDG_CONFIG_HOME="\${arg#--user-data-dir=}"; export XDG_CONFIG_HOME ;; esac
done
exec "${CHROMIUM}" ${FLAGS} "$@"
`;
for (const version of versions) {
  const installDir = join(cacheRoot, `linux-${version}`);
  const exe = join(installDir, "chrome-linux64", "chrome");
  if (existsSync(exe) && !readFileSync(exe, "utf8").includes(MARKER) && statSync(exe).size > 1e6) {
    log(`Chrome ${version} already downloaded at ${exe}; keeping it`);
    continue;
  }
  const marker = join(installDir, ".miniflare-install-complete");
  if (existsSync(exe) && readFileSync(exe, "utf8") === wrapper && existsSync(marker)) continue; // as it should be
  mkdirSync(dirname(exe), { recursive: true });
  // Replaced atomically: a browser may be starting from the old wrapper right now.
  const next = `${exe}.${process.pid}`;
  writeFileSync(next, wrapper, { mode: 0o755 });
  renameSync(next, exe);
  // miniflare deletes an install it has never seen start; this marks ours as verified.
  writeFileSync(marker, "");
  log(`Chrome ${version} -> ${CHROMIUM}`);
}
