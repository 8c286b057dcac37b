import type { Context } from "hono";
import { CHANGES_CSS, CHANGES_JS } from "./assets-changes";

/**
 * The dashboard's only static files, served by this Worker (no CDN): one stylesheet and
 * one script. Pages work without the script; it adds live status, the copy button and
 * in-place captures.
 */
const CSS = `
:root {
  --bg: #f6f7f9; --fg: #1c2430; --muted: #4a5565; --line: #d5dae1; --card: #fff;
  --accent: #1f5fbf; --accent-fg: #fff; --danger: #b42318; --ok: #17663a; --warn: #8a5300;
  --radius: 8px; font-size: 16px;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; overflow-wrap: break-word; background: var(--bg); color: var(--fg);
  font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
a { color: var(--accent); }
a:hover { text-decoration-thickness: 2px; }
:focus-visible { outline: 3px solid #f5a623; outline-offset: 2px; }
.skip { position: absolute; left: -9999px; top: 0; background: var(--card); padding: .5rem 1rem; z-index: 10; }
.skip:focus { left: .5rem; }
header.top { background: #16202e; color: #fff; }
header.top .bar { max-width: 1200px; margin: 0 auto; padding: .6rem 1rem; display: flex; flex-wrap: wrap;
  align-items: center; gap: .5rem 1.25rem; }
header.top a { color: #fff; text-decoration: none; }
header.top a:hover, header.top a[aria-current="page"] { text-decoration: underline; text-underline-offset: 4px; }
.brand { font-weight: 700; font-size: 1.15rem; margin-right: auto; }
nav.main ul { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem 1rem; margin: 0; padding: 0; }
.who { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem; font-size: .9rem; color: #d8dee8;
  min-width: 0; max-width: 100%; }
.who a { overflow-wrap: anywhere; min-width: 0; }
.who button { white-space: nowrap; }
.who form { margin: 0; }
.who button { background: transparent; color: #fff; border: 1px solid #8795a8; padding: .25rem .6rem; }
main { max-width: 1200px; margin: 0 auto; padding: 1.25rem 1rem 3rem; }
main.narrow { max-width: 460px; }
h1 { font-size: 1.6rem; margin: .25rem 0 1rem; line-height: 1.25; }
h2 { font-size: 1.2rem; margin: 1.75rem 0 .75rem; }
p { margin: .5rem 0; }
.muted { color: var(--muted); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: var(--radius); padding: 1rem; min-width: 0; }
.card > h2:first-child { margin-top: 0; }
.cards { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); }
.row { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; }
.spread { justify-content: space-between; }
.actions { margin-top: 1rem; }
.btn, button { display: inline-block; font: inherit; font-weight: 600; border-radius: 6px; cursor: pointer;
  padding: .5rem .95rem; border: 1px solid var(--accent); background: var(--accent); color: var(--accent-fg);
  text-decoration: none; line-height: 1.3; min-height: 2.5rem; }
.btn.secondary, button.secondary { background: var(--card); color: var(--accent); }
.btn.danger, button.danger { background: var(--danger); border-color: var(--danger); color: #fff; }
button[disabled] { opacity: .6; cursor: not-allowed; }
form.inline { display: inline; margin: 0; }
.btn.small, button.small { padding: .3rem .7rem; min-height: 2.25rem; font-size: .9rem; }
.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
td.wrap { overflow-wrap: anywhere; }
/* Data tables scroll sideways on phones rather than breaking emails letter by letter. */
.table-wrap table { min-width: 34rem; }
ol.steps { list-style: none; padding: 0; margin: 0 0 1rem; display: grid; gap: 1rem; }
.step fieldset { border: 0; padding: 0; margin: 0; }
.step legend { font-size: 1.05rem; margin-bottom: .5rem; }
.action-row { align-items: flex-end; }
.action-row .field { flex: 1 1 14rem; margin-bottom: 0; }
.action-row button { margin-bottom: .1rem; }
.step .grid2 { margin-top: .75rem; }
.step-ops { gap: .5rem; }
.add-step { align-items: flex-end; margin: 0 0 1.5rem; }
.add-step .field { margin: 0; min-width: 14rem; }
.step-list li { margin: .3rem 0; overflow-wrap: anywhere; }
.thumb.small { width: 160px; max-width: 40vw; border: 1px solid var(--line); border-radius: 4px; }
.status.passed { background: #dff3e6; color: var(--ok); }
.status.error { background: #fde2e0; color: var(--danger); }
.status.running { background: #fff0d6; color: var(--warn); }
.status.skipped { background: #e3e8ef; color: #333d4a; }
.preview { margin: 0 0 1rem; }
label { display: block; font-weight: 600; margin-bottom: .25rem; }
.field { margin: 0 0 1rem; }
.field .hint { font-size: .875rem; color: var(--muted); margin: .2rem 0 0; }
.field .error { color: var(--danger); font-size: .9rem; margin: .25rem 0 0; font-weight: 600; }
.field.invalid input, .field.invalid select, .field.invalid textarea { border-color: var(--danger); border-width: 2px; }
input[type=text], input[type=email], input[type=password], input[type=url], input[type=number], select, textarea {
  width: 100%; font: inherit; padding: .5rem .6rem; border: 1px solid #8a94a3; border-radius: 6px;
  background: #fff; color: var(--fg); min-height: 2.5rem; }
textarea { min-height: 5rem; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9rem; }
.check { display: flex; gap: .5rem; align-items: center; font-weight: 600; }
.check input { width: 1.2rem; height: 1.2rem; }
fieldset { border: 1px solid var(--line); border-radius: var(--radius); padding: .75rem 1rem 0; margin: 0 0 1rem; }
legend { font-weight: 700; padding: 0 .25rem; }
.grid2 { display: grid; gap: 0 1rem; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); }
.notice { border-left: 4px solid var(--accent); background: #eaf1fb; padding: .75rem 1rem; border-radius: 4px;
  margin: 0 0 1rem; }
.notice.error { border-color: var(--danger); background: #fdeceb; }
.notice.ok { border-color: var(--ok); background: #e8f5ec; }
.notice.warn { border-color: var(--warn); background: #fdf3e3; }
.meter { margin: .5rem 0 1rem; }
.meter .label { display: flex; justify-content: space-between; font-size: .95rem; }
meter { width: 100%; height: 1.1rem; }
table { width: 100%; border-collapse: collapse; background: var(--card); }
th, td { text-align: left; padding: .5rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .875rem; color: var(--muted); }
.table-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: var(--radius); }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .35rem 1rem; margin: 0; }
dl.meta dt { font-weight: 600; color: var(--muted); }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
.gallery { list-style: none; padding: 0; margin: 0; display: grid; gap: 1rem;
  grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); }
.tile { background: var(--card); border: 1px solid var(--line); border-radius: var(--radius); overflow: hidden; }
.tile a.shot { display: block; color: inherit; text-decoration: none; }
.thumb { display: block; width: 100%; height: auto; aspect-ratio: 16 / 10; object-fit: cover; object-position: top;
  background: #e9edf2; }
.ph { display: flex; align-items: center; justify-content: center; color: var(--muted); font-size: .9rem; }
.site .thumb { border-radius: 6px; margin-bottom: .5rem; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; font-size: .85rem; }
.tile .cap { display: flex; flex-wrap: wrap; align-items: center; gap: .25rem .5rem; padding: .5rem .75rem;
  font-size: .875rem; }
.status { display: inline-block; font-size: .8rem; font-weight: 700; padding: .1rem .5rem; border-radius: 999px;
  background: #e3e8ef; color: #333d4a; }
.status.completed { background: #dff3e6; color: var(--ok); }
.status.failed { background: #fde2e0; color: var(--danger); }
.status.processing { background: #fff0d6; color: var(--warn); }
.sites { list-style: none; padding: 0; margin: 0; display: grid; gap: 1rem;
  grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); }
.site h2 { margin: .25rem 0; font-size: 1.1rem; overflow-wrap: anywhere; }
.site .url { font-size: .875rem; color: var(--muted); overflow-wrap: anywhere; margin: 0; }
.shot-full { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: var(--radius); background: #fff; }
.token { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.plans { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); }
.plans .current { border: 2px solid var(--accent); }
.plans ul { padding-left: 1.1rem; margin: .5rem 0 1rem; }
.pager { margin: 1.25rem 0; }
.hero { padding: 1.5rem 0 1rem; display: grid; gap: 1.5rem; grid-template-columns: minmax(0, 5fr) minmax(0, 7fr);
  align-items: center; }
.hero h1 { font-size: 2.1rem; margin-top: 0; }
.hero ul.three { padding-left: 1.1rem; margin: 0 0 1rem; }
.hero ul.three li { margin: .4rem 0; }
.hero-shot { margin: 0; }
.hero-shot img { display: block; width: 100%; height: auto; border: 1px solid var(--line); border-radius: var(--radius);
  box-shadow: 0 6px 24px rgba(22, 32, 46, .12); background: #fff; }
.hero-shot figcaption { margin-top: .5rem; }
@media (max-width: 860px) { .hero { grid-template-columns: minmax(0, 1fr); } }
footer.foot { max-width: 1200px; margin: 0 auto; padding: 1rem; font-size: .875rem; color: var(--muted); }
details.advanced { margin: 0 0 1rem; }
details.advanced > summary { cursor: pointer; font-weight: 700; padding: .6rem 0; color: var(--accent); }
details.advanced[open] > summary { margin-bottom: .5rem; }
.presets { display: grid; gap: .35rem 1rem; grid-template-columns: repeat(auto-fit, minmax(15rem, 1fr)); margin: 0 0 1rem; }
.presets .check { font-weight: 400; }
.tile { position: relative; }
.tile .pick { position: absolute; top: .35rem; left: .35rem; margin: 0; background: rgba(255,255,255,.92);
  border-radius: 4px; padding: .2rem .3rem; line-height: 1; z-index: 1; }
.tile .pick input { width: 1.2rem; height: 1.2rem; margin: 0; }
.tile .site-name { flex-basis: 100%; overflow-wrap: anywhere; }
form.zip { margin: 0 0 .75rem; }
.plan .price { margin: .25rem 0 0; font-size: 1.1rem; }
.plan .price strong { font-size: 1.8rem; }
.small { font-size: .875rem; }
.plan .limits { padding-left: 1.1rem; margin: .75rem 0 1rem; }
.plan .limits li { margin: .2rem 0; }
@media (max-width: 600px) {
  /* Data tables become stacked cards: each cell on its own line, named by its column. */
  .table-wrap table.stack { min-width: 0; }
  table.stack thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); }
  table.stack, table.stack tbody, table.stack tr, table.stack td { display: block; width: 100%; }
  table.stack tr { padding: .5rem .25rem; border-bottom: 1px solid var(--line); }
  table.stack td { border: 0; padding: .2rem .5rem; display: flex; gap: .75rem; }
  table.stack td::before { content: attr(data-label); flex: 0 0 7.5rem; font-weight: 600; color: var(--muted);
    font-size: .875rem; }
  table.stack td[data-label=""]::before { display: none; }
  table.stack td > * { min-width: 0; overflow-wrap: anywhere; }
  table.stack td.row { flex-wrap: wrap; }
}
@media (max-width: 480px) {
  main { padding: 1rem .75rem 2.5rem; }
  h1 { font-size: 1.35rem; }
  .gallery { grid-template-columns: repeat(2, minmax(0, 1fr)); gap: .6rem; }
  dl.meta { grid-template-columns: 1fr; }
  dl.meta dt { margin-top: .4rem; }
}
${CHANGES_CSS}`;

const JS = `"use strict";
(function () {
  // Copy buttons: <button data-copy="element-id">.
  document.addEventListener("click", function (e) {
    var btn = e.target.closest && e.target.closest("[data-copy]");
    if (!btn) return;
    var el = document.getElementById(btn.getAttribute("data-copy"));
    if (!el || !navigator.clipboard) return;
    navigator.clipboard.writeText(el.value || el.textContent).then(function () {
      var was = btn.textContent;
      btn.textContent = "Copied";
      setTimeout(function () { btn.textContent = was; }, 2000);
    });
  });

  // Live status: a tile with data-status-url is polled until it is completed or failed,
  // then replaced by the tile the server renders for it.
  var polling = new WeakSet();
  function poll(tile) {
    if (polling.has(tile)) return;
    polling.add(tile);
    var url = tile.getAttribute("data-status-url");
    var delay = 700;
    function tick() {
      fetch(url, { headers: { accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
        .then(function (s) {
          var badge = tile.querySelector(".status");
          if (badge && badge.textContent !== s.status) {
            badge.textContent = s.status;
            badge.className = "status " + s.status;
          }
          if (s.html) {
            // What the website page shows around the tile follows it: last capture, change history.
            var last = document.getElementById("last-capture");
            if (last && s.last_capture) last.textContent = s.last_capture;
            var history = document.getElementById("changes-section");
            if (history && s.changes_html) {
              var h = document.createElement("div");
              h.innerHTML = s.changes_html;
              if (h.firstElementChild) history.replaceWith(h.firstElementChild);
            }
            var said = document.getElementById("capture-message");
            if (said && !said.hidden && said.textContent === "Screenshot queued.") {
              said.textContent = "Screenshot " + s.status + ".";
              said.className = s.status === "failed" ? "notice error" : "notice ok";
            }
            var box = document.createElement("div");
            box.innerHTML = s.html;
            var next = box.firstElementChild;
            if (next) tile.replaceWith(next);
            return;
          }
          delay = Math.min(delay * 1.3, 4000);
          setTimeout(tick, delay);
        })
        .catch(function () { setTimeout(tick, 5000); });
    }
    setTimeout(tick, delay);
  }
  function scan(root) {
    root.querySelectorAll("[data-status-url]").forEach(poll);
  }
  scan(document);

  // A run's results: polled while the run is queued or running, the section swapped for the
  // server's rendering each time (it stops carrying the URL once the run has finished).
  function pollRun(section) {
    var url = section.getAttribute("data-run-status-url");
    var delay = 800;
    function tick() {
      fetch(url, { headers: { accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
        .then(function (s) {
          var box = document.createElement("div");
          box.innerHTML = s.html;
          var next = box.firstElementChild;
          if (next) { section.replaceWith(next); section = next; }
          if (!section.hasAttribute("data-run-status-url")) return;
          delay = Math.min(delay * 1.2, 3000);
          setTimeout(tick, delay);
        })
        .catch(function () { setTimeout(tick, 5000); });
    }
    setTimeout(tick, delay);
  }
  document.querySelectorAll("[data-run-status-url]").forEach(pollRun);

  // A new schedule's time zone: the browser's own, when the list has it (UTC without script).
  document.querySelectorAll("select[data-browser-zone]").forEach(function (select) {
    var zone;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
    if (zone && select.querySelector('option[value="' + zone + '"]')) select.value = zone;
  });

  // A webhook's delivery log while attempts are due: refreshed in place, until none is pending.
  document.querySelectorAll("[data-live-url]").forEach(function (box) {
    var url = box.getAttribute("data-live-url");
    function tick() {
      fetch(url, { headers: { accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
        .then(function (s) {
          var wrap = document.createElement("div");
          wrap.innerHTML = s.html;
          var next = wrap.firstElementChild;
          if (next) { box.replaceWith(next); box = next; }
          if (box.hasAttribute("data-live-url")) setTimeout(tick, 2500);
        })
        .catch(function () { setTimeout(tick, 10000); });
    }
    setTimeout(tick, 2500);
  });

  // The step editor: choosing another action shows its fields at once (the same "Show its
  // fields" submit the button does without script).
  document.addEventListener("change", function (e) {
    var select = e.target;
    if (!select.matches || !select.matches("form.editor select[name$='.action']")) return;
    var button = select.closest("li").querySelector("[data-refresh]");
    if (button) button.click();
  });

  // "Take screenshot" without leaving the page: the same form, posted with fetch; the new
  // tile goes first in the gallery and is polled like the others.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.hasAttribute("data-capture")) return;
    e.preventDefault();
    var button = form.querySelector("button");
    if (button) button.disabled = true;
    var out = document.getElementById("capture-message");
    fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      headers: { accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        if (out) {
          out.textContent = res.ok ? "Screenshot queued." : res.body.message;
          out.className = res.ok ? "notice ok" : "notice error";
          out.hidden = false;
        }
        if (!res.ok) return;
        var gallery = document.getElementById("gallery");
        var empty = document.getElementById("gallery-empty");
        if (empty) empty.hidden = true;
        if (gallery) {
          gallery.hidden = false;
          gallery.insertAdjacentHTML("afterbegin", res.body.html);
          scan(gallery);
        }
      })
      .catch(function () { form.submit(); })
      .finally(function () { if (button) button.disabled = false; });
  });
})();
${CHANGES_JS}`;

/** Short content hashes go in the URLs, so the files can be cached for a year. */
let versions: { css: string; js: string } | undefined;
async function hash(text: string) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest).slice(0, 6)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
export async function assetVersions() {
  versions ??= { css: await hash(CSS), js: await hash(JS) };
  return versions;
}

const serve = (body: string, type: string) => (c: Context) => {
  c.header("Content-Type", type);
  c.header("Cache-Control", c.req.query("v") ? "public, max-age=31536000, immutable" : "public, max-age=300");
  c.header("X-Content-Type-Options", "nosniff");
  return c.body(body);
};

export const stylesheet = serve(CSS, "text/css; charset=utf-8");
export const script = serve(JS, "text/javascript; charset=utf-8");
