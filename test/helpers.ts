import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import { createApp, defaultDeps } from "../src/app";
import type { Deps } from "../src/context";
import type { PlanId } from "../src/limits/plans";

export const BASE = "https://api.snaptrack.test";

export type Fetch = (path: string, init?: RequestInit) => Promise<Response>;

/** Requests through the deployed entry point (`export default { fetch }`). */
export const call: Fetch = (path, init) => exports.default.fetch(new Request(`${BASE}${path}`, init));

/**
 * Requests through an app built with injected deps (a clock, a broken limiter) and, for
 * fault injection, bindings replaced by ones that fail.
 */
export function appWith(overrides: Partial<Deps>, envOverrides: Partial<Env> = {}): Fetch {
  const app = createApp({ ...defaultDeps(), ...overrides });
  const testEnv = { ...env, ...envOverrides };
  return async (path, init) => {
    const ctx = createExecutionContext();
    const res = await app.fetch(new Request(`${BASE}${path}`, init), testEnv, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  };
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
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith("snaptrack_session="));
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
  const { account } = (await signup.json()) as { account: { id: string } };
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
