import type { Context } from "hono";
import { html } from "hono/html";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { config, guardPolicy } from "../config";
import type { AppEnv } from "../context";
import type { Run, Screenshot } from "../db/schema";
import { ApiError, type FieldErrors, fieldErrors } from "../lib/errors";
import { CreateScenario, UpdateScenario } from "../routes/scenarios/scenarios.schemas";
import { runPageData, scenarioPageData, scenariosPageData } from "../services/dashboard";
import { runView, startDashboardRun } from "../services/runs";
import { createScenario, deleteScenario, getScenario, scenarioView, updateScenario } from "../services/scenarios";
import { str } from "./auth";
import {
  type CaptureFormValues,
  captureFields,
  parseCaptureForm,
  regroup,
  valuesFromForm,
  valuesFromOptions,
} from "./capture-form";
import { count, csrfField, field, type Html, notice, selectField, statusBadge, when } from "./components";
import { pageUser, renderPage } from "./layout";
import {
  actionLabel,
  applyOp,
  draftsFromForm,
  draftsFromSteps,
  type StepDraft,
  stepsEditor,
  stepsInput,
} from "./step-form";

const idParam = (c: Context<AppEnv>) => c.req.param("id") ?? "";
const wantsJson = (c: Context<AppEnv>) => (c.req.header("Accept") ?? "").includes("application/json");
const TERMINAL_RUN = new Set(["passed", "failed", "error"]);

const duration = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? "–" : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;

/** `/app/scenarios`: every scenario with its website, step count and latest run. */
export async function scenariosPage(c: Context<AppEnv>) {
  const data = await scenariosPageData(c.get("db"));
  const flash = c.req.query("deleted") ? notice("ok", "The scenario and its runs were deleted.") : "";
  return renderPage(
    c,
    { title: "Scenarios", user: pageUser(c), section: "scenarios" },
    html`<div class="row spread"><h1>Scenarios</h1>${
      data.websites.length ? html`<a class="btn" href="/app/scenarios/new">New scenario</a>` : ""
    }</div>${flash}
<p class="muted">A scenario runs steps in a browser (click, type, check, take screenshots) on one of your websites.</p>
${
  data.scenarios.length
    ? html`<div class="table-wrap"><table id="scenarios" class="stack">
<thead><tr><th scope="col">Scenario</th><th scope="col">Website</th><th scope="col">Steps</th><th scope="col">Last run</th></tr></thead>
<tbody>${data.scenarios.map(
        ({
          scenario,
          website,
          latest,
        }) => html`<tr><td data-label="Scenario"><a href="/app/scenarios/${scenario.id}">${scenario.name}</a></td>
<td data-label="Website">${website}</td><td data-label="Steps">${count((JSON.parse(scenario.steps) as unknown[]).length)}</td>
<td data-label="Last run">${latest ? html`<a href="/app/runs/${latest.id}">${statusBadge(latest.status)}</a> ${when(latest.createdAt)}` : "never"}</td></tr>`,
      )}</tbody></table></div>`
    : data.websites.length
      ? html`<p>No scenarios yet.</p>`
      : html`<p>No scenarios yet. <a href="/app/websites/new">Add a website</a> first.</p>`
}`,
  );
}

interface EditorState {
  name: string;
  websiteId: string;
  timeout: string;
  /** The scenario's own capture options (empty: the website's). */
  capture: CaptureFormValues;
  drafts: StepDraft[];
  errors: FieldErrors;
  problem?: Html | string;
}

/** The editor, for a new scenario (`scenarioId` undefined: a website is chosen) or an existing one. */
async function editor(
  c: Context<AppEnv>,
  s: EditorState,
  existing?: { id: string; name: string; websiteName: string },
  status: ContentfulStatusCode = 200,
) {
  const title = existing ? `Edit ${existing.name}` : "New scenario";
  const action = existing ? `/app/scenarios/${existing.id}/edit` : "/app/scenarios/new";
  const back = existing ? `/app/scenarios/${existing.id}` : "/app/scenarios";
  const sites = existing ? [] : (await scenariosPageData(c.get("db"))).websites;
  const hasErrors = Object.keys(s.errors).length > 0;
  const captureErrors = regroup(
    Object.fromEntries(Object.entries(s.errors).filter(([k]) => k === "capture" || k.startsWith("capture."))),
  );
  return renderPage(
    c,
    { title, user: pageUser(c), section: "scenarios" },
    html`<p><a href="${back}">← ${existing ? existing.name : "Scenarios"}</a></p>
<h1>${title}</h1>
${s.problem ? notice("error", s.problem) : hasErrors ? notice("error", "Check the fields marked below; nothing was saved.") : ""}
<form method="post" action="${action}" class="editor" novalidate>
  ${csrfField(c.get("csrf"))}
  <button type="submit" name="op" value="save" class="sr-only" tabindex="-1" aria-hidden="true">Save</button>
  <div class="grid2">
  ${field({ name: "name", label: "Name", value: s.name, errors: s.errors, required: true })}
  ${
    existing
      ? html`<div class="field"><span class="label">Website</span><p>${existing.websiteName}</p></div>`
      : selectField({
          name: "website_id",
          label: "Website",
          value: s.websiteId,
          errors: s.errors,
          options: sites.map((w) => ({ value: w.id, label: `${w.name} (${w.url})` })),
        })
  }
  ${field({
    name: "timeout_ms",
    label: "Run time limit (ms, optional)",
    type: "number",
    inputmode: "numeric",
    value: s.timeout,
    errors: s.errors,
    hint: "5000–300000; empty: 120000.",
  })}
  </div>
  <details class="advanced" id="scenario-capture"${Object.keys(captureErrors).length || Object.keys(s.capture).length ? html` open` : ""}>
  <summary>Capture options for this scenario's screenshots</summary>
  <p class="muted">Empty: the website's own capture options. Fields set here replace them for every step.</p>
  ${captureFields(s.capture, captureErrors, "capture.")}
  </details>
  ${stepsEditor(s.drafts, s.errors, action)}
  <p class="row"><button type="submit" name="op" value="save">${existing ? "Save scenario" : "Create scenario"}</button>
  <a href="${back}">Cancel</a></p>
</form>`,
    status,
  );
}

/** The editor's posted state and its op (add, remove:N, up:N, down:N, refresh, save). */
async function readEditor(c: Context<AppEnv>) {
  const form = await c.req.parseBody();
  const drafts = draftsFromForm(form);
  const op = str(form.op) || "save";
  const known = applyOp(drafts, op, str(form.new_action));
  const state: EditorState = {
    name: str(form.name),
    websiteId: str(form.website_id),
    timeout: str(form.timeout_ms),
    capture: valuesFromForm(form, "capture."),
    drafts,
    errors: {},
  };
  return { state, save: known && op === "save" };
}

/** The API body from the editor, judged by the API's own schema; errors keyed `steps.3.selector`. */
function validate(state: EditorState, schema: typeof CreateScenario | typeof UpdateScenario, withWebsite: boolean) {
  const { steps, errors } = stepsInput(state.drafts);
  const body: Record<string, unknown> = { name: state.name, steps };
  if (withWebsite) body.website_id = state.websiteId;
  const timeout = state.timeout.trim();
  if (timeout !== "") {
    const n = Number(timeout);
    if (Number.isFinite(n)) body.timeout_ms = n;
    else errors.timeout_ms = ["Must be a number"];
  }
  const capture = parseCaptureForm(state.capture);
  if (!capture.ok) for (const [k, v] of Object.entries(capture.errors)) errors[`capture.${k}`] = v;
  else if (Object.keys(capture.options).length) body.capture = capture.options;
  else if (!withWebsite) body.capture = null;
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    for (const [k, v] of Object.entries(fieldErrors(parsed.error.issues))) errors[k] ??= v;
  }
  return Object.keys(errors).length || !parsed.success ? { errors } : { input: parsed.data };
}

/** A refusal from the service shown on the form: field errors beside their fields. */
function refusal(err: unknown, state: EditorState): ContentfulStatusCode {
  if (!(err instanceof ApiError) || err.status >= 500 || err.code === "not_found") throw err;
  if (err.code === "validation_failed" && err.errors) Object.assign(state.errors, err.errors);
  else state.problem = err.message;
  return err.status as ContentfulStatusCode;
}

export const newScenarioPage = (c: Context<AppEnv>) =>
  editor(c, {
    name: "",
    websiteId: c.req.query("website_id") ?? "",
    timeout: "",
    capture: {},
    drafts: [{ action: "screenshot", values: { name: "home" } }],
    errors: {},
  });

export async function newScenarioSubmit(c: Context<AppEnv>) {
  const { state, save } = await readEditor(c);
  if (!save) return editor(c, state);
  const v = validate(state, CreateScenario, true);
  if (!v.input) return editor(c, { ...state, errors: v.errors }, undefined, 422);
  try {
    const row = await createScenario(
      c.get("db"),
      v.input as Parameters<typeof createScenario>[1],
      config(c.env).SECRETS_KEY,
      guardPolicy(c.env),
      c.get("now"),
    );
    return c.redirect(`/app/scenarios/${row.id}?saved=1`, 303);
  } catch (err) {
    if (err instanceof ApiError && err.code === "not_found") {
      return editor(c, { ...state, errors: { website_id: ["Choose one of your websites"] } }, undefined, 422);
    }
    return editor(c, state, undefined, refusal(err, state));
  }
}

async function existingOf(c: Context<AppEnv>) {
  const data = await scenarioPageData(c.get("db"), idParam(c), undefined);
  return { data, existing: { id: data.scenario.id, name: data.scenario.name, websiteName: data.website.name } };
}

export async function editScenarioPage(c: Context<AppEnv>) {
  const { data, existing } = await existingOf(c);
  const view = scenarioView(data.scenario);
  return editor(
    c,
    {
      name: view.name,
      websiteId: view.website_id,
      timeout: String(view.timeout_ms),
      capture: view.capture ? valuesFromOptions(view.capture) : {},
      drafts: draftsFromSteps(view.steps),
      errors: {},
    },
    existing,
  );
}

export async function editScenarioSubmit(c: Context<AppEnv>) {
  const { existing } = await existingOf(c);
  const { state, save } = await readEditor(c);
  if (!save) return editor(c, state, existing);
  const v = validate(state, UpdateScenario, false);
  if (!v.input) return editor(c, { ...state, errors: v.errors }, existing, 422);
  try {
    await updateScenario(
      c.get("db"),
      existing.id,
      v.input as Parameters<typeof updateScenario>[2],
      config(c.env).SECRETS_KEY,
      guardPolicy(c.env),
      c.get("now"),
    );
    return c.redirect(`/app/scenarios/${existing.id}?saved=1`, 303);
  } catch (err) {
    return editor(c, state, existing, refusal(err, state));
  }
}

const runRow = (
  r: Run,
) => html`<tr><td data-label="Started"><a href="/app/runs/${r.id}">${when(r.createdAt)}</a></td><td data-label="Status">${statusBadge(r.status)}</td>
<td data-label="Trigger">${r.trigger}</td><td data-label="Duration">${duration(r.durationMs)}</td><td data-label="Error" class="wrap">${r.error ?? ""}</td></tr>`;

/** `/app/scenarios/:id`: its steps, Run, edit, delete, and its run history (paged). */
export async function scenarioPage(c: Context<AppEnv>, problem?: string, status: ContentfulStatusCode = 200) {
  const cursor = c.req.query("before");
  const data = await scenarioPageData(c.get("db"), idParam(c), cursor || undefined);
  const view = scenarioView(data.scenario);
  const s = data.scenario;
  const flash = problem ? notice("error", problem) : c.req.query("saved") ? notice("ok", "Scenario saved.") : "";
  return renderPage(
    c,
    { title: s.name, user: pageUser(c), section: "scenarios" },
    html`<p><a href="/app/scenarios">← Scenarios</a></p>
<div class="row spread"><h1>${s.name}</h1>
  <div class="row"><a class="btn secondary" href="/app/scenarios/${s.id}/edit">Edit</a>
  <a class="btn secondary" href="/app/scenarios/${s.id}/delete">Delete</a></div></div>
<p>On <a href="/app/websites/${data.website.id}">${data.website.name}</a> · time limit ${duration(s.timeoutMs)}</p>
${flash}
<form method="post" action="/app/scenarios/${s.id}/run">${csrfField(c.get("csrf"))}<button type="submit" id="run-scenario">Run now</button></form>
<h2>Steps</h2>
<ol class="step-list">${view.steps.map(
      (step) => html`<li><strong>${actionLabel(String(step.action))}</strong> ${stepSummary(step)}</li>`,
    )}</ol>
<h2>Runs</h2>
${cursor ? html`<p><a href="/app/scenarios/${s.id}">← Newest</a></p>` : ""}
${
  data.runs.length
    ? html`<div class="table-wrap"><table id="runs" class="stack">
<thead><tr><th scope="col">Started</th><th scope="col">Status</th><th scope="col">Trigger</th><th scope="col">Duration</th><th scope="col">Error</th></tr></thead>
<tbody>${data.runs.map(runRow)}</tbody></table></div>`
    : html`<p class="muted">No runs yet.</p>`
}
${data.nextCursor ? html`<p class="pager"><a class="btn secondary" href="/app/scenarios/${s.id}?before=${data.nextCursor}">Older runs</a></p>` : ""}`,
    status,
  );
}

/** A step's fields in one line (the API's public view: never a secret's text). */
function stepSummary(step: Record<string, unknown>) {
  const parts = Object.entries(step)
    .filter(([k]) => k !== "action")
    .map(([k, v]) => (v === true ? k : `${k}: ${String(v)}`));
  if (step.action === "type" && step.secret) parts.push("text: (secret)");
  return html`<span class="muted">${parts.join(" · ")}</span>`;
}

export const scenarioPageRoute = (c: Context<AppEnv>) => scenarioPage(c);

/** "Run now": queued through the same checks as the API's run; then the run's live page. */
export async function runScenarioSubmit(c: Context<AppEnv>) {
  try {
    const run = await startDashboardRun(
      c.get("scope"),
      c.env.JOBS,
      c.get("account"),
      idParam(c),
      config(c.env).SECRETS_KEY,
      c.get("now"),
    );
    return c.redirect(`/app/runs/${run.id}`, 303);
  } catch (err) {
    if (!(err instanceof ApiError) || err.code === "not_found" || err.status >= 500) throw err;
    return scenarioPage(c, err.message, err.status as ContentfulStatusCode);
  }
}

export async function deleteScenarioPage(c: Context<AppEnv>) {
  const s = await getScenario(c.get("db"), idParam(c));
  return renderPage(
    c,
    { title: `Delete ${s.name}`, user: pageUser(c), section: "scenarios", narrow: true },
    html`<h1>Delete ${s.name}?</h1>
<p>This deletes the scenario with all its runs and the screenshots they took. It cannot be undone.</p>
<form method="post" action="/app/scenarios/${s.id}/delete" class="row">
  ${csrfField(c.get("csrf"))}
  <button type="submit" class="danger">Delete scenario</button>
  <a href="/app/scenarios/${s.id}">Keep it</a>
</form>`,
  );
}

export async function deleteScenarioSubmit(c: Context<AppEnv>) {
  await deleteScenario(c.get("db"), c.env.JOBS, c.get("account").id, idParam(c));
  return c.redirect("/app/scenarios?deleted=1", 303);
}

/**
 * A run's status and step results. While the run is queued or running the section carries
 * the URL the script polls; the status route answers the same markup from this function.
 */
function runResults(run: Run, shots: Screenshot[]) {
  const v = runView(run);
  const byId = new Map(shots.map((s) => [s.id, s]));
  const live = !TERMINAL_RUN.has(v.status);
  return html`<section id="run-results"${live ? html` data-run-status-url="/app/runs/${v.id}/status"` : ""} aria-labelledby="results-h">
<p id="run-status" role="status">${statusBadge(v.status)} ${
    live ? (v.status === "queued" ? "Waiting for a browser…" : "Running…") : `Finished in ${duration(v.duration_ms)}.`
  }</p>
${v.error ? notice("error", v.error) : ""}
<h2 id="results-h">Step results</h2>
<div class="table-wrap"><table id="step-results" class="stack">
<thead><tr><th scope="col">#</th><th scope="col">Step</th><th scope="col">Status</th><th scope="col">Duration</th><th scope="col">Error</th><th scope="col">Screenshot</th></tr></thead>
<tbody>${v.steps.map((step) => {
    const shot = step.screenshot_id ? byId.get(step.screenshot_id) : undefined;
    return html`<tr data-step="${step.index}"><td data-label="#">${step.index + 1}</td><td data-label="Step">${actionLabel(step.action)}${step.name ? html` <span class="muted">${step.name}</span>` : ""}</td>
<td data-label="Status">${statusBadge(step.status)}</td><td data-label="Duration">${step.status === "pending" || step.status === "skipped" ? "–" : duration(step.duration_ms)}</td>
<td data-label="Error" class="wrap">${step.error ?? ""}</td><td data-label="Screenshot">${
      shot
        ? html`<a class="run-shot" href="/app/screenshots/${shot.id}">${
            shot.status === "completed" && shot.thumbKey
              ? html`<img class="thumb small" src="/app/screenshots/${shot.id}/thumb" alt="Screenshot ${shot.name ?? step.name ?? step.index + 1}" width="160" height="100">`
              : html`${statusBadge(shot.status)}<span class="sr-only"> screenshot ${step.name ?? ""}</span>`
          }</a>`
        : ""
    }</td></tr>`;
  })}</tbody></table></div>
</section>`;
}

/** `/app/runs/:id`: live status, then each step's status, duration, error and screenshot. */
export async function runPage(c: Context<AppEnv>) {
  const data = await runPageData(c.get("db"), idParam(c));
  return renderPage(
    c,
    { title: `Run of ${data.scenario.name}`, user: pageUser(c), section: "scenarios" },
    html`<p><a href="/app/scenarios/${data.scenario.id}">← ${data.scenario.name}</a></p>
<h1>Run of ${data.scenario.name}</h1>
<p class="muted">On <a href="/app/websites/${data.website.id}">${data.website.name}</a> · started ${when(data.run.createdAt)}</p>
${runResults(data.run, data.screenshots)}`,
  );
}

/** What the script polls: the run's status and, always, its results section to swap in. */
export async function runStatus(c: Context<AppEnv>) {
  const data = await runPageData(c.get("db"), idParam(c));
  if (!wantsJson(c)) return c.redirect(`/app/runs/${data.run.id}`, 303);
  return c.json({ status: data.run.status, html: String(await runResults(data.run, data.screenshots)) });
}
