import type { Box } from "./rows";

/** At most this many regions are reported. */
export const MAX_REGIONS = 20;
/** Boxes closer than this (px) are one region. */
const NEAR = 16;
/** Above this many boxes, first merge per 256×256 block to keep merging cheap. */
const COARSEN_ABOVE = 400;
const BLOCK = 256;

/**
 * The changed boxes of each tile merged into at most MAX_REGIONS boxes: neighbours (within
 * NEAR px) are joined, then the two whose union grows the least, until few enough remain.
 */
export function mergeRegions(input: Box[]): Box[] {
  let boxes = input.map((b) => ({ ...b }));
  if (boxes.length > COARSEN_ABOVE) {
    const blocks = new Map<string, Box>();
    for (const b of boxes) {
      const key = `${Math.floor(b.x / BLOCK)},${Math.floor(b.y / BLOCK)}`;
      const seen = blocks.get(key);
      blocks.set(key, seen ? union(seen, b) : b);
    }
    boxes = [...blocks.values()];
  }
  for (let merged = true; merged; ) {
    merged = false;
    for (let i = 0; i < boxes.length && !merged; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        if (gap(boxes[i] as Box, boxes[j] as Box) <= NEAR) {
          boxes[i] = union(boxes[i] as Box, boxes[j] as Box);
          boxes.splice(j, 1);
          merged = true;
          break;
        }
      }
    }
  }
  while (boxes.length > MAX_REGIONS) {
    let best = [0, 1];
    let bestGrowth = Number.POSITIVE_INFINITY;
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i] as Box;
        const b = boxes[j] as Box;
        const u = union(a, b);
        const growth = area(u) - area(a) - area(b);
        if (growth < bestGrowth) {
          bestGrowth = growth;
          best = [i, j];
        }
      }
    }
    const [i, j] = best as [number, number];
    boxes[i] = union(boxes[i] as Box, boxes[j] as Box);
    boxes.splice(j, 1);
  }
  return boxes.sort((a, b) => a.y - b.y || a.x - b.x);
}

const area = (b: Box) => b.width * b.height;

function union(a: Box, b: Box): Box {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return {
    x,
    y,
    width: Math.max(a.x + a.width, b.x + b.width) - x,
    height: Math.max(a.y + a.height, b.y + b.height) - y,
  };
}

/** Distance between two boxes (0 when they touch or overlap). */
function gap(a: Box, b: Box): number {
  const dx = Math.max(0, Math.max(a.x, b.x) - Math.min(a.x + a.width, b.x + b.width));
  const dy = Math.max(0, Math.max(a.y, b.y) - Math.min(a.y + a.height, b.y + b.height));
  return Math.max(dx, dy);
}
