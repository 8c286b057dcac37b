import type { Context } from "hono";
import { html } from "hono/html";
import type { AppEnv } from "../context";
import { ApiError } from "../lib/errors";
import { effectivePlan } from "../limits/subscription";
import { screenshotWithWebsite } from "../services/dashboard";
import { bulkArchive, MAX_BULK, screenshotDownload, screenshotThumbnail } from "../services/downloads";
import { deleteScreenshot, getScreenshot, screenshotView } from "../services/screenshots";
import { getWebsite } from "../services/websites";
import { approveForm, changeHistory, comparisonSummary } from "./changes";
import { bytes, csrfField, notice, statusBadge, when } from "./components";
import { pageUser, renderPage } from "./layout";
import { settling, tile } from "./tiles";

const idParam = (c: Context<AppEnv>) => c.req.param("id") ?? "";

/** `/app/screenshots/:id`: the image, its metadata, download and delete. Another account's id is 404. */
export async function screenshotPage(c: Context<AppEnv>) {
  const account = c.get("account");
  const { shot, website } = await screenshotWithWebsite(c.get("db"), idParam(c));
  const v = screenshotView(shot, effectivePlan(account, c.get("now")));
  const title = `Screenshot of ${website.name}`;
  const options = JSON.stringify(v.capture, null, 2);
  return renderPage(
    c,
    { title, user: pageUser(c), section: "websites" },
    html`<p><a href="/app/websites/${website.id}">← ${website.name}</a></p>
<h1>${title}</h1>
${
  v.status === "completed"
    ? html`<p><a href="/app/screenshots/${v.id}/image"><img class="shot-full" src="/app/screenshots/${v.id}/image"
        alt="Screenshot of ${v.url} taken ${when(v.captured_at)}" width="${v.width ?? ""}" height="${v.height ?? ""}"></a></p>
<p class="row"><a class="btn" href="/app/screenshots/${v.id}/image?download=1" download>Download</a></p>
${comparisonSummary(shot)}
${approveForm(shot, website, c.get("csrf"))}`
    : html`<p>${statusBadge(v.status)} ${v.error ?? (v.status === "failed" ? "" : "The capture has not finished yet.")}</p>`
}
<h2>Details</h2>
<dl class="meta">
  <dt>Status</dt><dd>${statusBadge(v.status)}</dd>
  ${v.error ? html`<dt>Error</dt><dd>${v.error}</dd>` : ""}
  <dt>URL</dt><dd>${v.url}</dd>
  <dt>Size</dt><dd>${v.width && v.height ? `${v.width} × ${v.height} px` : "–"}</dd>
  <dt>Format</dt><dd>${v.format ?? "–"}</dd>
  <dt>Bytes</dt><dd>${bytes(v.bytes)}</dd>
  <dt>Requested</dt><dd>${when(v.created_at)}</dd>
  <dt>Captured</dt><dd>${when(v.captured_at)}</dd>
  <dt>Expires</dt><dd>${when(v.expires_at)}</dd>
  <dt>Source</dt><dd>${v.source}${v.schedule_id ? html` (<a href="/app/schedules/${v.schedule_id}">schedule</a>)` : ""}${
    v.run_id ? html` (<a href="/app/runs/${v.run_id}">run</a>)` : ""
  }</dd>
  ${v.sha256 ? html`<dt>SHA-256</dt><dd><code>${v.sha256}</code></dd>` : ""}
  <dt>Options</dt><dd><pre>${options}</pre></dd>
</dl>
<h2>Delete</h2>
<p><a class="btn danger" href="/app/screenshots/${v.id}/delete" id="delete-shot">Delete screenshot…</a></p>`,
  );
}

/** Deleting asks first, on a page of its own. */
export async function deleteScreenshotPage(c: Context<AppEnv>) {
  const { shot, website } = await screenshotWithWebsite(c.get("db"), idParam(c));
  const baseline = website.baselineScreenshotId === shot.id;
  return renderPage(
    c,
    { title: "Delete screenshot", user: pageUser(c), section: "websites", narrow: true },
    html`<h1>Delete this screenshot of ${website.name}?</h1>
<p>Taken ${when(shot.capturedAt ?? shot.createdAt)}. The image, its thumbnail and its comparison go; it cannot be undone.</p>
${baseline ? notice("warn", "It is the website's approved baseline: new captures will have nothing to compare with until you approve another.") : ""}
<form method="post" action="/app/screenshots/${shot.id}/delete" class="row">
  ${csrfField(c.get("csrf"))}
  <button type="submit" class="danger" id="confirm-delete">Delete screenshot</button>
  <a href="/app/screenshots/${shot.id}">Keep it</a>
</form>`,
  );
}

/** The full image, through the session (same ownership rule as the API: another account's is 404). */
export async function screenshotImage(c: Context<AppEnv>) {
  const file = await screenshotDownload(c.get("db"), c.env.SHOTS, idParam(c), c.req.header("If-None-Match"));
  const headers = { ...file.headers };
  if (!c.req.query("download") && "Content-Disposition" in headers) {
    headers["Content-Disposition"] = headers["Content-Disposition"].replace(/^attachment/, "inline");
  }
  return file.status === 304 ? c.body(null, 304, headers) : c.body(file.body, 200, headers);
}

export async function screenshotThumb(c: Context<AppEnv>) {
  const file = await screenshotThumbnail(c.get("db"), c.env.SHOTS, idParam(c));
  if (file.status !== 200) return c.body(null, 304, file.headers);
  return c.body(file.body, 200, file.headers);
}

/**
 * The live status the gallery script polls. Once the capture has finished and its comparison
 * (if any) has too, the answer brings the settled tile's markup, and what the website page
 * shows around it: its last capture time and its change history.
 */
export async function screenshotStatus(c: Context<AppEnv>) {
  const shot = await getScreenshot(c.get("db"), idParam(c));
  if (settling(shot)) return c.json({ id: shot.id, status: shot.status, error: shot.error, html: null });
  const plan = effectivePlan(c.get("account"), c.get("now"));
  const website = await getWebsite(c.get("db"), shot.websiteId);
  return c.json({
    id: shot.id,
    status: shot.status,
    error: shot.error,
    html: String(await tile(shot, { select: plan.bulkZip })),
    last_capture: when(website.lastCaptureAt),
    changes_html: String(await changeHistory(c, website)),
  });
}

/** "Download selected (ZIP)" in a gallery (Pro and Business): the API's bulk archive, through the session. */
export async function selectedZip(c: Context<AppEnv>) {
  const ids = c.req.queries("ids") ?? [];
  if (ids.length === 0) throw new ApiError("validation_failed", "Tick the screenshots to download first.");
  if (ids.length > MAX_BULK) throw new ApiError("validation_failed", `At most ${MAX_BULK} screenshots per archive.`);
  const now = c.get("now");
  return bulkArchive(c.get("db"), c.env.SHOTS, effectivePlan(c.get("account"), now), { ids }, now);
}

export async function deleteScreenshotSubmit(c: Context<AppEnv>) {
  const shot = await getScreenshot(c.get("db"), idParam(c));
  await deleteScreenshot(c.get("db"), c.env.SHOTS, shot.id);
  return c.redirect(`/app/websites/${shot.websiteId}?shot_deleted=1`, 303);
}
