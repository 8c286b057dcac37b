import { type GuardedPage, type PageText, type Shot, thumbnail } from "./page";

/** A capture keeps at most this much visible text (UTF-8 bytes); longer pages keep their first part. */
export const MAX_TEXT_BYTES = 256 * 1024;
/** Texts of ignored elements kept per capture, each at most this long (they only ever make lines equal). */
const MAX_IGNORED = 100;
const MAX_IGNORED_LENGTH = 500;

/**
 * The page's visible text as the contract keeps it: the `innerText` of the capture's
 * `selector` element, else of `body`, whitespace-normalised, one line per block, at most
 * MAX_TEXT_BYTES. One evaluation, after the picture (so hidden elements stay hidden); with it
 * the text of the elements whose boxes the comparison ignores. Null when the page has no such
 * element or the page cannot be read any more: the capture is kept without text, never failed
 * for it.
 */
export async function pageText(
  g: GuardedPage,
  opts: { selector?: string | null },
  ignore: string[] = [],
): Promise<PageText | null> {
  try {
    return (await g.trace.span("text", () =>
      g.page.evaluate(`(() => {
    const clip = ${JSON.stringify(opts.selector ?? null)}, selectors = ${JSON.stringify(ignore)};
    const root = clip ? document.querySelector(clip) : document.body;
    if (!root) return null;
    const lines = (el) => String(el.innerText || "").split("\\n").map((l) => l.replace(/\\s+/g, " ").trim()).filter(Boolean);
    const encoder = new TextEncoder(), max = ${MAX_TEXT_BYTES};
    const kept = [];
    let size = 0;
    for (let line of lines(root)) {
      const room = max - size - (kept.length ? 1 : 0);
      if (room <= 0) break;
      let bytes = encoder.encode(line).length;
      // At most 3 bytes a UTF-16 unit: a line cut to a third of the room fits.
      if (bytes > room) { line = line.slice(0, Math.floor(room / 3)); bytes = encoder.encode(line).length; }
      if (!line) break;
      kept.push(line);
      size += bytes + (kept.length > 1 ? 1 : 0);
    }
    const ignored = [];
    for (const s of selectors) {
      let found = [];
      try { found = document.querySelectorAll(s); } catch { continue; }
      for (const el of found) for (const l of lines(el)) if (ignored.length < ${MAX_IGNORED}) ignored.push(l.slice(0, ${MAX_IGNORED_LENGTH}));
    }
    return { text: kept.join("\\n"), ignored };
  })()`),
    )) as PageText | null;
  } catch {
    return null;
  }
}

/**
 * What a shot keeps besides its picture, read from the page as it is right after it: the
 * gallery thumbnail (a second picture, so never taken at once with the first) and the text,
 * asked for together.
 */
export async function withThumbAndText(
  g: GuardedPage,
  shot: Shot,
  opts: { selector?: string | null },
  ignore: string[] = [],
): Promise<Shot> {
  const [thumb, text] = await Promise.all([thumbnail(g), pageText(g, opts, ignore)]);
  if (thumb) shot.thumb = thumb;
  if (text) shot.text = text;
  return shot;
}
