import type { Context, Hono } from "hono";
import { html } from "hono/html";
import { parseChangeDetection } from "../compare/settings";
import type { AppEnv } from "../context";
import type { Screenshot, Website } from "../db/schema";
import { percent } from "../lib/format";
import { effectivePlan } from "../limits/subscription";
import { approveScreenshot, comparePrevious, listChanges, screenshotDiff } from "../services/changes";
import { compareData } from "../services/dashboard";
import { screenshotText } from "../services/downloads";
import { comparisonView } from "../services/screenshots";
import { attrs, count, csrfField, type Html, notice, statusBadge, when } from "./components";
import { pageUser, renderPage } from "./layout";

/**
 * Change detection in the dashboard: a capture compared with its baseline (side by side, a
 * slider the script adds, the diff image), "Approve as baseline", and a website's change
 * history. Images come through the session routes with the API's ownership rule.
 */
export function mountChangePages(app: Hono<AppEnv>) {
  app.get("/app/screenshots/:id/compare", comparePage);
  app.get("/app/screenshots/:id/diff", diffImage);
  app.get("/app/screenshots/:id/text", textFile);
  app.post("/app/screenshots/:id/approve", approveSubmit);
  app.post("/app/websites/:id/baseline/previous", previousSubmit);
}

const idParam = (c: Context<AppEnv>) => c.req.param("id") ?? "";

/**
 * "Approve as baseline" for a completed website capture (approving switches the website to
 * its approved baseline), or — for the capture that is the baseline — the way back to
 * comparing with the previous capture.
 */
export function approveForm(
  shot: Screenshot,
  website: { id: string; baselineScreenshotId: string | null; changeDetection?: string },
  csrf: string,
): Html | string {
  if (shot.status !== "completed" || shot.source === "scenario") return "";
  if (website.baselineScreenshotId === shot.id)
    return html`<div id="approved-baseline" class="notice ok"><p><strong>This capture is the website's baseline:</strong>
new captures are compared with it.</p>
<form method="post" action="/app/websites/${website.id}/baseline/previous" class="inline">${csrfField(csrf)}
<button type="submit" class="secondary small" id="use-previous">Compare with the previous capture instead</button></form></div>`;
  return html`<form method="post" action="/app/screenshots/${shot.id}/approve">
  ${csrfField(csrf)}
  <button type="submit" class="secondary" id="approve">Approve as baseline</button>
  <span class="hint">New captures are then compared with this one.</span>
</form>`;
}

/** A short line about a capture's comparison, with the link to it (screenshot page). */
export function comparisonSummary(shot: Screenshot): Html | string {
  const c = comparisonView(shot);
  if (!c) return "";
  const verdict =
    c.status === "pending"
      ? "Comparison running…"
      : c.status === "failed"
        ? "The comparison failed."
        : c.changed
          ? html`<span class="status changed">changed</span> ${percent(c.change_ratio)} of the page differs.`
          : "No change from its baseline.";
  return html`<p class="row">${verdict} <a class="btn secondary" href="/app/screenshots/${shot.id}/compare">Compare with baseline</a></p>`;
}

/** Stacked figures of one comparison. */
function figures(c: NonNullable<ReturnType<typeof comparisonView>>, regions: number) {
  return html`<dl class="meta" id="comparison">
  <dt>Comparison</dt><dd>${statusBadge(c.status)}${c.status === "completed" ? (c.changed ? html` <span class="status changed">changed</span>` : " unchanged") : ""}</dd>
  ${c.error ? html`<dt>Error</dt><dd>${c.error}</dd>` : ""}
  <dt>Changed pixels</dt><dd id="changed-pixels">${c.changed_pixels === null ? "–" : count(c.changed_pixels)}</dd>
  <dt>Changed share</dt><dd>${percent(c.change_ratio)}</dd>
  <dt>Most changed 64×64 tile</dt><dd>${percent(c.max_tile_ratio)}</dd>
  <dt>Regions</dt><dd>${regions ? `${regions} (outlined on the diff)` : "none"}</dd>
  <dt>Size changed</dt><dd>${c.size_changed === null ? "–" : c.size_changed ? "yes" : "no"}</dd>
</dl>`;
}

/** The text's added and removed lines, the triggers that fired, and whether the change was transient. */
function textChanges(shot: Screenshot, c: NonNullable<ReturnType<typeof comparisonView>>) {
  const t = c.text;
  const list = (kind: "added" | "removed", lines: string[], total: number) =>
    lines.length
      ? html`<h3>${kind === "added" ? "Added" : "Removed"} lines (${count(total)})</h3>
<ol class="lines ${kind}" id="text-${kind}">${lines.map((l) => html`<li>${l}</li>`)}</ol>
${total > lines.length ? html`<p class="muted">… and ${count(total - lines.length)} more (the first 50 are listed).</p>` : ""}`
      : "";
  return html`<section aria-labelledby="text-h" id="text-changes"><h2 id="text-h">Text</h2>
${c.transient ? notice("info", "A transient change: the confirming capture 60 s later no longer showed it, so it was not reported.") : ""}
${
  c.triggered.length
    ? html`<p id="triggered"><strong>Triggered:</strong> ${c.triggered.map(
        (tr, i) =>
          html`${i ? "; " : ""}${tr.regex ? "pattern" : "text"} <code>${tr.value}</code> ${tr.type === "text_appears" ? "appeared" : "disappeared"}`,
      )}</p>`
    : ""
}
${
  !t
    ? html`<p class="muted" id="text-none">The text was not compared (text comparison is off, or a capture kept no text).</p>`
    : !t.changed
      ? html`<p id="text-unchanged">The page's text did not change.</p>`
      : html`${list("added", t.added, t.added_count)}${list("removed", t.removed, t.removed_count)}`
}
<p><a href="/app/screenshots/${shot.id}/text">This capture's text</a>${c.baseline_id ? html` · <a href="/app/screenshots/${c.baseline_id}/text">the baseline's</a>` : ""}</p>
</section>`;
}

/** The changed regions as an SVG over the diff image (attributes only: no inline style under the CSP). */
function regionOverlay(shot: Screenshot, regions: { x: number; y: number; width: number; height: number }[]) {
  if (!regions.length || !shot.width || !shot.height) return "";
  return html`<svg class="regions" viewBox="0 0 ${shot.width} ${shot.height}" preserveAspectRatio="none" aria-hidden="true">${regions.map(
    (r) =>
      html`<rect${attrs({ x: r.x, y: r.y, width: r.width, height: r.height, fill: "none", stroke: "#f5a623", "stroke-width": 4, "vector-effect": "non-scaling-stroke" })}/>`,
  )}</svg>`;
}

/** `/app/screenshots/:id/compare`: the capture and its baseline. Another account's id is 404. */
export async function comparePage(c: Context<AppEnv>) {
  const { shot, website, baseline } = await compareData(c.get("db"), idParam(c));
  const cmp = comparisonView(shot);
  const detection = parseChangeDetection(website.changeDetection);
  const title = `Changes in ${website.name}`;
  const flash = c.req.query("approved")
    ? notice("ok", `Approved: new captures of ${website.name} are compared with this one from now on.`)
    : "";
  const approvedMode =
    detection.baseline === "approved"
      ? website.baselineScreenshotId && website.baselineScreenshotId !== shot.id
        ? html`New captures are compared with <a href="/app/screenshots/${website.baselineScreenshotId}">the approved baseline</a>.`
        : ""
      : "New captures are compared with the previous capture; approving one makes it the baseline instead.";
  const img = (s: Screenshot, label: string, id: string) =>
    html`<img${attrs({ id, class: "shot-full", src: `/app/screenshots/${s.id}/image`, alt: `${label}: ${s.url} taken ${when(s.capturedAt)}`, width: s.width ?? undefined, height: s.height ?? undefined })}>`;
  const views =
    baseline && baseline.status === "completed" && shot.status === "completed"
      ? html`<section aria-labelledby="slider-h" class="compare-slider" id="slider" hidden>
  <h2 id="slider-h">Slider</h2>
  <div class="stack">${img(baseline, "Baseline", "slider-before")}${img(shot, "This capture", "slider-after")}</div>
  <label for="slider-range">Drag to reveal: baseline on the left, this capture on the right</label>
  <input id="slider-range" type="range" min="0" max="100" value="50">
</section>
<section aria-labelledby="side-h">
  <h2 id="side-h">Side by side</h2>
  <div class="side">
    <figure><figcaption>Baseline · <a href="/app/screenshots/${baseline.id}">${when(baseline.capturedAt)}</a></figcaption>${img(baseline, "Baseline", "before")}</figure>
    <figure><figcaption>This capture · ${when(shot.capturedAt)}</figcaption>${img(shot, "This capture", "after")}</figure>
  </div>
</section>`
      : cmp
        ? notice("warn", "The baseline screenshot no longer exists (deleted, or past the history window).")
        : "";
  const diff =
    cmp?.status === "completed" && shot.diffKey
      ? html`<section aria-labelledby="diff-h"><h2 id="diff-h">Pixels</h2>
<p class="muted">Changed pixels in red over a faded copy of this capture.</p>
<div class="diff-wrap"><img id="diff" class="shot-full" src="/app/screenshots/${shot.id}/diff" alt="Changed pixels of this capture in red"${attrs({ width: shot.width ?? undefined, height: shot.height ?? undefined })}>${regionOverlay(shot, cmp.regions)}</div>
</section>`
      : "";
  const text = cmp?.status === "completed" ? textChanges(shot, cmp) : "";
  return renderPage(
    c,
    { title, user: pageUser(c), section: "websites" },
    html`<p><a href="/app/websites/${website.id}">← ${website.name}</a> · <a href="/app/screenshots/${shot.id}">This screenshot</a></p>
<h1>${title}</h1>
${flash}
<p class="muted">Capture of ${when(shot.capturedAt ?? shot.createdAt)}${baseline ? html`, compared with <a href="/app/screenshots/${baseline.id}">${when(baseline.capturedAt)}</a>` : ""}.</p>
${
  cmp
    ? figures(cmp, cmp.regions.length)
    : notice("info", "This capture has no comparison: it had no baseline yet, or change detection was off.")
}
<div class="actions">${approveForm(shot, website, c.get("csrf"))}</div>
<p class="muted">${approvedMode}</p>
${diff || text ? html`<div class="pixels-text">${diff}${text}</div>` : ""}
${views}`,
  );
}

/** The diff PNG through the session: 404 for another account's, 409 while the comparison runs. */
export async function diffImage(c: Context<AppEnv>) {
  const file = await screenshotDiff(c.get("db"), c.env.SHOTS, idParam(c));
  return c.body(file.body, 200, file.headers);
}

/** The capture's text through the session (as `GET /v1/screenshots/{id}/text`). */
export async function textFile(c: Context<AppEnv>) {
  const file = await screenshotText(c.get("db"), c.env.SHOTS, idParam(c));
  return c.text(file.text, 200, file.headers);
}

export async function approveSubmit(c: Context<AppEnv>) {
  const account = c.get("account");
  const id = idParam(c);
  await approveScreenshot(c.get("db"), id, effectivePlan(account, c.get("now")));
  return c.redirect(`/app/screenshots/${id}/compare?approved=1`, 303);
}

/** Back to comparing with the previous capture (approving, undone). */
export async function previousSubmit(c: Context<AppEnv>) {
  const id = c.req.param("id") ?? "";
  await comparePrevious(c.get("db"), id, c.get("now"));
  return c.redirect(`/app/websites/${id}?baseline=previous`, 303);
}

/** Captures per page of a website's change history. */
const HISTORY_PAGE = 10;

/** A website's change history: its changed captures, newest first, paged (`?changes=` cursor). */
export async function changeHistory(c: Context<AppEnv>, website: Website): Promise<Html> {
  const account = c.get("account");
  const websiteId = website.id;
  const d = parseChangeDetection(website.changeDetection);
  const cursor = c.req.query("changes") || undefined;
  const page = await listChanges(c.get("db"), effectivePlan(account, c.get("now")), websiteId, {
    limit: HISTORY_PAGE,
    cursor,
  });
  const rows = page.data.map(
    (s) => html`<li><a href="/app/screenshots/${s.id}/compare">${when(s.captured_at ?? s.created_at)}</a>
      · ${percent(s.comparison?.change_ratio)} changed${s.comparison?.size_changed ? ", size changed" : ""}
      · ${s.comparison?.regions.length ?? 0} region${s.comparison?.regions.length === 1 ? "" : "s"}</li>`,
  );
  return html`<section aria-labelledby="changes-h" id="changes-section"><h2 id="changes-h">Change history</h2>
<p class="muted" id="detection">${
    d.enabled
      ? html`Change detection is on: a capture counts as changed when over ${d.threshold} % of it, or ${d.tile_threshold} % of any
      64×64 tile, differs from ${d.baseline === "approved" ? "the approved baseline" : "the previous capture"}${
        d.baseline === "approved" && website.baselineScreenshotId
          ? html` (<a href="/app/screenshots/${website.baselineScreenshotId}/compare">this one</a>)`
          : d.baseline === "approved"
            ? " (none approved yet)"
            : ""
      }.`
      : "Change detection is off."
  } <a href="/app/websites/${websiteId}/edit#change-detection">Change settings</a></p>
${cursor ? html`<p><a href="/app/websites/${websiteId}#changes-h">← Newest changes</a></p>` : ""}
${rows.length ? html`<ul class="changes" id="changes">${rows}</ul>` : html`<p class="muted" id="changes-empty">No changes detected yet.</p>`}
${page.next_cursor ? html`<p class="pager"><a class="btn secondary" href="/app/websites/${websiteId}?changes=${page.next_cursor}#changes-h">Older changes</a></p>` : ""}
</section>`;
}
