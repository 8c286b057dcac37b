import type { MiddlewareHandler } from "hono";
import type { AppEnv, Deps } from "../context";
import { getDb } from "../db/client";
import { randomBase62 } from "../lib/crypto";

export const newRequestId = () => `req_${randomBase62(20)}`;

/** Outermost: request id, one `now` per request, the injected dependencies. */
export function requestContext(deps: Deps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const requestId = newRequestId();
    c.set("requestId", requestId);
    c.set("deps", deps);
    c.set("now", deps.clock.now());
    c.set("db", getDb(c.env.DB));
    await next();
    setHeader(c, "X-Request-Id", requestId);
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
