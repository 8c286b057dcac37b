import { z } from "@hono/zod-openapi";
import { IMAGE_FORMATS } from "../lib/values";

/**
 * Capture options: one schema for website defaults, per-capture overrides and scenarios.
 * Every field is optional in input; `resolveOptions` merges layers onto DEFAULTS in one place.
 */
/** RFC 9110 `token`: header names; RFC 6265 uses the same grammar for cookie names. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/**
 * RFC 9110 `field-value`: visible ASCII and obs-text (U+0080–U+00FF, the characters that
 * are one byte on the wire), with spaces and tabs only inside. No CR, LF, NUL or other
 * control characters, and no leading or trailing whitespace: we refuse those rather than
 * trim, so what is stored is exactly what is sent. May be empty.
 */
/** RFC 9110 field-value (header values, the user agent). */
export const FIELD_VALUE = /^(?:[\x21-\x7E\x80-\xFF](?:[ \t\x21-\x7E\x80-\xFF]*[\x21-\x7E\x80-\xFF])?)?$/;
const FIELD_VALUE_MESSAGE =
  "Must be a valid header value: printable characters, spaces and tabs only inside (no CR, LF, NUL or other control characters, no leading or trailing whitespace)";
/** RFC 6265 `cookie-value`: cookie-octets, optionally wrapped in double quotes as a whole. */
const COOKIE_VALUE = /^(?:"[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*"|[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*)$/;
/** RFC 6265 `domain-value` (an RFC 1034/1123 host name), optionally with a leading dot. */
const COOKIE_DOMAIN = /^\.?[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*$/;
/** RFC 6265 `path-value`: any US-ASCII character except controls and ";". */
const COOKIE_PATH = /^[\x20-\x3A\x3C-\x7E]*$/;
/** Headers a capture may not set: the browser or the cookie option owns them. */
const FORBIDDEN_HEADERS = new Set([
  "host",
  "cookie",
  "content-length",
  "connection",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
  "keep-alive",
  "proxy-authorization",
  "proxy-connection",
]);
const selector = z.string().trim().min(1, "Must not be empty").max(500, "Must be at most 500 characters");

export const CookieSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(256)
      .regex(TOKEN, "Must be a cookie name (RFC 6265 token): letters, digits and !#$%&'*+-.^_`|~"),
    value: z
      .string()
      .max(4096)
      .regex(
        COOKIE_VALUE,
        "Must be a cookie value (RFC 6265): no control characters, whitespace, double quotes (except around the whole value), commas, semicolons or backslashes",
      ),
    domain: z
      .string()
      .max(253)
      .regex(COOKIE_DOMAIN, "Must be a domain name: letters, digits, hyphens and dots (punycode for other scripts)")
      .optional(),
    path: z.string().max(1024).regex(COOKIE_PATH, "Must be ASCII without control characters or semicolons").optional(),
    secure: z.boolean().optional(),
    http_only: z.boolean().optional(),
    same_site: z.enum(["Strict", "Lax", "None"]).optional(),
  })
  .strict()
  .openapi("Cookie");

export const CaptureOptionsSchema = z
  .object({
    viewport: z
      .object({
        width: z.number().int().min(320, "Must be ≥ 320").max(3840, "Must be ≤ 3840").optional(),
        height: z.number().int().min(240, "Must be ≥ 240").max(2160, "Must be ≤ 2160").optional(),
      })
      .strict()
      .optional(),
    full_page: z.boolean().optional(),
    device_scale_factor: z.number().min(1, "Must be ≥ 1").max(3, "Must be ≤ 3").optional(),
    format: z.enum(IMAGE_FORMATS).optional(),
    quality: z.number().int().min(1, "Must be ≥ 1").max(100, "Must be ≤ 100").optional(),
    delay_ms: z.number().int().min(0, "Must be ≥ 0").max(10_000, "Must be ≤ 10000").optional(),
    wait_until: z.enum(["load", "domcontentloaded", "networkidle"]).optional(),
    wait_for_selector: selector.optional(),
    hide_selectors: z.array(selector).max(50, "At most 50 selectors").optional(),
    selector: selector.optional(),
    dark_mode: z.boolean().optional(),
    user_agent: z.string().min(1).max(512).regex(FIELD_VALUE, FIELD_VALUE_MESSAGE).optional(),
    headers: z
      .record(z.string(), z.string().max(4096).regex(FIELD_VALUE, FIELD_VALUE_MESSAGE))
      .optional()
      .superRefine((headers, ctx) => {
        if (!headers) return;
        const names = Object.keys(headers);
        if (names.length > 50) ctx.addIssue({ code: "custom", message: "At most 50 headers" });
        for (const name of names) {
          if (!TOKEN.test(name)) ctx.addIssue({ code: "custom", path: [name], message: "Is not a valid header name" });
          else if (FORBIDDEN_HEADERS.has(name.toLowerCase()))
            ctx.addIssue({ code: "custom", path: [name], message: "Cannot be set (use `cookies` for cookies)" });
        }
      }),
    cookies: z.array(CookieSchema).max(50, "At most 50 cookies").optional(),
    block_ads: z.boolean().optional(),
    timeout_ms: z.number().int().min(1_000, "Must be ≥ 1000").max(60_000, "Must be ≤ 60000").optional(),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.quality !== undefined && o.format === "png") {
      ctx.addIssue({ code: "custom", path: ["quality"], message: "Applies to jpeg and webp only" });
    }
  })
  .openapi("CaptureOptions", {
    description:
      "Every field is optional. A capture uses the website's defaults overridden by the request's fields; `headers` merge by name.",
  });

export type CaptureOptionsInput = z.infer<typeof CaptureOptionsSchema>;

/** Options that stay null when not set (nothing to wait for, no clip, the browser's own UA). */
type NullWhenUnset = "wait_for_selector" | "selector" | "user_agent";

/** Every option resolved (`resolveOptions`): derived from the schema, nothing left optional. */
export type CaptureOptions = {
  [K in keyof CaptureOptionsInput]-?: K extends "viewport"
    ? Required<NonNullable<CaptureOptionsInput[K]>>
    : K extends NullWhenUnset
      ? NonNullable<CaptureOptionsInput[K]> | null
      : NonNullable<CaptureOptionsInput[K]>;
};

export const DEFAULT_OPTIONS: Readonly<CaptureOptions> = {
  viewport: { width: 1280, height: 800 },
  full_page: false,
  device_scale_factor: 1,
  format: "png",
  quality: 80,
  delay_ms: 0,
  wait_until: "load",
  wait_for_selector: null,
  hide_selectors: [],
  selector: null,
  dark_mode: false,
  user_agent: null,
  headers: {},
  cookies: [],
  block_ads: false,
  timeout_ms: 30_000,
};

/** Website defaults, then overrides, onto DEFAULT_OPTIONS. Viewport and headers merge by key. */
export function resolveOptions(...layers: (CaptureOptionsInput | null | undefined)[]): CaptureOptions {
  const out: CaptureOptions = structuredClone(DEFAULT_OPTIONS) as CaptureOptions;
  for (const layer of layers) {
    if (!layer) continue;
    const { viewport, headers, ...rest } = layer;
    if (viewport) out.viewport = { ...out.viewport, ...viewport };
    if (headers) out.headers = { ...out.headers, ...headers };
    for (const [key, value] of Object.entries(rest)) {
      if (value !== undefined) (out as unknown as Record<string, unknown>)[key] = value;
    }
  }
  return out;
}
