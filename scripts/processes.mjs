// The processes one `npm start` owns, found through /proc (Linux).
//
// scripts/dev.mjs gives wrangler a tag in its environment (inherited by workerd and every
// other child) and a TMPDIR of its own. Chromium is started by miniflare with an empty
// environment and in a session of its own, so neither the tag nor the process group reaches
// it; its profile (`--user-data-dir`) lies under that TMPDIR, and every Chromium process
// names it on its command line, its crash handler too (the local wrapper puts the handler's
// database in the profile: scripts/setup-browser.mjs).
import { existsSync, readdirSync, readFileSync } from "node:fs";

export const TAG_VAR = "SNAPTRACK_DEV";

const read = (path) => {
  try {
    return readFileSync(path);
  } catch {
    return null; // gone, or not ours to read
  }
};

/** Every process on the machine: pid, command line, and whether `owner` matches it. */
export function listProcesses() {
  if (!existsSync("/proc/self/cmdline")) return [];
  const list = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const cmdline = read(`/proc/${name}/cmdline`);
    if (!cmdline || cmdline.length === 0) continue; // kernel threads, zombies
    // stat: "pid (comm) state ppid …"; comm may hold spaces and parentheses, so read after the last ")".
    const ppid = Number(read(`/proc/${name}/stat`)?.toString().split(")").pop().trim().split(" ")[1]);
    list.push({ pid: Number(name), ppid, cmdline: cmdline.toString().replaceAll("\0", " ").trim() });
  }
  return list;
}

/** The processes of one `npm start`: tagged in their environment, or running under its TMPDIR. */
export function ownedProcesses({ tag, tmpDir }) {
  const needle = Buffer.from(`${TAG_VAR}=${tag}\0`);
  return listProcesses().filter(({ pid, cmdline }) => {
    if (pid === process.pid) return false;
    if (tmpDir && cmdline.includes(tmpDir)) return true;
    return read(`/proc/${pid}/environ`)?.includes(needle) ?? false;
  });
}

/**
 * The browsers among them, one per Chromium main process. Its helpers (zygotes, renderers,
 * GPU, utilities) carry a --type, or, for a moment after they are forked, are children of
 * a Chromium process; the crash handlers are programs of their own.
 */
export function browserTrees(processes) {
  const isChromium = ({ cmdline }) =>
    /^(chromium|chrome|headless_shell|chromium-headless-shell)$/.test(cmdline.split(" ")[0].split("/").pop());
  const chromium = new Set(processes.filter(isChromium).map((p) => p.pid));
  return processes.filter((p) => chromium.has(p.pid) && !p.cmdline.includes(" --type=") && !chromium.has(p.ppid));
}
