/**
 * JPEG and WebP to a lossless PNG in the browser, for change detection: nothing in a
 * Worker decodes them in rows, and decoding two of them whole does not fit 128 MB. Chrome
 * decodes the image (createImageBitmap) and encodes it again (OffscreenCanvas →
 * convertToBlob PNG) in a blank page of its own; the Worker only moves bytes, in pieces of
 * {@link TRANSCODE_CHUNK}, so it never holds more than one piece and its base64 at a time,
 * whatever the image's size. The page loads nothing: the bytes come in through
 * `evaluate`, and it never navigates.
 */

/** What the transcoder needs of a page (puppeteer's `Page` in the Worker, puppeteer-core's in the bench). */
export interface Evaluator {
  evaluate(expression: string): Promise<unknown>;
}

/** Bytes per piece either way (a multiple of 3: whole base64 quanta); ~512 KB as base64 per CDP message. */
export const TRANSCODE_CHUNK = 384 * 1024;

/** The PNG, still in the page: its size and dimensions, and its bytes read piece by piece. */
export interface TranscodedPng {
  size: number;
  width: number;
  height: number;
  chunks(): AsyncGenerator<Uint8Array>;
}

// Browser-side code as strings: it runs in the page, not in the Worker.
const SETUP = `globalThis.__snaptrack = { parts: [], out: null, dec(s) { const b = atob(s); const u = new Uint8Array(b.length); for (let i = 0; i < b.length; i++) u[i] = b.charCodeAt(i); return u; } }; true`;

const ENCODE = (type: string) => `(async () => {
  const t = globalThis.__snaptrack;
  const blob = new Blob(t.parts, { type: ${JSON.stringify(type)} });
  t.parts = [];
  let bitmap;
  try {
    bitmap = await createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
  } catch (e) {
    return { error: String(e && e.message || e) };
  }
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  canvas.getContext("2d").drawImage(bitmap, 0, 0);
  const size = { width: bitmap.width, height: bitmap.height };
  bitmap.close();
  const png = await canvas.convertToBlob({ type: "image/png" });
  canvas.width = canvas.height = 0;
  t.out = new Uint8Array(await png.arrayBuffer());
  return { ...size, size: t.out.length };
})()`;

const SLICE = (from: number, to: number) => `(() => {
  const u = globalThis.__snaptrack.out.subarray(${from}, ${to});
  let s = "";
  for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode.apply(null, u.subarray(i, i + 0x8000));
  return btoa(s);
})()`;

/** The image cannot be decoded by the browser either; the comparison fails with this reason. */
export class UndecodableImage extends Error {
  override name = "UndecodableImage";
}

/**
 * Sends `image` (JPEG or WebP bytes, as a stream) into `page`, has it re-encoded there as
 * PNG and returns a reader over the result. The page keeps the PNG until it is closed.
 */
export async function transcodeToPng(
  page: Evaluator,
  image: ReadableStream<Uint8Array>,
  contentType: string,
): Promise<TranscodedPng> {
  await page.evaluate(SETUP);
  const pending = new Uint8Array(TRANSCODE_CHUNK);
  let filled = 0;
  const flush = async () => {
    if (filled === 0) return;
    await page.evaluate(
      `globalThis.__snaptrack.parts.push(globalThis.__snaptrack.dec("${toBase64(pending.subarray(0, filled))}")); true`,
    );
    filled = 0;
  };
  const reader = image.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (let at = 0; at < value.length; ) {
        const n = Math.min(value.length - at, pending.length - filled);
        pending.set(value.subarray(at, at + n), filled);
        filled += n;
        at += n;
        if (filled === pending.length) await flush();
      }
    }
    await flush();
  } finally {
    reader.releaseLock();
  }
  const made = (await page.evaluate(ENCODE(contentType))) as
    | { error: string }
    | { size: number; width: number; height: number };
  if ("error" in made)
    throw new UndecodableImage(`The browser could not decode the ${contentType} image: ${made.error}`);
  const { size, width, height } = made;
  return {
    size,
    width,
    height,
    async *chunks() {
      for (let from = 0; from < size; from += TRANSCODE_CHUNK) {
        const to = Math.min(size, from + TRANSCODE_CHUNK);
        yield fromBase64((await page.evaluate(SLICE(from, to))) as string);
      }
    },
  };
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
