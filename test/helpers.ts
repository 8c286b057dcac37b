import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { expect, vi } from "vitest";
import { createApp, defaultDeps } from "../src/app";
import type { AccountStub, Deps, Forwarded } from "../src/context";
import type { Db } from "../src/db/client";
import type { PlanId, RunStatus, ScreenshotStatus } from "../src/lib/values";
import type { AccountObject } from "../src/tenant/account-object";
import { checked } from "./response-check";

export const BASE = "https://api.snaptrack.test";

export type Fetch = (path: string, init?: RequestInit) => Promise<Response>;

/**
 * Requests through the deployed entry point (`export default { fetch }`). Every answer is
 * checked against the OpenAPI document (./response-check.ts): an undocumented status or a
 * body that does not match its documented schema fails the test.
 */
export const call: Fetch = async (path, init) => {
  const req = new Request(`${BASE}${path}`, init);
  return checked(req.method, req.url, await exports.default.fetch(req));
};

/**
 * Requests through an app built with injected deps (a clock, a failing account object) and,
 * for fault injection, bindings replaced by ones that fail. Replaced bindings apply in the
 * Worker and in the account's object while it serves these requests (the routes run there).
 * Answers are checked like `call`'s.
 */
export function appWith(overrides: Partial<Deps>, envOverrides: Partial<Env> = {}, check = true): Fetch {
  const deps = { ...defaultDeps(), ...overrides };
  if (Object.keys(envOverrides).length > 0 && !overrides.account) {
    deps.account = (_env, accountId) => withBindings(accountObject(accountId), envOverrides);
  }
  const app = createApp(deps);
  const testEnv = { ...env, ...envOverrides };
  return async (path, init) => {
    const ctx = createExecutionContext();
    const req = new Request(`${BASE}${path}`, init);
    const res = await app.fetch(req, testEnv, ctx);
    await waitOnExecutionContext(ctx);
    return check ? checked(req.method, req.url, res) : res;
  };
}

/** The account's object serving with some bindings replaced (only for the requests it serves this way). */
function withBindings(stub: ReturnType<typeof accountObject>, envOverrides: Partial<Env>): AccountStub {
  const serve = async (request: Request, forwarded: Forwarded) => {
    // Read here: a body stream cannot be read from the object's own I/O context.
    const bytes = request.body ? await request.arrayBuffer() : null;
    return runInDurableObject(stub, async (instance: AccountObject) => {
      const object = instance as unknown as { env: Env };
      const saved = object.env;
      object.env = { ...saved, ...envOverrides };
      try {
        return await instance.serve(new Request(request, { body: bytes }), forwarded);
      } finally {
        object.env = saved;
      }
    });
  };
  // What the Worker asks of the object (src/middleware/auth.ts): serve a request, read the usage.
  return { serve, usage: (accountId: string, now: number) => stub.usage(accountId, now) } as unknown as AccountStub;
}

export const jsonInit = (method: string, body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method,
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body),
});

let seq = 0;
export const uniqueEmail = (tag = "user") =>
  `${tag}.${Date.now()}.${++seq}.${Math.random().toString(36).slice(2, 8)}@example.com`;

export function sessionCookie(res: Response): string {
  // `__Host-snaptrack_session` on https (the test base), `snaptrack_session` on plain http.
  const cookie = res.headers.getSetCookie().find((c) => /^(__Host-)?snaptrack_session=/.test(c));
  if (!cookie) throw new Error("no session cookie set");
  return cookie.split(";")[0] as string;
}

export interface TestAccount {
  id: string;
  email: string;
  password: string;
  cookie: string;
  token: string;
  /** Bearer headers for `/v1`. */
  auth: Record<string, string>;
}

/** Signs up, moves to `plan` and issues a token, all through the public endpoints. */
export async function newAccount(plan: PlanId = "pro", fetcher: Fetch = call): Promise<TestAccount> {
  const email = uniqueEmail(plan);
  const password = "correct horse battery staple";
  const signup = await fetcher("/auth/signup", jsonInit("POST", { email, password, name: "Test User" }));
  expect(signup.status).toBe(201);
  const cookie = sessionCookie(signup);
  const account = (await signup.json()) as { id: string };
  if (plan !== "free") {
    const res = await fetcher("/account/plan", jsonInit("PUT", { plan }, { cookie }));
    expect(res.status).toBe(200);
  }
  const tokenRes = await fetcher("/account/api-token", { method: "POST", headers: { cookie } });
  expect(tokenRes.status).toBe(201);
  const { token } = (await tokenRes.json()) as { token: string };
  return { id: account.id, email, password, cookie, token, auth: { authorization: `Bearer ${token}` } };
}

export async function body<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

export interface ErrorEnvelope {
  error: string;
  message: string;
  errors?: Record<string, string[]>;
  request_id: string;
  limit?: number;
  remaining?: number;
  reset_at?: string;
  retry_after?: number;
}

/** Asserts the contract's error envelope and returns it. */
export async function expectError(res: Response, status: number, code: string): Promise<ErrorEnvelope> {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const err = (await res.json()) as ErrorEnvelope;
  expect(err.error).toBe(code);
  expect(typeof err.message).toBe("string");
  expect(err.request_id).toBe(res.headers.get("x-request-id"));
  expect(JSON.stringify(err)).not.toMatch(/at .*\.(ts|js):\d+/);
  return err;
}

/** A D1 binding that fails every query, as an outage would. */
export const brokenD1 = (): D1Database =>
  new Proxy({} as D1Database, {
    get() {
      return () => {
        throw new Error("D1_ERROR: simulated outage");
      };
    },
  });

export const FIXTURE = () => env.FIXTURE_ORIGIN;
/** The same fixture pages on 127.0.0.2: an internal host the SSRF guard must refuse. */
export const INTERNAL = () => env.FIXTURE_ORIGIN.replace("127.0.0.1", "127.0.0.2");

export async function createWebsite(acc: TestAccount, url: string, capture?: unknown, fetcher: Fetch = call) {
  const res = await fetcher(
    "/v1/websites",
    jsonInit("POST", { name: "Fixture", url, ...(capture ? { capture } : {}) }, acc.auth),
  );
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { id: string; url: string; capture: Record<string, unknown> };
}

export interface ShotView {
  id: string;
  status: ScreenshotStatus;
  error: string | null;
  width: number | null;
  height: number | null;
  format: string | null;
  bytes: number | null;
  sha256: string | null;
  expires_at: string;
  captured_at: string | null;
  download_url: string | null;
  source: string;
  website_id: string;
}

export async function requestCapture(
  acc: TestAccount,
  websiteId: string,
  capture?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await call(
    "/v1/screenshots",
    jsonInit("POST", { website_id: websiteId, ...(capture ? { capture } : {}) }, { ...acc.auth, ...headers }),
  );
  expect(res.status, await res.clone().text()).toBe(202);
  return (await res.json()) as ShotView;
}

/** Waits (reading the account's database, so polling spends no rate limit) until the job settles, then reads the API. */
export async function settled(acc: TestAccount, id: string, timeout = 45_000): Promise<ShotView> {
  await vi.waitFor(
    async () => {
      const [row] = await accountSql<{ status: string }>(acc.id, "SELECT status FROM screenshots WHERE id = ?", id);
      if (row?.status !== "completed" && row?.status !== "failed") throw new Error(`still ${row?.status}`);
    },
    { timeout, interval: 200 },
  );
  const res = await call(`/v1/screenshots/${id}`, { headers: acc.auth });
  expect(res.status).toBe(200);
  return (await res.json()) as ShotView;
}

/** Captures `url` with `capture` options end to end and returns the settled record. */
export async function captureOf(acc: TestAccount, url: string, capture?: unknown) {
  const site = await createWebsite(acc, url);
  const shot = await requestCapture(acc, site.id, capture);
  return settled(acc, shot.id);
}

export async function downloadBytes(acc: TestAccount, id: string): Promise<Uint8Array> {
  const res = await call(`/v1/screenshots/${id}/download`, { headers: acc.auth });
  expect(res.status).toBe(200);
  return new Uint8Array(await res.arrayBuffer());
}

export interface RunView {
  id: string;
  scenario_id: string;
  status: RunStatus;
  trigger: string;
  error: string | null;
  duration_ms: number | null;
  started_at: string | null;
  finished_at: string | null;
  steps: {
    index: number;
    action: string;
    name?: string;
    status: string;
    duration_ms: number;
    error?: string;
    screenshot_id?: string;
  }[];
}

export async function createScenario(acc: TestAccount, body: Record<string, unknown>) {
  const res = await call("/v1/scenarios", jsonInit("POST", body, acc.auth));
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { id: string; steps: Record<string, unknown>[] };
}

/** Starts a run and waits (reading the account's database) until it ends; returns the API's view of it. */
export async function runToEnd(acc: TestAccount, scenarioId: string, timeout = 60_000): Promise<RunView> {
  const res = await call(`/v1/scenarios/${scenarioId}/run`, { method: "POST", headers: acc.auth });
  expect(res.status, await res.clone().text()).toBe(202);
  const run = (await res.json()) as RunView;
  expect(run.status).toBe("queued");
  return runSettled(acc, run.id, timeout);
}

export async function runSettled(acc: TestAccount, runId: string, timeout = 60_000): Promise<RunView> {
  await vi.waitFor(
    async () => {
      const [row] = await accountSql<{ status: string }>(acc.id, "SELECT status FROM runs WHERE id = ?", runId);
      if (!row || row.status === "queued" || row.status === "running") throw new Error(`still ${row?.status}`);
    },
    { timeout, interval: 250 },
  );
  const res = await call(`/v1/runs/${runId}`, { headers: acc.auth });
  expect(res.status).toBe(200);
  return (await res.json()) as RunView;
}

/** The account's object (its own database, limits and alarm). */
export const accountObject = (accountId: string) => env.ACCOUNT.get(env.ACCOUNT.idFromName(accountId));

/**
 * Runs `fn` inside the account's object with its database (drizzle) — how tests read and
 * arrange an account's rows now that they live there, not in D1.
 */
export function inAccount<T>(
  accountId: string,
  fn: (db: Db, object: AccountObject, state: DurableObjectState) => T | Promise<T>,
): Promise<T> {
  return runInDurableObject(accountObject(accountId), (instance: AccountObject, state) =>
    fn(instance.db, instance, state),
  );
}

/** Raw SQL in the account's database; the rows as objects. */
export function accountSql<T extends Record<string, SqlStorageValue> = Record<string, SqlStorageValue>>(
  accountId: string,
  query: string,
  ...params: SqlStorageValue[]
): Promise<T[]> {
  return inAccount(accountId, (_db, _object, state) => state.storage.sql.exec<T>(query, ...params).toArray());
}
