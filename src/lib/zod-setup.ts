import { z } from "zod";

/** Optimal string alignment distance: edits, with a swap of two neighbours counting as one. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => d[i]?.[j] as number;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        row[j] = Math.min(at(i, j), at(i - 2, j - 2) + 1);
    }
  }
  return at(a.length, b.length);
}

/** Case, `_` and `-` do not matter: `fullPage`, `FULL_PAGE` and `full-page` are all `full_page`. */
const loose = (key: string) => key.toLowerCase().replace(/[_-]/g, "");

/**
 * The known key an unknown one was most likely meant to be: the same up to case and
 * underscores, or at most two edits away (one for short keys). Undefined when none is close.
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const wanted = loose(key);
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(wanted, loose(candidate));
    const allowed = Math.min(2, Math.floor(Math.max(wanted.length, loose(candidate).length) / 3));
    if (distance <= allowed && (!best || distance < best.distance)) best = { key: candidate, distance };
  }
  return best?.key;
}

/** The keys a strict object schema knows (`issue.inst` of an `unrecognized_keys` issue). */
function knownKeys(inst: unknown): string[] {
  const shape = (inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def?.shape;
  return shape ? Object.keys(shape) : [];
}

/** "Unknown field `fullPage`; did you mean `full_page`?" — one clause per unknown key. */
export function unknownKeysMessage(keys: readonly string[], known: readonly string[]): string {
  const guesses = keys.map((key) => ({ key, guess: closestKey(key, known) }));
  if (guesses.length === 1) {
    const { key, guess } = guesses[0] as { key: string; guess?: string };
    return `Unknown field \`${key}\`${guess ? `; did you mean \`${guess}\`?` : ""}`;
  }
  const described = guesses.map(({ key, guess }) => (guess ? `\`${key}\` (did you mean \`${guess}\`?)` : `\`${key}\``));
  return `Unknown fields: ${described.join(", ")}`;
}

// Messages a user reads in 422 `errors`: short and specific.
z.config({
  customError: (issue) => {
    if (issue.code === "invalid_type" && issue.input === undefined) return "Is required";
    if (issue.code === "unrecognized_keys") return unknownKeysMessage(issue.keys, knownKeys(issue.inst));
    return undefined;
  },
});
