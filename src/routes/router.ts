import { OpenAPIHono, type RouteConfig } from "@hono/zod-openapi";
import type { AppEnv } from "../context";
import { validationHook } from "../middleware/errors";
import type { AppRouteHandler } from "./types";

/** Every router comes from here, so every validation failure looks the same. */
export const createRouter = () => new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

/**
 * A domain's router: every route of `routes`, each served by the handler of the same name
 * (the types make a route without its handler a compile error).
 */
export function routerOf<R extends Record<string, RouteConfig>>(
  routes: R,
  handlers: { [K in keyof R]: AppRouteHandler<R[K]> },
) {
  const router = createRouter();
  const mount = <C extends RouteConfig>(route: C, handler: AppRouteHandler<C>) => router.openapi(route, handler);
  for (const name of Object.keys(routes) as (keyof R)[]) mount(routes[name], handlers[name]);
  return router;
}
