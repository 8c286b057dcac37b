import { MAX_PREFER_WAIT_SECONDS } from "./values";

/**
 * The `wait` preference of a `Prefer` header (RFC 7240), in whole seconds from 1 to
 * {@link MAX_PREFER_WAIT_SECONDS}, or undefined. Several preferences may be listed (also
 * across repeated headers, which arrive joined by commas); names are case-insensitive, a
 * value may be quoted, and parameters after `;` are ignored. The first `wait` counts
 * (§2); a `wait` that is not such a number is ignored, never refused: a preference is not
 * a requirement.
 */
export function preferredWait(header: string | null | undefined): number | undefined {
  if (!header) return undefined;
  for (const preference of splitOutsideQuotes(header, ",")) {
    const [head = ""] = splitOutsideQuotes(preference, ";");
    const eq = head.indexOf("=");
    const name = (eq === -1 ? head : head.slice(0, eq)).trim().toLowerCase();
    if (name !== "wait") continue;
    let value = eq === -1 ? "" : head.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (!/^\d{1,3}$/.test(value)) return undefined;
    const seconds = Number(value);
    return seconds >= 1 && seconds <= MAX_PREFER_WAIT_SECONDS ? seconds : undefined;
  }
  return undefined;
}

/** Splits on `separator` except inside double-quoted strings (with `\` escapes). */
function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted && ch === "\\" && i + 1 < text.length) {
      current += ch + text[++i];
      continue;
    }
    if (ch === '"') quoted = !quoted;
    if (ch === separator && !quoted) {
      parts.push(current);
      current = "";
    } else current += ch;
  }
  parts.push(current);
  return parts;
}
