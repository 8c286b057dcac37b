import { PngWriter, pngRows } from "./png";
import type { Box } from "./rows";

/** The part of the diff an alert email shows, at most this many image pixels, before scaling. */
const WINDOW = { width: 1200, height: 900 };
/** Shown at most this wide (email readers fit ~600 px). */
const TARGET_WIDTH = 600;

/**
 * A small picture of a change for alert emails: the diff image (changes in red over the faded
 * capture) around its largest changed region, scaled down by averaging, as a PNG of at most
 * `maxBytes` (halved again while larger). Read in rows from the stored diff, so the Worker
 * holds one source row and the small picture. Null when even the smallest size is too large.
 */
export async function diffPreview(
  diff: ReadableStream<Uint8Array>,
  regions: readonly Box[],
  maxBytes: number,
): Promise<Uint8Array | null> {
  const rows = await pngRows(diff);
  try {
    const win = window(rows.width, rows.height, regions);
    const k = Math.max(1, Math.ceil(win.width / TARGET_WIDTH));
    const outW = Math.max(1, Math.floor(win.width / k));
    const outH = Math.max(1, Math.floor(win.height / k));
    const out = new Uint8Array(outW * outH * 3);
    const row = new Uint8Array(rows.width * 4);
    const sums = new Uint32Array(outW * 3);
    for (let y = 0; y < win.y + outH * k; y++) {
      await rows.readRow(row, rows.width);
      if (y < win.y) continue;
      for (let ox = 0; ox < outW; ox++) {
        for (let dx = 0; dx < k; dx++) {
          const i = (win.x + ox * k + dx) * 4;
          sums[ox * 3] = (sums[ox * 3] as number) + (row[i] as number);
          sums[ox * 3 + 1] = (sums[ox * 3 + 1] as number) + (row[i + 1] as number);
          sums[ox * 3 + 2] = (sums[ox * 3 + 2] as number) + (row[i + 2] as number);
        }
      }
      if ((y - win.y + 1) % k === 0) {
        const oy = (y - win.y + 1) / k - 1;
        for (let i = 0; i < sums.length; i++) out[oy * outW * 3 + i] = Math.round((sums[i] as number) / (k * k));
        sums.fill(0);
      }
    }
    let img = { width: outW, height: outH, rgb: out };
    for (let tries = 0; tries < 4; tries++) {
      const png = await encode(img.width, img.height, img.rgb);
      if (png.byteLength <= maxBytes) return png;
      if (img.width < 40 || img.height < 40) break;
      img = half(img);
    }
    return null;
  } finally {
    await rows.close();
  }
}

/**
 * The window around the largest region (from its top-left corner when it is larger than the
 * window; the top of the image when there is none), clamped to the image.
 */
function window(width: number, height: number, regions: readonly Box[]): Box {
  const w = Math.min(width, WINDOW.width);
  const h = Math.min(height, WINDOW.height);
  const largest = [...regions].sort((a, b) => b.width * b.height - a.width * a.height)[0];
  if (!largest) return { x: 0, y: 0, width: w, height: h };
  const cx = largest.width > w ? largest.x + w / 2 : largest.x + largest.width / 2;
  const cy = largest.height > h ? largest.y + h / 2 : largest.y + largest.height / 2;
  const x = Math.round(Math.min(Math.max(0, cx - w / 2), width - w));
  const y = Math.round(Math.min(Math.max(0, cy - h / 2), height - h));
  return { x, y, width: w, height: h };
}

function half(img: { width: number; height: number; rgb: Uint8Array }) {
  const width = Math.floor(img.width / 2);
  const height = Math.floor(img.height / 2);
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        const at = (yy: number, xx: number) => img.rgb[(yy * img.width + xx) * 3 + c] as number;
        rgb[(y * width + x) * 3 + c] = Math.round(
          (at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x) + at(2 * y + 1, 2 * x + 1)) / 4,
        );
      }
    }
  }
  return { width, height, rgb };
}

async function encode(width: number, height: number, rgb: Uint8Array): Promise<Uint8Array> {
  const writer = new PngWriter(width, height);
  try {
    for (let y = 0; y < height; y++) await writer.writeRow(rgb.subarray(y * width * 3, (y + 1) * width * 3));
    const parts = await writer.finish();
    const total = parts.reduce((n, p) => n + p.byteLength, 0);
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      bytes.set(p, at);
      at += p.byteLength;
    }
    return bytes;
  } catch (err) {
    await writer.abort();
    throw err;
  }
}
