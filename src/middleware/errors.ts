import type { Context, ErrorHandler, Hono, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "../context";
import { ApiError, type ErrorCode, errorBody, fieldErrors } from "../lib/errors";
import { MAX_BODY_TEXT } from "../lib/values";
import { newRequestId } from "./request";

/** Maps Hono's own exceptions (body limit, JSON parsing, media type) onto our codes. */
const HONO_STATUS_CODES: Partial<Record<number, ErrorCode>> = {
  400: "bad_request",
  401: "unauthorized",
  404: "not_found",
  405: "method_not_allowed",
  413: "payload_too_large",
  415: "unsupported_media_type",
};

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof HTTPException) {
    const code = HONO_STATUS_CODES[err.status];
    if (code === "bad_request") return new ApiError(code, "The request body is not valid JSON.");
    if (code === "payload_too_large") return new ApiError(code, `The request body is larger than ${MAX_BODY_TEXT}.`);
    if (code === "unsupported_media_type") return new ApiError(code, "Send the body as application/json.");
    if (code) return new ApiError(code, err.message || code);
  }
  if (err instanceof Error && err.name === "ZodError" && "issues" in err) {
    return new ApiError("validation_failed", "The request is invalid.", {
      errors: fieldErrors((err as unknown as { issues: { path: PropertyKey[]; message: string }[] }).issues),
    });
  }
  return new ApiError("internal_error", "Something went wrong on our side. Quote the request_id if you contact us.");
}

export function errorResponse(c: Context<AppEnv>, err: ApiError): Response {
  const requestId = c.get("requestId") ?? newRequestId();
  return c.json(errorBody(err, requestId), err.status as 400, err.headers);
}

/**
 * How an error looks to a browser: a page in the dashboard's look (src/pages/errors.ts). The
 * app hands it in, so this layer never imports the pages it sits under.
 */
export type ErrorPage = (c: Context<AppEnv>, err: ApiError) => Response | Promise<Response>;

/** Errors and unknown paths answered as a page: dashboard requests, and browser navigations outside `/v1`. */
export const wantsPage = (c: Context<AppEnv>) =>
  c.get("page") === true || (!c.req.path.startsWith("/v1") && (c.req.header("Accept") ?? "").includes("text/html"));

/** The one error handler: logs what needs logging, then the envelope, or `page` for browsers. */
export const errorHandler =
  (page: ErrorPage): ErrorHandler<AppEnv> =>
  (err, c) => {
    const apiError = toApiError(err);
    if (apiError.log) {
      console.error(
        JSON.stringify({
          level: "error",
          msg: apiError.log,
          request_id: c.get("requestId"),
          method: c.req.method,
          path: c.req.path,
        }),
      );
    }
    if (apiError.code === "internal_error") {
      // Logged with the request id the client sees; the body carries no detail.
      console.error(
        JSON.stringify({
          level: "error",
          request_id: c.get("requestId"),
          method: c.req.method,
          path: c.req.path,
          error: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err),
        }),
      );
    }
    // Dashboard pages and browser navigations get the error as a page; API clients the envelope.
    return wantsPage(c) ? page(c, apiError) : errorResponse(c, apiError);
  };

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

/** 404 for unknown paths; 405 with `Allow` when the path exists under other methods. */
export function notFoundHandler(app: Hono<AppEnv>, page: ErrorPage): NotFoundHandler<AppEnv> {
  let table: { method: string; re: RegExp }[] | undefined;
  return (c) => {
    table ??= app.routes
      .filter((r) => r.method !== "ALL")
      .map((r) => ({
        method: r.method,
        re: new RegExp(`^${r.path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/\/:[^/]+/g, "/[^/]+")}/?$`),
      }));
    const allowed = METHODS.filter((m) => table?.some((r) => r.method === m && r.re.test(c.req.path)));
    const error =
      allowed.length > 0
        ? new ApiError("method_not_allowed", `${c.req.method} is not supported here; use ${allowed.join(", ")}.`, {
            headers: { Allow: allowed.join(", ") },
          })
        : new ApiError("not_found", `No route for ${c.req.method} ${c.req.path}.`);
    // Browsers outside /v1 get a page in the dashboard's look; API clients the envelope.
    return wantsPage(c) ? page(c, error) : errorResponse(c, error);
  };
}

/** `defaultHook` for every OpenAPI route: zod failures become 422 with field paths. */
export function validationHook(
  result:
    | { success: true }
    | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } },
  c: Context,
  target?: string,
) {
  if (!result.success) {
    const errors = fieldErrors(result.error.issues);
    throw new ApiError(
      "validation_failed",
      target === "query" ? "The query string is invalid." : "The request is invalid.",
      {
        errors,
      },
    );
  }
  void c;
}
