/** A share (0–1) as people read it: "0.42 %", "< 0.01 %" for a few pixels, "0 %" for none. */
export function percent(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined) return "–";
  if (ratio === 0) return "0 %";
  const p = ratio * 100;
  if (p < 0.01) return "< 0.01 %";
  return `${p < 10 ? p.toFixed(2) : p.toFixed(1)} %`;
}

/** "1 region", "3 regions". */
export const plural = (n: number, one: string, many = `${one}s`) =>
  `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
