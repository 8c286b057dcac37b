// The toolchain the project carries: its own Node, one wrangler/miniflare/workerd for dev
// and tests, and a compatibility date that runtime supports.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { test } from "node:test";
import semver from "semver";
import { ROOT } from "./local-server.mjs";

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
const pinnedNode = pkg.devDependencies.node;

/** Every package.json under node_modules, nested ones included. */
function installedPackages() {
  const found = [];
  const walk = (dir) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      if (name.startsWith(".")) continue;
      if (name.startsWith("@")) {
        walk(join(dir, name));
        continue;
      }
      const path = join(dir, name, "package.json");
      if (existsSync(path)) found.push({ path, pkg: JSON.parse(readFileSync(path, "utf8")) });
      walk(join(dir, name, "node_modules"));
    }
  };
  walk(join(ROOT, "node_modules"));
  return found;
}

test("npm scripts run on the project's own Node, an LTS line, pinned exactly", () => {
  assert.ok(semver.valid(pinnedNode), `devDependencies.node is an exact version, not ${pinnedNode}`);
  assert.equal(semver.major(pinnedNode) % 2, 0, "even majors are the LTS lines");
  assert.equal(process.versions.node, pinnedNode);
});

test("every installed package supports that Node (what npm's EBADENGINE would check)", () => {
  const unsupported = installedPackages()
    .filter(({ pkg }) => typeof pkg.engines?.node === "string")
    .filter(({ pkg }) => !semver.satisfies(pinnedNode, pkg.engines.node, { includePrerelease: true }))
    .map(({ pkg }) => `${pkg.name}@${pkg.version} wants node ${pkg.engines.node}`);
  assert.deepEqual(unsupported, []);
});

test("wrangler (npm start) and the vitest plugin (npm test) run one and the same miniflare and workerd", () => {
  const copies = installedPackages().filter(({ pkg }) => pkg.name === "miniflare" || pkg.name === "workerd");
  assert.deepEqual(copies.map(({ path }) => path.slice(ROOT.length + 1)).sort(), [
    "node_modules/miniflare/package.json",
    "node_modules/workerd/package.json",
  ]);
  const resolveFrom = (name) => createRequire(join(ROOT, "node_modules", name, "package.json"));
  const fromWrangler = resolveFrom("wrangler").resolve("miniflare");
  const fromPlugin = resolveFrom("@cloudflare/vitest-plugin").resolve("miniflare");
  assert.equal(fromWrangler, fromPlugin);
  assert.ok(
    !installedPackages().some(({ pkg }) => pkg.name === "@cloudflare/vitest-pool-workers"),
    "the renamed package is gone",
  );
});

test("wrangler.toml's compatibility_date is one the installed workerd supports", () => {
  const date = readFileSync(join(ROOT, "wrangler.toml"), "utf8").match(/^compatibility_date = "(.+)"$/m)?.[1];
  const { compatibilityDate } = createRequire(import.meta.url)("workerd");
  assert.ok(date && compatibilityDate, "both dates found");
  assert.ok(date <= compatibilityDate, `${date} is newer than workerd's ${compatibilityDate}`);
});
