import { html } from "hono/html";
import { PLAN_IDS } from "../lib/values";
import { PLANS, type Plan } from "../limits/plans";
import { capitalize, count, type Html } from "./components";

/** Prices as people read them: "$1,490". */
export const dollars = (n: number) => `$${count(n)}`;

/** A plan's price, monthly first; the yearly fee and what it saves beside it. */
export function price(p: Plan): Html {
  if (p.price.monthly === 0) return html`<p class="price"><strong>$0</strong> <span class="muted">forever</span></p>`;
  const months = Math.round((12 - p.price.yearly / p.price.monthly) * 10) / 10;
  return html`<p class="price"><strong>${dollars(p.price.monthly)}</strong> <span class="muted">a month</span></p>
<p class="muted small">or ${dollars(p.price.yearly)} a year${months > 0 ? ` (${months} months free)` : ""}</p>`;
}

const every = (m: number) => (m >= 60 ? `${m / 60} h` : `${m} min`);

/** A plan's limits, one line each, from the plans table. */
export const limitsList = (p: Plan) => html`<ul class="limits">
  <li>${p.apiAccess ? `REST API, ${count(p.requestsPerMinute)} requests a minute` : "Dashboard only (no API)"}</li>
  <li>${count(p.websites)} website${p.websites === 1 ? "" : "s"}</li>
  <li>${count(p.capturesPerDay)} captures a day, ${count(p.capturesPerMonth)} a month</li>
  <li>${count(p.historyDays)} days of history</li>
  <li>Schedules every ${every(p.fastestScheduleMinutes)} at the fastest</li>
  <li>${p.bulkZip ? "Bulk ZIP downloads" : "No bulk ZIP downloads"}</li>
  <li>${count(p.teamUsers)} team seat${p.teamUsers === 1 ? "" : "s"}</li>
  <li>${count(p.webhookEndpoints)} webhook endpoint${p.webhookEndpoints === 1 ? "" : "s"}</li>
  <li>${count(p.alertChannels)} alert channel${p.alertChannels === 1 ? "" : "s"} (email, Slack, Discord)</li>
</ul>`;

/** Every plan side by side, each with its price, limits and `action` (a button, a badge). */
export const plansTable = (action: (p: Plan) => Html | string, current?: string) =>
  html`<div class="plans">${PLAN_IDS.map((id) => {
    const p = PLANS[id];
    return html`<section class="card plan${id === current ? " current" : ""}" aria-labelledby="plan-${id}" id="card-${id}">
<h2 id="plan-${id}">${capitalize(id)}</h2>${price(p)}${limitsList(p)}${action(p)}</section>`;
  })}</div>`;

export const PAYMENT_NOTE =
  "Payment is not part of SnapTrack yet: choosing a plan changes it without taking payment, and renewing extends it by a month.";
