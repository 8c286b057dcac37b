import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** Every error code the API answers with, and its HTTP status. One source of truth. */
export const ERROR_STATUS = {
  bad_request: 400,
  unauthorized: 401,
  api_access_unavailable: 403,
  subscription_expired: 403,
  plan_limit_reached: 403,
  feature_unavailable: 403,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  validation_failed: 422,
  rate_limited: 429,
  quota_exceeded: 429,
  internal_error: 500,
  service_unavailable: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;
export type FieldErrors = Record<string, string[]>;

export interface ApiErrorOptions {
  errors?: FieldErrors;
  headers?: Record<string, string>;
  /** Extra top-level body fields (e.g. limit, reset_at on 429). */
  extra?: Record<string, unknown>;
  /** An operator's problem (e.g. missing configuration): logged as one JSON error line with this `msg`. */
  log?: string;
}

/** The one error the code throws; `onError` turns it into the contract's envelope. */
export class ApiError extends HTTPException {
  readonly code: ErrorCode;
  readonly errors?: FieldErrors;
  readonly headers: Record<string, string>;
  readonly extra: Record<string, unknown>;
  readonly log?: string;

  constructor(code: ErrorCode, message: string, options: ApiErrorOptions = {}) {
    super(ERROR_STATUS[code], { message });
    this.code = code;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
    this.extra = options.extra ?? {};
    this.log = options.log;
  }
}

export const notFound = (what = "Resource") => new ApiError("not_found", `${what} not found.`);

export const validationError = (errors: FieldErrors, message = "The request is invalid.") =>
  new ApiError("validation_failed", message, { errors });

export interface ErrorBody {
  error: ErrorCode;
  message: string;
  errors?: FieldErrors;
  request_id: string;
  [extra: string]: unknown;
}

export function errorBody(err: ApiError, requestId: string): ErrorBody {
  return {
    error: err.code,
    message: err.message,
    ...(err.errors ? { errors: err.errors } : {}),
    ...err.extra,
    request_id: requestId,
  };
}

/** Zod issues → `{ "viewport.width": ["..."] }`, keyed by dotted path ("body" for the root). */
export function fieldErrors(issues: readonly { path: readonly PropertyKey[]; message: string }[]): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of issues) {
    const key = issue.path.length ? issue.path.map(String).join(".") : "body";
    out[key] = [...(out[key] ?? []), issue.message];
  }
  return out;
}
