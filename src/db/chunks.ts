/** D1 binds at most 100 parameters per query: id lists go in slices of this many (room for the rest). */
export const IDS_PER_QUERY = 90;

/** `items` in consecutive slices of at most `size`. */
export function chunks<T>(items: readonly T[], size = IDS_PER_QUERY): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
