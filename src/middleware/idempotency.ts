import { and, eq, lt, or } from "drizzle-orm";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { idempotencyKeys } from "../db/schema";
import { DAY, MINUTE } from "../lib/clock";
import { sha256Hex } from "../lib/crypto";
import { ApiError, validationError } from "../lib/errors";
import { MAX_PREFER_WAIT_SECONDS } from "../lib/values";

export const IDEMPOTENCY_TTL = DAY;
/**
 * An `in_flight` claim older than this belongs to a request that died; it can be taken over.
 * A live request may hold it through its `Prefer: wait` (up to a minute) and then some.
 */
const ABANDONED_AFTER = MINUTE + MAX_PREFER_WAIT_SECONDS * 1000;
/** A replay answers as the first answer did: a 200 that waited says so again. */
const REPLAYED_HEADERS = ["content-type", "location", "preference-applied", "vary"];

const sortedKeys = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== "object") return value;
  const object = value as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(object)
      .sort()
      .map((key) => [key, sortedKeys(object[key])]),
  );
};

/**
 * A body as attempts are compared: JSON by value (whitespace and key order do not matter,
 * so a client that re-serializes its retry still replays), anything else as sent.
 */
export function canonicalBody(text: string): string {
  try {
    return JSON.stringify(sortedKeys(JSON.parse(text)));
  } catch {
    return text;
  }
}

/**
 * `Idempotency-Key` for POSTs that create or start work (routes opt in). Kept in the
 * account's own database (so scoped to it) for 24 h: the same key and body (JSON compared by value) replays the first
 * successful response and starts nothing new; the same key with another body is 422; while the first is running, 409.
 * Failed attempts (non-2xx) release the key so the client can simply retry.
 */
export function idempotent(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const key = c.req.header("Idempotency-Key");
    if (key === undefined) return next();
    if (key.length === 0 || key.length > 255 || !/^[\x21-\x7e]+$/.test(key)) {
      throw validationError({ "Idempotency-Key": ["Must be 1–255 visible ASCII characters"] });
    }
    const now = c.get("now");
    const db = c.get("db");
    const fingerprint = await sha256Hex(`${c.req.method} ${c.req.path}\n${canonicalBody(await c.req.text())}`);

    const claimed = await db
      .insert(idempotencyKeys)
      .values({
        key,
        fingerprint,
        state: "in_flight",
        createdAt: now,
        expiresAt: now + IDEMPOTENCY_TTL,
      })
      .onConflictDoUpdate({
        target: idempotencyKeys.key,
        set: {
          fingerprint,
          state: "in_flight",
          responseStatus: null,
          responseBody: null,
          responseHeaders: null,
          createdAt: now,
          expiresAt: now + IDEMPOTENCY_TTL,
        },
        setWhere: or(
          lt(idempotencyKeys.expiresAt, now),
          and(eq(idempotencyKeys.state, "in_flight"), lt(idempotencyKeys.createdAt, now - ABANDONED_AFTER)),
        ),
      })
      .returning({ key: idempotencyKeys.key });

    if (claimed.length === 0) {
      const existing = await db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, key)).get();
      if (existing && existing.fingerprint !== fingerprint) {
        throw new ApiError("validation_failed", "This Idempotency-Key was already used with a different request.", {
          errors: { "Idempotency-Key": ["Was used with a different request body"] },
        });
      }
      if (!existing || existing.state === "in_flight") {
        throw new ApiError("conflict", "A request with this Idempotency-Key is still in progress. Retry later.");
      }
      const headers = new Headers(JSON.parse(existing.responseHeaders ?? "{}") as Record<string, string>);
      headers.set("Idempotent-Replayed", "true");
      return new Response(existing.responseBody, { status: existing.responseStatus ?? 200, headers });
    }

    const release = () => db.delete(idempotencyKeys).where(eq(idempotencyKeys.key, key));
    try {
      await next();
    } catch (err) {
      await release();
      throw err;
    }
    const res = c.res;
    if (res.status < 200 || res.status >= 300 || c.error) {
      await release();
      return;
    }
    const headers: Record<string, string> = {};
    for (const name of REPLAYED_HEADERS) {
      const value = res.headers.get(name);
      if (value !== null) headers[name] = value;
    }
    await db
      .update(idempotencyKeys)
      .set({
        state: "done",
        responseStatus: res.status,
        responseBody: await res.clone().text(),
        responseHeaders: JSON.stringify(headers),
      })
      .where(eq(idempotencyKeys.key, key));
  };
}
