import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { DAY, HOUR, ManualClock, MINUTE } from "../../src/lib/clock";
import { PLANS } from "../../src/limits/plans";
import {
  type BuiltRequest,
  bodyFor,
  bodyReferences,
  bodyWithOnly,
  type Ids,
  isList,
  loadDocument,
  type Operation,
  queryReferences,
  referenceKind,
  requestFor,
  v1Operations,
} from "../api-operations";
import {
  accountSql,
  appWith,
  body,
  call,
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

/**
 * The shared security suite. Every `/v1` operation in the served OpenAPI document is called
 * without a token, with a free-plan token, with an expired subscription, with another
 * account's ids (in the path, in the body, in list filters and cursors) and by its owner;
 * every counted answer carries the rate-limit fields. A new route is covered by being
 * documented: requests are built from the document (./api-operations.ts).
 */

const doc = await loadDocument();
const operations = v1Operations(doc);

// Counted calls each start a new minute on this clock, so every rate-limit field is exact.
const clock = new ManualClock(Math.floor((Date.now() + HOUR) / MINUTE) * MINUTE + 15_000);
const heldQueue = { send: async () => {}, sendBatch: async () => {} } as unknown as Queue;
/** The API at `clock`; jobs it enqueues are held (nothing here needs them to run). */
const api = appWith({ clock }, { JOBS: heldQueue });
/** Forty days on: every subscription taken out today has expired. */
const expiredApi = appWith({ clock: new ManualClock(Date.now() + 40 * DAY) }, { JOBS: heldQueue });

const LIMIT = PLANS.business.requestsPerMinute;
const RATE_LIMIT_HEADERS = [
  "x-ratelimit-limit",
  "x-ratelimit-remaining",
  "x-ratelimit-reset",
  "ratelimit-policy",
  "ratelimit",
];

let owner: TestAccount; // A: owns every resource the requests point at
let other: TestAccount; // B: the same plan, none of A's resources
let free: TestAccount;
let expired: TestAccount;
let main: Ids;
/** Resources the owner's DELETE calls use up, so every other call still finds `main`. */
let spare: Ids;
/** Every id of the owner's, none of which may reach another account. */
let ownerIds: string[];
/** `next_cursor` of the owner's first page (limit=1) of each list. */
const cursors = new Map<string, string>();

async function schedule(payload: Record<string, unknown>) {
  const res = await call("/v1/schedules", jsonInit("POST", payload, owner.auth));
  expect(res.status, await res.clone().text()).toBe(201);
  return body<{ id: string }>(res);
}

/** A completed comparison with a diff on the screenshot (any PNG), so `GET …/diff` has one to serve. */
async function giveDiff(id: string) {
  const [row] = await accountSql<{ r2_key: string }>(owner.id, "SELECT r2_key FROM screenshots WHERE id = ?", id);
  const image = await env.SHOTS.get(row?.r2_key ?? "");
  const diffKey = (row?.r2_key ?? "").replace(/\.png$/, ".diff.png");
  await env.SHOTS.put(diffKey, (await image?.arrayBuffer()) ?? new ArrayBuffer(0));
  await accountSql(
    owner.id,
    "UPDATE screenshots SET comparison_status = 'completed', changed = 1, comparison = '{}', diff_key = ? WHERE id = ?",
    diffKey,
    id,
  );
}

async function webhook() {
  const res = await call("/v1/webhooks", jsonInit("POST", { url: `${FIXTURE()}/__hook?t=security-suite` }, owner.auth));
  expect(res.status, await res.clone().text()).toBe(201);
  return body<{ id: string }>(res);
}

async function alertChannel() {
  const res = await call(
    "/v1/alert-channels",
    jsonInit("POST", { type: "discord", target: `${FIXTURE()}/__hook?t=security-suite-alerts` }, owner.auth),
  );
  expect(res.status, await res.clone().text()).toBe(201);
  return body<{ id: string }>(res);
}

async function webhookTest(id: string) {
  const res = await call(`/v1/webhooks/${id}/test`, { method: "POST", headers: owner.auth });
  expect(res.status, await res.clone().text()).toBe(202);
  return body<{ id: string }>(res);
}

beforeAll(async () => {
  [owner, other, free, expired] = await Promise.all([
    newAccount("business"),
    newAccount("business"),
    newAccount("free"),
    newAccount("pro"),
  ]);
  const site = await createWebsite(owner, `${FIXTURE()}/colors`);
  const spareSite = await createWebsite(owner, `${FIXTURE()}/colors`);
  const shot = await settled(owner, (await requestCapture(owner, site.id, { delay_ms: 0 })).id);
  expect(shot.status, shot.error ?? "").toBe("completed");
  await giveDiff(shot.id);
  const scenarioBody = { website_id: site.id, name: "Owner", steps: [{ action: "assert_visible", selector: "#box" }] };
  const scenario = await createScenario(owner, scenarioBody);
  const run = await runToEnd(owner, scenario.id);
  expect(run.status).toBe("passed");
  const spareScenario = await createScenario(owner, scenarioBody);
  const siteSchedule = await schedule({ website_id: site.id, interval_minutes: 60 });
  await schedule({ scenario_id: scenario.id, interval_minutes: 60 });
  const spareSchedule = await schedule({ website_id: site.id, interval_minutes: 120 });
  const queued = await api("/v1/screenshots", jsonInit("POST", { website_id: site.id }, owner.auth));
  expect(queued.status).toBe(202);
  const spareShot = await body<{ id: string }>(queued);

  const [hook, spareHook] = [await webhook(), await webhook()];
  const delivery = await webhookTest(hook.id);
  const [channel, spareChannel] = [await alertChannel(), await alertChannel()];

  main = {
    website: site.id,
    screenshot: shot.id,
    scenario: scenario.id,
    run: run.id,
    schedule: siteSchedule.id,
    webhook: hook.id,
    delivery: delivery.id,
    "alert-channel": channel.id,
  };
  spare = {
    website: spareSite.id,
    screenshot: spareShot.id,
    scenario: spareScenario.id,
    run: run.id,
    schedule: spareSchedule.id,
    webhook: spareHook.id,
    delivery: (await webhookTest(spareHook.id)).id,
    "alert-channel": spareChannel.id,
  };
  ownerIds = [owner.id];
  for (const op of operations.filter((o) => isList(o) && o.pathParams.length === 0)) {
    const res = await api(op.template, { headers: owner.auth });
    expect(res.status, op.name).toBe(200);
    const page = await body<{ data: { id: string }[] }>(res);
    ownerIds.push(...page.data.map((row) => row.id));
    const first = await body<{ next_cursor: string | null }>(
      await api(`${op.template}?limit=1`, { headers: owner.auth }),
    );
    if (!first.next_cursor) throw new Error(`${op.name}: the owner needs two rows for a cursor to test`);
    cursors.set(op.name, first.next_cursor);
  }
  ownerIds.push(run.id, delivery.id);
}, 180_000);

/** A call that passes the gate: on a fresh minute, with every rate-limit field exact. */
async function counted(req: BuiltRequest): Promise<Response> {
  clock.advance(MINUTE);
  const res = await api(req.path, req.init);
  const now = clock.now();
  const windowEnd = (Math.floor(now / MINUTE) + 1) * MINUTE;
  const seconds = Math.ceil((windowEnd - now) / 1000);
  expect(
    Object.fromEntries(RATE_LIMIT_HEADERS.map((h) => [h, res.headers.get(h)])),
    `${req.init.method} ${req.path}`,
  ).toEqual({
    "x-ratelimit-limit": String(LIMIT),
    "x-ratelimit-remaining": String(LIMIT - 1),
    "x-ratelimit-reset": String(windowEnd / 1000),
    "ratelimit-policy": `"minute";q=${LIMIT};w=60`,
    ratelimit: `"minute";r=${LIMIT - 1};t=${seconds}`,
  });
  return res;
}

/** Refused before the limiter: no rate-limit field, no quota used. */
function expectNotCounted(res: Response) {
  for (const h of RATE_LIMIT_HEADERS) expect(res.headers.get(h), h).toBeNull();
}

const baseRequest = (op: Operation, ids: Ids, headers: Record<string, string>) =>
  requestFor(doc, op, ids, headers, { body: bodyFor(doc, op, ids) });

const named = (ops: Operation[]) => ops.map((op) => [op.name, op] as const);

describe("the document", () => {
  it("lists the /v1 operations, every one bearer-authenticated with 401, 403 and 429 documented", () => {
    expect(operations.length).toBeGreaterThanOrEqual(25);
    for (const op of operations) {
      expect(op.security, op.name).toEqual([{ bearerAuth: [] }]);
      expect(op.responses, op.name).toEqual(expect.arrayContaining(["401", "403", "429"]));
    }
  });
});

describe("refused before anything is counted", () => {
  it.each(named(operations))("%s: 401 without a token", async (_name, op) => {
    const { path, init } = baseRequest(op, main, {});
    const res = await api(path, init);
    await expectError(res, 401, "unauthorized");
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="snaptrack"');
    expectNotCounted(res);
  });

  it.each(named(operations))("%s: 403 api_access_unavailable on the free plan", async (_name, op) => {
    const { path, init } = baseRequest(op, main, free.auth);
    const res = await api(path, init);
    await expectError(res, 403, "api_access_unavailable");
    expectNotCounted(res);
  });

  it.each(named(operations))("%s: 403 subscription_expired once the period has ended", async (_name, op) => {
    const { path, init } = baseRequest(op, main, expired.auth);
    const res = await expiredApi(path, init);
    await expectError(res, 403, "subscription_expired");
    expectNotCounted(res);
  });
});

/** One way of pointing a request at the owner's resources. */
type Variant = { via: "path" } | { via: "body"; name: string } | { via: "query"; name: string } | { via: "cursor" };

function variants(op: Operation): Variant[] {
  if (op.pathParams.length > 0) return [{ via: "path" }];
  const out: Variant[] = bodyReferences(doc, op).map((name) => ({ via: "body", name }));
  if (isList(op)) {
    out.push(...queryReferences(op).map((name) => ({ via: "query", name }) as const));
    out.push({ via: "cursor" });
  }
  return out;
}

const label = (v: Variant) => (v.via === "path" || v.via === "cursor" ? v.via : `${v.via} ${v.name}`);

function variantRequest(op: Operation, v: Variant, ids: Ids, headers: Record<string, string>): BuiltRequest {
  switch (v.via) {
    case "path":
      return baseRequest(op, ids, headers);
    case "body":
      return requestFor(doc, op, ids, headers, { body: bodyWithOnly(doc, op, ids, v.name) });
    case "query":
      return requestFor(doc, op, ids, headers, { query: { [v.name]: ids[referenceKind(op, v.name)] } });
    case "cursor": {
      const cursor = cursors.get(op.name);
      if (!cursor) throw new Error(`${op.name}: no owner cursor`);
      return requestFor(doc, op, ids, headers, { query: { cursor } });
    }
  }
}

const crossCases = operations.flatMap((op) => variants(op).map((v) => [`${op.name} (${label(v)})`, op, v] as const));

describe("another account's ids: 404, and nothing of the owner's in any answer", () => {
  it("covers every operation that takes an id", () => {
    const covered = new Set(crossCases.map(([, op]) => op.name));
    const takesIds = operations.filter((op) => op.pathParams.length > 0 || bodyReferences(doc, op).length > 0);
    expect(takesIds.length).toBeGreaterThan(0);
    for (const op of takesIds) expect(covered.has(op.name), op.name).toBe(true);
  });

  it.each(crossCases)("%s", async (_name, op, v) => {
    const res = await counted(variantRequest(op, v, main, other.auth));
    if (v.via === "path" || v.via === "body") {
      const err = await expectError(res, 404, "not_found");
      expect(JSON.stringify(err)).not.toContain(owner.id);
    } else {
      // A list filtered by, or continued from, the owner's ids lists only the caller's own rows.
      expect(res.status).toBe(200);
      const text = await res.text();
      for (const id of ownerIds) expect(text).not.toContain(id);
    }
  });
});

/** The owner's calls succeed with the same requests: the requests above were valid ones. */
async function ownerCall(op: Operation, req: BuiltRequest): Promise<string> {
  const res = await counted(req);
  // Read once, not through clone(): a tee of the streamed ZIP stalls under workerd in-process.
  const text = new TextDecoder().decode(await res.arrayBuffer());
  if (res.status !== op.success) {
    throw new Error(
      `${op.name}: the request built from the document was refused (${res.status} ${text.slice(0, 300)}); ` +
        `give ${op.body?.component ?? "its body"} a minimal valid example in BODY_EXAMPLES (test/api-operations.ts)`,
    );
  }
  return text;
}

const ownerCases = operations
  .filter((op) => op.method !== "DELETE")
  .flatMap((op) => [
    [`${op.name}`, op, undefined] as const,
    ...variants(op)
      .filter((v) => v.via !== "path")
      .map((v) => [`${op.name} (${label(v)})`, op, v] as const),
  ]);

describe("the owner's own calls", () => {
  it.each(ownerCases)("%s", async (_name, op, v) => {
    const req = v ? variantRequest(op, v, main, owner.auth) : baseRequest(op, main, owner.auth);
    const text = await ownerCall(op, req);
    if (v?.via === "query" || v?.via === "cursor") {
      // The same filter or cursor finds the owner's rows: the empty answers above are not vacuous.
      const page = JSON.parse(text) as { data: { id: string }[] };
      expect(page.data.length).toBeGreaterThan(0);
    }
  });

  it.each(named(operations.filter((op) => op.method === "DELETE")))("%s (a spare resource)", async (_name, op) => {
    await ownerCall(op, baseRequest(op, spare, owner.auth));
    const read = operations.find((o) => o.method === "GET" && o.template === op.template);
    if (read) await expectError(await counted(baseRequest(read, spare, owner.auth)), 404, "not_found");
  });
});
