import type { Context } from "hono";
import { html } from "hono/html";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { parseChangeDetection } from "../compare/settings";
import { guardPolicy } from "../config";
import type { AppEnv } from "../context";
import type { Website } from "../db/schema";
import { ApiError, type FieldErrors, fieldErrors } from "../lib/errors";
import { effectivePlan } from "../limits/subscription";
import { name as nameSchema, url as urlSchema } from "../routes/websites/websites.schemas";
import { websitePageData, websitesWithLatest } from "../services/dashboard";
import { requestDashboardScreenshot, screenshotView } from "../services/screenshots";
import {
  checkStoredUrl,
  createWebsite,
  deleteWebsite,
  getWebsite,
  storedCapture,
  updateWebsite,
} from "../services/websites";
import { websiteAlerts } from "./alerts";
import { str } from "./auth";
import {
  type CaptureFormValues,
  captureFields,
  parseCaptureForm,
  regroup,
  valuesFromForm,
  valuesFromOptions,
} from "./capture-form";
import {
  type ChangeFormValues,
  changeFields,
  changeValuesFromForm,
  changeValuesFromSettings,
  defaultChangeValues,
  parseChangeForm,
} from "./change-form";
import { changeHistory } from "./changes";
import { count, csrfField, field, type Html, notice, when } from "./components";
import { pageUser, renderPage, upgradeLink } from "./layout";
import { describeTiming } from "./schedule-words";
import { gallery, tile } from "./tiles";

const wantsJson = (c: Context<AppEnv>) => (c.req.header("Accept") ?? "").includes("application/json");

/** `/app/websites`: every website with its latest thumbnail and last capture time. */
export async function websitesPage(c: Context<AppEnv>) {
  const account = c.get("account");
  const plan = effectivePlan(account, c.get("now"));
  const sites = await websitesWithLatest(c.get("db"));
  const full = sites.length >= plan.websites;
  const flash = c.req.query("deleted") ? notice("ok", "The website and its screenshots were deleted.") : "";
  return renderPage(
    c,
    { title: "Websites", user: pageUser(c), section: "websites" },
    html`<div class="row spread"><h1>Websites</h1>${
      full ? "" : html`<a class="btn" href="/app/websites/new">Add website</a>`
    }</div>
${flash}
${
  full
    ? notice(
        "warn",
        html`Your ${plan.id} plan allows ${count(plan.websites)} website${plan.websites === 1 ? "" : "s"}, and you have ${count(sites.length)}.
        Delete one or ${upgradeLink(c, "upgrade")} to add more.`,
      )
    : ""
}
${
  sites.length
    ? html`<ul class="sites">${sites.map(
        ({ website, latest }) => html`<li class="card site">
  ${latest ? tileImage(latest.id, Boolean(latest.thumbKey)) : html`<span class="thumb ph" aria-hidden="true">No screenshot yet</span>`}
  <h2><a href="/app/websites/${website.id}">${website.name}</a></h2>
  <p class="url">${website.url}</p>
  <p class="muted">Last capture: <span data-last-capture="${website.id}">${when(website.lastCaptureAt)}</span></p>
</li>`,
      )}</ul>`
    : html`<p>No websites yet. Add the first one to start taking screenshots.</p>`
}`,
  );
}

const tileImage = (id: string, hasThumb: boolean) =>
  hasThumb
    ? html`<img class="thumb" src="/app/screenshots/${id}/thumb" alt="" loading="lazy" width="320" height="200">`
    : html`<span class="thumb ph" aria-hidden="true">No preview</span>`;

interface FormState {
  name?: string;
  url?: string;
  capture: CaptureFormValues;
  changes: ChangeFormValues;
  errors: FieldErrors;
  problem?: Html | string;
}

/** Fields whose errors open "Advanced" (the form starts with name and URL only). */
const ADVANCED =
  /^(viewport|device_scale_factor|format|quality|delay_ms|timeout_ms|wait_until|wait_for_selector|selector|hide_selectors|user_agent|headers|cookies|full_page|dark_mode|block_ads|change_detection)/;

function websiteForm(c: Context<AppEnv>, website: Website | null, s: FormState, status: ContentfulStatusCode = 200) {
  const title = website ? `Edit ${website.name}` : "Add a website";
  const action = website ? `/app/websites/${website.id}/edit` : "/app/websites";
  const hasErrors = Object.keys(s.errors).length > 0;
  const advancedOpen = Object.keys(s.errors).some((k) => ADVANCED.test(k)) || c.req.query("advanced") === "1";
  const detection = s.changes.enabled
    ? `Change detection is on: each capture is compared with ${s.changes.baseline === "approved" ? "the approved baseline" : "the previous one"}, and a change of more than ${s.changes.threshold || "0.1"} % of the page (or ${s.changes.tile_threshold || "2"} % of any small area) is reported.`
    : "Change detection is off: captures are kept, not compared.";
  return renderPage(
    c,
    { title, user: pageUser(c), section: "websites" },
    html`<p><a href="${website ? `/app/websites/${website.id}` : "/app/websites"}">← ${website ? website.name : "Websites"}</a></p>
<h1>${title}</h1>
${s.problem ? notice("error", s.problem) : hasErrors ? notice("error", "Check the fields marked below.") : ""}
<form method="post" action="${action}" novalidate>
  ${csrfField(c.get("csrf"))}
  <div class="card">
  ${field({
    name: "url",
    label: "Address",
    type: "text",
    value: s.url,
    errors: s.errors,
    required: true,
    placeholder: "example.com",
    inputmode: "url",
    autocomplete: "url",
    hint: "A domain (example.com) or a full URL. Without http(s):// we use https://.",
  })}
  ${field({ name: "name", label: "Name", value: s.name, errors: s.errors, hint: "How SnapTrack shows it. Empty: the domain." })}
  <p class="muted" id="detection-summary">${detection} Full-width desktop screenshots (1280 × 800, PNG).</p>
  </div>
  <details class="advanced"${advancedOpen ? html` open` : ""} id="advanced">
  <summary>Advanced: capture options and change detection</summary>
  <p class="muted">Empty fields use the defaults shown.</p>
  ${captureFields(s.capture, s.errors)}
  ${changeFields(s.changes, s.errors)}
  </details>
  <p class="row"><button type="submit">${website ? "Save changes" : "Add website"}</button>
  <a href="${website ? `/app/websites/${website.id}` : "/app/websites"}">Cancel</a></p>
</form>`,
    status,
  );
}

/**
 * What people type as an address: a bare domain (`bluebird-bakery.com`, `example.com/menu`)
 * becomes `https://…`; anything with a scheme is left for the API's rules to judge.
 */
export function normalizeAddress(input: string): string {
  const trimmed = input.trim();
  if (trimmed === "" || /^[a-z][a-z0-9+.-]*:/i.test(trimmed)) return trimmed;
  return `https://${trimmed.replace(/^\/\//, "")}`;
}

/** The name a website gets when none is typed: its host, without `www.`. */
function defaultName(url: string): string {
  try {
    return new URL(url).hostname.replace(/^www\./, "");
  } catch {
    return "";
  }
}

/** Name, URL and capture options from the form, checked by the API's own schemas. */
async function readWebsiteForm(c: Context<AppEnv>) {
  const form = await c.req.parseBody();
  const address = normalizeAddress(str(form.url));
  const state: FormState = {
    name: str(form.name),
    url: address,
    capture: valuesFromForm(form),
    changes: changeValuesFromForm(form),
    errors: {},
  };
  const name = nameSchema.safeParse(state.name?.trim() || defaultName(address));
  const url = urlSchema.safeParse(state.url);
  if (!name.success) state.errors.name = fieldErrors(name.error.issues).body ?? [];
  if (!url.success) state.errors.url = fieldErrors(url.error.issues).body ?? [];
  const capture = parseCaptureForm(state.capture);
  if (!capture.ok) Object.assign(state.errors, capture.errors);
  const changes = parseChangeForm(state.changes);
  if (!changes.ok) Object.assign(state.errors, changes.errors);
  // With other fields wrong, the URL is still checked (as the service will), so every error shows at once.
  if (url.success && Object.keys(state.errors).length) {
    await checkStoredUrl(url.data, guardPolicy(c.env)).catch((err) => refusal(c, err, state));
  }
  const input =
    name.success && url.success && capture.ok && changes.ok
      ? { name: name.data, url: url.data, capture: capture.options, change_detection: changes.settings }
      : null;
  return { state, input };
}

/** A service refusal shown on the form: field errors beside their fields, anything else above it. */
function refusal(c: Context<AppEnv>, err: unknown, state: FormState): ContentfulStatusCode {
  if (!(err instanceof ApiError)) throw err;
  if (err.code === "validation_failed" && err.errors) Object.assign(state.errors, regroup(err.errors));
  else if (err.code === "plan_limit_reached") state.problem = html`${err.message} (${upgradeLink(c, "see plans")}).`;
  else throw err;
  return err.status as ContentfulStatusCode;
}

export const newWebsitePage = (c: Context<AppEnv>) =>
  websiteForm(c, null, { capture: {}, changes: defaultChangeValues(), errors: {} });

export async function createWebsiteSubmit(c: Context<AppEnv>) {
  const { state, input } = await readWebsiteForm(c);
  if (!input) return websiteForm(c, null, state, 422);
  const account = c.get("account");
  try {
    const website = await createWebsite(
      c.get("db"),
      effectivePlan(account, c.get("now")),
      input,
      guardPolicy(c.env),
      c.get("now"),
    );
    return c.redirect(`/app/websites/${website.id}?created=1`, 303);
  } catch (err) {
    return websiteForm(c, null, state, refusal(c, err, state));
  }
}

export async function editWebsitePage(c: Context<AppEnv>) {
  const website = await getWebsite(c.get("db"), c.req.param("id") ?? "");
  return websiteForm(c, website, {
    name: website.name,
    url: website.url,
    capture: valuesFromOptions(storedCapture(website.capture)),
    changes: changeValuesFromSettings(parseChangeDetection(website.changeDetection)),
    errors: {},
  });
}

export async function editWebsiteSubmit(c: Context<AppEnv>) {
  const db = c.get("db");
  const _accountId = c.get("account").id;
  const website = await getWebsite(db, c.req.param("id") ?? "");
  const { state, input } = await readWebsiteForm(c);
  if (!input) return websiteForm(c, website, state, 422);
  try {
    await updateWebsite(db, website.id, input, guardPolicy(c.env), c.get("now"));
    return c.redirect(`/app/websites/${website.id}?saved=1`, 303);
  } catch (err) {
    return websiteForm(c, website, state, refusal(c, err, state));
  }
}

export async function deleteWebsitePage(c: Context<AppEnv>) {
  const website = await getWebsite(c.get("db"), c.req.param("id") ?? "");
  return renderPage(
    c,
    { title: `Delete ${website.name}`, user: pageUser(c), section: "websites", narrow: true },
    html`<h1>Delete ${website.name}?</h1>
<p>This deletes the website with all its screenshots, schedules and scenarios. It cannot be undone.</p>
<form method="post" action="/app/websites/${website.id}/delete" class="row">
  ${csrfField(c.get("csrf"))}
  <button type="submit" class="danger">Delete website</button>
  <a href="/app/websites/${website.id}">Keep it</a>
</form>`,
  );
}

export async function deleteWebsiteSubmit(c: Context<AppEnv>) {
  await deleteWebsite(c.get("db"), c.env.JOBS, c.get("account").id, c.req.param("id") ?? "");
  return c.redirect("/app/websites?deleted=1", 303);
}

/** A schedule in words ("At 09:00, Monday through Friday (Europe/Berlin)"). */
const scheduleLine = (s: { cron: string | null; intervalMinutes: number | null; timezone: string }) =>
  describeTiming(s);

/** `/app/websites/:id`: the gallery (newest first, paged), "Take screenshot", schedules and scenarios. */
export async function websitePage(c: Context<AppEnv>, problem?: string, status: ContentfulStatusCode = 200) {
  const account = c.get("account");
  const plan = effectivePlan(account, c.get("now"));
  const cursor = c.req.query("before");
  const data = await websitePageData(c.get("db"), c.req.param("id") ?? "", cursor || undefined);
  const w = data.website;
  const flash = problem
    ? notice("error", problem)
    : c.req.query("saved")
      ? notice("ok", "Saved.")
      : c.req.query("created")
        ? notice("ok", "Website added. Take its first screenshot, or schedule them.")
        : c.req.query("queued")
          ? notice("ok", "Screenshot queued: it appears below when it is ready.")
          : c.req.query("shot_deleted")
            ? notice("ok", "The screenshot was deleted.")
            : c.req.query("baseline") === "previous"
              ? notice("ok", "Captures are compared with the previous capture again.")
              : "";
  const selectable = plan.bulkZip && data.screenshots.some((s) => s.status === "completed");
  const zip = selectable
    ? html`<form id="zip-form" method="get" action="/app/downloads/screenshots.zip" class="row zip">
  <button type="submit" class="secondary" id="download-selected">Download selected (ZIP)</button>
  <span class="muted">Tick screenshots below, then download them in one archive.</span>
</form>`
    : "";
  return renderPage(
    c,
    { title: w.name, user: pageUser(c), section: "websites" },
    html`<p><a href="/app/websites">← Websites</a></p>
<div class="row spread"><h1 class="wrap">${w.name}</h1>
  <div class="row"><a class="btn secondary" href="/app/websites/${w.id}/edit">Edit</a>
  <a class="btn secondary" href="/app/websites/${w.id}/delete">Delete</a></div></div>
<p class="url"><a href="${w.url}" rel="noopener noreferrer">${w.url}</a> · Last capture: <span id="last-capture">${when(w.lastCaptureAt)}</span></p>
${flash}
<div id="capture-message" class="notice" role="status" hidden></div>
<form method="post" action="/app/websites/${w.id}/capture" data-capture>
  ${csrfField(c.get("csrf"))}
  <button type="submit" id="take-screenshot">Take screenshot</button>
</form>
<h2>Screenshots</h2>
${cursor ? html`<p><a href="/app/websites/${w.id}">← Newest</a></p>` : ""}
${zip}
${data.screenshots.length ? "" : html`<p id="gallery-empty">No screenshots yet.</p>`}
${gallery(data.screenshots, "gallery", { select: plan.bulkZip })}
${data.nextCursor ? html`<p class="pager"><a class="btn secondary" href="/app/websites/${w.id}?before=${data.nextCursor}">Older screenshots</a></p>` : ""}
${await changeHistory(c, w)}
${await websiteAlerts(c, w.id)}
<h2>Schedules</h2>
${
  data.schedules.length
    ? html`<ul id="website-schedules">${data.schedules.map(
        (s) => html`<li><a href="/app/schedules/${s.id}">${scheduleLine(s)}</a>
        · ${s.enabled ? `next ${when(s.nextRunAt)}` : "paused"}</li>`,
      )}</ul>`
    : html`<p class="muted">No schedules. <a href="/app/schedules/new?website_id=${w.id}">Schedule screenshots</a></p>`
}
<h2>Scenarios</h2>
${
  data.scenarios.length
    ? html`<ul>${data.scenarios.map((s) => html`<li><a href="/app/scenarios/${s.id}">${s.name}</a></li>`)}</ul>`
    : html`<p class="muted">No scenarios. <a href="/app/scenarios/new?website_id=${w.id}">Write one</a></p>`
}`,
    status,
  );
}

/**
 * "Take screenshot": queued through the same service as `POST /v1/screenshots` (the same
 * quota), without the API's per-minute limit. The script posts it with fetch and gets the
 * new tile as JSON; without script the form posts and comes back to the website's page.
 */
export async function captureSubmit(c: Context<AppEnv>) {
  const account = c.get("account");
  const id = c.req.param("id") ?? "";
  try {
    const { row, plan } = await requestDashboardScreenshot(c.get("scope"), c.env.JOBS, account, id, c.get("now"));
    if (wantsJson(c))
      return c.json({ ...screenshotView(row, plan), html: String(await tile(row, { select: plan.bulkZip })) }, 202);
    return c.redirect(`/app/websites/${id}?queued=1`, 303);
  } catch (err) {
    if (!(err instanceof ApiError) || err.code === "not_found" || err.status >= 500) throw err;
    const message =
      err.code === "validation_failed" ? `${err.message} Edit the website's capture options.` : err.message;
    if (wantsJson(c)) return c.json({ error: err.code, message }, err.status as ContentfulStatusCode);
    return websitePage(c, message, err.status as ContentfulStatusCode);
  }
}
