#!/usr/bin/env node
// The landing page's picture: a real SnapTrack comparison of a demo page, made by SnapTrack.
// With `npm start` running (PORT, default 8787): a throwaway account captures a loopback demo
// bakery page twice (a price changes, an item sells out and a banner appears in between), and the compare
// page's diff — changed pixels in red, changed regions outlined — is saved as
// assets/landing/compare.jpg (copied into public/ by scripts/assets.mjs). Run it again after
// changing how the compare page looks: `node scripts/landing-shot.mjs`.
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import puppeteer from "puppeteer-core";

const origin = `http://127.0.0.1:${process.env.PORT ?? 8787}`;
const OUT = new URL("../assets/landing/compare.jpg", import.meta.url);

let version = 0;
const demo = createServer((_req, res) => {
  version += 1;
  const after = version > 1;
  res.setHeader("content-type", "text/html; charset=utf-8");
  res.end(`<!doctype html><html><body style="margin:0;font:18px/1.5 Georgia,serif;background:#fffaf2;color:#3b2a1a">
<header style="background:#7c3f1d;color:#fff;padding:22px 48px;display:flex;justify-content:space-between;align-items:center">
<strong style="font-size:30px">Bluebird Bakery</strong><span>Menu · Visit · Order</span></header>
<p style="margin:0;height:56px;box-sizing:border-box;padding:14px 48px;font-weight:bold;background:${after ? "#fde68a" : "#fffaf2"}">${after ? "New: cinnamon rolls every Saturday!" : ""}</p>
<main style="padding:28px 48px;display:grid;grid-template-columns:1fr 1fr;gap:32px">
<section><h2 style="margin-top:0">Today's bread</h2>
<ul style="list-style:none;padding:0;font-size:22px">
<li style="padding:8px 0;border-bottom:1px solid #e7d8c4">Sourdough loaf <b style="float:right">$${after ? "5.40" : "4.90"}</b></li>
<li style="padding:8px 0;border-bottom:1px solid #e7d8c4">Rye <b style="float:right">$5.20</b></li>
<li style="padding:8px 0;border-bottom:1px solid #e7d8c4">Baguette <b style="float:right">$3.10</b></li>
<li style="padding:8px 0;border-bottom:1px solid #e7d8c4">Croissant <b style="float:right">${after ? "Sold out" : "$2.60"}</b></li></ul></section>
<section><h2 style="margin-top:0">Opening hours</h2><p>Monday to Saturday, 7:00–18:00.<br>Sunday closed.</p>
<div style="background:#f3e3cc;height:220px;border-radius:12px;display:flex;align-items:center;justify-content:center;color:#7c3f1d">Fresh from the oven since 1987</div></section>
</main></body></html>`);
});
await new Promise((r) => demo.listen(0, "127.0.0.1", r));
const site = `http://127.0.0.1:${demo.address().port}/`;

const json = { "content-type": "application/json" };
const signup = await fetch(`${origin}/auth/signup`, {
  method: "POST",
  headers: json,
  body: JSON.stringify({
    email: `landing.${Date.now()}@example.com`,
    password: "correct horse battery",
    name: "Landing",
  }),
});
const cookie = signup.headers.getSetCookie()[0].split(";")[0];
await fetch(`${origin}/account/plan`, { method: "PUT", headers: { ...json, cookie }, body: '{"plan":"pro"}' });
const { token } = await (await fetch(`${origin}/account/api-token`, { method: "POST", headers: { cookie } })).json();
const api = { ...json, authorization: `Bearer ${token}` };
const website = await (
  await fetch(`${origin}/v1/websites`, {
    method: "POST",
    headers: api,
    body: JSON.stringify({ name: "Bluebird Bakery", url: site }),
  })
).json();
const capture = async () =>
  (
    await fetch(`${origin}/v1/screenshots`, {
      method: "POST",
      headers: { ...api, prefer: "wait=60" },
      body: JSON.stringify({ website_id: website.id }),
    })
  ).json();
await capture();
const second = await capture();
let shot = second;
for (let i = 0; i < 60 && shot.comparison?.status !== "completed"; i++) {
  await new Promise((r) => setTimeout(r, 1000));
  shot = await (await fetch(`${origin}/v1/screenshots/${second.id}`, { headers: api })).json();
}
if (!shot.comparison?.changed) throw new Error(`no change found: ${JSON.stringify(shot.comparison)}`);

const browser = await puppeteer.launch({
  executablePath: process.env.SNAPTRACK_BROWSER || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1232, height: 900, deviceScaleFactor: 1 });
  const [name, value] = cookie.split("=");
  await page.setCookie({ name, value, url: origin });
  await page.goto(`${origin}/app/screenshots/${second.id}/compare`, { waitUntil: "networkidle0" });
  await page.waitForFunction(() => document.querySelector("#diff")?.complete);
  const box = await page.$eval(".diff-wrap", (el) => {
    const r = el.getBoundingClientRect();
    return { x: r.x + window.scrollX, y: r.y + window.scrollY, width: r.width, height: r.height };
  });
  const image = await page.screenshot({ type: "jpeg", quality: 82, clip: box, captureBeyondViewport: true });
  writeFileSync(OUT, image);
  console.log(`wrote ${OUT.pathname} (${Math.round(box.width)} × ${Math.round(box.height)}, ${image.length} bytes)`);
} finally {
  await browser.close();
  demo.close();
}
