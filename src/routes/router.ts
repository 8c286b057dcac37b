import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../context";
import { validationHook } from "../middleware/errors";

/** Every router comes from here, so every validation failure looks the same. */
export const createRouter = () => new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
