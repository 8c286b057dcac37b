import type { Context } from "hono";
import { html } from "hono/html";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../context";
import type { ApiError } from "../lib/errors";
import { pageUser, renderPage } from "./layout";
import { setSecurityHeaders } from "./session";

const TITLES: Partial<Record<number, string>> = {
  400: "Bad request",
  401: "Log in first",
  403: "Not allowed",
  404: "Page not found",
  405: "Not allowed here",
  409: "Conflict",
  413: "Too large",
  415: "Unsupported form",
  422: "Check the form",
  429: "Slow down",
  500: "Something went wrong",
  503: "Temporarily unavailable",
};

/**
 * Browsers get errors as pages in the dashboard's look: the API error's status and its
 * message (written for users), never a stack. A 500 says only that it failed and which
 * request id to quote.
 */
export async function errorPage(c: Context<AppEnv>, err: ApiError) {
  const status = err.status as ContentfulStatusCode;
  const user = c.get("user") && c.get("csrf") ? pageUser(c) : undefined;
  const title = TITLES[status] ?? "Error";
  const res = await renderPage(
    c,
    { title, narrow: true, user },
    html`<h1>${title}</h1>
<p>${status === 404 ? "There is nothing here, or it is not yours to see." : err.message}</p>
<p class="muted">Error ${status} · request <code>${c.get("requestId")}</code></p>
<p><a href="${user ? "/app" : "/"}">${user ? "Back to the dashboard" : "Back to the start page"}</a></p>`,
    status,
  );
  for (const [name, value] of Object.entries(err.headers)) res.headers.set(name, value);
  c.res = res;
  setSecurityHeaders(c);
  c.res.headers.set("Cache-Control", "no-store");
  return c.res;
}
