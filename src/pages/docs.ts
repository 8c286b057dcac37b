import type { Context, Hono } from "hono";
import { html, raw } from "hono/html";
import type { AppEnv } from "../context";
import { readSessionCookie } from "../middleware/session-cookie";
import { pageContext } from "./session";

/**
 * `/docs`: the API reference (Scalar), under SnapTrack's own header with a way back, asking
 * nothing of any other host: its script is served from this Worker's assets, its fonts are
 * the system's (Scalar's font CDN is off), and its AI, MCP, deploy and developer-tool
 * controls are hidden. The page has a policy of its own: Scalar adds its styles inline.
 */
export function mountDocs(app: Hono<AppEnv>) {
  app.use("/docs", pageContext());
  app.get("/docs", docsPage);
  // Served by the asset router before the Worker runs; this route answers where it does not.
  app.get("/docs/scalar.js", (c) => c.env.ASSETS.fetch(c.req.raw));
  app.get("/docs/init.js", (c) => asset(c, INIT_JS, "text/javascript; charset=utf-8"));
  app.get("/docs/docs.css", (c) => asset(c, DOCS_CSS, "text/css; charset=utf-8"));
}

/** Scalar's configuration: the document, and nothing that reaches another host. */
export const SCALAR_CONFIGURATION = {
  url: "/v1/openapi.json",
  withDefaultFonts: false,
  telemetry: false,
  showDeveloperTools: "never",
  showToolbar: "never",
  agent: { disabled: true },
  mcp: { disabled: true },
  hideClientButton: false,
  proxyUrl: "",
  _integration: "hono",
  pageTitle: "SnapTrack API reference",
};

// Not `#api-reference`: Scalar's bundle mounts a second, default-configured reference on an
// element with that id by itself (fonts from its CDN, its AI and MCP controls).
const INIT_JS = `"use strict";
Scalar.createApiReference("#reference", ${JSON.stringify(SCALAR_CONFIGURATION)});
`;

const DOCS_CSS = `
body { margin: 0; }
.st-top { background: #16202e; color: #fff; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
.st-top .bar { max-width: 1200px; margin: 0 auto; padding: .6rem 1rem; display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.25rem; }
.st-top a { color: #fff; text-decoration: none; }
.st-top a:hover { text-decoration: underline; text-underline-offset: 4px; }
.st-top .brand { font-weight: 700; font-size: 1.15rem; margin-right: auto; }
.st-top nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem 1rem; margin: 0; padding: 0; }
.st-top :focus-visible { outline: 3px solid #f5a623; outline-offset: 2px; }
`;

/** Short content hashes for the URLs. */
async function hash(text: string) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest).slice(0, 6)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
let versions: Promise<{ js: string; css: string }> | undefined;

function asset(c: Context<AppEnv>, body: string, type: string) {
  c.header("Content-Type", type);
  c.header("Cache-Control", c.req.query("v") ? "public, max-age=31536000, immutable" : "public, max-age=300");
  c.header("X-Content-Type-Options", "nosniff");
  return c.body(body);
}

/** The reference's own policy: scripts from here only; Scalar's inline styles; requests to this origin only. */
export const DOCS_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

async function docsPage(c: Context<AppEnv>) {
  versions ??= Promise.all([hash(INIT_JS), hash(DOCS_CSS)]).then(([js, css]) => ({ js, css }));
  const v = await versions;
  const signedIn = Boolean(readSessionCookie(c));
  c.header("Content-Security-Policy", DOCS_CONTENT_SECURITY_POLICY);
  return c.html(html`${raw("<!doctype html>")}
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API reference · SnapTrack</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/docs/docs.css?v=${v.css}">
</head>
<body>
<header class="st-top"><div class="bar">
  <a class="brand" href="/">SnapTrack</a>
  <nav aria-label="SnapTrack"><ul>
    <li><a href="${signedIn ? "/app" : "/"}">${signedIn ? "Dashboard" : "Home"}</a></li>
    ${signedIn ? "" : html`<li><a href="/login">Log in</a></li><li><a href="/signup">Sign up</a></li>`}
    <li><a href="/v1/openapi.json">OpenAPI document</a></li>
  </ul></nav>
</div></header>
<div id="reference"></div>
<script src="/docs/scalar.js"></script>
<script src="/docs/init.js?v=${v.js}"></script>
</body>
</html>`);
}
