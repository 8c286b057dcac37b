#!/usr/bin/env node
// Static assets the Worker serves itself (no CDN): the API reference's script for /docs, and
// the landing page's picture (assets/landing/, made by scripts/landing-shot.mjs).
// Copied from node_modules into public/ (git-ignored). This is the Worker's build step:
// wrangler.toml's [build] command, which wrangler runs before `dev` (npm start) and `deploy`,
// and vitest.config.ts runs for the test pool.
import { copyFileSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = new URL("..", import.meta.url);
const target = new URL("public/docs/", ROOT);
mkdirSync(target, { recursive: true });
// The package exports no path to its browser bundle, so it is found beside package.json.
const pkg = join(fileURLToPath(ROOT), "node_modules", "@scalar", "api-reference");
copyFileSync(join(pkg, "dist", "browser", "standalone.js"), new URL("scalar.js", target));
console.log("[assets] public/docs/scalar.js");

const landing = new URL("public/landing/", ROOT);
mkdirSync(landing, { recursive: true });
for (const file of readdirSync(new URL("assets/landing/", ROOT))) {
  copyFileSync(new URL(`assets/landing/${file}`, ROOT), new URL(file, landing));
  console.log(`[assets] public/landing/${file}`);
}
