import type { Context } from "hono";
import { html } from "hono/html";
import { config } from "../config";
import type { AppEnv } from "../context";
import { notFound } from "../lib/errors";
import { PLAN_IDS, type PlanId } from "../lib/values";
import { PLANS, type Plan } from "../limits/plans";
import { effectivePlan } from "../limits/subscription";
import { accountView, changePlan, renew } from "../services/accounts";
import { getToken, issueToken, revokeToken } from "../services/auth";
import { keepOnce, takeOnce } from "../services/one-time";
import { planChangeEffects } from "../services/plan-change";
import { str } from "./auth";
import { capitalize, csrfField, day, type Html, notice, when } from "./components";
import { pageUser, renderPage } from "./layout";
import { dollars, PAYMENT_NOTE, plansTable } from "./prices";

const KEYS = "/app/settings/api-keys";

/**
 * Settings → API keys: generate, regenerate and revoke (each after a confirmation when it
 * stops a token), prefix, created, last used. A new token is shown once, by the page the
 * form redirects to: a reload shows the page without it and makes no new token.
 */
export async function apiKeysPage(c: Context<AppEnv>) {
  const account = c.get("account");
  const now = c.get("now");
  const plan = effectivePlan(account, now);
  const token = await getToken(c.get("directory"), account.id);
  const csrf = csrfField(c.get("csrf"));
  const shownId = c.req.query("shown");
  const fresh = await takeOnce(c.get("db"), config(c.env).SECRETS_KEY, c.get("user").id, "api_token", shownId, now);
  const flash = c.req.query("revoked")
    ? notice("ok", "The API token was revoked: calls with it are refused from now on.")
    : shownId && !fresh
      ? notice(
          "info",
          "The new token was shown once, right after it was made, and is not kept. Regenerate it if you did not copy it.",
        )
      : "";
  const noApi = plan.apiAccess
    ? ""
    : notice(
        "warn",
        html`API access needs the Starter plan or higher: the ${capitalize(plan.id)} plan uses SnapTrack through this dashboard.
        <a href="/app/settings/plan">Upgrade</a> to call the API with a token.`,
      );
  const shown = fresh
    ? html`<div class="notice warn" role="status" id="token-box">
  <p><strong>Your new API token.</strong> Copy it now: it will not be shown again${
    c.req.query("regenerated") ? ", and the previous token no longer works" : ""
  }.</p>
  <p><label for="new-token">API token</label></p>
  <div class="row"><input id="new-token" class="token" type="text" readonly value="${fresh.value}" aria-describedby="new-token-hint">
  <button type="button" class="secondary" data-copy="new-token">Copy</button></div>
  <p class="hint" id="new-token-hint">Send it as <code>Authorization: Bearer &lt;token&gt;</code>.</p>
</div>`
    : "";
  const details = token
    ? html`<div class="table-wrap"><table class="stack">
<thead><tr><th scope="col">Token</th><th scope="col">Created</th><th scope="col">Last used</th></tr></thead>
<tbody><tr><td data-label="Token" class="token" id="token-prefix">${token.prefix}…</td><td data-label="Created">${when(token.created_at)}</td><td data-label="Last used">${when(token.last_used_at)}</td></tr></tbody>
</table></div>
<div class="row actions">
<a class="btn secondary" href="${KEYS}/regenerate" id="regenerate">Regenerate token</a>
<a class="btn danger" href="${KEYS}/revoke" id="revoke">Revoke token</a>
</div>
<p class="hint muted">Regenerating or revoking stops the current token at once; both ask first.</p>`
    : plan.apiAccess
      ? html`<p>No API token yet.</p>
<form method="post" action="${KEYS}">${csrf}<button type="submit" id="generate">Generate API token</button></form>`
      : html`<p>No API token.</p>`;
  return renderPage(
    c,
    { title: "API keys", user: pageUser(c), section: "api-keys" },
    html`<h1>API keys</h1>${flash}${noApi}${shown}${details}
<p class="muted">One token per account. See the <a href="/docs">API reference</a>.</p>`,
  );
}

/** The account's object keeps the directory row for its gate: a change reaches it before the answer leaves. */
const invalidate = (c: Context<AppEnv>) => () => c.get("host").invalidate();

/** Generate (or, from the confirmation page, regenerate): the token is kept for one view by the page after. */
export async function generateTokenSubmit(c: Context<AppEnv>) {
  const now = c.get("now");
  const had = await getToken(c.get("directory"), c.get("account").id);
  const { token } = await issueToken(c.get("directory"), invalidate(c), c.get("account").id, now);
  const id = await keepOnce(c.get("db"), config(c.env).SECRETS_KEY, c.get("user").id, "api_token", token, null, now);
  return c.redirect(`${KEYS}?shown=${id}${had ? "&regenerated=1" : ""}#token-box`, 303);
}

const confirmPage = (
  c: Context<AppEnv>,
  p: { title: string; body: Html | string; action: string; button: string; danger?: boolean; back: string },
) =>
  renderPage(
    c,
    { title: p.title, user: pageUser(c), section: "api-keys", narrow: true },
    html`<h1>${p.title}</h1>
${p.body}
<form method="post" action="${p.action}" class="row">
  ${csrfField(c.get("csrf"))}
  <button type="submit"${p.danger ? html` class="danger"` : ""}>${p.button}</button>
  <a href="${p.back}">Cancel</a>
</form>`,
  );

export async function regenerateTokenPage(c: Context<AppEnv>) {
  const token = await getToken(c.get("directory"), c.get("account").id);
  if (!token) return c.redirect(KEYS, 303);
  return confirmPage(c, {
    title: "Regenerate the API token?",
    body: html`<p>The token <code>${token.prefix}…</code> stops working at once: every program that uses it gets 401
until it is given the new one. The new token is shown once.</p>`,
    action: KEYS,
    button: "Regenerate token",
    danger: true,
    back: KEYS,
  });
}

export async function revokeTokenPage(c: Context<AppEnv>) {
  const token = await getToken(c.get("directory"), c.get("account").id);
  if (!token) return c.redirect(KEYS, 303);
  return confirmPage(c, {
    title: "Revoke the API token?",
    body: html`<p>The token <code>${token.prefix}…</code> stops working at once, and the account has no token until
you generate a new one.</p>`,
    action: `${KEYS}/revoke`,
    button: "Revoke token",
    danger: true,
    back: KEYS,
  });
}

export async function revokeTokenSubmit(c: Context<AppEnv>) {
  await revokeToken(c.get("directory"), invalidate(c), c.get("account").id);
  return c.redirect(`${KEYS}?revoked=1`, 303);
}

const PLAN = "/app/settings/plan";

/** Settings → Plan: every plan with its price and limits; changes and renewals ask first. */
export async function planPage(c: Context<AppEnv>) {
  const account = c.get("account");
  const now = c.get("now");
  const view = accountView(account, { today: 0, thisMonth: 0 }, 0, now);
  const current = PLANS[view.plan];
  const sub = view.subscription;
  const csrf = csrfField(c.get("csrf"));
  const changed = c.req.query("changed");
  const flash =
    changed && (PLAN_IDS as readonly string[]).includes(changed)
      ? sub.pending_plan === changed
        ? notice(
            "ok",
            `The change to ${capitalize(changed)} is booked for ${day(sub.pending_plan_at ?? sub.current_period_end)}.`,
          )
        : notice("ok", `You are on ${capitalize(changed)} now.`)
      : c.req.query("renewed")
        ? notice("ok", `Renewed: the current period now ends ${day(sub.current_period_end)}.`)
        : "";
  const action = (p: Plan) => {
    if (p.id === current.id) {
      return sub.pending_plan
        ? html`<form method="post" action="${PLAN}">${csrf}<input type="hidden" name="plan" value="${p.id}"><button type="submit" class="secondary">Keep ${capitalize(p.id)}</button></form>`
        : html`<p><strong>Your plan</strong></p>`;
    }
    if (sub.pending_plan === p.id)
      return html`<p><strong>Starts ${day(sub.pending_plan_at ?? sub.current_period_end)}</strong></p>`;
    const up = p.rank > current.rank;
    return html`<a class="btn${up ? "" : " secondary"}" href="${PLAN}/change?plan=${p.id}">${up ? "Upgrade" : "Downgrade"} to ${capitalize(p.id)}</a>`;
  };
  return renderPage(
    c,
    { title: "Plan", user: pageUser(c), section: "plan" },
    html`<h1>Plan</h1>${flash}
<div class="card">
  <p>You are on <strong id="current-plan">${capitalize(current.id)}</strong>
  (${current.price.monthly ? `${dollars(current.price.monthly)} a month` : "free"}).
  Subscription <span class="status ${sub.status === "active" ? "completed" : "failed"}">${sub.status}</span>,
  current period ${sub.status === "active" ? "ends" : "ended"} ${day(sub.current_period_end)}.</p>
  ${
    sub.pending_plan
      ? html`<p id="pending-plan">Changes to <strong>${capitalize(sub.pending_plan)}</strong> on ${day(sub.pending_plan_at ?? sub.current_period_end)} (downgrades wait for the end of the period already paid for).</p>`
      : ""
  }
  <p><a class="btn secondary" href="${PLAN}/renew">Renew for a month</a></p>
</div>
<p class="notice info" id="payment-note">${PAYMENT_NOTE}</p>
<p class="muted">Upgrades apply at once; downgrades at the end of the current period, and never delete your
websites or settings. Each change shows what it does before you confirm it.</p>
${plansTable(action, current.id)}`,
  );
}

/** `/app/settings/plan/change?plan=…`: what the change adds, or what it will stop, then the confirm button. */
export async function changePlanPage(c: Context<AppEnv>) {
  const target = c.req.query("plan") ?? "";
  if (!(PLAN_IDS as readonly string[]).includes(target)) throw notFound("Plan");
  const account = c.get("account");
  const now = c.get("now");
  const current = effectivePlan(account, now);
  const to = PLANS[target as PlanId];
  if (to.id === current.id) return c.redirect(PLAN, 303);
  const effects = await planChangeEffects(c.get("db"), c.get("directory"), account.id, current, to, now);
  const up = effects.direction === "upgrade";
  const when = up ? "at once" : `on ${day(account.currentPeriodEnd)}, at the end of the period already paid for`;
  return renderPage(
    c,
    {
      title: `${up ? "Upgrade" : "Downgrade"} to ${capitalize(to.id)}`,
      user: pageUser(c),
      section: "plan",
      narrow: true,
    },
    html`<p><a href="${PLAN}">← Plan</a></p>
<h1>${up ? "Upgrade" : "Downgrade"} to ${capitalize(to.id)}?</h1>
<p>From ${capitalize(current.id)} (${dollars(current.price.monthly)} a month) to <strong>${capitalize(to.id)}</strong>
(${dollars(to.price.monthly)} a month, or ${dollars(to.price.yearly)} a year). It applies ${when}.</p>
${
  up
    ? html`<h2>What you get</h2><ul id="gains">${effects.gains.map((g) => html`<li>${g}</li>`)}</ul>`
    : html`<h2>What ${capitalize(to.id)} will stop or refuse</h2>
<ul id="losses">${effects.losses.map((l) => html`<li>${l}</li>`)}</ul>
${
  effects.paused.length
    ? html`<p>Schedules that will be paused:</p><ul id="paused">${effects.paused.map((s) => html`<li><a href="/app/schedules/${s.id}">${s.label}</a>: ${s.reason}</li>`)}</ul>`
    : ""
}
<p class="muted">Nothing else is deleted: websites, scenarios, webhooks and members stay.</p>`
}
<p class="muted">${PAYMENT_NOTE}</p>
<form method="post" action="${PLAN}" class="row">
  ${csrfField(c.get("csrf"))}
  <input type="hidden" name="plan" value="${to.id}">
  <button type="submit"${up ? "" : html` class="danger"`} id="confirm-plan">${up ? "Upgrade" : "Downgrade"} to ${capitalize(to.id)}</button>
  <a href="${PLAN}">Keep ${capitalize(current.id)}</a>
</form>`,
  );
}

export async function changePlanSubmit(c: Context<AppEnv>) {
  const form = await c.req.parseBody();
  const target = str(form.plan);
  if (!(PLAN_IDS as readonly string[]).includes(target)) return c.redirect(PLAN, 303);
  await changePlan(c.get("directory"), invalidate(c), c.get("account"), target as PlanId, c.get("now"));
  return c.redirect(`${PLAN}?changed=${target}`, 303);
}

export async function renewPage(c: Context<AppEnv>) {
  const account = c.get("account");
  const plan = effectivePlan(account, c.get("now"));
  return renderPage(
    c,
    { title: "Renew", user: pageUser(c), section: "plan", narrow: true },
    html`<p><a href="${PLAN}">← Plan</a></p>
<h1>Renew ${capitalize(plan.id)} for a month?</h1>
<p>The current period (ending ${day(account.currentPeriodEnd)}) is extended by one month, at
${dollars(plan.price.monthly)}.</p>
<p class="muted">${PAYMENT_NOTE}</p>
<form method="post" action="${PLAN}/renew" class="row">
  ${csrfField(c.get("csrf"))}
  <button type="submit" id="confirm-renew">Renew for a month</button>
  <a href="${PLAN}">Cancel</a>
</form>`,
  );
}

export async function renewSubmit(c: Context<AppEnv>) {
  await renew(c.get("directory"), invalidate(c), c.get("account"), c.get("now"));
  return c.redirect(`${PLAN}?renewed=1`, 303);
}
