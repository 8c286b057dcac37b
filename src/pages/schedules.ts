import type { Context } from "hono";
import { html } from "hono/html";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../context";
import type { Schedule } from "../db/schema";
import { ApiError, type FieldErrors, fieldErrors, notFound } from "../lib/errors";
import { effectivePlan } from "../limits/subscription";
import { CreateSchedule, UpdateSchedule } from "../routes/schedules/schedules.schemas";
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
import { attrs, csrfField, field, fieldNotes, type Html, notice, statusBadge, when } from "./components";
import { pageUser, renderPage } from "./layout";
import { describeInterval, describeTiming } from "./schedule-words";

/**
 * Schedules: a list in words ("At 09:00, Monday through Friday (Europe/Berlin)"), and one form
 * for creating and editing that starts from presets — every hour, daily at, weekdays at,
 * weekly on — with a cron expression or a fixed interval as the advanced choices, a time-zone
 * picker (the script preselects the browser's zone on a new schedule), and a preview of the
 * next runs checked by the service's own rules.
 */
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

function targetOf(s: Schedule, data: Data) {
  if (s.scenarioId) {
    const scenario = data.scenarios.find((x) => x.id === s.scenarioId);
    return html`Scenario <a href="/app/scenarios/${s.scenarioId}">${scenario?.name ?? s.scenarioId}</a>`;
  }
  const website = data.websites.find((x) => x.id === s.websiteId);
  return html`Screenshot of <a href="/app/websites/${s.websiteId}">${website?.name ?? s.websiteId}</a>`;
}

const timing = (s: Schedule) =>
  html`<span class="timing">${describeTiming(s)}</span>${s.cron ? html` <code class="muted">${s.cron}</code>` : ""}`;

const stateOf = (s: Schedule) =>
  s.enabled
    ? html`<span class="status completed">active</span>`
    : html`<span class="status failed">paused</span>${s.pausedReason ? html` <span class="muted">${s.pausedReason}</span>` : ""}`;

function pauseButton(c: Context<AppEnv>, s: Schedule, back: string) {
  return html`<form method="post" action="/app/schedules/${s.id}/${s.enabled ? "pause" : "resume"}" class="inline">${csrfField(c.get("csrf"))}
<input type="hidden" name="back" value="${back}"><button type="submit" class="secondary small">${s.enabled ? "Pause" : "Resume"}</button></form>`;
}

/** `/app/schedules`: every schedule, its timing in words, state, next and last run with its status. */
export async function schedulesPage(c: Context<AppEnv>, problem?: string, status: ContentfulStatusCode = 200) {
  const data = await schedulesPageData(c.get("db"));
  const flash = problem
    ? notice("error", problem)
    : c.req.query("deleted")
      ? notice("ok", "The schedule was deleted.")
      : c.req.query("paused")
        ? notice("ok", "The schedule is paused.")
        : c.req.query("resumed")
          ? notice("ok", "The schedule is running again.")
          : "";
  return renderPage(
    c,
    { title: "Schedules", user: pageUser(c), section: "schedules" },
    html`<div class="row spread"><h1>Schedules</h1>${
      data.websites.length ? html`<a class="btn" href="/app/schedules/new">New schedule</a>` : ""
    }</div>${flash}
${
  data.schedules.length
    ? html`<div class="table-wrap"><table id="schedules" class="stack">
<thead><tr><th scope="col">What</th><th scope="col">When</th><th scope="col">State</th><th scope="col">Next run</th><th scope="col">Last run</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
<tbody>${data.schedules.map(
        (
          s,
        ) => html`<tr id="schedule-${s.id}"><td data-label="What">${targetOf(s, data)}</td><td data-label="When"><a href="/app/schedules/${s.id}">${timing(s)}</a></td><td data-label="State">${stateOf(s)}</td>
<td data-label="Next run">${s.enabled ? whenIn(s.nextRunAt, s.timezone) : "–"}</td>
<td data-label="Last run">${s.lastRunAt ? html`${when(s.lastRunAt)}${s.lastStatus ? html` ${statusBadge(s.lastStatus)}` : ""}` : "never"}</td>
<td data-label="" class="row">${pauseButton(c, s, "/app/schedules")}<a class="btn secondary small" href="/app/schedules/${s.id}/edit">Edit</a><a class="btn secondary small" href="/app/schedules/${s.id}/delete">Delete</a></td></tr>`,
      )}</tbody></table></div>`
    : html`<p>No schedules yet.${data.websites.length ? "" : html` <a href="/app/websites/new">Add a website</a> first.`}</p>`
}`,
    status,
  );
}

/** How a schedule is chosen on the form: a preset, or the advanced cron / interval. */
const PRESETS = ["hourly", "daily", "weekdays", "weekly", "cron", "interval"] as const;
type Preset = (typeof PRESETS)[number];
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"] as const;

interface FormState {
  target: string;
  preset: Preset;
  /** `HH:MM` for daily, weekdays and weekly. */
  at: string;
  /** 0–6 (Sunday first) for weekly. */
  day: string;
  cron: string;
  interval: string;
  timezone: string;
  errors: FieldErrors;
  preview?: number[];
  problem?: string;
}

/** The cron a preset stands for (hourly on the hour; the others at `at`). */
function presetCron(s: FormState): { cron?: string; error?: [string, string] } {
  if (s.preset === "hourly") return { cron: "0 * * * *" };
  const m = /^(\d{1,2}):(\d{2})$/.exec(s.at.trim());
  const hour = Number(m?.[1]);
  const minute = Number(m?.[2]);
  if (!m || hour > 23 || minute > 59) return { error: ["at", "Choose a time of day, e.g. 09:00"] };
  if (s.preset === "daily") return { cron: `${minute} ${hour} * * *` };
  if (s.preset === "weekdays") return { cron: `${minute} ${hour} * * 1-5` };
  const day = Number(s.day);
  if (!Number.isInteger(day) || day < 0 || day > 6) return { error: ["day", "Choose a day of the week"] };
  return { cron: `${minute} ${hour} * * ${day}` };
}

/** A stored schedule back as the form's choices: a preset when its cron is one, else cron or interval. */
function stateOf2(s: Schedule): Pick<FormState, "preset" | "at" | "day" | "cron" | "interval"> {
  const base = { at: "09:00", day: "1", cron: s.cron ?? "", interval: String(s.intervalMinutes ?? "") };
  if (!s.cron) return { ...base, preset: "interval" };
  if (/^0 \* \* \* \*$/.test(s.cron)) return { ...base, preset: "hourly" };
  const m = /^(\d{1,2}) (\d{1,2}) \* \* (\*|1-5|[0-6])$/.exec(s.cron);
  if (!m) return { ...base, preset: "cron" };
  const at = `${String(m[2]).padStart(2, "0")}:${String(m[1]).padStart(2, "0")}`;
  if (m[3] === "*") return { ...base, at, preset: "daily" };
  if (m[3] === "1-5") return { ...base, at, preset: "weekdays" };
  return { ...base, at, day: m[3] as string, preset: "weekly" };
}

/** The API body from the form, judged by the API's own schema (errors keyed like the API's). */
function parseForm(s: FormState, withTarget: boolean) {
  const body: Record<string, unknown> = { timezone: s.timezone.trim() || "UTC" };
  const errors: FieldErrors = {};
  if (withTarget) {
    const [kind, id] = s.target.split(":");
    if (kind === "scenario" && id) body.scenario_id = id;
    else if (kind === "website" && id) body.website_id = id;
    if (!id) errors.target = ["Choose a website or a scenario"];
  }
  if (s.preset === "interval") {
    const n = Number(s.interval);
    if (s.interval.trim() === "" || !Number.isFinite(n)) errors.interval_minutes = ["Must be a number of minutes"];
    else body.interval_minutes = n;
  } else if (s.preset === "cron") {
    body.cron = s.cron;
  } else {
    const made = presetCron(s);
    if (made.error) errors[made.error[0]] = [made.error[1]];
    else body.cron = made.cron;
  }
  // Creating is the API's POST body; editing its PATCH body (the timing alone).
  const parsed = (withTarget ? CreateSchedule : UpdateSchedule).safeParse(body);
  if (!parsed.success) for (const [k, v] of Object.entries(fieldErrors(parsed.error.issues))) errors[k] ??= v;
  if (Object.keys(errors).length || !parsed.success) return { errors };
  return { input: parsed.data };
}

/** Every IANA zone the runtime knows (a short list where it knows none). */
let zones: string[] | undefined;
function timeZones(): string[] {
  zones ??= (() => {
    try {
      const list = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.("timeZone");
      if (list?.length) return list.includes("UTC") ? list : ["UTC", ...list];
    } catch {}
    return ["UTC", "Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles", "Asia/Tokyo"];
  })();
  return zones;
}

function timezoneSelect(value: string, fresh: boolean, errors: FieldErrors) {
  const list = timeZones();
  const options = list.includes(value) ? list : [value, ...list];
  return html`<div class="${errors.timezone ? "field invalid" : "field"}"><label for="f-timezone">Time zone</label>
<select id="f-timezone" name="timezone"${attrs({ "data-browser-zone": fresh ? "" : undefined, "aria-describedby": errors.timezone ? "f-timezone-error" : "f-timezone-hint" })}>
${options.map((z) => html`<option${attrs({ value: z, selected: z === value })}>${z.replaceAll("_", " ")}</option>`)}
</select>${fieldNotes("timezone", "Times above are in this zone (yours is picked for a new schedule).", errors.timezone)}</div>`;
}

async function scheduleForm(c: Context<AppEnv>, s: FormState, existing?: Schedule, status: ContentfulStatusCode = 200) {
  const data = await schedulesPageData(c.get("db"));
  const plan = effectivePlan(c.get("account"), c.get("now"));
  const hasErrors = Object.keys(s.errors).length > 0;
  const targetErrors = s.errors.target ?? s.errors.website_id;
  const option = (value: string, label: string) =>
    html`<option${attrs({ value, selected: s.target === value })}>${label}</option>`;
  const radio = (value: Preset, label: Html | string) =>
    html`<label class="check"><input${attrs({ type: "radio", name: "preset", value, checked: s.preset === value, id: `f-preset-${value}` })}> ${label}</label>`;
  const action = existing ? `/app/schedules/${existing.id}/edit` : "/app/schedules/new";
  const title = existing ? "Edit schedule" : "New schedule";
  const timingErrors = s.errors.cron ?? s.errors.interval_minutes;
  const fastest = plan.fastestScheduleMinutes;
  return renderPage(
    c,
    { title, user: pageUser(c), section: "schedules" },
    html`<p><a href="${existing ? `/app/schedules/${existing.id}` : "/app/schedules"}">← ${existing ? "Schedule" : "Schedules"}</a></p>
<h1>${title}</h1>
${s.problem ? notice("error", s.problem) : hasErrors ? notice("error", "Check the fields marked below.") : ""}
<p id="fastest">Your ${plan.id} plan runs schedules at most every <strong>${every(fastest)}</strong>.</p>
<form method="post" action="${action}" novalidate class="schedule-form">
  ${csrfField(c.get("csrf"))}
  <button type="submit" name="op" value="save" class="sr-only" tabindex="-1" aria-hidden="true">Save</button>
  ${
    existing
      ? html`<div class="field"><span class="label">What</span><p>${targetOf(existing, data)}</p></div>`
      : html`<div class="${targetErrors ? "field invalid" : "field"}"><label for="f-target">What to run</label>
  <select id="f-target" name="target"${attrs({ "aria-describedby": targetErrors ? "f-target-error" : undefined })}>
    <optgroup label="Take a screenshot of a website">${data.websites.map((w) => option(`website:${w.id}`, w.name))}</optgroup>
    ${data.scenarios.length ? html`<optgroup label="Run a scenario">${data.scenarios.map((x) => option(`scenario:${x.id}`, x.name))}</optgroup>` : ""}
  </select>${targetErrors ? html`<p class="error" id="f-target-error">${targetErrors.join(" ")}</p>` : ""}</div>`
  }
  <fieldset${attrs({ class: timingErrors ? "invalid" : undefined })}><legend>How often</legend>
  <div class="presets">
    ${radio("hourly", html`Every hour${fastest > 60 ? html` <span class="muted">(needs a faster plan)</span>` : ""}`)}
    ${radio("daily", "Every day at …")}
    ${radio("weekdays", "Weekdays (Monday–Friday) at …")}
    ${radio("weekly", "Once a week, on … at …")}
  </div>
  <div class="grid2">
  ${field({ name: "at", label: "At (time of day)", type: "time", value: s.at, errors: s.errors, hint: "For every day, weekdays and once a week." })}
  <div class="${s.errors.day ? "field invalid" : "field"}"><label for="f-day">On (once a week)</label>
  <select id="f-day" name="day">${DAYS.map((d, i) => html`<option${attrs({ value: i, selected: String(i) === s.day })}>${d}</option>`)}</select>
  ${fieldNotes("day", undefined, s.errors.day)}</div>
  </div>
  <details class="advanced"${s.preset === "cron" || s.preset === "interval" ? html` open` : ""}>
  <summary>Advanced: a cron expression or a fixed interval</summary>
  <div class="presets">${radio("cron", "Cron expression")}${radio("interval", "Fixed interval")}</div>
  <div class="grid2">
  ${field({ name: "cron", label: "Cron", value: s.cron, errors: s.errors, placeholder: "0 9 * * 1-5", hint: "minute hour day-of-month month day-of-week" })}
  ${field({ name: "interval_minutes", label: "Every … minutes", type: "number", inputmode: "numeric", value: s.interval, errors: s.errors, min: 1 })}
  </div>
  </details>
  ${timezoneSelect(s.timezone, !existing && !hasErrors && !s.preview, s.errors)}
  </fieldset>
  ${
    s.preview
      ? html`<div class="notice ok preview" role="status" id="preview"><p><strong id="preview-words">${
          s.preset === "interval" ? describeInterval(Number(s.interval)) : describeTiming(previewTiming(s))
        }.</strong> The next ${s.preview.length} runs:</p>
<ol>${s.preview.map((t) => html`<li>${whenIn(t, s.timezone.trim() || "UTC")}</li>`)}</ol></div>`
      : ""
  }
  <p class="row"><button type="submit" name="op" value="preview" class="secondary">Preview next ${PREVIEW_RUNS} runs</button>
  <button type="submit" name="op" value="save" id="save-schedule">${existing ? "Save changes" : "Create schedule"}</button>
  <a href="${existing ? `/app/schedules/${existing.id}` : "/app/schedules"}">Cancel</a></p>
</form>`,
    status,
  );
}

const previewTiming = (s: FormState) => ({
  cron: s.preset === "cron" ? s.cron : (presetCron(s).cron ?? null),
  intervalMinutes: null,
  timezone: s.timezone.trim() || "UTC",
});

export function newSchedulePage(c: Context<AppEnv>) {
  const website = c.req.query("website_id");
  const scenario = c.req.query("scenario_id");
  return scheduleForm(c, {
    target: scenario ? `scenario:${scenario}` : website ? `website:${website}` : "",
    preset: "daily",
    at: "09:00",
    day: "1",
    cron: "",
    interval: "",
    timezone: "UTC",
    errors: {},
  });
}

async function readForm(c: Context<AppEnv>): Promise<{ s: FormState; op: string }> {
  const form = await c.req.parseBody();
  const preset = str(form.preset);
  return {
    op: str(form.op),
    s: {
      target: str(form.target),
      preset: (PRESETS as readonly string[]).includes(preset) ? (preset as Preset) : "daily",
      at: str(form.at) || "09:00",
      day: str(form.day) || "1",
      cron: str(form.cron),
      interval: str(form.interval_minutes),
      timezone: str(form.timezone),
      errors: {},
    },
  };
}

/** A service refusal shown on the form. */
function refusal(err: unknown, s: FormState): { s: FormState; status: ContentfulStatusCode } {
  if (!(err instanceof ApiError) || err.status >= 500) throw err;
  if (err.code === "validation_failed" && err.errors) {
    // A preset's cron is not typed by the user: its complaint belongs to the preset's fields.
    const errors = { ...err.errors };
    if (errors.cron && s.preset !== "cron") {
      errors.at = errors.cron;
      delete errors.cron;
    }
    return { s: { ...s, errors }, status: 422 };
  }
  if (err.code === "not_found") return { s: { ...s, errors: { target: [err.message] } }, status: 422 };
  return { s: { ...s, problem: err.message }, status: err.status as ContentfulStatusCode };
}

/** "Preview" shows the next runs (the service's own timing and plan checks); "Create" stores it. */
export async function newScheduleSubmit(c: Context<AppEnv>) {
  const { s, op } = await readForm(c);
  const parsed = parseForm(s, true);
  if (!parsed.input) return scheduleForm(c, { ...s, errors: parsed.errors }, undefined, 422);
  const now = c.get("now");
  const plan = effectivePlan(c.get("account"), now);
  try {
    if (op === "preview") return scheduleForm(c, { ...s, preview: previewSchedule(plan, parsed.input, now) });
    const row = await createSchedule(c.get("db"), plan, parsed.input, now);
    return c.redirect(`/app/schedules/${row.id}?saved=1`, 303);
  } catch (err) {
    const r = refusal(err, s);
    return scheduleForm(c, r.s, undefined, r.status);
  }
}

export async function editSchedulePage(c: Context<AppEnv>) {
  const existing = await getSchedule(c.get("db"), idParam(c));
  return scheduleForm(c, { target: "", ...stateOf2(existing), timezone: existing.timezone, errors: {} }, existing);
}

/** Editing is the API's PATCH: the timing (cron or interval) and the time zone, with the same checks. */
export async function editScheduleSubmit(c: Context<AppEnv>) {
  const existing = await getSchedule(c.get("db"), idParam(c));
  const { s, op } = await readForm(c);
  const parsed = parseForm(s, false);
  if (!parsed.input) return scheduleForm(c, { ...s, errors: parsed.errors }, existing, 422);
  const input = parsed.input as { cron?: string | null; interval_minutes?: number | null; timezone?: string };
  const timing = {
    cron: input.cron ?? null,
    interval_minutes: input.interval_minutes ?? null,
    timezone: input.timezone,
  };
  const now = c.get("now");
  const plan = effectivePlan(c.get("account"), now);
  try {
    if (op === "preview") return scheduleForm(c, { ...s, preview: previewSchedule(plan, timing, now) }, existing);
    await updateSchedule(c.get("db"), plan, existing.id, timing, now);
    return c.redirect(`/app/schedules/${existing.id}?saved=1`, 303);
  } catch (err) {
    const r = refusal(err, s);
    return scheduleForm(c, r.s, existing, r.status);
  }
}

/** `/app/schedules/:id`: timing, state, next runs, last run; edit, pause/resume and delete. */
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
      : c.req.query("paused")
        ? notice("ok", "The schedule is paused.")
        : c.req.query("resumed")
          ? notice("ok", "The schedule is running again.")
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
<p class="row actions"><a class="btn secondary small" href="/app/schedules/${s.id}/edit" id="edit-schedule">Edit</a>
${pauseButton(c, s, `/app/schedules/${s.id}`)}
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
      return schedulePage(c, `It cannot be resumed: ${reason}. Edit its timing, or upgrade.`, 422);
    }
    return c.redirect(`${backTo(id, str(form.back))}?${enabled ? "resumed" : "paused"}=1`, 303);
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
<p>${describeTiming(s)}: it stops at once. Screenshots and runs it already made stay.</p>
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
