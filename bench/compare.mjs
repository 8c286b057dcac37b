// `npm run bench compare`: memory and time of one change-detection comparison, run with the
// very module the Worker uses (src/compare, bundled by esbuild for node), in a child process
// per case so each peak is its own. Prints, per case, the peak RSS growth over the child's
// settled start (what the comparison itself needed) and the time; next to it, for PNG, the
// same pair decoded whole and compared by one pixelmatch call (the naive design).
// Images are made first (a page-like layout with a 40×40 change near the bottom) and read
// from files, so making them is not measured. JPEG and WebP (made by Chromium from the same
// pixels, quality 80) go the Worker's way: each transcoded to PNG in Chromium with the
// Worker's own module (src/capture/transcode.ts, driven here through puppeteer-core over CDP
// as the Worker drives the Browser binding), the PNG streamed to a file (R2 in the Worker),
// then the banded comparison; the peak is the node side's (what the Worker would hold: the
// CDP messages, base64 pieces and bytes), Chromium's own memory is not the Worker's. Next to
// it, the other browser route: a CDP screenshot of the image in an <img>, which hands the
// whole PNG back in one message.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import puppeteer from "puppeteer-core";

const root = fileURLToPath(new URL("..", import.meta.url));
const VIEWPORT = [1280, 800];
const FULL_PAGE = [1280, 16000];
// The same browser the local Browser binding runs (scripts/setup-browser.mjs).
const CHROMIUM = process.env.CHROMIUM ?? "/usr/lib/chromium/chromium-headless-shell";

async function bundle(dir) {
  const out = join(dir, "compare.mjs");
  await build({
    stdin: {
      contents: `export { compareSources } from "./src/compare/compare.ts";
        export { pngRows, PngWriter } from "./src/compare/png.ts";
        export { transcodeToPng } from "./src/capture/transcode.ts";
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

/** The same picture as `pixel`, drawn by Chromium and encoded as JPEG or WebP (quality 80). */
async function makeLossy(browser, path, [w, h], changed, format) {
  const page = await browser.newPage();
  try {
    const b64 = await page.evaluate(
      async (src, w, h, changed, type) => {
        const pixel = new Function(`return ${src}`)();
        const canvas = new OffscreenCanvas(w, h);
        const ctx = canvas.getContext("2d");
        const band = 256;
        for (let y0 = 0; y0 < h; y0 += band) {
          const rows = Math.min(band, h - y0);
          const img = ctx.createImageData(w, rows);
          for (let y = 0; y < rows; y++)
            for (let x = 0; x < w; x++) {
              const [r, g, b] = pixel(x, y0 + y, h, changed);
              const o = (y * w + x) * 4;
              img.data[o] = r;
              img.data[o + 1] = g;
              img.data[o + 2] = b;
              img.data[o + 3] = 255;
            }
          ctx.putImageData(img, 0, y0);
        }
        const blob = await canvas.convertToBlob({ type, quality: 0.8 });
        const u = new Uint8Array(await blob.arrayBuffer());
        let s = "";
        for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode.apply(null, u.subarray(i, i + 0x8000));
        return btoa(s);
      },
      pixel.toString(),
      w,
      h,
      changed,
      `image/${format}`,
    );
    writeFileSync(path, Buffer.from(b64, "base64"));
  } finally {
    await page.close();
  }
}

// --- child: one comparison, measured ---
async function child([bundlePath, mode, format, w, h, basePath, curPath, wsEndpoint]) {
  if (mode !== "banded" && mode !== "whole") return lossyChild(bundlePath, mode, format, basePath, curPath, wsEndpoint);
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

/**
 * JPEG/WebP as the Worker does it: each image transcoded in Chromium (a fresh context) and its
 * PNG streamed to a file, then the banded comparison of the two PNGs. `screenshot` instead
 * measures the other route: the image in an <img>, a CDP screenshot of it (one message).
 */
async function lossyChild(bundlePath, mode, format, basePath, curPath, wsEndpoint) {
  const mod = await import(bundlePath);
  const { Readable, Writable } = await import("node:stream");
  const { createReadStream, createWriteStream, readFileSync } = await import("node:fs");
  const pptr = (await import("puppeteer-core")).default;
  const browser = await pptr.connect({ browserWSEndpoint: wsEndpoint });
  const context = await browser.createBrowserContext();
  const opened = await context.newPage();
  // `transcoded-gc`: a full GC after every CDP message, so the peak is what is live at once
  // (node's V8 otherwise lets large strings pile up until it chooses to collect; a Worker's V8
  // collects before it would pass the isolate's limit).
  const page =
    mode === "transcoded-gc"
      ? {
          async evaluate(expression) {
            const out = await opened.evaluate(expression);
            globalThis.gc();
            return out;
          },
        }
      : opened;
  const type = `image/${format}`;
  const pngSource = (path) => ({
    format: "png",
    stream: async () => Readable.toWeb(createReadStream(path, { highWaterMark: 64 * 1024 })),
  });
  globalThis.gc();
  const before = process.memoryUsage().rss;
  const started = performance.now();
  let transcodeMs = 0;
  let transcodePeakMb = 0;
  let sizes = "";
  let outcome;
  try {
    for (const path of [basePath, curPath]) {
      const out = `${path}.cmp.png`;
      if (mode !== "screenshot") {
        const png = await mod.transcodeToPng(
          page,
          Readable.toWeb(createReadStream(path, { highWaterMark: 64 * 1024 })),
          type,
        );
        const sink = Writable.toWeb(createWriteStream(out)).getWriter();
        for await (const piece of png.chunks()) await sink.write(piece);
        await sink.close();
      } else {
        // The whole image goes in one message (base64 in a data: URL), the whole PNG comes back in one.
        const b64 = readFileSync(path).toString("base64");
        const size = await opened.evaluate(async (src) => {
          document.body.style.margin = "0";
          const img = document.createElement("img");
          img.src = src;
          document.body.replaceChildren(img);
          await img.decode();
          return { width: img.naturalWidth, height: img.naturalHeight };
        }, `data:${type};base64,${b64}`);
        await opened.setViewport(size);
        const shot = await opened.screenshot({ type: "png", clip: { x: 0, y: 0, ...size } });
        const { writeFileSync } = await import("node:fs");
        writeFileSync(out, shot);
      }
    }
    transcodeMs = performance.now() - started;
    transcodePeakMb = (process.resourceUsage().maxRSS * 1024 - before) / 1e6;
    const { statSync } = await import("node:fs");
    const mb = (p) => (statSync(p).size / 1e6).toFixed(2);
    sizes = `${format} ${mb(basePath)}+${mb(curPath)} MB → PNG ${mb(`${basePath}.cmp.png`)}+${mb(`${curPath}.cmp.png`)} MB; `;
    const { result } = await mod.compareSources(pngSource(`${basePath}.cmp.png`), pngSource(`${curPath}.cmp.png`), {
      threshold: 0.1,
      tile_threshold: 2,
      ignore: [],
    });
    outcome = `${sizes}changed=${result.changed} px=${result.changed_pixels} regions=${JSON.stringify(result.regions)}`;
  } catch (err) {
    outcome = `failed: ${err.message}`;
  }
  const ms = performance.now() - started;
  const peak = process.resourceUsage().maxRSS * 1024;
  await context.close();
  await browser.disconnect();
  process.stdout.write(JSON.stringify({ ms, transcodeMs, transcodePeakMb, peakMb: (peak - before) / 1e6, outcome }));
}

export async function benchCompare() {
  const dir = mkdtempSync(join(tmpdir(), "snaptrack-compare-"));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: "shell",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  try {
    const bundlePath = await bundle(dir);
    const mod = await import(bundlePath);
    const cases = [
      ["png", VIEWPORT],
      ["png", FULL_PAGE],
      ["jpeg", VIEWPORT],
      ["jpeg", FULL_PAGE],
      ["webp", VIEWPORT],
      ["webp", FULL_PAGE],
    ];
    console.log(
      "\nChange detection: one comparison (baseline vs a 40×40 change), peak memory over the process's start",
    );
    console.log("case                         design                                  time   peak mem   outcome");
    for (const [format, size] of cases) {
      const base = join(dir, `a.${format}`);
      const cur = join(dir, `b.${format}`);
      if (format === "png") {
        await makePng(mod, base, size, false);
        await makePng(mod, cur, size, true);
      } else {
        await makeLossy(browser, base, size, false, format);
        await makeLossy(browser, cur, size, true, format);
      }
      const modes = format === "png" ? ["banded", "whole"] : ["transcoded", "transcoded-gc", "screenshot"];
      for (const mode of modes) {
        const out = execFileSync(
          process.execPath,
          [
            "--expose-gc",
            fileURLToPath(import.meta.url),
            "child",
            bundlePath,
            mode,
            format,
            ...size,
            base,
            cur,
            browser.wsEndpoint(),
          ],
          { encoding: "utf8", maxBuffer: 1 << 20 },
        );
        const r = JSON.parse(out);
        const label = `${format} ${size[0]}×${size[1]}`.padEnd(28);
        const design = {
          banded: "bands (Worker)",
          whole: "whole+pixelmatch",
          transcoded: "canvas→PNG+bands",
          "transcoded-gc": "same, GC per msg",
          screenshot: "<img> shot+bands",
        }[mode].padEnd(17);
        const time = r.transcodeMs
          ? `${r.ms.toFixed(0)} ms (transcode ${r.transcodeMs.toFixed(0)})`
          : `${r.ms.toFixed(0)} ms`;
        const peak = r.transcodeMs
          ? `${r.peakMb.toFixed(1)} MB (transcode ${r.transcodePeakMb.toFixed(1)})`
          : `${r.peakMb.toFixed(1)} MB`;
        console.log(`${label} ${design} ${time.padStart(26)} ${peak.padStart(25)}   ${r.outcome.slice(0, 130)}`);
      }
    }
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "child") await child(process.argv.slice(3));
