import { diffArrays } from "diff";
import type { Trigger } from "./settings";

/** `comparison.text` lists at most this many added (and removed) lines; the counts are exact. */
export const MAX_LISTED_LINES = 50;
/** A listed line is cut to this many characters (one long line must not fill an email or a webhook body). */
export const MAX_LINE_LENGTH = 500;
/**
 * The line diff (jsdiff's Myers) gives up past this many edits or this long and the lines are
 * compared as multisets instead (what was added and removed, not where): two unrelated 256 KB
 * pages stay within the Worker's time and memory.
 */
const MAX_EDITS = 4_000;
const MAX_DIFF_MS = 2_000;

export interface TextComparison {
  changed: boolean;
  added_count: number;
  removed_count: number;
  added: string[];
  removed: string[];
}

export const UNCHANGED_TEXT: TextComparison = {
  changed: false,
  added_count: 0,
  removed_count: 0,
  added: [],
  removed: [],
};

/**
 * A capture's text as the comparison sees it: its lines with the text of ignored elements
 * (`ignore_selectors`, of either capture) taken out, and lines left empty dropped.
 */
export function comparableLines(text: string, ignored: readonly string[]): string[] {
  const snippets = [...new Set(ignored.filter((s) => s.length > 0))].sort((a, b) => b.length - a.length);
  const lines: string[] = [];
  for (const raw of text.split("\n")) {
    let line = raw;
    for (const s of snippets) if (line.includes(s)) line = line.split(s).join(" ");
    line = snippets.length ? line.replace(/\s+/g, " ").trim() : line.trim();
    if (line) lines.push(line);
  }
  return lines;
}

const listed = (lines: string[]) =>
  lines.slice(0, MAX_LISTED_LINES).map((l) => (l.length > MAX_LINE_LENGTH ? `${l.slice(0, MAX_LINE_LENGTH - 1)}…` : l));

/** The lines added to and removed from `before`, in page order (a line diff: a moved line is both). */
export function compareLines(before: string[], after: string[]): TextComparison {
  const added: string[] = [];
  const removed: string[] = [];
  const changes = diffArrays(before, after, { maxEditLength: MAX_EDITS, timeout: MAX_DIFF_MS });
  if (changes) {
    for (const c of changes) {
      if (c.added) added.push(...c.value);
      else if (c.removed) removed.push(...c.value);
    }
  } else {
    // Too different to diff in bounded time: what is in one and not the other, as multisets.
    const counts = new Map<string, number>();
    for (const l of before) counts.set(l, (counts.get(l) ?? 0) + 1);
    for (const l of after) {
      const n = counts.get(l) ?? 0;
      if (n > 0) counts.set(l, n - 1);
      else added.push(l);
    }
    for (const l of before) {
      const n = counts.get(l) ?? 0;
      if (n > 0) {
        counts.set(l, n - 1);
        removed.push(l);
      }
    }
  }
  return {
    changed: added.length > 0 || removed.length > 0,
    added_count: added.length,
    removed_count: removed.length,
    added: listed(added),
    removed: listed(removed),
  };
}

function found(trigger: Trigger, text: string): boolean {
  if (!trigger.regex) return text.includes(trigger.value);
  try {
    return new RegExp(trigger.value, "m").test(text);
  } catch {
    return false; // checked when stored; an engine that reads it differently never fires
  }
}

/**
 * The triggers that fire: `text_appears` when its value is in the capture's text and not in
 * the baseline's, `text_disappears` the other way round.
 */
export function firedTriggers(triggers: readonly Trigger[], before: string[], after: string[]): Trigger[] {
  if (triggers.length === 0) return [];
  const a = before.join("\n");
  const b = after.join("\n");
  return triggers.filter((t) => {
    const inBefore = found(t, a);
    const inAfter = found(t, b);
    return t.type === "text_appears" ? inAfter && !inBefore : inBefore && !inAfter;
  });
}
