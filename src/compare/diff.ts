import pixelmatch from "pixelmatch";
import { PngWriter } from "./png";
import { mergeRegions } from "./regions";
import type { Box, RowReader } from "./rows";

export type { Box } from "./rows";

export interface CompareSettings {
  /** % of the compared area that must differ. */
  threshold: number;
  /** % of any 64×64 tile that must differ. */
  tile_threshold: number;
  /** Boxes (image pixels) left out of the comparison: measured elements and fixed regions. */
  ignore: Box[];
}

export interface CompareResult {
  changed: boolean;
  changed_pixels: number;
  compared_pixels: number;
  /** Changed ÷ compared pixels (0–1). */
  change_ratio: number;
  /** The largest changed ÷ compared of one 64×64 tile (0–1). */
  max_tile_ratio: number;
  regions: Box[];
  size_changed: boolean;
  width: number;
  height: number;
}

/** Rows per band: a multiple of the tile size, so a tile never straddles two bands. */
export const BAND_ROWS = 256;
export const TILE = 64;
/** pixelmatch's anti-aliasing test looks up to two pixels away: bands read that much context. */
const CONTEXT = 2;
/** pixelmatch's colour threshold (YIQ): the contract's per-pixel rule. */
const COLOUR_THRESHOLD = 0.1;
const FADE = 0.1;

/**
 * Compares `current` with `baseline` in bands of BAND_ROWS rows, so memory is a few bands
 * whatever the height: each band (with CONTEXT rows either side, counted only once) goes
 * through pixelmatch as a mask, ignored boxes are made equal in the copy first (the stored
 * images are never touched), and the diff PNG (the current image faded, changed pixels red)
 * is written row by row as it goes. Sizes that differ compare their common area; the diff
 * has the current image's size.
 */
export async function compareImages(
  baseline: RowReader,
  current: RowReader,
  settings: CompareSettings,
): Promise<{ result: CompareResult; diff: Uint8Array[] }> {
  const width = Math.min(baseline.width, current.width);
  const height = Math.min(baseline.height, current.height);
  const sizeChanged = baseline.width !== current.width || baseline.height !== current.height;
  const cap = BAND_ROWS + 2 * CONTEXT;
  const a = new Uint8Array(width * cap * 4);
  const b = new Uint8Array(width * cap * 4);
  const full = new Uint8Array(current.width * cap * 4);
  const mask = new Uint8Array(width * cap * 4);
  const ignored = new Uint8Array(width * cap);
  const rgb = new Uint8Array(current.width * 3);
  const writer = new PngWriter(current.width, current.height);

  const tilesAcross = Math.ceil(width / TILE);
  const tileChanged = new Uint32Array(tilesAcross);
  const tileCompared = new Uint32Array(tilesAcross);
  const tileBoxes: (Box | null)[] = new Array(tilesAcross).fill(null);
  const boxes: Box[] = [];
  let changed = 0;
  let compared = 0;
  let maxTile = 0;

  // Rows [top, top + have) of both images are in the buffers.
  let top = 0;
  let have = 0;
  const fill = async (until: number) => {
    for (let y = top + have; y < until; y++, have++) {
      const at = have * width * 4;
      await baseline.readRow(a.subarray(at, at + width * 4), width);
      const fullAt = have * current.width * 4;
      const row = full.subarray(fullAt, fullAt + current.width * 4);
      await current.readRow(row, current.width);
      b.set(row.subarray(0, width * 4), at);
    }
  };

  try {
    for (let y0 = 0; y0 < height; y0 += BAND_ROWS) {
      const y1 = Math.min(height, y0 + BAND_ROWS);
      const start = Math.max(0, y0 - CONTEXT);
      // Keep the rows this band shares with the last one; read the rest.
      const keep = top + have - start;
      if (keep > 0 && start > top) {
        const from = (start - top) * width * 4;
        a.copyWithin(0, from, from + keep * width * 4);
        b.copyWithin(0, from, from + keep * width * 4);
        const fullFrom = (start - top) * current.width * 4;
        full.copyWithin(0, fullFrom, fullFrom + keep * current.width * 4);
      }
      top = start;
      have = Math.max(0, keep);
      await fill(Math.min(height, y1 + CONTEXT));
      const rows = have;
      markIgnored(ignored, settings.ignore, width, top, rows);
      for (let i = 0; i < width * rows; i++) {
        if (ignored[i]) {
          const p = i * 4;
          b[p] = a[p] as number;
          b[p + 1] = a[p + 1] as number;
          b[p + 2] = a[p + 2] as number;
          b[p + 3] = a[p + 3] as number;
        }
      }
      const px = width * rows * 4;
      mask.fill(0, 0, px);
      pixelmatch(a.subarray(0, px), b.subarray(0, px), mask.subarray(0, px), width, rows, {
        threshold: COLOUR_THRESHOLD,
        diffMask: true,
      });

      for (let y = y0; y < y1; y++) {
        const r = y - top;
        if (y % TILE === 0) {
          tileChanged.fill(0);
          tileCompared.fill(0);
          tileBoxes.fill(null);
        }
        const fullRow = full.subarray(r * current.width * 4, (r + 1) * current.width * 4);
        for (let x = 0; x < current.width; x++) {
          const p = x * 4;
          let red = false;
          if (x < width) {
            const i = r * width + x;
            if (!ignored[i]) {
              const t = (x / TILE) | 0;
              compared++;
              (tileCompared[t] as number)++;
              if (mask[i * 4 + 3] !== 0) {
                red = true;
                changed++;
                (tileChanged[t] as number)++;
                const box = tileBoxes[t];
                if (!box) tileBoxes[t] = { x, y, width: 1, height: 1 };
                else {
                  if (x < box.x) {
                    box.width += box.x - x;
                    box.x = x;
                  } else if (x >= box.x + box.width) box.width = x - box.x + 1;
                  box.height = y - box.y + 1;
                }
              }
            }
          }
          paint(rgb, x, fullRow, p, red);
        }
        await writer.writeRow(rgb);
        if (y % TILE === TILE - 1 || y === height - 1) {
          for (let t = 0; t < tilesAcross; t++) {
            const n = tileCompared[t] as number;
            if (n > 0) maxTile = Math.max(maxTile, (tileChanged[t] as number) / n);
            const box = tileBoxes[t];
            if (box) boxes.push(box);
          }
        }
      }
      have = rows;
    }
    // The current image's rows below the common area: faded, nothing to compare.
    const rowBuf = full.subarray(0, current.width * 4);
    for (let y = height; y < current.height; y++) {
      await current.readRow(rowBuf, current.width);
      for (let x = 0; x < current.width; x++) paint(rgb, x, rowBuf, x * 4, false);
      await writer.writeRow(rgb);
    }
    const diff = await writer.finish();
    const ratio = compared > 0 ? changed / compared : 0;
    const result: CompareResult = {
      changed:
        sizeChanged || (changed > 0 && (ratio * 100 >= settings.threshold || maxTile * 100 >= settings.tile_threshold)),
      changed_pixels: changed,
      compared_pixels: compared,
      change_ratio: round(ratio),
      max_tile_ratio: round(maxTile),
      regions: mergeRegions(boxes),
      size_changed: sizeChanged,
      width: current.width,
      height: current.height,
    };
    return { result, diff };
  } catch (err) {
    await writer.abort();
    throw err;
  } finally {
    await baseline.close();
    await current.close();
  }
}

const round = (n: number) => Math.round(n * 1e6) / 1e6;

/** Marks the pixels of `boxes` that fall in rows [top, top + rows) of a `width`-wide band. */
function markIgnored(out: Uint8Array, boxes: Box[], width: number, top: number, rows: number) {
  out.fill(0, 0, width * rows);
  for (const box of boxes) {
    const y0 = Math.max(top, box.y);
    const y1 = Math.min(top + rows, box.y + box.height);
    const x0 = Math.max(0, box.x);
    const x1 = Math.min(width, box.x + box.width);
    if (y0 >= y1 || x0 >= x1) continue;
    for (let y = y0; y < y1; y++) out.fill(1, (y - top) * width + x0, (y - top) * width + x1);
  }
}

/** The diff's pixel: red where changed, else the current image in faded grey (as pixelmatch draws it). */
function paint(rgb: Uint8Array, x: number, src: Uint8Array, p: number, red: boolean) {
  const o = x * 3;
  if (red) {
    rgb[o] = 255;
    rgb[o + 1] = 0;
    rgb[o + 2] = 0;
    return;
  }
  const r = src[p] as number;
  const g = src[p + 1] as number;
  const bl = src[p + 2] as number;
  const luma = r * 0.29889531 + g * 0.58662247 + bl * 0.11448223;
  const v = 255 + (luma - 255) * FADE * ((src[p + 3] as number) / 255);
  rgb[o] = v;
  rgb[o + 1] = v;
  rgb[o + 2] = v;
}
