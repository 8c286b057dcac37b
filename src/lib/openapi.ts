import { z } from "@hono/zod-openapi";
import { ERROR_STATUS, type ErrorCode } from "./errors";
import { MAX_BODY_TEXT, MAX_PREFER_WAIT_SECONDS } from "./values";

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

/** `/v1` routes: a bearer API token. */
export const v1Security = [{ bearerAuth: [] }];

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
  503: errorContent("The account's service is unavailable (`service_unavailable`); retry after `Retry-After` seconds."),
} as const;

export const sessionErrorResponses = {
  400: errorContent("Malformed JSON (`bad_request`)."),
  401: errorContent("No valid session (`unauthorized`)."),
  403: errorContent(
    "`forbidden`: a cross-site write (POST, PUT and DELETE need a same-origin request), or a member on an owners-only endpoint (plan, API token, members).",
  ),
  413: errorContent(`Body over ${MAX_BODY_TEXT} (\`payload_too_large\`).`),
  415: errorContent("A body that is not JSON, on routes that take one (`unsupported_media_type`)."),
  422: errorContent("Validation failed."),
  500: errorContent("Unexpected error; quote `request_id`."),
} as const;

/** Session routes the Worker forwards to the account's object (`/account…`), which may be unavailable. */
export const accountSessionErrorResponses = {
  ...sessionErrorResponses,
  503: v1ErrorResponses[503],
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

/** `Prefer: wait=<seconds>` (RFC 7240) on the POSTs that start a job. */
export const PreferHeader = z.object({
  prefer: z
    .string()
    .optional()
    .openapi({
      param: { name: "prefer", in: "header" },
      description: `\`wait=<seconds>\` (1–${MAX_PREFER_WAIT_SECONDS}): answer when the job has finished (200, with \`Preference-Applied\`) or, at the deadline, as usual (202). Other preferences and other values are ignored.`,
      example: "wait=30",
    }),
});

const varyPrefer = {
  description: "`Prefer`: whether the answer waited depends on it.",
  schema: { type: "string" as const },
};

/**
 * The answers of a POST that starts a job: 202 with the queued object, or, with
 * `Prefer: wait`, 200 with the finished one (the schema `GET` answers with).
 */
export const jobResponses = <T extends z.ZodTypeAny>(schema: T, what: string) => ({
  200: {
    ...json(
      schema,
      `Finished within the \`Prefer: wait\` (the ${what} as \`GET\` shows it: completed, failed or ended).`,
    ),
    headers: {
      "Preference-Applied": {
        description: "`wait=<seconds>`, the preference honoured.",
        schema: { type: "string" as const },
      },
      Location: { description: `The ${what}.`, schema: { type: "string" as const } },
      Vary: varyPrefer,
    },
  },
  202: {
    ...json(schema, "Queued (without `Prefer: wait`, or not finished within it)."),
    headers: { Vary: varyPrefer },
  },
});

/**
 * The shared error sets name every error a route *may* give; this drops the ones an
 * operation cannot: 400 and 415 (malformed or non-JSON bodies) where no body is taken, 422
 * where there is neither a body nor a query, and 404 where nothing names a resource (no path
 * parameter, no body).
 */
function pruneImpossibleErrors(operation: Operation): void {
  const responses = operation.responses ?? {};
  const body = operation.requestBody !== undefined;
  const query = operation.parameters?.some((p) => p.in === "query") ?? false;
  const pathParams = operation.parameters?.some((p) => p.in === "path") ?? false;
  // Only the shared entries go; an answer a route documents itself stays.
  const drop = (code: keyof typeof v1ErrorResponses) => {
    const shared = [v1ErrorResponses[code], sessionErrorResponses[code as keyof typeof sessionErrorResponses]];
    const own = responses[code] as { description?: string } | undefined;
    if (own && shared.some((entry) => entry?.description === own.description)) delete responses[code];
  };
  if (!body) {
    drop(400);
    drop(415);
  }
  if (!body && !query) drop(422);
  if (!body && !pathParams) drop(404);
}

type Operation = {
  parameters?: { name: string; in: string }[];
  requestBody?: unknown;
  responses?: Record<string, { headers?: Record<string, unknown> }>;
};
type Document = { paths?: Record<string, Record<string, Operation>> };

const header = (description: string, type: "string" | "integer" = "string") => ({ description, schema: { type } });
const RATE_LIMIT_HEADERS = {
  "X-RateLimit-Limit": header("Requests allowed per minute on your plan.", "integer"),
  "X-RateLimit-Remaining": header("Requests left in the current minute.", "integer"),
  "X-RateLimit-Reset": header("Unix time (seconds) the current minute ends.", "integer"),
  "RateLimit-Policy": header('The limit in the IETF RateLimit draft\'s form: `"minute";q=60;w=60`.'),
  RateLimit: header('What is left, in the same form: `"minute";r=<remaining>;t=<seconds to reset>`.'),
};

/**
 * The response headers the middleware sets, written into the document in one place rather
 * than on each route: X-Request-Id everywhere; on `/v1` the rate-limit headers on every
 * answer counted against the minute (all but 401, 403 before the gate, and 5xx);
 * Retry-After on 429 and 503; Location on 201/202; Idempotent-Replayed where an
 * Idempotency-Key is taken.
 */
export function withResponseHeaders<T extends object>(document: T): T {
  const doc = document as Document;
  for (const [path, operations] of Object.entries(doc.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      pruneImpossibleErrors(operation);
      const idempotent = operation.parameters?.some((p) => p.in === "header" && p.name === "idempotency-key");
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        const headers: Record<string, unknown> = { "X-Request-Id": header("This request's id; quote it to support.") };
        const code = Number(status);
        if (path.startsWith("/v1/") && code !== 401 && code < 500) Object.assign(headers, RATE_LIMIT_HEADERS);
        if (code === 429 || code === 503)
          headers["Retry-After"] = header("Seconds to wait before retrying.", "integer");
        if (code === 201 || code === 202) headers.Location = header("The created resource.");
        if (idempotent && code < 300) headers["Idempotent-Replayed"] = header("`true` when this is a replayed answer.");
        response.headers = { ...headers, ...response.headers };
      }
    }
  }
  return document;
}
