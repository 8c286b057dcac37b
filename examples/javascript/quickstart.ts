// The SnapTrack API from JavaScript, through the typed client (client/): every path, body
// and answer below is checked by TypeScript against the OpenAPI document.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { snaptrack } from "../../client/index.ts";

const BASE = process.env.SNAPTRACK_URL ?? "http://127.0.0.1:8787";
const TARGET = process.env.TARGET_URL ?? "http://127.0.0.1:8000/";

/** A token: the one given, or a new account's (what a user does in the dashboard). */
async function getToken(): Promise<string> {
  if (process.env.SNAPTRACK_TOKEN) return process.env.SNAPTRACK_TOKEN;
  const email = `js.${Date.now()}@example.com`;
  const signup = await fetch(`${BASE}/auth/signup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password: "a long example password", name: "JS example" }),
  });
  if (!signup.ok) throw new Error(`signup: ${signup.status} ${await signup.text()}`);
  const cookie = (signup.headers.get("set-cookie") ?? "").split(";")[0] as string;
  const session = { cookie, "content-type": "application/json" };
  // The API needs Starter or higher (a stand-in for billing).
  await fetch(`${BASE}/account/plan`, { method: "PUT", headers: session, body: JSON.stringify({ plan: "pro" }) });
  const token = await fetch(`${BASE}/account/api-token`, { method: "POST", headers: session });
  return ((await token.json()) as { token: string }).token;
}

/** Fails loudly with the API's error envelope. */
function must<T>(result: { data?: T; error?: unknown; response: Response }, what: string): T {
  if (result.data === undefined) throw new Error(`${what}: ${result.response.status} ${JSON.stringify(result.error)}`);
  return result.data;
}

const api = snaptrack(BASE, await getToken());

const website = must(await api.POST("/v1/websites", { body: { name: "Example", url: TARGET } }), "create website");
console.log("website", website.id);

let shot = must(await api.POST("/v1/screenshots", { body: { website_id: website.id } }), "take screenshot");
while (shot.status === "queued" || shot.status === "processing") {
  await new Promise((r) => setTimeout(r, 1000));
  shot = must(await api.GET("/v1/screenshots/{id}", { params: { path: { id: shot.id } } }), "poll screenshot");
}
if (shot.status !== "completed") throw new Error(`screenshot ${shot.status}: ${shot.error}`);
console.log("screenshot", shot.id, `${shot.width}×${shot.height}`, shot.format);

const image = await api.GET("/v1/screenshots/{id}/download", {
  params: { path: { id: shot.id } },
  parseAs: "arrayBuffer",
});
if (!image.data) throw new Error(`download: ${image.response.status}`);
const file = join(mkdtempSync(join(tmpdir(), "snaptrack-")), `${shot.id}.${shot.format}`);
writeFileSync(file, new Uint8Array(image.data));
console.log("saved", file, image.data.byteLength, "bytes");

const scenario = must(
  await api.POST("/v1/scenarios", {
    body: {
      website_id: website.id,
      name: "Smoke test",
      steps: [
        { action: "wait_for_selector", selector: "body", state: "attached" },
        { action: "screenshot", name: "home" },
      ],
    },
  }),
  "create scenario",
);
let run = must(await api.POST("/v1/scenarios/{id}/run", { params: { path: { id: scenario.id } } }), "run scenario");
while (run.status === "queued" || run.status === "running") {
  await new Promise((r) => setTimeout(r, 1000));
  run = must(await api.GET("/v1/runs/{id}", { params: { path: { id: run.id } } }), "poll run");
}
for (const step of run.steps) console.log("step", step.index, step.action, step.status, `${step.duration_ms} ms`);
if (run.status !== "passed") throw new Error(`run ${run.status}: ${run.error}`);

const schedule = must(
  await api.POST("/v1/schedules", { body: { website_id: website.id, cron: "0 9 * * 1-5", timezone: "Europe/Berlin" } }),
  "create schedule",
);
console.log("schedule", schedule.id, "next run", schedule.next_run_at);

// Change detection: every website capture is compared with the previous one (the defaults).
let again = must(await api.POST("/v1/screenshots", { body: { website_id: website.id } }), "take second screenshot");
while (again.status === "queued" || again.status === "processing" || again.comparison?.status === "pending") {
  await new Promise((r) => setTimeout(r, 1000));
  again = must(await api.GET("/v1/screenshots/{id}", { params: { path: { id: again.id } } }), "poll screenshot");
}
console.log("comparison with", again.comparison?.baseline_id, "changed:", again.comparison?.changed);
const changes = must(
  await api.GET("/v1/websites/{id}/changes", { params: { path: { id: website.id } } }),
  "list changes",
);
console.log("changes", changes.data.length);

// Text changes: the page's words are compared too. `comparison.text` lists the lines added
// and removed since the baseline; `GET /v1/screenshots/{id}/text` is a capture's whole text.
const CHANGING = process.env.CHANGING_URL ?? TARGET;
const prices = must(await api.POST("/v1/websites", { body: { name: "Prices", url: CHANGING } }), "create website");
/** A capture of `websiteId`, waited for (`Prefer: wait`), then its comparison. */
async function captured(websiteId: string) {
  const opts = { body: { website_id: websiteId }, headers: { prefer: "wait=30" } };
  let s = must(await api.POST("/v1/screenshots", opts), "take screenshot");
  while (s.status === "queued" || s.status === "processing" || s.comparison?.status === "pending") {
    await new Promise((r) => setTimeout(r, 1000));
    s = must(await api.GET("/v1/screenshots/{id}", { params: { path: { id: s.id } } }), "poll screenshot");
  }
  return s;
}
await captured(prices.id);
const later = await captured(prices.id);
const text = later.comparison?.text;
console.log("text changed:", text?.changed ?? "not compared");
for (const line of text?.added ?? []) console.log("  +", line);
for (const line of text?.removed ?? []) console.log("  -", line);
const words = await api.GET("/v1/screenshots/{id}/text", { params: { path: { id: later.id } }, parseAs: "text" });
console.log("text of", later.id, JSON.stringify((words.data ?? "").slice(0, 60)));
if (process.env.CHANGING_URL && !text?.changed) throw new Error("the changing page's text diff is missing");

// Webhooks: a receiver (here a local server; yours is public and https), signed per Standard
// Webhooks and verified with the `standardwebhooks` package.
const { Webhook } = await import("standardwebhooks");
const { createServer } = await import("node:http");
let delivered: (v: { headers: Record<string, string>; body: string }) => void = () => {};
const arrival = new Promise<{ headers: Record<string, string>; body: string }>((r) => {
  delivered = r;
});
const receiver = createServer((req, res) => {
  let body = "";
  req.on("data", (d) => (body += d));
  req.on("end", () => {
    res.end();
    delivered({ headers: req.headers as Record<string, string>, body });
  });
});
await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
const port = (receiver.address() as { port: number }).port;
const hook = must(
  await api.POST("/v1/webhooks", { body: { url: `http://127.0.0.1:${port}/snaptrack`, events: ["*"] } }),
  "create webhook",
);
must(await api.POST("/v1/webhooks/{id}/test", { params: { path: { id: hook.id } } }), "send test event");
const { headers, body } = await arrival;
receiver.close();
const event = new Webhook(hook.secret).verify(body, headers) as { type: string };
console.log("webhook", headers["webhook-id"], event.type, "signature verified");
