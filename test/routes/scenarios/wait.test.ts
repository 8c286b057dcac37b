import { describe, expect, it } from "vitest";
import {
  body,
  call,
  createScenario,
  createWebsite,
  FIXTURE,
  newAccount,
  type RunView,
  runSettled,
} from "../../helpers";

describe("POST /v1/scenarios/{id}/run with Prefer: wait", () => {
  it("answers 200 with the ended run and its step results, or 202 when the run outlasts the wait", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const scenario = await createScenario(acc, {
      website_id: site.id,
      name: "quick",
      steps: [{ action: "wait_for_selector", selector: "#box" }],
    });
    const res = await call(`/v1/scenarios/${scenario.id}/run`, {
      method: "POST",
      headers: { ...acc.auth, prefer: "wait=30" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("preference-applied")).toBe("wait=30");
    expect(res.headers.get("vary")).toMatch(/\bPrefer\b/);
    const run = await body<RunView>(res);
    expect(run).toMatchObject({ status: "passed", steps: [{ index: 0, status: "passed" }] });
    expect(await body(await call(`/v1/runs/${run.id}`, { headers: acc.auth }))).toEqual(run);

    const slow = await createScenario(acc, {
      website_id: site.id,
      name: "slow",
      steps: [{ action: "wait", ms: 2500 }],
    });
    const late = await call(`/v1/scenarios/${slow.id}/run`, {
      method: "POST",
      headers: { ...acc.auth, prefer: "wait=1" },
    });
    expect(late.status).toBe(202);
    expect(late.headers.get("preference-applied")).toBeNull();
    const queued = await body<RunView>(late);
    expect(["queued", "running"]).toContain(queued.status);
    expect((await runSettled(acc, queued.id)).status).toBe("passed");
  });
});
