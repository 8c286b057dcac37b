import type { MiddlewareHandler } from "hono";
import type { AccountHost, AppEnv, Deps } from "../context";
import { getDirectory } from "../db/client";
import { randomBase62 } from "../lib/crypto";

export const newRequestId = () => `req_${randomBase62(20)}`;

/** Outermost, in the Worker: request id, one `now` per request, the injected dependencies. */
export function requestContext(deps: Deps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const requestId = newRequestId();
    c.set("requestId", requestId);
    c.set("deps", deps);
    c.set("now", deps.clock.now());
    c.set("directory", getDirectory(c.env.DB));
    await next();
    setHeader(c, "X-Request-Id", requestId);
  };
}

/**
 * Outermost, in the account's object: the request id and `now` the Worker gave the request,
 * the account's database and services.
 */
export function accountContext(deps: Deps, host: AccountHost): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const forwarded = host.forwarded(c.req.raw);
    const scope = host.scope();
    c.set("requestId", forwarded.requestId);
    c.set("deps", deps);
    c.set("now", forwarded.now);
    c.set("directory", getDirectory(c.env.DB));
    c.set("host", host);
    c.set("forwarded", forwarded);
    c.set("scope", scope);
    c.set("db", scope.db);
    await next();
  };
}

/** Sets a header on the response even when it came with immutable headers. */
export function setHeader(c: { res: Response }, name: string, value: string): void {
  try {
    c.res.headers.set(name, value);
  } catch {
    c.res = new Response(c.res.body, c.res);
    c.res.headers.set(name, value);
  }
}
