import type { Context, Hono } from "hono";
import { html } from "hono/html";
import type { AppEnv } from "../context";
import { tokenAccount } from "../services/alert-channels";
import { notice } from "./components";
import { renderPage } from "./layout";
import { pageContext } from "./session";

/**
 * The links in alert emails, for people without a session (the token is the authority, and it
 * names the account whose object to ask): confirming an address, and unsubscribing. Each link
 * first shows what it will do (mail scanners follow links; only a POST acts), except that
 * RFC 8058 one-click unsubscribe POSTs straight to the link from the mail client, cross-site
 * and without cookies — so these forms carry no CSRF token, and need none: the token decides.
 */
export function mountAlertLinkPages(app: Hono<AppEnv>) {
  app.use("/alerts/*", pageContext());
  app.get("/alerts/verify/:token", (c) => linkPage(c, "verify"));
  app.post("/alerts/verify/:token", (c) => useLink(c, "verify"));
  app.get("/alerts/unsubscribe/:token", (c) => linkPage(c, "unsubscribe"));
  app.post("/alerts/unsubscribe/:token", (c) => useLink(c, "unsubscribe"));
}

type Kind = "verify" | "unsubscribe";

const objectFor = (c: Context<AppEnv>) => {
  const token = c.req.param("token") ?? "";
  const accountId = tokenAccount(token);
  return accountId ? { token, accountId, object: c.get("deps").account(c.env, accountId) } : null;
};

function gone(c: Context<AppEnv>, kind: Kind) {
  return renderPage(
    c,
    { title: "This link does not work", narrow: true },
    html`<h1>This link does not work</h1>
<p>${kind === "verify" ? "It was used already, replaced by a newer one, or its alert channel was deleted." : "Its alert channel no longer exists."}</p>`,
    404,
  );
}

async function linkPage(c: Context<AppEnv>, kind: Kind) {
  const found = objectFor(c);
  const channel = found ? await found.object.alertLink(found.accountId, kind, found.token) : null;
  if (!found || !channel) return gone(c, kind);
  const what = kind === "verify" ? "Confirm alerts to this address" : "Unsubscribe from these alerts";
  return renderPage(
    c,
    { title: what, narrow: true },
    html`<h1>${what}</h1>
${
  kind === "unsubscribe" && !channel.enabled
    ? notice("ok", html`<strong>${channel.target}</strong> gets no more of these alerts.`)
    : html`<p>${
        kind === "verify"
          ? html`SnapTrack will send website alerts (changes, failures) to <strong>${channel.target}</strong>.`
          : html`SnapTrack stops sending these alerts to <strong>${channel.target}</strong>. Other channels are not affected.`
      }</p>
<form method="post" action="/alerts/${kind}/${found.token}">
  <button type="submit" id="use-link"${kind === "unsubscribe" ? html` class="danger"` : ""}>${kind === "verify" ? "Confirm" : "Unsubscribe"}</button>
</form>`
}`,
  );
}

async function useLink(c: Context<AppEnv>, kind: Kind) {
  const found = objectFor(c);
  const channel = found ? await found.object.useAlertLink(found.accountId, kind, found.token, c.get("now")) : null;
  if (!found || !channel) return gone(c, kind);
  return renderPage(
    c,
    { title: kind === "verify" ? "Address confirmed" : "Unsubscribed", narrow: true },
    html`<h1>${kind === "verify" ? "Address confirmed" : "Unsubscribed"}</h1>
${notice(
  "ok",
  kind === "verify"
    ? html`SnapTrack's alerts now go to <strong>${channel.target}</strong>.`
    : html`<strong>${channel.target}</strong> gets no more of these alerts. An owner of the account can enable them again.`,
)}`,
  );
}
