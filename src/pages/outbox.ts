import type { Context, Hono } from "hono";
import { html } from "hono/html";
import type { AppEnv } from "../context";
import { bytesToBase64 } from "../lib/crypto";
import { notFound } from "../lib/errors";
import { getOutboxMail, inlineImages, listOutbox, outboxHeaders } from "../mail/outbox";
import { ownerOnly } from "../middleware/auth";
import { escapeHtml, when } from "./components";
import { pageUser, renderPage } from "./layout";

/**
 * Settings → Outbox, local only (`MAIL_OUTBOX=1`): every message the account's mail path sent,
 * as its recipient gets it. Owners only: it holds other people's links (invitations, resets).
 * Deployed it does not exist (404).
 */
export function mountOutboxPages(app: Hono<AppEnv>) {
  const base = "/app/settings/outbox";
  app.use(base, localOnly, ownerOnly());
  app.use(`${base}/*`, localOnly, ownerOnly());
  app.get(base, outboxPage);
  app.get(`${base}/:id`, messagePage);
  app.get(`${base}/:id/html`, messageHtml);
}

/** Whether this deployment keeps an outbox (the layout shows its link only then). */
export const outboxEnabled = (env: Env) => env.MAIL_OUTBOX === "1";

const localOnly = async (c: Context<AppEnv>, next: () => Promise<void>) => {
  if (!outboxEnabled(c.env)) throw notFound("Page");
  await next();
};

const BASE = "/app/settings/outbox";

async function outboxPage(c: Context<AppEnv>) {
  const mails = await listOutbox(c.get("db"));
  return renderPage(
    c,
    { title: "Outbox", user: pageUser(c), section: "outbox" },
    html`<h1>Outbox <span class="status">local only</span></h1>
<p class="muted">Running locally, SnapTrack sends no mail: every message it would have sent is kept here, as its
recipient would see it (the newest 200).</p>
${
  mails.length
    ? html`<div class="table-wrap"><table id="outbox" class="stack">
<thead><tr><th scope="col">Sent</th><th scope="col">To</th><th scope="col">Subject</th><th scope="col">State</th></tr></thead>
<tbody>${mails.map(
        (m) => html`<tr><td data-label="Sent">${when(m.createdAt)}</td><td data-label="To" class="wrap">${m.to}</td>
<td data-label="Subject"><a href="${BASE}/${m.id}">${m.subject}</a></td>
<td data-label="State">${m.sent ? html`<span class="status completed">sent</span>` : html`<span class="status failed">not sent</span> ${m.error ?? ""}`}</td></tr>`,
      )}</tbody></table></div>`
    : html`<p id="outbox-empty">Nothing sent yet. Invitations and password resets land here.</p>`
}`,
  );
}

async function messagePage(c: Context<AppEnv>) {
  const m = await getOutboxMail(c.get("db"), c.req.param("id") ?? "");
  const headers = outboxHeaders(m);
  return renderPage(
    c,
    { title: m.subject, user: pageUser(c), section: "outbox" },
    html`<p><a href="${BASE}">← Outbox</a></p>
<h1 class="wrap">${m.subject}</h1>
<dl class="meta" id="mail-headers">
  <dt>From</dt><dd>SnapTrack &lt;${m.from}&gt;</dd>
  <dt>To</dt><dd>${m.to}</dd>
  <dt>Sent</dt><dd>${when(m.createdAt)}${m.sent ? "" : html` <span class="status failed">not sent</span> ${m.error ?? ""}`}</dd>
  ${Object.entries(headers).map(([k, v]) => html`<dt>${k}</dt><dd class="wrap">${v}</dd>`)}
</dl>
<h2>As the recipient sees it</h2>
<iframe class="mail" id="mail-html" title="The message's HTML" src="${BASE}/${m.id}/html"
  sandbox="allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation"></iframe>
<h2>Plain text</h2>
<pre class="mail-text" id="mail-text">${m.text}</pre>`,
  );
}

/**
 * The message's HTML alone, for the sandboxed frame above: inline images (`cid:`) become
 * `data:` URLs, and a policy of its own lets its inline styles apply while nothing runs and
 * nothing is fetched.
 */
async function messageHtml(c: Context<AppEnv>) {
  const m = await getOutboxMail(c.get("db"), c.req.param("id") ?? "");
  const images = new Map(
    inlineImages(m).map((i) => [i.contentId, `data:${i.type};base64,${bytesToBase64(i.content)}`]),
  );
  const body = m.html.replace(/(["'])cid:([^"']+)\1/g, (whole, quote: string, cid: string) => {
    const data = images.get(cid);
    return data ? `${quote}${escapeHtml(data)}${quote}` : whole;
  });
  c.header(
    "Content-Security-Policy",
    [
      "default-src 'none'",
      "img-src data:",
      "style-src 'unsafe-inline'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'self'",
      "sandbox allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation",
    ].join("; "),
  );
  c.header("X-Frame-Options", "SAMEORIGIN");
  return c.html(body);
}
