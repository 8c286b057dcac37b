import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  accountSql,
  body,
  call,
  createScenario,
  createWebsite,
  downloadBytes,
  expectError,
  FIXTURE,
  INTERNAL,
  jsonInit,
  newAccount,
  type RunView,
  runSettled,
  runToEnd,
} from "../../helpers";
import { BLUE, decodePng, near, RED, WHITE } from "../../png";

const SECRET = "hunter2-Very-Secret!";

describe("scenario definitions", () => {
  it("validates steps as a union on action, with the step's path in errors", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/form`);
    const err = await expectError(
      await call(
        "/v1/scenarios",
        jsonInit(
          "POST",
          {
            website_id: site.id,
            name: "bad",
            steps: [
              { action: "click", selector: "#ok" },
              { action: "click" },
              { action: "wait", ms: 20_000 },
              { action: "teleport", to: "mars" },
              { action: "wait_for_selector", selector: "#x", state: "gone" },
            ],
          },
          acc.auth,
        ),
      ),
      422,
      "validation_failed",
    );
    expect(err.errors).toMatchObject({
      "steps.1.selector": ["Is required"],
      "steps.2.ms": ["Must be ≤ 10000"],
    });
    expect(err.errors).toHaveProperty(["steps.3.action"]);
    expect(err.errors).toHaveProperty(["steps.4.state"]);
    const tooMany = await expectError(
      await call(
        "/v1/scenarios",
        jsonInit(
          "POST",
          { website_id: site.id, name: "long", steps: Array.from({ length: 51 }, () => ({ action: "wait", ms: 1 })) },
          acc.auth,
        ),
      ),
      422,
      "validation_failed",
    );
    expect(tooMany.errors?.steps?.[0]).toMatch(/50/);
    const noText = await expectError(
      await call(
        "/v1/scenarios",
        jsonInit("POST", { website_id: site.id, name: "t", steps: [{ action: "type", selector: "#email" }] }, acc.auth),
      ),
      422,
      "validation_failed",
    );
    expect(noText.errors).toEqual({ "steps.0.text": ["Is required"] });
  });

  it("stores secret text encrypted and never returns it; re-saving without text keeps it", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/form`);
    const created = await createScenario(acc, {
      website_id: site.id,
      name: "login",
      steps: [{ action: "type", selector: "#password", text: SECRET, secret: true }],
    });
    expect(created.steps).toEqual([{ action: "type", selector: "#password", secret: true }]);
    const row = (await accountSql<{ steps: string }>(acc.id, "SELECT steps FROM scenarios WHERE id = ?", created.id))[0]
      ?.steps;
    expect(row).not.toContain(SECRET);
    expect(row).toMatch(/"sealed":"v1\./);
    for (const res of [
      await call(`/v1/scenarios/${created.id}`, { headers: acc.auth }),
      await call("/v1/scenarios", { headers: acc.auth }),
    ]) {
      expect(await res.text()).not.toContain(SECRET);
    }
    // Read back and saved again: the secret is kept.
    const patched = await call(`/v1/scenarios/${created.id}`, jsonInit("PATCH", { steps: created.steps }, acc.auth));
    expect(patched.status).toBe(200);
    const after = (
      await accountSql<{ steps: string }>(acc.id, "SELECT steps FROM scenarios WHERE id = ?", created.id)
    )[0]?.steps;
    expect(JSON.parse(after as string)[0].sealed).toBe(JSON.parse(row as string)[0].sealed);
    // A secret step moved to a position with no secret cannot invent one.
    const moved = await expectError(
      await call(
        `/v1/scenarios/${created.id}`,
        jsonInit("PATCH", { steps: [{ action: "wait", ms: 1 }, ...created.steps] }, acc.auth),
      ),
      422,
      "validation_failed",
    );
    expect(moved.errors).toHaveProperty(["steps.1.text"]);
  });
});

describe("scenario runs in the browser", () => {
  it("fills and submits a form and asserts the result; secrets reach the site but no response", async () => {
    const acc = await newAccount("business");
    const t = crypto.randomUUID();
    const site = await createWebsite(acc, `${FIXTURE()}/form?t=${t}`);
    const scenario = await createScenario(acc, {
      website_id: site.id,
      name: "sign up",
      steps: [
        { action: "assert_title", contains: "Sign up" },
        { action: "type", selector: "#email", text: "ada@example.com" },
        { action: "type", selector: "#password", text: SECRET, secret: true },
        { action: "select", selector: "#plan", value: "pro" },
        { action: "screenshot", name: "filled" },
        { action: "click", selector: "#submit" },
        { action: "assert_url", contains: "/welcome" },
        { action: "assert_text", selector: "h1", contains: "Welcome ada@example.com on pro" },
        { action: "assert_title", contains: "Welcome" },
        { action: "screenshot", name: "welcome", full_page: true },
      ],
    });
    const run = await runToEnd(acc, scenario.id);
    expect(run.status, JSON.stringify(run)).toBe("passed");
    expect(run.trigger).toBe("api");
    expect(run.error).toBeNull();
    expect(run.steps.map((s) => s.status)).toEqual(Array(10).fill("passed"));
    expect(run.steps.every((s) => typeof s.duration_ms === "number")).toBe(true);
    expect(run.duration_ms).toBeGreaterThan(0);
    expect(run.steps[4]).toMatchObject({
      action: "screenshot",
      name: "filled",
      screenshot_id: expect.stringMatching(/^shot_/),
    });

    // The site received the secret; nothing we answer contains it.
    const form = (await (await fetch(`${FIXTURE()}/__log?t=${t}:form`)).json()) as {
      headers: Record<string, string>;
    }[];
    expect(form[0]?.headers).toMatchObject({ email: "ada@example.com", password: SECRET, plan: "pro" });
    const runJson = await (await call(`/v1/runs/${run.id}`, { headers: acc.auth })).text();
    expect(runJson).not.toContain(SECRET);

    // Screenshot steps are real screenshots: source scenario, linked to the run, downloadable, counted.
    const shots = await body<{ data: { id: string; source: string; run_id: string; name: string; status: string }[] }>(
      await call("/v1/screenshots?source=scenario", { headers: acc.auth }),
    );
    expect(shots.data.map((s) => s.name).sort()).toEqual(["filled", "welcome"]);
    for (const s of shots.data) expect(s).toMatchObject({ source: "scenario", run_id: run.id, status: "completed" });
    expect((await downloadBytes(acc, run.steps[9]?.screenshot_id as string)).byteLength).toBeGreaterThan(100);
    const usage = await body<{ usage: { captures_today: number } }>(await call("/v1/account", { headers: acc.auth }));
    expect(usage.usage.captures_today).toBe(2);
  });

  it("each action acts: hover, select, scroll, hide, press, wait_for_selector", async () => {
    const acc = await newAccount("business");
    const hoverSite = await createWebsite(acc, `${FIXTURE()}/hover`);
    const hover = await createScenario(acc, {
      website_id: hoverSite.id,
      name: "hover",
      steps: [
        { action: "screenshot", name: "before", selector: "#menu" },
        { action: "hover", selector: "#menu" },
        { action: "screenshot", name: "hovered", selector: "#menu" },
      ],
    });
    const hoverRun = await runToEnd(acc, hover.id);
    expect(hoverRun.status).toBe("passed");
    expect(
      near((await decodePng(await downloadBytes(acc, hoverRun.steps[0]?.screenshot_id as string))).at(100, 50), BLUE),
    ).toBe(true);
    expect(
      near((await decodePng(await downloadBytes(acc, hoverRun.steps[2]?.screenshot_id as string))).at(100, 50), RED),
    ).toBe(true);

    const selectSite = await createWebsite(acc, `${FIXTURE()}/select`);
    const select = await createScenario(acc, {
      website_id: selectSite.id,
      name: "select",
      steps: [
        { action: "assert_text", selector: "#chosen", contains: "none" },
        { action: "select", selector: "#color", value: "green" },
        { action: "assert_text", selector: "#chosen", contains: "chosen: green", timeout_ms: 2000 },
      ],
    });
    expect((await runToEnd(acc, select.id)).status).toBe("passed");

    const lazySite = await createWebsite(acc, `${FIXTURE()}/lazy`);
    const withoutScroll = await createScenario(acc, {
      website_id: lazySite.id,
      name: "no scroll",
      steps: [{ action: "assert_text", contains: "Loaded more items", timeout_ms: 1500 }],
    });
    const withScroll = await createScenario(acc, {
      website_id: lazySite.id,
      name: "scroll",
      steps: [
        { action: "scroll", to: "bottom" },
        { action: "assert_text", selector: "#items", contains: "Loaded more items" },
      ],
    });
    expect((await runToEnd(acc, withoutScroll.id)).status).toBe("failed");
    expect((await runToEnd(acc, withScroll.id)).status).toBe("passed");

    const colors = await createWebsite(acc, `${FIXTURE()}/colors`);
    const hide = await createScenario(acc, {
      website_id: colors.id,
      name: "hide",
      steps: [
        { action: "hide", selector: "#box" },
        { action: "screenshot", name: "hidden" },
      ],
    });
    const hideRun = await runToEnd(acc, hide.id);
    const png = await decodePng(await downloadBytes(acc, hideRun.steps[1]?.screenshot_id as string));
    expect(near(png.at(50, 50), WHITE)).toBe(true);
    expect(near(png.at(350, 50), [0, 255, 0])).toBe(true);

    const keys = await createWebsite(acc, `${FIXTURE()}/keys`);
    const press = await createScenario(acc, {
      website_id: keys.id,
      name: "press",
      steps: [
        { action: "type", selector: "#q", text: "cats" },
        { action: "press", key: "Enter" },
        { action: "assert_title", contains: "searched: cats" },
      ],
    });
    expect((await runToEnd(acc, press.id)).status).toBe("passed");

    const toast = await createWebsite(acc, `${FIXTURE()}/toast`);
    const waits = await createScenario(acc, {
      website_id: toast.id,
      name: "toast",
      steps: [
        { action: "wait_for_selector", selector: "#toast", state: "attached" },
        { action: "wait_for_selector", selector: "#toast", state: "hidden", timeout_ms: 6000 },
        { action: "assert_visible", selector: "#toast", timeout_ms: 300 },
      ],
    });
    const waitRun = await runToEnd(acc, waits.id);
    expect(waitRun.steps.map((s) => s.status)).toEqual(["passed", "passed", "failed"]);
  });

  it("stops at the first failing step with its error and a screenshot; later steps stay pending", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const scenario = await createScenario(acc, {
      website_id: site.id,
      name: "fails",
      steps: [
        { action: "click", selector: "#cookie-banner button", optional: true },
        { action: "assert_visible", selector: "#box" },
        { action: "assert_text", contains: "Checkout complete", timeout_ms: 500 },
        { action: "screenshot", name: "never" },
        { action: "click", selector: "#box" },
      ],
    });
    const queued = await call(`/v1/scenarios/${scenario.id}/run`, { method: "POST", headers: acc.auth });
    expect(queued.status).toBe(202);
    const { id: runId, steps } = await body<RunView>(queued);
    expect(steps.map((s) => s.status)).toEqual(["pending", "pending", "pending", "pending", "pending"]);
    const run = await runSettled(acc, runId);
    expect(run.status).toBe("failed");
    // Steps after the failure are skipped (none stays pending); messages and names number steps from 1.
    expect(run.steps.map((s) => s.status)).toEqual(["skipped", "passed", "failed", "skipped", "skipped"]);
    const failed = run.steps[2];
    expect(failed?.error).toBe('Expected the page to contain "Checkout complete"; found ""');
    expect(run.error).toBe(`Step 3 (assert_text) failed: ${failed?.error}`);
    const png = await decodePng(await downloadBytes(acc, failed?.screenshot_id as string));
    expect(near(png.at(50, 50), RED)).toBe(true); // the page at that moment
    const shot = await body<{ name: string; step_index: number; run_id: string }>(
      await call(`/v1/screenshots/${failed?.screenshot_id}`, { headers: acc.auth }),
    );
    expect(shot).toMatchObject({ name: "failure-step-3", step_index: 2, run_id: run.id });
  });

  it("ends `error` when the run exceeds its time budget", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const scenario = await createScenario(acc, {
      website_id: site.id,
      name: "slow",
      timeout_ms: 5000,
      steps: [
        { action: "wait", ms: 3000 },
        { action: "wait", ms: 3000 },
        { action: "assert_visible", selector: "#box" },
      ],
    });
    const run = await runToEnd(acc, scenario.id);
    expect(run.status).toBe("error");
    expect(run.error).toBe("The run exceeded its time budget of 5000 ms");
    expect(run.steps.map((s) => s.status)).toEqual(["passed", "failed", "skipped"]);
  });

  it("keeps navigation and requests behind the SSRF guard", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const refused = await expectError(
      await call(
        "/v1/scenarios",
        jsonInit(
          "POST",
          { website_id: site.id, name: "escape", steps: [{ action: "goto", url: `${INTERNAL()}/colors` }] },
          acc.auth,
        ),
      ),
      422,
      "validation_failed",
    );
    expect(refused.errors).toEqual({ "steps.0.url": ["Must not point to a private or reserved address"] });
    // A step stored before that check is refused when it runs.
    const scenario = await createScenario(acc, {
      website_id: site.id,
      name: "escape",
      steps: [{ action: "goto", url: "/colors" }],
    });
    await accountSql(
      acc.id,
      "UPDATE scenarios SET steps = ? WHERE id = ?",
      JSON.stringify([{ action: "goto", url: `${INTERNAL()}/colors` }]),
      scenario.id,
    );
    const run = await runToEnd(acc, scenario.id);
    expect(run.status).toBe("failed");
    expect(run.steps[0]?.error).toBe(`Blocked ${INTERNAL()}/colors: Must not point to a private or reserved address`);
    const relative = await createScenario(acc, {
      website_id: site.id,
      name: "relative",
      steps: [
        { action: "goto", url: "/hover" },
        { action: "assert_visible", selector: "#menu" },
      ],
    });
    expect((await runToEnd(acc, relative.id)).status).toBe("passed");
  });
});

describe("runs API", () => {
  it("lists a scenario's runs newest first and isolates accounts", async () => {
    const acc = await newAccount("business");
    const other = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const scenario = await createScenario(acc, {
      website_id: site.id,
      name: "quick",
      steps: [{ action: "assert_visible", selector: "#box" }],
    });
    const first = await runToEnd(acc, scenario.id);
    const second = await runToEnd(acc, scenario.id);
    const page = await body<{ data: { id: string }[]; next_cursor: string | null }>(
      await call(`/v1/scenarios/${scenario.id}/runs?limit=1`, { headers: acc.auth }),
    );
    expect(page.data.map((r) => r.id)).toEqual([second.id]);
    const next = await body<{ data: { id: string }[] }>(
      await call(`/v1/scenarios/${scenario.id}/runs?limit=1&cursor=${page.next_cursor}`, { headers: acc.auth }),
    );
    expect(next.data.map((r) => r.id)).toEqual([first.id]);
    // `trigger` filters (a run started in the dashboard is `dashboard`).
    await accountSql(acc.id, "UPDATE runs SET trigger = 'dashboard' WHERE id = ?", first.id);
    const byTrigger = async (trigger: string) =>
      (
        await body<{ data: { id: string; trigger: string }[] }>(
          await call(`/v1/scenarios/${scenario.id}/runs?trigger=${trigger}`, { headers: acc.auth }),
        )
      ).data.map((r) => [r.id, r.trigger]);
    expect(await byTrigger("dashboard")).toEqual([[first.id, "dashboard"]]);
    expect(await byTrigger("api")).toEqual([[second.id, "api"]]);
    expect(await byTrigger("schedule")).toEqual([]);
    await expectError(
      await call(`/v1/scenarios/${scenario.id}/runs?trigger=cron`, { headers: acc.auth }),
      422,
      "validation_failed",
    );

    for (const [path, init] of [
      [`/v1/scenarios/${scenario.id}`, { headers: other.auth }],
      [`/v1/scenarios/${scenario.id}`, jsonInit("PATCH", { name: "x" }, other.auth)],
      [`/v1/scenarios/${scenario.id}`, { method: "DELETE", headers: other.auth }],
      [`/v1/scenarios/${scenario.id}/run`, { method: "POST", headers: other.auth }],
      [`/v1/scenarios/${scenario.id}/runs`, { headers: other.auth }],
      [`/v1/runs/${first.id}`, { headers: other.auth }],
      [
        "/v1/scenarios",
        jsonInit("POST", { website_id: site.id, name: "steal", steps: [{ action: "wait", ms: 1 }] }, other.auth),
      ],
    ] as [string, RequestInit][]) {
      await expectError(await call(path, init), 404, "not_found");
    }
  });

  it("deleting a scenario deletes its runs and their screenshots", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const scenario = await createScenario(acc, {
      website_id: site.id,
      name: "shots",
      steps: [{ action: "screenshot", name: "one" }],
    });
    const run = await runToEnd(acc, scenario.id);
    const shotId = run.steps[0]?.screenshot_id as string;
    const prefix = `acc/${acc.id}/web/${site.id}/scn/${scenario.id}/`;
    // The image, its thumbnail (the dashboard's run page shows thumbnails) and its text; all go with the scenario.
    const stored = (await env.SHOTS.list({ prefix })).objects.map((o) => o.key);
    expect(stored).toHaveLength(3);
    expect(stored.filter((k) => k.endsWith(".txt"))).toHaveLength(1);
    expect(stored.filter((k) => k.endsWith(".thumb.jpg"))).toHaveLength(1);
    expect((await call(`/v1/scenarios/${scenario.id}`, { method: "DELETE", headers: acc.auth })).status).toBe(204);
    await expectError(await call(`/v1/runs/${run.id}`, { headers: acc.auth }), 404, "not_found");
    await expectError(await call(`/v1/screenshots/${shotId}`, { headers: acc.auth }), 404, "not_found");
    const { vi } = await import("vitest");
    await vi.waitFor(async () => expect((await env.SHOTS.list({ prefix })).objects).toHaveLength(0), {
      timeout: 15_000,
    });
  });
});
