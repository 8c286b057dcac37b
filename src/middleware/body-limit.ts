import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { ApiError } from "../lib/errors";
import { MAX_BODY_BYTES, MAX_BODY_TEXT } from "../lib/values";

const tooLarge = () => new ApiError("payload_too_large", `The request body is larger than ${MAX_BODY_TEXT}.`);

/**
 * Request bodies up to `maxSize` bytes. A declared Content-Length over the cap is refused
 * before anything is read; a streamed (chunked) body is read up to the cap and buffered for
 * the route. When a streamed body goes over, the rest of it is read and discarded before the
 * 413 is sent: hono's `bodyLimit` answered with the reader still locked mid-stream, and the
 * next request then failed (`503 Your worker restarted mid-request` under `wrangler dev`).
 */
export function bodyLimit(maxSize = MAX_BODY_BYTES): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const body = c.req.raw.body;
    if (!body) return next();
    const declared = c.req.raw.headers.get("content-length");
    if (declared !== null && !c.req.raw.headers.has("transfer-encoding")) {
      if (Number(declared) > maxSize) throw tooLarge();
      return next();
    }
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxSize) {
        await drain(reader, size);
        throw tooLarge();
      }
      chunks.push(value);
    }
    const buffer = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      buffer.set(chunk, offset);
      offset += chunk.byteLength;
    }
    c.req.raw = new Request(c.req.raw, { body: buffer });
    return next();
  };
}

/** Past this much, an oversized body is cancelled instead of read to its end (the platform's own cap). */
const DRAIN_MAX_BYTES = 100 * 1024 * 1024;

/**
 * Reads the rest of a refused body and throws it away, so the connection ends cleanly and
 * the next request on it is served. Cancelling the stream instead, or draining it after the
 * response (waitUntil), still breaks the next request under `wrangler dev`.
 */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>, read: number) {
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    read += value.byteLength;
    if (read > DRAIN_MAX_BYTES) {
      await reader.cancel().catch(() => {});
      return;
    }
  }
}
