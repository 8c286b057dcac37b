import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { secretForms } from "../../src/jobs/run";
import {
  accountSql,
  call,
  captureOf,
  createScenario,
  createWebsite,
  expectError,
  FIXTURE,
  jsonInit,
  newAccount,
  requestCapture,
  runToEnd,
  settled,
  type TestAccount,
} from "../helpers";

/** The canaries (127.0.0.2 and [::1], one port): what reached them so far in this run. */
interface Hit {
  host: string;
  kind: "tcp" | "udp";
  bytes: number;
  first: string;
}
const canary = () => `127.0.0.2:${env.CANARY_PORT}`;
const canaryHits = async () => (await (await fetch(`${FIXTURE()}/__canary`)).json()) as Hit[];
/** Bytes (TCP) or datagrams (UDP) that reached a canary: each one is a leak. */
const leaks = (hits: Hit[]) => hits.filter((h) => h.bytes > 0 || h.kind === "udp");
const logOf = async (t: string) =>
  (await (await fetch(`${FIXTURE()}/__log?t=${t}`)).json()) as {
    path: string;
    headers: Record<string, string>;
    query: Record<string, string>;
  }[];
const tag = () => `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
const crossSite = () => FIXTURE().replace("127.0.0.1", "localhost");

describe("one browser context per job", () => {
  it("shares no cookie, storage, IndexedDB or HTTP cache between jobs, across accounts or within one", async () => {
    const a = await newAccount("business");
    const b = await newAccount("business");
    const k = tag();
    /** One capture of the jar page; what its request carried and what its script found. */
    const visit = async (acc: TestAccount, capture: Record<string, unknown>) => {
      const t = tag();
      const site = await createWebsite(acc, `${FIXTURE()}/jar?t=${t}&k=${k}`, {
        wait_until: "networkidle",
        ...capture,
      });
      const shot = await settled(acc, (await requestCapture(acc, site.id)).id);
      expect(shot.status, shot.error ?? "").toBe("completed");
      const log = await logOf(t);
      const found = log.find((l) => l.path === "/found");
      expect(found, "the page reported what it found").toBeDefined();
      return { t, cookie: log.find((l) => l.path === "/jar")?.headers.cookie ?? null, found: found?.query ?? {} };
    };
    const first = await visit(a, { cookies: [{ name: "sid", value: "A-secret" }] });
    expect(first.cookie).toBe("sid=A-secret"); // the option itself works
    expect(first.found).toMatchObject({ ls: "null", idb: "null" });
    // Another account, then the same account again: a clean browser each time.
    for (const acc of [b, a]) {
      const next = await visit(acc, {});
      expect(next.cookie, "no cookie from an earlier job").toBeNull();
      // Nothing in storage, and only the cookies this job's own page set.
      expect(next.found).toEqual({ t: next.t, ls: "null", idb: "null", cookie: `srv=${next.t}; js=${next.t}` });
    }
    // The cacheable resource came from the server for every job: no shared HTTP cache.
    expect((await logOf(k)).filter((l) => l.path === "/cacheable")).toHaveLength(3);
  });
});

describe("the SSRF guard on every channel a page can use", () => {
  it("lets no byte reach a refused address from any channel, and the page's own allowed channels still work", async () => {
    const acc = await newAccount("business");
    const t = tag();
    const url = `${FIXTURE()}/attack?c=${encodeURIComponent(canary())}&t=${t}&frame=${encodeURIComponent(crossSite())}`;
    const shot = await captureOf(acc, url, { delay_ms: 2000 });
    expect(shot.status, shot.error ?? "").toBe("completed");
    // The attacks ran: the page's WebSocket to its own host (allowed) reached the fixture,
    // from the page and from its worker, and the cross-site frame loaded.
    const log = await logOf(t);
    expect(log.map((l) => l.path)).toEqual(
      expect.arrayContaining(["/ws-control", "/ws-control-worker", "/attack-frame"]),
    );
    const hits = await canaryHits();
    expect(leaks(hits)).toEqual([]);
    // Bare TCP connects (no byte sent) are reported, not prevented: see README.
    console.log(JSON.stringify({ canary_tcp_connects_without_bytes: hits.filter((h) => h.kind === "tcp").length }));
  });

  it("fails a capture whose page got a response from a private address (a DNS answer that changed), storing nothing", async () => {
    const acc = await newAccount("business");
    const port = new URL(FIXTURE()).port;
    // The guard's DNS calls rebind.test public; the browser resolves it to 127.0.0.2.
    const shot = await captureOf(acc, `http://rebind.test:${port}/`);
    expect(shot.status).toBe("failed");
    expect(shot.error).toMatch(/private or reserved address \(127\.0\.0\.2\); nothing was stored/);
    expect(shot.download_url).toBeNull();
    expect((await env.SHOTS.list({ prefix: `${acc.id}/` })).objects).toHaveLength(0);
  });
});

describe("scenario goto steps", () => {
  it("refuses any scheme but http(s) and any private target when stored, with the step's path", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/form`);
    const bad = [
      "http://169.254.169.254/latest/meta-data/",
      "http://10.0.0.1/",
      "file:///etc/passwd",
      "javascript:new WebSocket('ws://127.0.0.2:1')",
      "data:text/html,<script>alert(1)</script>",
      "chrome://version",
      "//127.0.0.2/x",
      "http://[::1]/",
    ];
    const steps = [{ action: "goto", url: "/welcome" }, ...bad.map((url) => ({ action: "goto", url }))];
    const err = await expectError(
      await call("/v1/scenarios", jsonInit("POST", { website_id: site.id, name: "bad", steps }, acc.auth)),
      422,
      "validation_failed",
    );
    expect(Object.keys(err.errors ?? {}).sort()).toEqual(bad.map((_, i) => `steps.${i + 1}.url`).sort());
    // Relative and absolute allowed targets are stored; an update is checked the same way.
    const ok = await createScenario(acc, {
      website_id: site.id,
      name: "ok",
      steps: [
        { action: "goto", url: "/welcome" },
        { action: "goto", url: `${FIXTURE()}/form` },
      ],
    });
    await expectError(
      await call(
        `/v1/scenarios/${ok.id}`,
        jsonInit("PATCH", { steps: [{ action: "goto", url: "chrome://version" }] }, acc.auth),
      ),
      422,
      "validation_failed",
    );
  });

  it("refuses them again when run (a step stored before the check)", async () => {
    const acc = await newAccount("business");
    const site = await createWebsite(acc, `${FIXTURE()}/form`);
    const scenario = await createScenario(acc, {
      website_id: site.id,
      name: "old",
      steps: [
        { action: "goto", url: "/welcome" },
        { action: "assert_text", contains: "browser" },
      ],
    });
    for (const url of ["chrome://version", `javascript:new WebSocket('ws://${canary()}/js')`, "data:text/html,hi"]) {
      await accountSql(
        acc.id,
        "UPDATE scenarios SET steps = ? WHERE id = ?",
        JSON.stringify([
          { action: "goto", url },
          { action: "assert_text", contains: "Command Line" },
        ]),
        scenario.id,
      );
      const run = await runToEnd(acc, scenario.id);
      expect(run.status).toBe("failed");
      expect(run.steps[0]?.error).toMatch(/Must be an http or https URL/);
      expect(run.error).not.toMatch(/no-sandbox|chromium/i);
    }
    expect(leaks(await canaryHits())).toEqual([]);
  });
});

describe("secrets in run errors", () => {
  it("are redacted in every encoding a page or URL shows", () => {
    const secret = `Tr0ub4dor&3!x y*(z)<'"/é`;
    const forms = secretForms(secret);
    for (const shown of [
      secret,
      encodeURIComponent(secret),
      new URLSearchParams({ pw: secret }).toString().slice(3),
      "Tr0ub4dor%263%21x+y*%28z%29%3C%27%22%2F%C3%A9",
      "Tr0ub4dor&amp;3!x y*(z)&lt;&#39;&quot;/é",
      JSON.stringify(secret).slice(1, -1),
    ]) {
      expect(forms.has(shown), shown).toBe(true);
    }
  });
});
