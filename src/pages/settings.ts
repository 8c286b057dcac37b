import type { Context } from "hono";
import { html } from "hono/html";
import type { AppEnv } from "../context";
import { PLAN_IDS, type PlanId } from "../lib/values";
import { PLANS, type Plan } from "../limits/plans";
import { effectivePlan } from "../limits/subscription";
import { accountView, changePlan, renew } from "../services/accounts";
import { getToken, issueToken, revokeToken } from "../services/auth";
import { str } from "./auth";
import { capitalize, count, csrfField, day, type Html, notice, when } from "./components";
import { pageUser, renderPage } from "./layout";

/** Settings → API keys: generate (shown once), regenerate, revoke; prefix, created, last used. */
async function apiKeysView(c: Context<AppEnv>, fresh?: string, flash?: Html) {
  const account = c.get("account");
  const plan = effectivePlan(account, c.get("now"));
  const token = await getToken(c.get("directory"), account.id);
  const csrf = csrfField(c.get("csrf"));
  const noApi = plan.apiAccess
    ? ""
    : notice(
        "warn",
        html`API access needs the Starter plan or higher: the ${capitalize(plan.id)} plan uses SnapTrack through this dashboard.
        <a href="/app/settings/plan">Upgrade</a> to call the API with a token.`,
      );
  const shown = fresh
    ? html`<div class="notice warn" role="status">
  <p><strong>Your new API token.</strong> Copy it now: it will not be shown again.</p>
  <p><label for="new-token">API token</label></p>
  <div class="row"><input id="new-token" class="token" type="text" readonly value="${fresh}" aria-describedby="new-token-hint">
  <button type="button" class="secondary" data-copy="new-token">Copy</button></div>
  <p class="hint" id="new-token-hint">Send it as <code>Authorization: Bearer &lt;token&gt;</code>.</p>
</div>`
    : "";
  const details = token
    ? html`<div class="table-wrap"><table>
<thead><tr><th scope="col">Token</th><th scope="col">Created</th><th scope="col">Last used</th></tr></thead>
<tbody><tr><td class="token" id="token-prefix">${token.prefix}…</td><td>${when(token.created_at)}</td><td>${when(token.last_used_at)}</td></tr></tbody>
</table></div>
<div class="row actions">
<form method="post" action="/app/settings/api-keys">${csrf}<button type="submit" class="secondary">Regenerate token</button></form>
<form method="post" action="/app/settings/api-keys/revoke">${csrf}<button type="submit" class="danger">Revoke token</button></form>
</div>
<p class="hint muted">Regenerating or revoking stops the current token at once.</p>`
    : plan.apiAccess
      ? html`<p>No API token yet.</p>
<form method="post" action="/app/settings/api-keys">${csrf}<button type="submit">Generate API token</button></form>`
      : html`<p>No API token.</p>`;
  return renderPage(
    c,
    { title: "API keys", user: pageUser(c), section: "api-keys" },
    html`<h1>API keys</h1>${flash ?? ""}${noApi}${shown}${details}
<p class="muted">One token per account. See the <a href="/docs">API reference</a>.</p>`,
  );
}

/** The account's object keeps the directory row for its gate: a change reaches it before the answer leaves. */
const invalidate = (c: Context<AppEnv>) => () => c.get("host").invalidate();

export const apiKeysPage = (c: Context<AppEnv>) =>
  apiKeysView(c, undefined, c.req.query("revoked") ? notice("ok", "The API token was revoked.") : undefined);

export async function generateTokenSubmit(c: Context<AppEnv>) {
  const { token } = await issueToken(c.get("directory"), invalidate(c), c.get("account").id, c.get("now"));
  // Answered directly (not a redirect), so the token exists only in this response, never stored or cached.
  return apiKeysView(c, token);
}

export async function revokeTokenSubmit(c: Context<AppEnv>) {
  await revokeToken(c.get("directory"), invalidate(c), c.get("account").id);
  return c.redirect("/app/settings/api-keys?revoked=1", 303);
}

const limitsList = (p: Plan) => html`<ul>
  <li>${p.apiAccess ? `API: ${count(p.requestsPerMinute)} requests a minute` : "No API access (dashboard only)"}</li>
  <li>${count(p.websites)} website${p.websites === 1 ? "" : "s"}</li>
  <li>${count(p.capturesPerDay)} captures a day, ${count(p.capturesPerMonth)} a month</li>
  <li>${count(p.historyDays)} days of history</li>
  <li>Schedules every ${p.fastestScheduleMinutes >= 60 ? `${p.fastestScheduleMinutes / 60} h` : `${p.fastestScheduleMinutes} min`} at the fastest</li>
  <li>${p.bulkZip ? "Bulk ZIP downloads" : "No bulk ZIP downloads"}</li>
  <li>${count(p.teamUsers)} team user${p.teamUsers === 1 ? "" : "s"}</li>
</ul>`;

/** Settings → Plan: the plans table side by side; upgrade at once, downgrade at period end, renew. */
export async function planPage(c: Context<AppEnv>) {
  const account = c.get("account");
  const now = c.get("now");
  const view = accountView(account, { today: 0, thisMonth: 0 }, 0, now);
  const current = PLANS[view.plan];
  const sub = view.subscription;
  const csrf = csrfField(c.get("csrf"));
  const flash = c.req.query("changed")
    ? notice("ok", "Your plan was updated.")
    : c.req.query("renewed")
      ? notice("ok", "Renewed for another month.")
      : "";
  const cards = PLAN_IDS.map((id) => {
    const p = PLANS[id];
    const isCurrent = id === current.id;
    const isPending = sub.pending_plan === id;
    const action = isCurrent
      ? sub.pending_plan
        ? html`<form method="post" action="/app/settings/plan">${csrf}<input type="hidden" name="plan" value="${id}"><button type="submit" class="secondary">Keep ${capitalize(id)}</button></form>`
        : html`<p><strong>Your plan</strong></p>`
      : isPending
        ? html`<p><strong>Starts ${day(sub.pending_plan_at ?? sub.current_period_end)}</strong></p>`
        : html`<form method="post" action="/app/settings/plan">${csrf}<input type="hidden" name="plan" value="${id}"><button type="submit"${
            p.rank > current.rank ? "" : html` class="secondary"`
          }>${p.rank > current.rank ? "Upgrade" : "Downgrade"} to ${capitalize(id)}</button></form>`;
    return html`<section class="card${isCurrent ? " current" : ""}" aria-labelledby="plan-${id}"><h2 id="plan-${id}">${capitalize(id)}</h2>${limitsList(p)}${action}</section>`;
  });
  return renderPage(
    c,
    { title: "Plan", user: pageUser(c), section: "plan" },
    html`<h1>Plan</h1>${flash}
<div class="card">
  <p>You are on <strong id="current-plan">${capitalize(current.id)}</strong>.
  Subscription <span class="status ${sub.status === "active" ? "completed" : "failed"}">${sub.status}</span>,
  current period ${sub.status === "active" ? "ends" : "ended"} ${day(sub.current_period_end)}.</p>
  ${
    sub.pending_plan
      ? html`<p id="pending-plan">Changes to <strong>${capitalize(sub.pending_plan)}</strong> on ${day(sub.pending_plan_at ?? sub.current_period_end)} (downgrades wait for the end of the period already paid for).</p>`
      : ""
  }
  <form method="post" action="/app/settings/plan/renew">${csrf}<button type="submit" class="secondary">Renew for a month</button></form>
</div>
<p class="muted">Upgrades apply at once; downgrades at the end of the current period. No data is deleted by a downgrade.</p>
<div class="plans">${cards}</div>`,
  );
}

export async function changePlanSubmit(c: Context<AppEnv>) {
  const form = await c.req.parseBody();
  const target = str(form.plan);
  if (!(PLAN_IDS as readonly string[]).includes(target)) return c.redirect("/app/settings/plan", 303);
  await changePlan(c.get("directory"), invalidate(c), c.get("account"), target as PlanId, c.get("now"));
  return c.redirect("/app/settings/plan?changed=1", 303);
}

export async function renewSubmit(c: Context<AppEnv>) {
  await renew(c.get("directory"), invalidate(c), c.get("account"), c.get("now"));
  return c.redirect("/app/settings/plan?renewed=1", 303);
}
