import type { Context, Hono } from "hono";
import { html } from "hono/html";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { config, guardPolicy } from "../config";
import type { AppEnv } from "../context";
import { ApiError, type FieldErrors, fieldErrors } from "../lib/errors";
import { WEBHOOK_EVENT_TYPES } from "../lib/values";
import { effectivePlan } from "../limits/subscription";
import { ownerOnly } from "../middleware/auth";
import { CreateWebhook } from "../routes/webhooks/webhooks.schemas";
import { isOwner } from "../services/auth";
import { keepOnce, takeOnce } from "../services/one-time";
import { memberName } from "../services/team";
import {
  checkWebhookUrl,
  createWebhook,
  deleteWebhook,
  type EventFilter,
  getWebhook,
  listDeliveries,
  listWebhooks,
  redeliver,
  rotateWebhookSecret,
  sendTestEvent,
  updateWebhook,
  webhookView,
} from "../services/webhooks";
import { str } from "./auth";
import { attrs, count, csrfField, field, type Html, notice, when } from "./components";
import { pageUser, renderPage } from "./layout";

/**
 * Settings → Webhooks: owners add, edit, test, rotate, disable and delete endpoints (each
 * endpoint remembers who added it: removing that member disables it unless an owner keeps
 * it); members see the endpoints and their delivery logs. Every write goes through
 * services/webhooks.ts, as the API's handlers do; a new secret is shown once, by the page
 * the form redirects to.
 */
export function mountWebhookPages(app: Hono<AppEnv>) {
  const base = "/app/settings/webhooks";
  const owners = ownerOnly();
  app.get(base, (c) => webhooksPage(c));
  app.post(base, owners, createSubmit);
  app.get(`${base}/:id`, (c) => endpointPage(c));
  app.get(`${base}/:id/log`, logFragment);
  app.post(`${base}/:id`, owners, editSubmit);
  app.post(`${base}/:id/enable`, owners, (c) => enabledSubmit(c, true));
  app.post(`${base}/:id/disable`, owners, (c) => enabledSubmit(c, false));
  app.get(`${base}/:id/rotate`, owners, rotatePage);
  app.post(`${base}/:id/rotate`, owners, rotateSubmit);
  app.post(`${base}/:id/test`, owners, testSubmit);
  app.get(`${base}/:id/delete`, owners, deletePage);
  app.post(`${base}/:id/delete`, owners, deleteSubmit);
  app.post(`${base}/:id/deliveries/:delivery/redeliver`, owners, redeliverSubmit);
}

const BASE = "/app/settings/webhooks";
/** Deliveries per page of an endpoint's log. */
const LOG_PAGE = 20;
/** Every plan's endpoint count fits one page (Business: 25). */
const ALL_ENDPOINTS = 100;

/** Delivery statuses in the badge colours captures use. */
const DELIVERY_LOOK = { delivered: "completed", failed: "failed", pending: "processing" } as const;

const idParam = (c: Context<AppEnv>) => c.req.param("id") ?? "";
const title = (w: { url: string; description: string | null }) => w.description || w.url;

interface FormState {
  url?: string;
  description?: string;
  /** `["*"]`, or the checked types. */
  events: string[];
  errors: FieldErrors;
  problem?: Html | string;
}

/** The endpoint form's fields: URL, description, events (all, or the checked ones). */
function endpointFields(s: FormState) {
  const all = s.events.includes("*");
  const eventErrors = s.errors.events;
  return html`${field({
    name: "url",
    label: "Endpoint URL",
    type: "url",
    value: s.url,
    errors: s.errors,
    required: true,
    placeholder: "https://example.com/hooks/snaptrack",
    inputmode: "url",
    hint: "https (plain http only for local test receivers). Each event is POSTed here, signed (Standard Webhooks).",
  })}
${field({ name: "description", label: "Description (optional)", value: s.description, errors: s.errors })}
<fieldset${attrs({ class: eventErrors ? "invalid" : undefined, "aria-describedby": eventErrors ? "f-events-error" : undefined })}>
<legend>Events</legend>
<div class="field"><label class="check"><input${attrs({ type: "checkbox", name: "events", value: "*", checked: all, id: "f-events-all" })}> All events, including new ones</label></div>
<p class="hint muted">Or only these:</p>
<div class="events">${WEBHOOK_EVENT_TYPES.map(
    (t) =>
      html`<label class="check"><input${attrs({ type: "checkbox", name: "events", value: t, checked: !all && s.events.includes(t) })}> <code>${t}</code></label>`,
  )}</div>
${eventErrors ? html`<p class="error" id="f-events-error">${eventErrors.join(" ")}</p>` : ""}
</fieldset>`;
}

/** The form's fields checked by the API's own schema. "All events" wins over single types. */
async function readForm(c: Context<AppEnv>) {
  const form = await c.req.parseBody({ all: true });
  const checked = ([] as unknown[]).concat(form.events ?? []).filter((v): v is string => typeof v === "string");
  const state: FormState = {
    url: str(form.url),
    description: str(form.description),
    events: checked.includes("*") ? ["*"] : checked,
    errors: {},
  };
  const parsed = CreateWebhook.safeParse({
    url: state.url,
    events: state.events,
    description: state.description?.trim() ? state.description.trim() : null,
  });
  if (!parsed.success) {
    for (const [path, messages] of Object.entries(fieldErrors(parsed.error.issues))) {
      const key = path.split(".")[0] ?? "body";
      state.errors[key] = [...(state.errors[key] ?? []), ...messages];
    }
    if (state.errors.events) state.errors.events = ["Choose “All events” or at least one event type."];
    // The URL is still checked (as the service will), so every error shows at once.
    if (!state.errors.url && state.url) {
      const verdict = await checkWebhookUrl(state.url.trim(), guardPolicy(c.env), "storing");
      if (!verdict.ok) state.errors.url = [verdict.reason];
    }
    return { state, input: null };
  }
  return { state, input: { ...parsed.data, events: parsed.data.events as EventFilter } };
}

/** A service refusal on the form: field errors beside their fields, a plan limit above it. */
function refusal(err: unknown, state: FormState): ContentfulStatusCode {
  if (!(err instanceof ApiError)) throw err;
  if (err.code === "validation_failed" && err.errors) {
    for (const [path, messages] of Object.entries(err.errors)) {
      const key = path.split(".")[0] ?? "body";
      state.errors[key] = [...(state.errors[key] ?? []), ...messages];
    }
  } else if (err.code === "plan_limit_reached") {
    state.problem = html`${err.message} <a href="/app/settings/plan">See plans</a>.`;
  } else throw err;
  return err.status as ContentfulStatusCode;
}

const eventsText = (events: EventFilter) => (events.includes("*") ? "all events" : events.join(", "));

/** `/app/settings/webhooks`: the endpoints, and (owners) the form to add one unless the plan's limit is reached. */
async function webhooksPage(
  c: Context<AppEnv>,
  s: FormState = { events: ["*"], errors: {} },
  status: ContentfulStatusCode = 200,
) {
  const account = c.get("account");
  const plan = effectivePlan(account, c.get("now"));
  const owner = isOwner(c.get("user"));
  const { data } = await listWebhooks(c.get("db"), { limit: ALL_ENDPOINTS });
  const full = data.length >= plan.webhookEndpoints;
  const flash = c.req.query("deleted") ? notice("ok", "The endpoint was deleted.") : "";
  const hasErrors = Object.keys(s.errors).length > 0;
  const rows = data.map(
    (w) => html`<tr>
  <td data-label="Endpoint"><a href="${BASE}/${w.id}" class="wrap">${w.url}</a>${w.description ? html`<br><span class="muted">${w.description}</span>` : ""}</td>
  <td data-label="Events">${eventsText(w.events)}</td>
  <td data-label="State">${w.enabled ? html`<span class="status completed">enabled</span>` : html`<span class="status failed">disabled</span>${w.disabled_reason ? html`<br><span class="muted">${w.disabled_reason}</span>` : ""}`}</td>
  <td data-label="Created">${when(w.created_at)}</td>
</tr>`,
  );
  const addForm = !owner
    ? html`<p class="muted" id="owners-manage">Only an owner of the account can add, change or delete endpoints. You see them and their delivery logs.</p>`
    : html`<h2 id="add">Add an endpoint</h2>
${
  full && !s.problem
    ? notice(
        "warn",
        html`Your ${plan.id} plan allows ${count(plan.webhookEndpoints)} webhook endpoint${plan.webhookEndpoints === 1 ? "" : "s"}.
        Delete one or <a href="/app/settings/plan">upgrade</a> to add more.`,
      )
    : html`${s.problem ? notice("error", s.problem) : hasErrors ? notice("error", "Check the fields marked below.") : ""}
<form method="post" action="${BASE}" novalidate class="card">
  ${csrfField(c.get("csrf"))}
  ${endpointFields(s)}
  <button type="submit">Add endpoint</button>
</form>`
}`;
  return renderPage(
    c,
    { title: "Webhooks", user: pageUser(c), section: "webhooks" },
    html`<h1>Webhooks</h1>${flash}
<p class="muted">SnapTrack POSTs events (captures completed or failed, changes detected, scenario runs, paused schedules)
to your endpoints. ${count(data.length)} of ${count(plan.webhookEndpoints)} endpoint${plan.webhookEndpoints === 1 ? "" : "s"} on the ${plan.id} plan.</p>
${
  data.length
    ? html`<div class="table-wrap"><table id="endpoints" class="stack">
<thead><tr><th scope="col">Endpoint</th><th scope="col">Events</th><th scope="col">State</th><th scope="col">Created</th></tr></thead>
<tbody>${rows}</tbody></table></div>`
    : html`<p>No endpoints yet.</p>`
}
${addForm}`,
    status,
  );
}

/** Creates the endpoint; its secret is kept for one view by the endpoint's page, which the browser is sent to. */
async function createSubmit(c: Context<AppEnv>) {
  const { state, input } = await readForm(c);
  if (!input) return webhooksPage(c, state, 422);
  const account = c.get("account");
  const now = c.get("now");
  const key = config(c.env).SECRETS_KEY;
  let created: Awaited<ReturnType<typeof createWebhook>>;
  try {
    created = await createWebhook(
      c.get("db"),
      key,
      effectivePlan(account, now),
      input,
      guardPolicy(c.env),
      now,
      c.get("user").id,
    );
  } catch (err) {
    return webhooksPage(c, state, refusal(err, state));
  }
  const once = await keepOnce(
    c.get("db"),
    key,
    c.get("user").id,
    "webhook_secret",
    created.secret,
    created.webhook.id,
    now,
  );
  return c.redirect(`${BASE}/${created.webhook.id}?secret=${once}&created=1#secret-box`, 303);
}

const secretBox = (secret: string, rotated: boolean) => html`<div class="notice warn" role="status" id="secret-box">
  <p><strong>${rotated ? "The new signing secret." : "The endpoint's signing secret."}</strong> Copy it now: it will not be shown again.
  ${rotated ? "The previous secret keeps signing next to it for 24 hours." : ""}</p>
  <p><label for="new-secret">Signing secret</label></p>
  <div class="row"><input id="new-secret" class="token" type="text" readonly value="${secret}" aria-describedby="new-secret-hint">
  <button type="button" class="secondary" data-copy="new-secret">Copy</button></div>
  <p class="hint" id="new-secret-hint">Verify the <code>webhook-signature</code> header with it (any Standard Webhooks library does).</p>
</div>`;

interface EndpointExtras {
  form?: FormState;
  problem?: string;
  status?: ContentfulStatusCode;
}

/** The delivery log (newest first, paged): the endpoint page shows it, and the script refreshes it while attempts are due. */
async function deliveryLog(c: Context<AppEnv>, webhookId: string, cursor: string | undefined, owner: boolean) {
  const log = await listDeliveries(c.get("db"), webhookId, { limit: LOG_PAGE, cursor });
  const csrf = csrfField(c.get("csrf"));
  const pending = log.data.some((d) => d.status === "pending");
  const rows = log.data.map(
    (d) => html`<tr>
  <td data-label="Time">${when(d.created_at)}</td>
  <td data-label="Event"><code>${d.type}</code></td>
  <td data-label="Status"><span class="status ${DELIVERY_LOOK[d.status]}">${d.status}</span></td>
  <td data-label="Attempts">${d.attempts}</td>
  <td data-label="Last code">${d.last_status_code ?? "–"}</td>
  <td data-label="Error" class="wrap">${d.last_error ?? ""}</td>
  <td data-label="Duration">${d.duration_ms === null ? "–" : `${count(d.duration_ms)} ms`}</td>
  <td data-label="Next attempt">${d.status === "pending" ? when(d.next_attempt_at) : "–"}</td>
  ${owner ? html`<td data-label=""><form method="post" action="${BASE}/${webhookId}/deliveries/${d.id}/redeliver" class="inline">${csrf}<button type="submit" class="secondary small">Redeliver</button></form></td>` : ""}
</tr>`,
  );
  const live = pending && !cursor ? html` data-live-url="${BASE}/${webhookId}/log"` : "";
  return html`<div id="log-body"${live}>
${
  rows.length
    ? html`<div class="table-wrap"><table id="deliveries" class="stack">
<thead><tr><th scope="col">Time</th><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last code</th><th scope="col">Error</th><th scope="col">Duration</th><th scope="col">Next attempt</th>${owner ? html`<th scope="col"><span class="sr">Action</span></th>` : ""}</tr></thead>
<tbody>${rows}</tbody></table></div>`
    : html`<p id="no-deliveries">No deliveries yet.${owner ? " Send a test event to try the endpoint." : ""}</p>`
}
${log.next_cursor ? html`<p class="pager"><a class="btn secondary" href="${BASE}/${webhookId}?before=${log.next_cursor}#log">Older deliveries</a></p>` : ""}
</div>`;
}

/** `/app/settings/webhooks/:id/log`: the log's newest page for the script (JSON), or the page itself. */
async function logFragment(c: Context<AppEnv>) {
  const w = await getWebhook(c.get("db"), idParam(c));
  if (!(c.req.header("Accept") ?? "").includes("application/json")) return c.redirect(`${BASE}/${w.id}#log`, 303);
  return c.json({ html: String(await deliveryLog(c, w.id, undefined, isOwner(c.get("user")))) });
}

/** `/app/settings/webhooks/:id`: the endpoint, its actions (owners) and its delivery log. */
async function endpointPage(c: Context<AppEnv>, x: EndpointExtras = {}) {
  const db = c.get("db");
  const owner = isOwner(c.get("user"));
  const row = await getWebhook(db, idParam(c));
  const w = webhookView(row);
  const cursor = c.req.query("before") || undefined;
  const csrf = csrfField(c.get("csrf"));
  const secretId = c.req.query("secret");
  const once = await takeOnce(
    db,
    config(c.env).SECRETS_KEY,
    c.get("user").id,
    "webhook_secret",
    secretId,
    c.get("now"),
  );
  const secret = once?.subject === w.id ? once.value : undefined;
  const q = (name: string) => c.req.query(name);
  const flash = x.problem
    ? notice("error", x.problem)
    : secretId && !secret
      ? notice(
          "info",
          "The signing secret was shown once, right after, and is not kept. Rotate it if you did not copy it.",
        )
      : q("created")
        ? notice("ok", "The endpoint was added: it receives events from now on.")
        : q("saved")
          ? notice("ok", "Saved.")
          : q("tested")
            ? notice("ok", "A webhook.test event is on its way; its delivery is at the top of the log.")
            : q("redelivered")
              ? notice("ok", "The event is being sent again, as a new delivery.")
              : q("enabled")
                ? notice("ok", "The endpoint is enabled.")
                : q("disabled")
                  ? notice("ok", "The endpoint is disabled: no events are sent to it.")
                  : "";
  const form: FormState = x.form ?? { url: w.url, description: w.description ?? "", events: w.events, errors: {} };
  const hasErrors = Object.keys(form.errors).length > 0;
  const creator = row.createdBy
    ? ((await memberName(c.get("directory"), c.get("account").id, row.createdBy)) ?? "a former member")
    : "the API";
  const actions = owner
    ? html`<div class="row actions">
  <form method="post" action="${BASE}/${w.id}/test">${csrf}<button type="submit" id="send-test"${w.enabled ? "" : html` disabled`}>Send test event</button></form>
  <form method="post" action="${BASE}/${w.id}/${w.enabled ? "disable" : "enable"}">${csrf}<button type="submit" class="secondary" id="toggle">${w.enabled ? "Disable" : "Enable"}</button></form>
  <a class="btn secondary" href="${BASE}/${w.id}/rotate" id="rotate">Rotate secret</a>
  <a class="btn danger" href="${BASE}/${w.id}/delete">Delete</a>
</div>`
    : html`<p class="muted" id="owners-manage">Only an owner of the account can test, change or delete this endpoint.</p>`;
  return renderPage(
    c,
    { title: `Webhook ${title(w)}`, user: pageUser(c), section: "webhooks" },
    html`<p><a href="${BASE}">← Webhooks</a></p>
<h1 class="wrap">${title(w)}</h1>
${flash}
${secret ? secretBox(secret, q("rotated") === "1") : ""}
<dl class="meta">
  <dt>URL</dt><dd id="endpoint-url">${w.url}</dd>
  <dt>Events</dt><dd>${eventsText(w.events)}</dd>
  <dt>State</dt><dd id="endpoint-state">${w.enabled ? "enabled" : "disabled"}${w.disabled_reason ? ` (${w.disabled_reason})` : ""}</dd>
  <dt>Added</dt><dd>${when(w.created_at)} by <span id="created-by">${creator}</span></dd>
</dl>
${actions}
<h2 id="log">Deliveries</h2>
<p class="muted">Newest first; kept for your plan's history window. Attempts still due update here by themselves
(<a href="${BASE}/${w.id}#log">refresh</a>).</p>
${cursor ? html`<p><a href="${BASE}/${w.id}#log">← Newest</a></p>` : ""}
${await deliveryLog(c, w.id, cursor, owner)}
${
  owner
    ? html`<h2 id="edit">Edit</h2>
${hasErrors ? notice("error", "Check the fields marked below.") : ""}
<form method="post" action="${BASE}/${w.id}" novalidate class="card">
  ${csrf}
  ${endpointFields(form)}
  <button type="submit">Save changes</button>
</form>`
    : ""
}`,
    x.status ?? (hasErrors ? 422 : 200),
  );
}

async function editSubmit(c: Context<AppEnv>) {
  const db = c.get("db");
  const webhook = await getWebhook(db, idParam(c));
  const { state, input } = await readForm(c);
  if (!input) return endpointPage(c, { form: state, status: 422 });
  try {
    await updateWebhook(db, webhook.id, input, guardPolicy(c.env), c.get("now"));
  } catch (err) {
    return endpointPage(c, { form: state, status: refusal(err, state) });
  }
  return c.redirect(`${BASE}/${webhook.id}?saved=1`, 303);
}

async function enabledSubmit(c: Context<AppEnv>, enabled: boolean) {
  const id = idParam(c);
  await updateWebhook(c.get("db"), id, { enabled }, guardPolicy(c.env), c.get("now"));
  return c.redirect(`${BASE}/${id}?${enabled ? "enabled" : "disabled"}=1`, 303);
}

async function rotatePage(c: Context<AppEnv>) {
  const w = webhookView(await getWebhook(c.get("db"), idParam(c)));
  return renderPage(
    c,
    { title: "Rotate the signing secret", user: pageUser(c), section: "webhooks", narrow: true },
    html`<h1 class="wrap">Rotate the signing secret of ${title(w)}?</h1>
<p>A new secret signs every event from now on; the current one keeps signing next to it for 24 hours, then stops.
Give your receiver the new secret within that time. The new secret is shown once.</p>
<form method="post" action="${BASE}/${w.id}/rotate" class="row">
  ${csrfField(c.get("csrf"))}
  <button type="submit" class="danger" id="confirm-rotate">Rotate secret</button>
  <a href="${BASE}/${w.id}">Keep the current one</a>
</form>`,
  );
}

async function rotateSubmit(c: Context<AppEnv>) {
  const now = c.get("now");
  const key = config(c.env).SECRETS_KEY;
  const { webhook, secret } = await rotateWebhookSecret(c.get("db"), key, idParam(c), now);
  const once = await keepOnce(c.get("db"), key, c.get("user").id, "webhook_secret", secret, webhook.id, now);
  return c.redirect(`${BASE}/${webhook.id}?secret=${once}&rotated=1#secret-box`, 303);
}

/** A refusal the endpoint's page shows (a disabled endpoint cannot be tested or redeliver). */
async function orConflict(c: Context<AppEnv>, action: () => Promise<unknown>, done: string) {
  try {
    await action();
  } catch (err) {
    if (err instanceof ApiError && err.code === "conflict")
      return endpointPage(c, { problem: err.message, status: 409 });
    throw err;
  }
  return c.redirect(`${BASE}/${idParam(c)}?${done}=1#log`, 303);
}

const testSubmit = (c: Context<AppEnv>) =>
  orConflict(
    c,
    () => sendTestEvent(c.get("db"), c.env.WEBHOOKS, c.get("account").id, idParam(c), c.get("now")),
    "tested",
  );

const redeliverSubmit = (c: Context<AppEnv>) =>
  orConflict(
    c,
    () =>
      redeliver(
        c.get("db"),
        c.env.WEBHOOKS,
        c.get("account").id,
        idParam(c),
        c.req.param("delivery") ?? "",
        c.get("now"),
      ),
    "redelivered",
  );

async function deletePage(c: Context<AppEnv>) {
  const w = webhookView(await getWebhook(c.get("db"), idParam(c)));
  return renderPage(
    c,
    { title: `Delete webhook ${title(w)}`, user: pageUser(c), section: "webhooks", narrow: true },
    html`<h1 class="wrap">Delete the endpoint ${w.url}?</h1>
<p>No more events are sent to it, and its delivery log is deleted. It cannot be undone.</p>
<form method="post" action="${BASE}/${w.id}/delete" class="row">
  ${csrfField(c.get("csrf"))}
  <button type="submit" class="danger">Delete endpoint</button>
  <a href="${BASE}/${w.id}">Keep it</a>
</form>`,
  );
}

async function deleteSubmit(c: Context<AppEnv>) {
  await deleteWebhook(c.get("db"), idParam(c));
  return c.redirect(`${BASE}?deleted=1`, 303);
}
