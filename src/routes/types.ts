import type { RouteConfig, RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../context";

/** A handler typed from its route: params, query, body and responses all checked. */
export type AppRouteHandler<R extends RouteConfig> = RouteHandler<R, AppEnv>;
