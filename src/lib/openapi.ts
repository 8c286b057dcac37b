import { z } from "@hono/zod-openapi";
import { ERROR_STATUS, type ErrorCode } from "./errors";
import { MAX_BODY_TEXT } from "./values";

const codes = Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]];

export const ErrorSchema = z
  .object({
    error: z.enum(codes),
    message: z.string(),
    errors: z
      .record(z.string(), z.array(z.string()))
      .optional()
      .openapi({ description: "Field path → messages (422 only).", example: { "viewport.width": ["Must be ≤ 3840"] } }),
    request_id: z.string(),
    limit: z.number().int().optional().openapi({ description: "429 only." }),
    remaining: z.number().int().optional().openapi({ description: "429 only." }),
    reset_at: z.string().optional().openapi({ description: "429 only: ISO-8601 time the window or quota resets." }),
    retry_after: z.number().int().optional().openapi({ description: "429 only: seconds until reset." }),
  })
  .openapi("Error");

export const errorContent = (description: string) => ({
  description,
  content: { "application/json": { schema: ErrorSchema } },
});

/** Responses every `/v1` route can give; spread into each route's `responses`. */
export const v1ErrorResponses = {
  400: errorContent("Malformed JSON (`bad_request`)."),
  401: errorContent("Missing, malformed or unknown token (`unauthorized`)."),
  403: errorContent("`subscription_expired`, `api_access_unavailable`, `plan_limit_reached` or `feature_unavailable`."),
  404: errorContent("Not found (also another account's ids)."),
  413: errorContent(`Body over ${MAX_BODY_TEXT} (\`payload_too_large\`).`),
  415: errorContent("A body that is not JSON, on routes that take one (`unsupported_media_type`)."),
  422: errorContent("Validation failed; `errors` maps field paths to messages."),
  429: errorContent("`rate_limited` (per minute) or `quota_exceeded` (captures per day/month)."),
  500: errorContent("Unexpected error; quote `request_id`."),
  503: errorContent("The rate limiter is unavailable; retry after `Retry-After` seconds."),
} as const;

export const sessionErrorResponses = {
  400: errorContent("Malformed JSON (`bad_request`)."),
  401: errorContent("No valid session (`unauthorized`)."),
  403: errorContent("A cross-site write (`forbidden`): POST, PUT and DELETE need a same-origin request."),
  413: errorContent(`Body over ${MAX_BODY_TEXT} (\`payload_too_large\`).`),
  415: errorContent("A body that is not JSON, on routes that take one (`unsupported_media_type`)."),
  422: errorContent("Validation failed."),
  500: errorContent("Unexpected error; quote `request_id`."),
} as const;

/** Routes that take an `Idempotency-Key` add these to their responses. */
export const idempotentResponses = {
  409: errorContent("A request with this `Idempotency-Key` is still in flight (`conflict`)."),
} as const;

export const json = <T extends z.ZodTypeAny>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

export const jsonBody = <T extends z.ZodTypeAny>(schema: T) => ({
  required: true,
  content: { "application/json": { schema } },
});

export const idParam = (name: string, example: string) =>
  z.object({
    id: z.string().openapi({ param: { name: "id", in: "path" }, description: `${name} id`, example }),
  });

export const IdempotencyHeader = z.object({
  "idempotency-key": z
    .string()
    .optional()
    .openapi({
      param: { name: "idempotency-key", in: "header" },
      description: "≤ 255 chars, scoped to the account, kept 24 h. Same key + body replays the first response.",
    }),
});
