import type { Context } from "hono";
import { html } from "hono/html";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../context";
import type { Schedule } from "../db/schema";
import { ApiError, type FieldErrors, fieldErrors, notFound } from "../lib/errors";
import { effectivePlan } from "../limits/subscription";
import { CreateSchedule } from "../routes/schedules/schedules.schemas";
import { schedulesPageData } from "../services/dashboard";
import {
  createSchedule,
  deleteSchedule,
  getSchedule,
  PREVIEW_RUNS,
  previewSchedule,
  updateSchedule,
} from "../services/schedules";
import { str } from "./auth";
import { attrs, csrfField, field, type Html, notice, statusBadge, when } from "./components";
import { pageUser, renderPage } from "./layout";

const idParam = (c: Context<AppEnv>) => c.req.param("id") ?? "";
type Data = Awaited<ReturnType<typeof schedulesPageData>>;

const every = (m: number) => (m % 1440 === 0 ? `${m / 1440} d` : m % 60 === 0 ? `${m / 60} h` : `${m} min`);

/** A time in the schedule's own zone, with UTC beside it. */
function whenIn(ms: number | null, timezone: string): string {
  if (ms === null) return "never";
  const local = new Intl.DateTimeFormat("en-CA", {
    timeZone: timezone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    weekday: "short",
  }).format(new Date(ms));
  return timezone === "UTC" ? when(ms) : `${local.replace(",", "")} ${timezone} (${when(ms)})`;
}

const timing = (s: Schedule) =>
  s.cron ? html`<code>${s.cron}</code> (${s.timezone})` : `every ${every(s.intervalMinutes ?? 0)}`;

function targetOf(s: Schedule, data: Data) {
  if (s.scenarioId) {
    const scenario = data.scenarios.find((x) => x.id === s.scenarioId);
    return html`Scenario <a href="/app/scenarios/${s.scenarioId}">${scenario?.name ?? s.scenarioId}</a>`;
  }
  const website = data.websites.find((x) => x.id === s.websiteId);
  return html`Screenshot of <a href="/app/websites/${s.websiteId}">${website?.name ?? s.websiteId}</a>`;
}

const stateOf = (s: Schedule) =>
  s.enabled
    ? html`<span class="status completed">active</span>`
    : html`<span class="status failed">paused</span>${s.pausedReason ? html` <span class="muted">${s.pausedReason}</span>` : ""}`;

function pauseButton(c: Context<AppEnv>, s: Schedule, back: string) {
  return html`<form method="post" action="/app/schedules/${s.id}/${s.enabled ? "pause" : "resume"}" class="inline">${csrfField(c.get("csrf"))}
<input type="hidden" name="back" value="${back}"><button type="submit" class="secondary small">${s.enabled ? "Pause" : "Resume"}</button></form>`;
}

/** `/app/schedules`: every schedule, its timing, state, next and last run with its status. */
export async function schedulesPage(c: Context<AppEnv>, problem?: string, status: ContentfulStatusCode = 200) {
  const data = await schedulesPageData(c.get("db"));
  const flash = problem
    ? notice("error", problem)
    : c.req.query("deleted")
      ? notice("ok", "The schedule was deleted.")
      : c.req.query("saved")
        ? notice("ok", "Schedule saved.")
        : "";
  return renderPage(
    c,
    { title: "Schedules", user: pageUser(c), section: "schedules" },
    html`<div class="row spread"><h1>Schedules</h1>${
      data.websites.length ? html`<a class="btn" href="/app/schedules/new">New schedule</a>` : ""
    }</div>${flash}
${
  data.schedules.length
    ? html`<div class="table-wrap"><table id="schedules">
<thead><tr><th scope="col">What</th><th scope="col">When</th><th scope="col">State</th><th scope="col">Next run</th><th scope="col">Last run</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
<tbody>${data.schedules.map(
        (
          s,
        ) => html`<tr id="schedule-${s.id}"><td>${targetOf(s, data)}</td><td><a href="/app/schedules/${s.id}">${timing(s)}</a></td><td>${stateOf(s)}</td>
<td>${s.enabled ? whenIn(s.nextRunAt, s.timezone) : "–"}</td>
<td>${s.lastRunAt ? html`${when(s.lastRunAt)}${s.lastStatus ? html` ${statusBadge(s.lastStatus)}` : ""}` : "never"}</td>
<td class="row">${pauseButton(c, s, "/app/schedules")}<a class="btn secondary small" href="/app/schedules/${s.id}/delete">Delete</a></td></tr>`,
      )}</tbody></table></div>`
    : html`<p>No schedules yet.${data.websites.length ? "" : html` <a href="/app/websites/new">Add a website</a> first.`}</p>`
}`,
    status,
  );
}

interface FormState {
  target: string;
  kind: "cron" | "interval";
  cron: string;
  interval: string;
  timezone: string;
  errors: FieldErrors;
  preview?: number[];
  problem?: string;
}

/** The API body from the form, judged by the API's own schema (errors keyed like the API's). */
function parseForm(s: FormState) {
  const body: Record<string, unknown> = { timezone: s.timezone.trim() || "UTC" };
  const [kind, id] = s.target.split(":");
  if (kind === "scenario" && id) body.scenario_id = id;
  else if (kind === "website" && id) body.website_id = id;
  const errors: FieldErrors = {};
  if (!id) errors.target = ["Choose a website or a scenario"];
  if (s.kind === "cron") body.cron = s.cron;
  else {
    const n = Number(s.interval);
    if (s.interval.trim() === "" || !Number.isFinite(n)) errors.interval_minutes = ["Must be a number of minutes"];
    else body.interval_minutes = n;
  }
  const parsed = CreateSchedule.safeParse(body);
  if (!parsed.success) for (const [k, v] of Object.entries(fieldErrors(parsed.error.issues))) errors[k] ??= v;
  return Object.keys(errors).length || !parsed.success ? { errors } : { input: parsed.data };
}

async function scheduleForm(c: Context<AppEnv>, s: FormState, status: ContentfulStatusCode = 200) {
  const data = await schedulesPageData(c.get("db"));
  const plan = effectivePlan(c.get("account"), c.get("now"));
  const hasErrors = Object.keys(s.errors).length > 0;
  const targetErrors = s.errors.target ?? s.errors.website_id;
  const option = (value: string, label: string) =>
    html`<option${attrs({ value, selected: s.target === value })}>${label}</option>`;
  const radio = (value: "cron" | "interval", label: string) =>
    html`<label class="check"><input${attrs({ type: "radio", name: "kind", value, checked: s.kind === value })}> ${label}</label>`;
  return renderPage(
    c,
    { title: "New schedule", user: pageUser(c), section: "schedules" },
    html`<p><a href="/app/schedules">← Schedules</a></p>
<h1>New schedule</h1>
${s.problem ? notice("error", s.problem) : hasErrors ? notice("error", "Check the fields marked below.") : ""}
<p id="fastest">Your ${plan.id} plan runs schedules at most every <strong>${every(plan.fastestScheduleMinutes)}</strong>.</p>
<form method="post" action="/app/schedules/new" novalidate>
  ${csrfField(c.get("csrf"))}
  <button type="submit" name="op" value="save" class="sr-only" tabindex="-1" aria-hidden="true">Create</button>
  <div class="${targetErrors ? "field invalid" : "field"}"><label for="f-target">What to run</label>
  <select id="f-target" name="target"${attrs({ "aria-describedby": targetErrors ? "f-target-error" : undefined })}>
    <optgroup label="Take a screenshot of a website">${data.websites.map((w) => option(`website:${w.id}`, w.name))}</optgroup>
    ${data.scenarios.length ? html`<optgroup label="Run a scenario">${data.scenarios.map((x) => option(`scenario:${x.id}`, x.name))}</optgroup>` : ""}
  </select>${targetErrors ? html`<p class="error" id="f-target-error">${targetErrors.join(" ")}</p>` : ""}</div>
  <fieldset><legend>When</legend>
  <div class="row">${radio("cron", "Cron expression")}${radio("interval", "Fixed interval")}</div>
  <div class="grid2">
  ${field({ name: "cron", label: "Cron (when “Cron expression”)", value: s.cron, errors: s.errors, placeholder: "0 9 * * 1-5", hint: "minute hour day-of-month month day-of-week" })}
  ${field({ name: "timezone", label: "Time zone (for cron)", value: s.timezone, errors: s.errors, placeholder: "UTC", hint: "IANA name, e.g. Europe/Berlin." })}
  ${field({ name: "interval_minutes", label: "Every … minutes (when “Fixed interval”)", type: "number", inputmode: "numeric", value: s.interval, errors: s.errors, min: 1 })}
  </div>
  </fieldset>
  ${
    s.preview
      ? html`<div class="notice ok preview" role="status" id="preview"><p><strong>The next ${s.preview.length} runs:</strong></p>
<ol>${s.preview.map((t) => html`<li>${whenIn(t, s.timezone.trim() || "UTC")}</li>`)}</ol></div>`
      : ""
  }
  <p class="row"><button type="submit" name="op" value="preview" class="secondary">Preview next ${PREVIEW_RUNS} runs</button>
  <button type="submit" name="op" value="save">Create schedule</button> <a href="/app/schedules">Cancel</a></p>
</form>`,
    status,
  );
}

export function newSchedulePage(c: Context<AppEnv>) {
  const website = c.req.query("website_id");
  const scenario = c.req.query("scenario_id");
  return scheduleForm(c, {
    target: scenario ? `scenario:${scenario}` : website ? `website:${website}` : "",
    kind: "cron",
    cron: "",
    interval: "",
    timezone: "UTC",
    errors: {},
  });
}

/** "Preview" shows the next runs (the service's own timing and plan checks); "Create" stores it. */
export async function newScheduleSubmit(c: Context<AppEnv>) {
  const form = await c.req.parseBody();
  const s: FormState = {
    target: str(form.target),
    kind: str(form.kind) === "interval" ? "interval" : "cron",
    cron: str(form.cron),
    interval: str(form.interval_minutes),
    timezone: str(form.timezone),
    errors: {},
  };
  const parsed = parseForm(s);
  if (!parsed.input) return scheduleForm(c, { ...s, errors: parsed.errors }, 422);
  const account = c.get("account");
  const now = c.get("now");
  const plan = effectivePlan(account, now);
  try {
    if (str(form.op) === "preview") return scheduleForm(c, { ...s, preview: previewSchedule(plan, parsed.input, now) });
    const row = await createSchedule(c.get("db"), plan, parsed.input, now);
    return c.redirect(`/app/schedules/${row.id}?saved=1`, 303);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status >= 500) throw err;
    if (err.code === "validation_failed" && err.errors) return scheduleForm(c, { ...s, errors: err.errors }, 422);
    if (err.code === "not_found") return scheduleForm(c, { ...s, errors: { target: [err.message] } }, 422);
    return scheduleForm(c, { ...s, problem: err.message }, err.status as ContentfulStatusCode);
  }
}

/** `/app/schedules/:id`: timing, state, next runs, last run; pause/resume and delete. */
export async function schedulePage(c: Context<AppEnv>, problem?: string, status: ContentfulStatusCode = 200) {
  const data = await schedulesPageData(c.get("db"));
  const s = data.schedules.find((x) => x.id === idParam(c));
  if (!s) throw notFound("Schedule");
  const plan = effectivePlan(c.get("account"), c.get("now"));
  let upcoming: number[] = [];
  if (s.enabled) {
    try {
      upcoming = previewSchedule(
        plan,
        { cron: s.cron, interval_minutes: s.intervalMinutes, timezone: s.timezone },
        c.get("now"),
      );
    } catch {
      upcoming = [];
    }
  }
  const flash: Html | string = problem
    ? notice("error", problem)
    : c.req.query("saved")
      ? notice("ok", "Schedule saved.")
      : "";
  return renderPage(
    c,
    { title: "Schedule", user: pageUser(c), section: "schedules" },
    html`<p><a href="/app/schedules">← Schedules</a></p>
<h1>Schedule</h1>${flash}
<dl class="meta" id="schedule">
  <dt>What</dt><dd>${targetOf(s, data)}</dd>
  <dt>When</dt><dd>${timing(s)}</dd>
  <dt>State</dt><dd>${stateOf(s)}</dd>
  <dt>Next run</dt><dd>${s.enabled ? whenIn(s.nextRunAt, s.timezone) : "– (paused)"}</dd>
  ${upcoming.length > 1 ? html`<dt>Then</dt><dd>${upcoming.slice(1).map((t) => html`${whenIn(t, s.timezone)}<br>`)}</dd>` : ""}
  <dt>Last run</dt><dd>${when(s.lastRunAt)}${s.lastStatus ? html` ${statusBadge(s.lastStatus)}` : ""}</dd>
</dl>
<p class="row actions">${pauseButton(c, s, `/app/schedules/${s.id}`)}
<a class="btn secondary small" href="/app/schedules/${s.id}/delete">Delete</a></p>`,
    status,
  );
}

export const schedulePageRoute = (c: Context<AppEnv>) => schedulePage(c);

const backTo = (id: string, back: string) => (back === "/app/schedules" ? back : `/app/schedules/${id}`);

function setEnabled(enabled: boolean) {
  return async (c: Context<AppEnv>) => {
    const form = await c.req.parseBody();
    const account = c.get("account");
    const now = c.get("now");
    const id = idParam(c);
    try {
      await updateSchedule(c.get("db"), effectivePlan(account, now), id, { enabled }, now);
    } catch (err) {
      // Resuming a schedule the plan no longer allows: the API's 422, with its reason, on the page.
      if (!(err instanceof ApiError) || err.code !== "validation_failed") throw err;
      const reason =
        Object.values(err.errors ?? {})
          .flat()
          .join(" ") || err.message;
      return schedulePage(c, `It cannot be resumed: ${reason}. Change its timing through the API or upgrade.`, 422);
    }
    return c.redirect(backTo(id, str(form.back)), 303);
  };
}
export const pauseScheduleSubmit = setEnabled(false);
export const resumeScheduleSubmit = setEnabled(true);

export async function deleteSchedulePage(c: Context<AppEnv>) {
  const s = await getSchedule(c.get("db"), idParam(c));
  return renderPage(
    c,
    { title: "Delete schedule", user: pageUser(c), section: "schedules", narrow: true },
    html`<h1>Delete this schedule?</h1>
<p>${s.cron ? html`Cron <code>${s.cron}</code> (${s.timezone})` : `Every ${every(s.intervalMinutes ?? 0)}`}: it stops at once.
Screenshots and runs it already made stay.</p>
<form method="post" action="/app/schedules/${s.id}/delete" class="row">
  ${csrfField(c.get("csrf"))}
  <button type="submit" class="danger">Delete schedule</button>
  <a href="/app/schedules/${s.id}">Keep it</a>
</form>`,
  );
}

export async function deleteScheduleSubmit(c: Context<AppEnv>) {
  await deleteSchedule(c.get("db"), idParam(c));
  return c.redirect("/app/schedules?deleted=1", 303);
}
