// `npm run bench compare`: memory and time of one change-detection comparison, run with the
// very module the Worker uses (src/compare, bundled by esbuild for node), in a child process
// per case so each peak is its own. Prints, per case, the peak RSS growth over the child's
// settled start (what the comparison itself needed) and the time; next to it, for PNG, the
// same pair decoded whole and compared by one pixelmatch call (the naive design).
// Images are made first (a page-like layout with a 40×40 change near the bottom) and read
// from files, so making them is not measured.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const VIEWPORT = [1280, 800];
const FULL_PAGE = [1280, 16000];

async function bundle(dir) {
  const out = join(dir, "compare.mjs");
  await build({
    stdin: {
      contents: `export { compareSources } from "./src/compare/compare.ts";
        export { pngRows, PngWriter } from "./src/compare/png.ts";
        export { default as pixelmatch } from "pixelmatch";`,
      resolveDir: root,
      loader: "ts",
    },
    bundle: true,
    format: "esm",
    platform: "node",
    outfile: out,
    logLevel: "error",
  });
  return out;
}

/** A page-like picture: header bar, lines of "text", coloured cards; `changed` adds a 40×40 box near the bottom. */
function pixel(x, y, height, changed) {
  if (changed && y >= height - 120 && y < height - 80 && x >= 600 && x < 640) return [200, 30, 30];
  if (y < 64) return [32, 48, 96];
  const line = y % 24;
  if (line >= 6 && line < 18 && x >= 40 && x < 40 + ((y * 7919) % 900) + 200)
    return (x >> 3) % 5 === 4 ? [255, 255, 255] : [40, 40, 40];
  if ((y >> 8) % 3 === 1 && x > 1000 && x < 1240) return [120 + (y & 63), 180, 200];
  return [255, 255, 255];
}

async function makePng(mod, path, [w, h], changed) {
  const writer = new mod.PngWriter(w, h);
  const row = new Uint8Array(w * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) row.set(pixel(x, y, h, changed), x * 3);
    await writer.writeRow(row);
  }
  writeFileSync(path, Buffer.concat(await writer.finish()));
}

// --- child: one comparison, measured ---
async function child([bundlePath, mode, format, w, h, basePath, curPath]) {
  const mod = await import(bundlePath);
  const { Readable } = await import("node:stream");
  const { createReadStream } = await import("node:fs");
  const source = (path) => ({
    format,
    stream: async () => Readable.toWeb(createReadStream(path, { highWaterMark: 64 * 1024 })),
  });
  globalThis.gc();
  const before = process.memoryUsage().rss;
  const started = performance.now();
  let outcome;
  try {
    if (mode === "banded") {
      const { result, diff } = await mod.compareSources(source(basePath), source(curPath), {
        threshold: 0.1,
        tile_threshold: 2,
        ignore: [],
      });
      outcome = `changed=${result.changed} px=${result.changed_pixels} regions=${JSON.stringify(result.regions)} diff=${(diff.reduce((n, p) => n + p.length, 0) / 1e6).toFixed(2)} MB`;
    } else {
      // The naive design: both images whole, one pixelmatch call, a whole diff buffer.
      const whole = async (path) => {
        const rows = await mod.pngRows(await source(path).stream());
        const data = new Uint8Array(rows.width * rows.height * 4);
        for (let y = 0; y < rows.height; y++) await rows.readRow(data.subarray(y * rows.width * 4), rows.width);
        return data;
      };
      const a = await whole(basePath);
      const b = await whole(curPath);
      const out = new Uint8Array(a.length);
      outcome = `px=${mod.pixelmatch(a, b, out, Number(w), Number(h), { threshold: 0.1 })}`;
    }
  } catch (err) {
    outcome = `refused: ${err.message}`;
  }
  const ms = performance.now() - started;
  const peak = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(JSON.stringify({ ms, peakMb: (peak - before) / 1e6, outcome }));
}

export async function benchCompare() {
  const dir = mkdtempSync(join(tmpdir(), "snaptrack-compare-"));
  try {
    const bundlePath = await bundle(dir);
    const mod = await import(bundlePath);
    const cases = [
      ["png", VIEWPORT],
      ["png", FULL_PAGE],
      ["jpeg", FULL_PAGE],
      ["webp", FULL_PAGE],
    ];
    console.log(
      "\nChange detection: one comparison (baseline vs a 40×40 change), peak memory over the process's start",
    );
    console.log("case                         design            time      peak memory   outcome");
    for (const [format, size] of cases) {
      const base = join(dir, `a.${format}`);
      const cur = join(dir, `b.${format}`);
      if (format === "png") {
        await makePng(mod, base, size, false);
        await makePng(mod, cur, size, true);
      } else {
        // Refused before a byte is read (no decoder here fits two of them in 128 MB).
        writeFileSync(base, "");
        writeFileSync(cur, "");
      }
      const modes = format === "png" ? ["banded", "whole"] : ["banded"];
      for (const mode of modes) {
        const out = execFileSync(
          process.execPath,
          ["--expose-gc", fileURLToPath(import.meta.url), "child", bundlePath, mode, format, ...size, base, cur],
          { encoding: "utf8", maxBuffer: 1 << 20 },
        );
        const r = JSON.parse(out);
        const label = `${format} ${size[0]}×${size[1]}`.padEnd(28);
        const design = (mode === "banded" ? "bands (Worker)" : "whole+pixelmatch").padEnd(17);
        console.log(
          `${label} ${design} ${`${r.ms.toFixed(0)} ms`.padStart(8)} ${`${r.peakMb.toFixed(1)} MB`.padStart(12)}   ${r.outcome.slice(0, 110)}`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "child") await child(process.argv.slice(3));
