import type { Mail } from "./message";

/**
 * A plain, readable message in SnapTrack's look, as HTML (inline styles only: mail readers
 * drop style sheets) and as text, from one description. Values are escaped here.
 */
export interface Composed {
  to: string;
  subject: string;
  /** Short lines shown before the button. */
  lines: string[];
  /** The one thing to do, if any: a link shown as a button (and in full, in the text part). */
  action?: { label: string; href: string };
  /** Lines after the button, in small print (why this mail came, how long a link works). */
  footer?: string[];
  /** HTML placed after the lines (already safe markup, e.g. an inline image `cid:`). */
  extraHtml?: string;
  headers?: Record<string, string>;
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const escapeMailHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => ESCAPES[ch] ?? ch);

export function compose(m: Composed): Mail {
  const p = (line: string) => `<p style="margin:0 0 12px">${escapeMailHtml(line)}</p>`;
  const button = m.action
    ? `<p style="margin:20px 0"><a href="${escapeMailHtml(m.action.href)}" style="display:inline-block;background:#1f5fbf;color:#ffffff;padding:10px 18px;border-radius:6px;font-weight:600;text-decoration:none">${escapeMailHtml(m.action.label)}</a></p>
<p style="margin:0 0 12px;font-size:13px;color:#4a5565">Or open this link: <a href="${escapeMailHtml(m.action.href)}" style="color:#1f5fbf;word-break:break-all">${escapeMailHtml(m.action.href)}</a></p>`
    : "";
  const footer = (m.footer ?? []).map(
    (line) =>
      `<p style="margin:0 0 6px;font-size:13px;color:#4a5565;overflow-wrap:anywhere">${escapeMailHtml(line)}</p>`,
  );
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeMailHtml(m.subject)}</title></head>
<body style="margin:0;padding:0;background:#f6f7f9;color:#1c2430;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif">
<div style="max-width:560px;margin:0 auto;padding:24px 16px">
<p style="margin:0 0 16px;font-weight:700;font-size:18px;color:#16202e">SnapTrack</p>
<div style="background:#ffffff;border:1px solid #d5dae1;border-radius:8px;padding:20px">
${m.lines.map(p).join("\n")}${m.extraHtml ?? ""}
${button}
</div>
<div style="padding:12px 4px">${footer.join("\n")}</div>
</div>
</body></html>`;
  const text = [
    ...m.lines,
    ...(m.action ? ["", `${m.action.label}: ${m.action.href}`] : []),
    ...(m.footer?.length ? ["", "--", ...m.footer] : []),
  ].join("\n");
  return { to: m.to, subject: m.subject, html, text, ...(m.headers ? { headers: m.headers } : {}) };
}
