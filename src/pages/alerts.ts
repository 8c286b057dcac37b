import type { Context, Hono } from "hono";
import { html } from "hono/html";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { guardPolicy } from "../config";
import type { AppEnv } from "../context";
import type { AlertChannel } from "../db/schema";
import { ApiError, type FieldErrors, fieldErrors } from "../lib/errors";
import { ALERT_EVENT_TYPES, type AlertChannelType, type AlertEventType } from "../lib/values";
import { effectivePlan } from "../limits/subscription";
import { ownerOnly } from "../middleware/auth";
import { CreateAlertChannel, UpdateAlertSettings } from "../routes/alert-channels/alert-channels.schemas";
import {
  type AlertChannelView,
  alertChannelView,
  createAlertChannel,
  deleteAlertChannel,
  getAlertChannel,
  listAlertChannels,
  renewVerifyToken,
  teamEmails,
  updateAlertChannel,
} from "../services/alert-channels";
import {
  accountTimezone,
  listAlertDeliveries,
  sendTestAlert,
  sendVerification,
  setAccountTimezone,
} from "../services/alerts";
import { isOwner } from "../services/auth";
import { listWebsites } from "../services/websites";
import { str } from "./auth";
import { attrs, count, csrfField, field, type Html, notice, selectField, when } from "./components";
import { pageUser, renderPage } from "./layout";

/**
 * Settings → Alerts: the account's alert channels (email, Slack, Discord), the time zone of
 * daily digests, and each channel's page with its delivery log. Owners manage them; members
 * see them (the contract's team rules). Every write goes through the services the API's
 * handlers call.
 */
export function mountAlertPages(app: Hono<AppEnv>) {
  app.get(BASE, (c) => alertsPage(c));
  app.get(`${BASE}/:id`, (c) => channelPage(c));
  app.get(`${BASE}/:id/delete`, deletePage);
  // Every write is the owners'.
  app.post(BASE, ownerOnly(), createSubmit);
  app.post(`${BASE}/timezone`, ownerOnly(), timezoneSubmit);
  app.post(`${BASE}/:id`, ownerOnly(), editSubmit);
  app.post(`${BASE}/:id/enable`, ownerOnly(), (c) => enabledSubmit(c, true));
  app.post(`${BASE}/:id/disable`, ownerOnly(), (c) => enabledSubmit(c, false));
  app.post(`${BASE}/:id/test`, ownerOnly(), testSubmit);
  app.post(`${BASE}/:id/confirm-again`, ownerOnly(), confirmAgainSubmit);
  app.post(`${BASE}/:id/delete`, ownerOnly(), deleteSubmit);
  app.post("/app/websites/:id/alerts", ownerOnly(), websiteAlertsSubmit);
}

const BASE = "/app/settings/alerts";
const LOG_PAGE = 20;
/** Every plan's channel count fits one page (Business: 25). */
const ALL = 100;

const TYPE_LABEL: Record<AlertChannelType, string> = { email: "Email", slack: "Slack", discord: "Discord" };
const EVENT_LABEL: Record<AlertEventType, string> = {
  "change.detected": "a website changed",
  "screenshot.failed": "a website could not be captured",
  recovered: "a website works again",
  "run.failed": "a scenario run failed",
  "schedule.paused": "a schedule was paused",
};
const DELIVERY_LOOK = { delivered: "completed", failed: "failed", pending: "processing" } as const;

const idParam = (c: Context<AppEnv>) => c.req.param("id") ?? "";
const label = (ch: { type: AlertChannelType; target: string }) =>
  ch.type === "email" ? ch.target : `${TYPE_LABEL[ch.type]} · ${ch.target}`;

interface FormState {
  type: string;
  target: string;
  events: string[];
  /** "all", or the checked website ids. */
  websites: string[];
  frequency: string;
  errors: FieldErrors;
  problem?: Html | string;
}

const blank = (): FormState => ({
  type: "email",
  target: "",
  events: [...ALERT_EVENT_TYPES],
  websites: ["all"],
  frequency: "instant",
  errors: {},
});

const stateOf = (ch: AlertChannelView): FormState => ({
  type: ch.type,
  target: ch.target,
  events: ch.events,
  websites: ch.website_ids ?? ["all"],
  frequency: ch.frequency,
  errors: {},
});

/** The channel form's fields; `type` is fixed once the channel exists. */
async function channelFields(c: Context<AppEnv>, s: FormState, creating: boolean) {
  const { data: sites } = await listWebsites(c.get("db"), { limit: 100 });
  const all = s.websites.includes("all");
  const err = (k: string) =>
    s.errors[k] ? html`<p class="error" id="f-${k}-error">${s.errors[k]?.join(" ")}</p>` : "";
  return html`${
    creating
      ? selectField({
          name: "type",
          label: "Channel",
          value: s.type,
          errors: s.errors,
          options: [
            { value: "email", label: "Email" },
            { value: "slack", label: "Slack (incoming webhook)" },
            { value: "discord", label: "Discord (webhook)" },
          ],
        })
      : ""
  }
${field({
  name: "target",
  label: creating ? "Address or webhook URL" : s.type === "email" ? "Address" : "Webhook URL",
  value: s.target,
  errors: s.errors,
  required: true,
  hint: "An email address (one outside your team confirms it first), or a Slack / Discord incoming-webhook URL.",
})}
<fieldset${attrs({ class: s.errors.events ? "invalid" : undefined })}><legend>Tell it when</legend>
<div class="events">${ALERT_EVENT_TYPES.map(
    (t) =>
      html`<label class="check"><input${attrs({ type: "checkbox", name: "events", value: t, checked: s.events.includes(t) })}> ${EVENT_LABEL[t]} <code>${t}</code></label>`,
  )}</div>${err("events")}</fieldset>
<fieldset${attrs({ class: s.errors.website_ids ? "invalid" : undefined })}><legend>Websites</legend>
<div class="field"><label class="check"><input${attrs({ type: "checkbox", name: "websites", value: "all", checked: all, id: "f-websites-all" })}> Every website, including new ones</label></div>
${
  sites.length
    ? html`<p class="hint muted">Or only these:</p><div class="events">${sites.map(
        (w) =>
          html`<label class="check"><input${attrs({ type: "checkbox", name: "websites", value: w.id, checked: !all && s.websites.includes(w.id) })}> ${w.name}</label>`,
      )}</div>`
    : ""
}${err("website_ids")}</fieldset>
${selectField({
  name: "frequency",
  label: "How often",
  value: s.frequency,
  errors: s.errors,
  options: [
    { value: "instant", label: "Instantly, one message per alert" },
    { value: "daily", label: "Daily digest at 08:00 (nothing when nothing happened)" },
  ],
})}`;
}

/** The form's fields as the API's own schema reads them. */
async function readForm(c: Context<AppEnv>, type?: string) {
  const form = await c.req.parseBody({ all: true });
  const list = (v: unknown) => ([] as unknown[]).concat(v ?? []).filter((x): x is string => typeof x === "string");
  const state: FormState = {
    type: type ?? str(form.type),
    target: str(form.target),
    events: list(form.events),
    websites: list(form.websites),
    frequency: str(form.frequency) || "instant",
    errors: {},
  };
  const parsed = CreateAlertChannel.safeParse({
    type: state.type,
    target: state.target,
    events: state.events,
    website_ids: state.websites.includes("all") ? null : state.websites,
    frequency: state.frequency,
  });
  if (!parsed.success) {
    for (const [path, messages] of Object.entries(fieldErrors(parsed.error.issues))) {
      const key = path.split(".")[0] ?? "body";
      state.errors[key] = [...(state.errors[key] ?? []), ...messages];
    }
    if (state.errors.events) state.errors.events = ["Choose at least one."];
    return { state, input: null };
  }
  return { state, input: parsed.data };
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
  } else if (err.code === "not_found") {
    state.errors.website_ids = ["A chosen website no longer exists."];
  } else throw err;
  return err.status as ContentfulStatusCode;
}

const stateBadge = (ch: AlertChannelView) =>
  !ch.verified
    ? html`<span class="status processing">awaiting confirmation</span>`
    : ch.enabled
      ? html`<span class="status completed">enabled</span>`
      : html`<span class="status failed">disabled</span>${ch.disabled_reason ? html`<br><span class="muted">${ch.disabled_reason}</span>` : ""}`;

/** `/app/settings/alerts`: the channels; for owners, the form to add one and the digests' time zone. */
async function alertsPage(
  c: Context<AppEnv>,
  s: FormState = blank(),
  status: ContentfulStatusCode = 200,
  tzErrors?: string[],
) {
  const account = c.get("account");
  const owner = isOwner(c.get("user"));
  const plan = effectivePlan(account, c.get("now"));
  const db = c.get("db");
  const { data } = await listAlertChannels(db, { limit: ALL });
  const tz = await accountTimezone(db);
  const full = data.length >= plan.alertChannels;
  const q = (k: string) => c.req.query(k);
  const flash = q("deleted")
    ? notice("ok", "The channel was deleted.")
    : q("timezone")
      ? notice("ok", "Saved: daily digests follow the new time zone.")
      : "";
  const hasErrors = Object.keys(s.errors).length > 0;
  const rows = data.map(
    (ch) => html`<tr>
  <td data-label="Channel"><a href="${BASE}/${ch.id}">${label(ch)}</a></td>
  <td data-label="Events">${ch.events.join(", ")}</td>
  <td data-label="Websites">${ch.website_ids === null ? "all" : count(ch.website_ids.length)}</td>
  <td data-label="How often">${ch.frequency}</td>
  <td data-label="State">${stateBadge(ch)}</td>
</tr>`,
  );
  return renderPage(
    c,
    { title: "Alerts", user: pageUser(c), section: "alerts" },
    html`<h1>Alerts</h1>${flash}
<p class="muted">Alerts are for people (webhooks are for programs): SnapTrack tells these channels when a website changes
(what changed, in words and pixels), when it cannot be captured and when it works again. ${count(data.length)} of
${count(plan.alertChannels)} channel${plan.alertChannels === 1 ? "" : "s"} on the ${plan.id} plan.${owner ? "" : " Only the account's owners can change them."}</p>
${
  data.length
    ? html`<div class="table-wrap"><table id="channels" class="stack">
<thead><tr><th scope="col">Channel</th><th scope="col">Events</th><th scope="col">Websites</th><th scope="col">How often</th><th scope="col">State</th></tr></thead>
<tbody>${rows}</tbody></table></div>`
    : html`<p id="no-channels">No alert channels yet.</p>`
}
${
  owner
    ? html`<h2 id="add">Add a channel</h2>
${
  full && !s.problem
    ? notice(
        "warn",
        html`Your ${plan.id} plan allows ${count(plan.alertChannels)} alert channel${plan.alertChannels === 1 ? "" : "s"}.
        Delete one or <a href="/app/settings/plan">upgrade</a> to add more.`,
      )
    : html`${s.problem ? notice("error", s.problem) : hasErrors ? notice("error", "Check the fields marked below.") : ""}
<form method="post" action="${BASE}" novalidate class="card" id="add-channel">
  ${csrfField(c.get("csrf"))}
  ${await channelFields(c, s, true)}
  <button type="submit">Add channel</button>
</form>`
}
<h2 id="timezone">Daily digests</h2>
<form method="post" action="${BASE}/timezone" novalidate class="card row">
  ${csrfField(c.get("csrf"))}
  ${field({ name: "timezone", label: "Time zone", value: tz, errors: tzErrors ? { timezone: tzErrors } : {}, hint: "IANA name, e.g. Europe/Berlin: daily channels get their digest at 08:00 there." })}
  <button type="submit" class="secondary">Save time zone</button>
</form>`
    : html`<p class="muted" id="timezone">Daily digests go out at 08:00 ${tz}.</p>`
}`,
    status,
  );
}

async function createSubmit(c: Context<AppEnv>) {
  const { state, input } = await readForm(c);
  if (!input) return alertsPage(c, state, 422);
  const account = c.get("account");
  const now = c.get("now");
  const db = c.get("db");
  try {
    const { channel, verifyToken } = await createAlertChannel(db, account.id, effectivePlan(account, now), input, {
      policy: guardPolicy(c.env),
      team: await teamEmails(c.get("directory"), account.id),
      createdBy: c.get("user").id,
      now,
    });
    if (verifyToken) await sendVerification(c.env, db, account.name, channel, verifyToken, now);
    return c.redirect(`${BASE}/${channel.id}?${verifyToken ? "confirming" : "added"}=1`, 303);
  } catch (err) {
    return alertsPage(c, state, refusal(err, state));
  }
}

async function timezoneSubmit(c: Context<AppEnv>) {
  const form = await c.req.parseBody();
  const parsed = UpdateAlertSettings.safeParse({ timezone: str(form.timezone) });
  if (!parsed.success)
    return alertsPage(
      c,
      blank(),
      422,
      parsed.error.issues.map((i) => i.message),
    );
  await setAccountTimezone(c.get("db"), parsed.data.timezone, c.get("now"));
  return c.redirect(`${BASE}?timezone=1#timezone`, 303);
}

interface ChannelExtras {
  form?: FormState;
  problem?: string;
  status?: ContentfulStatusCode;
}

/** `/app/settings/alerts/:id`: the channel, its actions (owners) and its delivery log. */
async function channelPage(c: Context<AppEnv>, x: ChannelExtras = {}) {
  const db = c.get("db");
  const owner = isOwner(c.get("user"));
  const ch = alertChannelView(await getAlertChannel(db, idParam(c)));
  const cursor = c.req.query("before") || undefined;
  const log = await listAlertDeliveries(db, ch.id, { limit: LOG_PAGE, cursor });
  const csrf = csrfField(c.get("csrf"));
  const q = (k: string) => (x.form || x.problem ? undefined : c.req.query(k));
  const flash = x.problem
    ? notice("error", x.problem)
    : q("confirming")
      ? notice(
          "info",
          html`A confirmation link was mailed to <strong>${ch.target}</strong>: nothing is sent there until it is used.`,
        )
      : q("added")
        ? notice("ok", "The channel was added.")
        : q("saved")
          ? notice("ok", "Saved.")
          : q("tested")
            ? notice("ok", "A test alert is on its way; it is at the top of the log.")
            : q("enabled")
              ? notice("ok", "The channel is enabled.")
              : q("disabled")
                ? notice("ok", "The channel is disabled: nothing is sent to it.")
                : "";
  const form = x.form ?? stateOf(ch);
  const rows = log.data.map(
    (d) => html`<tr>
  <td data-label="Time">${when(d.created_at)}</td>
  <td data-label="What">${d.kind === "alert" ? d.summary : html`<em>${d.summary}</em>`}</td>
  <td data-label="Status"><span class="status ${DELIVERY_LOOK[d.status]}">${d.status}</span></td>
  <td data-label="Attempts">${d.attempts}</td>
  <td data-label="Error" class="wrap">${d.last_error ?? ""}</td>
  <td data-label="Next attempt">${d.status === "pending" ? when(d.next_attempt_at) : "–"}</td>
</tr>`,
  );
  return renderPage(
    c,
    { title: `Alerts · ${label(ch)}`, user: pageUser(c), section: "alerts" },
    html`<p><a href="${BASE}">← Alerts</a></p>
<h1 class="wrap">${label(ch)}</h1>
${flash}
<dl class="meta" id="channel">
  <dt>Type</dt><dd>${TYPE_LABEL[ch.type]}</dd>
  <dt>${ch.type === "email" ? "Address" : "Webhook URL"}</dt><dd class="wrap" id="channel-target">${ch.target}</dd>
  <dt>Tells it when</dt><dd>${ch.events.map((e) => EVENT_LABEL[e]).join("; ")}</dd>
  <dt>Websites</dt><dd>${ch.website_ids === null ? "every website" : `${count(ch.website_ids.length)} chosen`}</dd>
  <dt>How often</dt><dd>${ch.frequency === "daily" ? "a daily digest at 08:00" : "instantly"}</dd>
  <dt>State</dt><dd id="channel-state">${stateBadge(ch)}</dd>
  <dt>Added</dt><dd>${when(ch.created_at)}</dd>
</dl>
${
  owner
    ? html`<div class="row actions">
  <form method="post" action="${BASE}/${ch.id}/test">${csrf}<button type="submit" id="send-test"${ch.enabled && ch.verified ? "" : html` disabled`}>Send test alert</button></form>
  <form method="post" action="${BASE}/${ch.id}/${ch.enabled ? "disable" : "enable"}">${csrf}<button type="submit" class="secondary">${ch.enabled ? "Disable" : "Enable"}</button></form>
  ${ch.verified ? "" : html`<form method="post" action="${BASE}/${ch.id}/confirm-again">${csrf}<button type="submit" class="secondary">Mail the confirmation again</button></form>`}
  <a class="btn danger" href="${BASE}/${ch.id}/delete">Delete</a>
</div>`
    : ""
}
<h2 id="log">Deliveries</h2>
<p class="muted">Newest first; kept for your plan's history window. Slack and Discord are retried like webhooks. Reload to see new attempts.</p>
${cursor ? html`<p><a href="${BASE}/${ch.id}#log">← Newest</a></p>` : ""}
${
  rows.length
    ? html`<div class="table-wrap"><table id="deliveries" class="stack">
<thead><tr><th scope="col">Time</th><th scope="col">What</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Error</th><th scope="col">Next attempt</th></tr></thead>
<tbody>${rows}</tbody></table></div>`
    : html`<p id="no-deliveries">Nothing sent yet.</p>`
}
${log.next_cursor ? html`<p class="pager"><a class="btn secondary" href="${BASE}/${ch.id}?before=${log.next_cursor}#log">Older deliveries</a></p>` : ""}
${
  owner
    ? html`<h2 id="edit">Edit</h2>
${Object.keys(form.errors).length ? notice("error", "Check the fields marked below.") : ""}
<form method="post" action="${BASE}/${ch.id}" novalidate class="card">
  ${csrf}
  ${await channelFields(c, form, false)}
  <button type="submit">Save changes</button>
</form>`
    : ""
}`,
    x.status ?? (Object.keys(form.errors).length ? 422 : 200),
  );
}

async function editSubmit(c: Context<AppEnv>) {
  const db = c.get("db");
  const account = c.get("account");
  const current = await getAlertChannel(db, idParam(c));
  const { state, input } = await readForm(c, current.type);
  if (!input) return channelPage(c, { form: state, status: 422 });
  const now = c.get("now");
  try {
    const { channel, verifyToken } = await updateAlertChannel(
      db,
      account.id,
      current.id,
      { target: input.target, events: input.events, website_ids: input.website_ids, frequency: input.frequency },
      { policy: guardPolicy(c.env), team: await teamEmails(c.get("directory"), account.id), now },
    );
    if (verifyToken) await sendVerification(c.env, db, account.name, channel, verifyToken, now);
    return c.redirect(`${BASE}/${channel.id}?${verifyToken ? "confirming" : "saved"}=1`, 303);
  } catch (err) {
    return channelPage(c, { form: state, status: refusal(err, state) });
  }
}

async function enabledSubmit(c: Context<AppEnv>, enabled: boolean) {
  const account = c.get("account");
  const id = idParam(c);
  await updateAlertChannel(
    c.get("db"),
    account.id,
    id,
    { enabled },
    {
      policy: guardPolicy(c.env),
      team: [],
      now: c.get("now"),
    },
  );
  return c.redirect(`${BASE}/${id}?${enabled ? "enabled" : "disabled"}=1`, 303);
}

async function testSubmit(c: Context<AppEnv>) {
  try {
    await sendTestAlert(c.get("db"), c.env.WEBHOOKS, c.get("account").id, idParam(c), c.get("now"));
  } catch (err) {
    if (err instanceof ApiError && err.code === "conflict")
      return channelPage(c, { problem: err.message, status: 409 });
    throw err;
  }
  return c.redirect(`${BASE}/${idParam(c)}?tested=1#log`, 303);
}

async function confirmAgainSubmit(c: Context<AppEnv>) {
  const db = c.get("db");
  const account = c.get("account");
  const now = c.get("now");
  let token: string;
  try {
    token = await renewVerifyToken(db, account.id, idParam(c), now);
  } catch (err) {
    if (err instanceof ApiError && err.code === "conflict")
      return channelPage(c, { problem: err.message, status: 409 });
    throw err;
  }
  const channel = await getAlertChannel(db, idParam(c));
  await sendVerification(c.env, db, account.name, channel, token, now);
  return c.redirect(`${BASE}/${channel.id}?confirming=1`, 303);
}

async function deletePage(c: Context<AppEnv>) {
  const ch = alertChannelView(await getAlertChannel(c.get("db"), idParam(c)));
  if (!isOwner(c.get("user"))) throw new ApiError("forbidden", "Only the account's owners can manage alert channels.");
  return renderPage(
    c,
    { title: `Delete ${label(ch)}`, user: pageUser(c), section: "alerts", narrow: true },
    html`<h1 class="wrap">Delete the alert channel ${label(ch)}?</h1>
<p>Nothing more is sent to it, and its delivery log is deleted. It cannot be undone.</p>
<form method="post" action="${BASE}/${ch.id}/delete" class="row">
  ${csrfField(c.get("csrf"))}
  <button type="submit" class="danger">Delete channel</button>
  <a href="${BASE}/${ch.id}">Keep it</a>
</form>`,
  );
}

async function deleteSubmit(c: Context<AppEnv>) {
  await deleteAlertChannel(c.get("db"), idParam(c));
  return c.redirect(`${BASE}?deleted=1`, 303);
}

// ---- A website's alert choices (its page) ----------------------------------------------------

const hears = (ch: AlertChannel, websiteId: string) =>
  ch.websiteIds === null || (JSON.parse(ch.websiteIds) as string[]).includes(websiteId);

/** The website page's "Alerts" section: which channels hear of this website (owners change it). */
export async function websiteAlerts(c: Context<AppEnv>, websiteId: string): Promise<Html> {
  const { data } = await listAlertChannels(c.get("db"), { limit: ALL });
  const owner = isOwner(c.get("user"));
  const saved = c.req.query("alerts") ? notice("ok", "Saved: the alert choices for this website.") : "";
  if (data.length === 0)
    return html`<section aria-labelledby="alerts-h"><h2 id="alerts-h">Alerts</h2>
<p class="muted" id="website-alerts">No alert channels yet. <a href="/app/settings/alerts">Add one in Settings → Alerts</a> to be told when this website changes or fails.</p></section>`;
  const items = data.map((ch) => {
    const on = ch.website_ids === null || ch.website_ids.includes(websiteId);
    return owner
      ? html`<label class="check"><input${attrs({ type: "checkbox", name: "channels", value: ch.id, checked: on })}> ${label(ch)} <span class="muted">(${ch.events.join(", ")}; ${ch.frequency})</span></label>`
      : html`<li>${label(ch)}: ${on ? "told" : "not told"}</li>`;
  });
  return html`<section aria-labelledby="alerts-h"><h2 id="alerts-h">Alerts</h2>${saved}
<p class="muted">Which alert channels hear of this website (<a href="/app/settings/alerts">Settings → Alerts</a>).</p>
${
  owner
    ? html`<form method="post" action="/app/websites/${websiteId}/alerts" class="card" id="website-alerts">
  ${csrfField(c.get("csrf"))}
  <div class="events">${items}</div>
  <button type="submit" class="secondary">Save alert choices</button>
</form>`
    : html`<ul id="website-alerts">${items}</ul>`
}</section>`;
}

/**
 * The website page's alert choices: a channel checked here hears of this website, one left
 * unchecked does not. A channel that heard of every website and is unchecked keeps every
 * other website (listed by id from now on).
 */
async function websiteAlertsSubmit(c: Context<AppEnv>) {
  const db = c.get("db");
  const account = c.get("account");
  const websiteId = idParam(c);
  const { data: sites } = await listWebsites(db, { limit: 100 });
  if (!sites.some((w) => w.id === websiteId)) throw new ApiError("not_found", "Website not found.");
  const form = await c.req.parseBody({ all: true });
  const checked = new Set(
    ([] as unknown[]).concat(form.channels ?? []).filter((x): x is string => typeof x === "string"),
  );
  const { data } = await listAlertChannels(db, { limit: ALL });
  const now = c.get("now");
  for (const view of data) {
    const ch = await getAlertChannel(db, view.id);
    const on = hears(ch, websiteId);
    if (on === checked.has(ch.id)) continue;
    const ids = ch.websiteIds === null ? sites.map((w) => w.id) : (JSON.parse(ch.websiteIds) as string[]);
    const next = checked.has(ch.id) ? [...ids, websiteId] : ids.filter((id) => id !== websiteId);
    await updateAlertChannel(
      db,
      account.id,
      ch.id,
      { website_ids: next },
      { policy: guardPolicy(c.env), team: [], now },
    );
  }
  return c.redirect(`/app/websites/${websiteId}?alerts=1#alerts-h`, 303);
}
