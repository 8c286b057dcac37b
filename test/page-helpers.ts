import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import { csrfToken } from "../src/middleware/auth";
import {
  appWith,
  BASE,
  body,
  call,
  type Fetch,
  jsonInit,
  sessionCookie,
  type TestAccount,
  uniqueEmail,
} from "./helpers";

/**
 * Dashboard pages in workerd. Pages are not API operations, so they are fetched directly
 * (not through `call`, which checks answers against the OpenAPI document).
 */
export const HTML = { accept: "text/html" };

export const get = (cookie: string, path: string, fetcher: Fetch = pageFetch) =>
  fetcher(path, { headers: { cookie, ...HTML }, redirect: "manual" });

export const pageFetch: Fetch = (path, init) => exports.default.fetch(new Request(`${BASE}${path}`, init));

/** Pages served with some bindings replaced (e.g. a deployment without MAIL_OUTBOX). */
export const pagesWith = (envOverrides: Partial<Env>): Fetch => appWith({}, envOverrides, false);

/** A form post as a same-origin browser sends it, with the session's CSRF token. */
export async function post(
  cookie: string,
  path: string,
  fields: Record<string, string | string[]> = {},
  fetcher: Fetch = pageFetch,
) {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) form.append(k, one);
  form.append("_csrf", await csrfToken(cookie.split("=").slice(1).join("=")));
  return fetcher(path, {
    method: "POST",
    redirect: "manual",
    headers: {
      cookie,
      origin: BASE,
      "sec-fetch-site": "same-origin",
      "content-type": "application/x-www-form-urlencoded",
      ...HTML,
    },
    body: form,
  });
}

/** Follows a 303 the way a browser does: GET of its Location with the same session. */
export async function follow(cookie: string, res: Response, fetcher: Fetch = pageFetch) {
  expect(res.status, await res.clone().text()).toBe(303);
  const location = res.headers.get("location") ?? "";
  return { location, page: await get(cookie, location, fetcher) };
}

export const MEMBER_PASSWORD = "a long enough password";

/** An invited user who accepted: their session, id and email. */
export async function addMember(owner: TestAccount, role: "member" | "owner" = "member") {
  const email = uniqueEmail(role);
  const res = await call("/account/invitations", jsonInit("POST", { email, role }, { cookie: owner.cookie }));
  expect(res.status).toBe(201);
  const { link } = await body<{ link: string }>(res);
  const accepted = await call(
    "/auth/accept-invitation",
    jsonInit("POST", { token: new URL(link).pathname.split("/").pop(), name: "Mia Member", password: MEMBER_PASSWORD }),
  );
  expect(accepted.status).toBe(201);
  const cookie = sessionCookie(accepted);
  const team = await body<{ members: { id: string; email: string }[] }>(
    await call("/account/team", { headers: { cookie: owner.cookie } }),
  );
  const id = team.members.find((m) => m.email === email)?.id ?? "";
  return { email, cookie, id };
}
