import type { Context } from "hono";
import { html, raw } from "hono/html";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../context";
import { isOwner } from "../services/auth";
import { assetVersions } from "./assets";
import { attrs, csrfField, type Html } from "./components";

export type Section =
  | "overview"
  | "websites"
  | "scenarios"
  | "schedules"
  | "team"
  | "api-keys"
  | "plan"
  | (string & {});

/**
 * Top-level navigation of signed-in pages; new sections add their entry here. `owners`
 * entries lead to pages behind `ownerOnly()`, so members are not shown them.
 */
const NAV: { href: string; label: string; section: Section; owners?: true; local?: true }[] = [
  { href: "/app", label: "Overview", section: "overview" },
  { href: "/app/websites", label: "Websites", section: "websites" },
  { href: "/app/scenarios", label: "Scenarios", section: "scenarios" },
  { href: "/app/schedules", label: "Schedules", section: "schedules" },
  { href: "/app/settings/webhooks", label: "Webhooks", section: "webhooks" },
  { href: "/app/settings/alerts", label: "Alerts", section: "alerts" },
  { href: "/app/settings/team", label: "Team", section: "team" },
  { href: "/app/settings/api-keys", label: "API keys", section: "api-keys", owners: true },
  { href: "/app/settings/plan", label: "Plan", section: "plan", owners: true },
  { href: "/app/settings/outbox", label: "Outbox", section: "outbox", owners: true, local: true },
];

export interface PageUser {
  email: string;
  owner: boolean;
  csrf: string;
  /** Local runs keep sent mail in an outbox (Settings → Outbox). */
  outbox: boolean;
}

export interface PageProps {
  title: string;
  /** Signed-in pages: the user's email and role, the CSRF token for the log-out form (`pageUser(c)`). */
  user?: PageUser;
  section?: Section;
  narrow?: boolean;
}

function layout(p: PageProps, assets: { css: string; js: string }, body: Html) {
  const nav = p.user
    ? html`<nav class="main" aria-label="Main"><ul>${NAV.filter(
        (item) => (p.user?.owner || !item.owners) && (p.user?.outbox || !item.local),
      ).map(
        (item) =>
          html`<li><a${attrs({ href: item.href, "aria-current": item.section === p.section ? "page" : undefined })}>${item.label}</a></li>`,
      )}</ul></nav>
      <div class="who"><a href="/app/account"${attrs({ "aria-current": p.section === "account" ? "page" : undefined })} title="Your account">${p.user.email}</a>
        <form method="post" action="/logout">${csrfField(p.user.csrf)}<button type="submit">Log out</button></form>
      </div>`
    : html`<nav class="main" aria-label="Account"><ul>
        <li><a href="/login">Log in</a></li><li><a href="/signup">Sign up</a></li><li><a href="/docs">API docs</a></li>
      </ul></nav>`;
  return html`${raw("<!doctype html>")}
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${p.title} · SnapTrack</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/app.css?v=${assets.css}">
<script src="/assets/app.js?v=${assets.js}" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top"><div class="bar">
  <a class="brand" href="${p.user ? "/app" : "/"}">SnapTrack</a>
  ${nav}
</div></header>
<main id="main"${attrs({ class: p.narrow ? "narrow" : undefined })} tabindex="-1">
${body}
</main>
</body>
</html>`;
}

/** An HTML page in the dashboard's layout (security headers: `pageContext`). */
export async function renderPage(c: Context<AppEnv>, props: PageProps, body: Html, status: ContentfulStatusCode = 200) {
  return c.html(layout(props, await assetVersions(), body), status);
}

/** The signed-in user as the layout shows them. */
export const pageUser = (c: Context<AppEnv>): PageUser => {
  const user = c.get("user");
  return { email: user.email, owner: isOwner(user), csrf: c.get("csrf"), outbox: c.env.MAIL_OUTBOX === "1" };
};

/** "Upgrade" as a link for owners; members are told who can (the plan page is owners' only). */
export function upgradeLink(c: Context<AppEnv>, text: string) {
  return isOwner(c.get("user"))
    ? html`<a href="/app/settings/plan">${text}</a>`
    : html`ask an owner of the account to upgrade`;
}
