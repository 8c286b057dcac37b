import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { handleQueue } from "../../src/jobs/consumer";
import { redact } from "../../src/jobs/run";
import { decryptSecret, encryptSecret, SECRETS_UNAVAILABLE } from "../../src/lib/secrets";
import type { JobMessage } from "../../src/queue/messages";
import {
  accountSql,
  appWith,
  body,
  call,
  createScenario,
  createWebsite,
  expectError,
  FIXTURE,
  inAccount,
  jsonInit,
  newAccount,
  type RunView,
} from "../helpers";

describe("secret step text at rest", () => {
  it("round-trips with the key and the scenario it belongs to", async () => {
    const sealed = await encryptSecret(env.SECRETS_KEY, "p@ss word", "scn_a");
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9+/=]+\.[A-Za-z0-9+/=]+$/);
    expect(sealed).not.toContain("p@ss");
    expect(await decryptSecret(env.SECRETS_KEY, sealed, "scn_a")).toBe("p@ss word");
  });

  it("will not open in another scenario, with another key, or without a key", async () => {
    const sealed = await encryptSecret(env.SECRETS_KEY, "p@ss word", "scn_a");
    await expect(decryptSecret(env.SECRETS_KEY, sealed, "scn_b")).rejects.toThrow();
    await expect(decryptSecret(btoa("x".repeat(32)), sealed, "scn_a")).rejects.toThrow();
    await expect(encryptSecret(undefined, "x", "scn_a")).rejects.toMatchObject({
      code: "service_unavailable",
      log: "SECRETS_KEY is not configured",
    });
  });

  it("is redacted from run messages, also URL-encoded", () => {
    const message = "Expected the URL to contain /done; it is http://x/login?pw=p%40ss+word and p@ss word";
    expect(redact(message, ["p@ss word"])).toBe(
      "Expected the URL to contain /done; it is http://x/login?pw=[secret] and [secret]",
    );
  });
});

describe("a deployment without SECRETS_KEY", () => {
  afterEach(() => vi.restoreAllMocks());

  const secretStep = { action: "type", selector: "#password", text: "hunter2-x", secret: true };
  /** The JSON lines logged at level error with the missing-key message. */
  const missingKeyLines = (spy: { mock: { calls: unknown[][] } }) =>
    spy.mock.calls
      .map((args) => {
        try {
          return JSON.parse(String(args[0])) as Record<string, unknown>;
        } catch {
          return null;
        }
      })
      .filter((line) => line?.level === "error" && line.msg === "SECRETS_KEY is not configured");

  it("answers 503 with a clear message (not 500) to the first request that needs the key, and logs it", async () => {
    const keyless = appWith({}, { SECRETS_KEY: undefined });
    const acc = await newAccount("business", keyless);
    const site = await createWebsite(acc, "https://example.com/", undefined, keyless);
    const countScenarios = async () =>
      (await accountSql<{ n: number }>(acc.id, "SELECT count(*) AS n FROM scenarios"))[0]?.n;
    const log = vi.spyOn(console, "error").mockImplementation(() => {});

    // Creating a scenario with a secret step needs the key.
    const created = await expectError(
      await keyless(
        "/v1/scenarios",
        jsonInit("POST", { website_id: site.id, name: "login", steps: [secretStep] }, acc.auth),
      ),
      503,
      "service_unavailable",
    );
    expect(created.message).toBe(SECRETS_UNAVAILABLE);
    expect(await countScenarios()).toBe(0);
    const lines = missingKeyLines(log);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ request_id: created.request_id, method: "POST", path: "/v1/scenarios" });

    // Scenarios without secrets do not need it.
    const plain = await keyless(
      "/v1/scenarios",
      jsonInit("POST", { website_id: site.id, name: "plain", steps: [{ action: "wait", ms: 1 }] }, acc.auth),
    );
    expect(plain.status).toBe(201);
    const { id: plainId } = await body<{ id: string }>(plain);

    // Adding a secret to one does.
    await expectError(
      await keyless(`/v1/scenarios/${plainId}`, jsonInit("PATCH", { steps: [secretStep] }, acc.auth)),
      503,
      "service_unavailable",
    );

    // A scenario whose secret was stored with the key: re-saving it as read back needs no key,
    // running it does (and starts nothing).
    const withSecret = await createScenario(acc, { website_id: site.id, name: "sealed", steps: [secretStep] });
    const resaved = await keyless(
      `/v1/scenarios/${withSecret.id}`,
      jsonInit("PATCH", { steps: withSecret.steps }, acc.auth),
    );
    expect(resaved.status).toBe(200);
    const run = await expectError(
      await keyless(`/v1/scenarios/${withSecret.id}/run`, { method: "POST", headers: acc.auth }),
      503,
      "service_unavailable",
    );
    expect(run.message).toBe(SECRETS_UNAVAILABLE);
    expect(
      (
        await accountSql<{ n: number }>(acc.id, "SELECT count(*) AS n FROM runs WHERE scenario_id = ?", withSecret.id)
      )[0]?.n,
    ).toBe(0);
    expect(missingKeyLines(log)).toHaveLength(3);
    expect(log.mock.calls.map((args) => String(args[0])).join("\n")).not.toMatch(/internal_error|"stack"/);
  });

  it("ends a queued run with secret steps `error` (never a half-run) when the key is gone by the time it runs", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/colors`);
    const scenario = await createScenario(acc, {
      website_id: site.id,
      name: "sealed",
      steps: [secretStep, { action: "wait", ms: 1 }],
    });
    const { runRow } = await import("../../src/services/runs");
    const { runs, scenarios } = await import("../../src/db/schema");
    const { eq } = await import("drizzle-orm");
    const queued = await inAccount(acc.id, async (db) => {
      const row = await db.select().from(scenarios).where(eq(scenarios.id, scenario.id)).get();
      const run = runRow(row as NonNullable<typeof row>, "api", Date.now());
      await db.insert(runs).values(run);
      return run;
    });
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const job: JobMessage = { type: "run", run_id: queued.id, account_id: acc.id };
    const batch = createMessageBatch<JobMessage>("snaptrack-jobs", [
      { id: "k1", timestamp: new Date(), attempts: 1, body: job },
    ]);
    const ctx = createExecutionContext();
    await handleQueue(batch, { ...env, SECRETS_KEY: undefined }, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["k1"]);
    const done = await body<RunView>(await call(`/v1/runs/${queued.id}`, { headers: acc.auth }));
    expect(done).toMatchObject({ status: "error", error: SECRETS_UNAVAILABLE });
    expect(done.steps.map((s) => s.status)).toEqual(["skipped", "skipped"]);
    expect(missingKeyLines(log)).toEqual([expect.objectContaining({ run_id: queued.id })]);
  });
});
