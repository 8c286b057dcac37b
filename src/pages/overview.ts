import type { Context } from "hono";
import { html } from "hono/html";
import type { AppEnv } from "../context";
import { PLANS } from "../limits/plans";
import { sessionAccountView } from "../services/accounts";
import { overviewData } from "../services/dashboard";
import { capitalize, count, day, meter, notice } from "./components";
import { pageUser, renderPage } from "./layout";
import { namedGallery } from "./tiles";

/** `/app`: plan and subscription, today's and this month's captures against the quotas, the latest screenshots. */
export async function overviewPage(c: Context<AppEnv>) {
  const account = c.get("account");
  const [view, data] = await Promise.all([
    sessionAccountView(c.get("directory"), c.get("scope").quota.usage(c.get("now")), account, c.get("now")),
    overviewData(c.get("db")),
  ]);
  const plan = PLANS[view.plan];
  // The plan page is the owners' (ownerOnly); members are told who can act instead of a link that answers 403.
  const { owner } = pageUser(c);
  const sub = view.subscription;
  const upgrade = plan.apiAccess
    ? ""
    : html`<section class="card" aria-labelledby="upgrade-h"><h2 id="upgrade-h">Upgrade for the API</h2>
<p>The Free plan works through this dashboard. Starter and above add the REST API with a token
(${PLANS.starter.requestsPerMinute} requests a minute and up), ${PLANS.starter.websites} websites or more and
${PLANS.starter.historyDays} days of history or more.</p>
${owner ? html`<p><a class="btn" href="/app/settings/plan">See plans</a></p>` : html`<p class="muted">An owner of this account can upgrade it.</p>`}</section>`;
  return renderPage(
    c,
    { title: "Overview", user: pageUser(c), section: "overview" },
    html`<h1>Overview</h1>
${
  sub.status === "expired"
    ? notice(
        "error",
        html`Your subscription ended on ${day(sub.current_period_end)}. Captures are paused until ${owner ? html`you <a href="/app/settings/plan">renew it</a>` : "an owner renews it"}.`,
      )
    : ""
}
<div class="cards">
  <section class="card" aria-labelledby="plan-h"><h2 id="plan-h">Plan</h2>
    <p><strong id="plan-name">${capitalize(plan.id)}</strong> · <span class="status ${sub.status === "active" ? "completed" : "failed"}">${sub.status}</span></p>
    <p>${sub.status === "active" ? "Current period ends" : "Ended"} ${day(sub.current_period_end)}</p>
    ${sub.pending_plan ? html`<p>Changes to <strong>${capitalize(sub.pending_plan)}</strong> on ${day(sub.pending_plan_at ?? sub.current_period_end)}.</p>` : ""}
    <p>Websites: ${count(data.websites)} of ${count(plan.websites)}</p>
    ${owner ? html`<p><a href="/app/settings/plan">Manage plan</a></p>` : ""}
  </section>
  <section class="card" aria-labelledby="usage-h"><h2 id="usage-h">Captures</h2>
    ${meter({ id: "m-today", label: "Today", used: view.usage.captures_today, limit: plan.capturesPerDay, resets: view.usage.day_resets_at })}
    ${meter({ id: "m-month", label: "This month", used: view.usage.captures_this_month, limit: plan.capturesPerMonth, resets: view.usage.month_resets_at })}
  </section>
  ${upgrade}
</div>
<h2>Latest screenshots</h2>
${data.latest.length ? namedGallery(data.latest) : html`<p>No screenshots yet. <a href="/app/websites">Add a website</a> and take one.</p>`}`,
  );
}
