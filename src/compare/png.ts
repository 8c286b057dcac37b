import { crc32Bytes } from "../lib/crypto";
import { type RowReader, UnsupportedImage } from "./rows";

/**
 * PNG in rows, never whole: the file streams through a chunk parser, its IDAT data through
 * `DecompressionStream("deflate")` (zlib, as PNG stores it), and rows are un-filtered one
 * at a time against the previous one. Memory is two rows plus the inflater's window,
 * whatever the image's height. Chrome writes 8-bit RGB or RGBA, non-interlaced; anything
 * else is refused with a reason rather than decoded whole.
 */
export async function pngRows(file: ReadableStream<Uint8Array>): Promise<RowReader> {
  let header: ((h: Header) => void) | undefined;
  let headerFailed: ((err: Error) => void) | undefined;
  const headerRead = new Promise<Header>((resolve, reject) => {
    header = resolve;
    headerFailed = reject;
  });
  const parser = new PngChunks((h) => header?.(h));
  const idat = file.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform: (chunk, out) => parser.push(chunk, (data) => out.enqueue(data)),
      flush: () => {
        if (!parser.sawHeader) headerFailed?.(new UnsupportedImage("not a PNG image"));
      },
    }),
  );
  const inflated = idat.pipeThrough(new DecompressionStream("deflate")).getReader();
  // The header comes first in the file; reading the inflater drives the parser to it.
  const firstChunk = inflated.read();
  firstChunk.catch(() => {});
  const h = await Promise.race([headerRead, firstChunk.then(() => headerRead)]);
  if (h.bitDepth !== 8 || (h.colorType !== 2 && h.colorType !== 6) || h.interlace !== 0) {
    await inflated.cancel().catch(() => {});
    throw new UnsupportedImage(
      `PNG with bit depth ${h.bitDepth}, colour type ${h.colorType}, interlace ${h.interlace} (only 8-bit RGB or RGBA, non-interlaced, is compared)`,
    );
  }
  const bpp = h.colorType === 6 ? 4 : 3;
  const stride = h.width * bpp;
  const prev = new Uint8Array(stride);
  const cur = new Uint8Array(stride + 1);
  let filled = 0;
  let pending: Uint8Array | undefined;
  let pendingAt = 0;
  let first: Promise<ReadableStreamReadResult<Uint8Array>> | undefined = firstChunk;
  let rowsRead = 0;

  async function nextRaw(): Promise<boolean> {
    filled = 0;
    while (filled < cur.length) {
      if (!pending || pendingAt >= pending.length) {
        const next = first ? await first : await inflated.read();
        first = undefined;
        if (next.done) return false;
        pending = next.value;
        pendingAt = 0;
      }
      const n = Math.min(cur.length - filled, pending.length - pendingAt);
      cur.set(pending.subarray(pendingAt, pendingAt + n), filled);
      filled += n;
      pendingAt += n;
    }
    return true;
  }

  return {
    width: h.width,
    height: h.height,
    async readRow(into: Uint8Array, columns: number) {
      if (rowsRead >= h.height || !(await nextRaw())) throw new UnsupportedImage("the PNG data ends early");
      rowsRead++;
      unfilter(cur, prev, bpp);
      const raw = cur.subarray(1);
      const n = Math.min(columns, h.width);
      if (bpp === 4) into.set(raw.subarray(0, n * 4));
      else {
        for (let x = 0, i = 0, o = 0; x < n; x++, i += 3, o += 4) {
          into[o] = raw[i] as number;
          into[o + 1] = raw[i + 1] as number;
          into[o + 2] = raw[i + 2] as number;
          into[o + 3] = 255;
        }
      }
      prev.set(raw);
    },
    async close() {
      await inflated.cancel().catch(() => {});
    },
  };
}

interface Header {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlace: number;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** A push parser over the file's bytes: reads IHDR, hands on IDAT payloads as they arrive. */
class PngChunks {
  sawHeader = false;
  private state: "signature" | "head" | "data" | "crc" | "end" = "signature";
  private buf = new Uint8Array(13);
  private have = 0;
  private need = 8;
  private type = "";
  private remaining = 0;

  constructor(private onHeader: (h: Header) => void) {}

  push(chunk: Uint8Array, onData: (data: Uint8Array) => void) {
    let at = 0;
    while (at < chunk.length && this.state !== "end") {
      if (this.state === "data" && this.type === "IDAT") {
        const n = Math.min(this.remaining, chunk.length - at);
        onData(chunk.slice(at, at + n));
        at += n;
        this.remaining -= n;
        if (this.remaining === 0) this.expect("crc", 4);
        continue;
      }
      if (this.state === "data" && this.type !== "IHDR") {
        const n = Math.min(this.remaining, chunk.length - at);
        at += n;
        this.remaining -= n;
        if (this.remaining === 0) this.expect("crc", 4);
        continue;
      }
      const n = Math.min(this.need - this.have, chunk.length - at);
      this.buf.set(chunk.subarray(at, at + n), this.have);
      this.have += n;
      at += n;
      if (this.have === this.need) this.complete();
    }
  }

  private expect(state: PngChunks["state"], need: number) {
    this.state = state;
    this.need = need;
    this.have = 0;
  }

  private complete() {
    const view = new DataView(this.buf.buffer);
    if (this.state === "signature") {
      if (SIGNATURE.some((b, i) => this.buf[i] !== b)) throw new UnsupportedImage("not a PNG image");
      this.expect("head", 8);
    } else if (this.state === "head") {
      this.remaining = view.getUint32(0);
      this.type = String.fromCharCode(...this.buf.subarray(4, 8));
      if (this.type === "IEND") return this.expect("end", 0);
      if (!this.sawHeader && this.type !== "IHDR") throw new UnsupportedImage("the PNG has no IHDR first");
      if (this.type === "IHDR") {
        if (this.remaining !== 13) throw new UnsupportedImage("the PNG header is malformed");
        this.expect("data", 13);
      } else if (this.remaining === 0) this.expect("crc", 4);
      else this.expect("data", 0);
    } else if (this.state === "data") {
      // Only IHDR is buffered.
      this.sawHeader = true;
      this.onHeader({
        width: view.getUint32(0),
        height: view.getUint32(4),
        bitDepth: this.buf[8] as number,
        colorType: this.buf[9] as number,
        interlace: this.buf[12] as number,
      });
      this.expect("crc", 4);
    } else if (this.state === "crc") {
      this.expect("head", 8);
    }
  }
}

/** PNG filter types 0–4, in place; `row[0]` is the filter byte, `prev` the previous row (raw). */
function unfilter(row: Uint8Array, prev: Uint8Array, bpp: number) {
  const filter = row[0];
  const n = row.length - 1;
  const r = row.subarray(1);
  switch (filter) {
    case 0:
      return;
    case 1:
      for (let i = bpp; i < n; i++) r[i] = ((r[i] as number) + (r[i - bpp] as number)) & 0xff;
      return;
    case 2:
      for (let i = 0; i < n; i++) r[i] = ((r[i] as number) + (prev[i] as number)) & 0xff;
      return;
    case 3:
      for (let i = 0; i < n; i++) {
        const left = i >= bpp ? (r[i - bpp] as number) : 0;
        r[i] = ((r[i] as number) + ((left + (prev[i] as number)) >> 1)) & 0xff;
      }
      return;
    case 4:
      for (let i = 0; i < n; i++) {
        const a = i >= bpp ? (r[i - bpp] as number) : 0;
        const b = prev[i] as number;
        const c = i >= bpp ? (prev[i - bpp] as number) : 0;
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        r[i] = ((r[i] as number) + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 0xff;
      }
      return;
    default:
      throw new UnsupportedImage(`the PNG uses an unknown row filter (${filter})`);
  }
}

/**
 * Writes an 8-bit RGB PNG row by row through `CompressionStream("deflate")`; each block
 * the compressor hands back becomes one IDAT chunk with its CRC. Memory is the compressed
 * output (kept to store it) plus a row.
 */
export class PngWriter {
  private parts: Uint8Array[] = [];
  private writer: WritableStreamDefaultWriter<Uint8Array>;
  private drained: Promise<void>;
  private row: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    const ihdr = new Uint8Array(13);
    const view = new DataView(ihdr.buffer);
    view.setUint32(0, width);
    view.setUint32(4, height);
    ihdr.set([8, 2, 0, 0, 0], 8);
    this.parts.push(new Uint8Array(SIGNATURE), chunk("IHDR", ihdr));
    const deflate = new CompressionStream("deflate");
    this.writer = deflate.writable.getWriter();
    const reader = deflate.readable.getReader();
    this.drained = (async () => {
      for (let r = await reader.read(); !r.done; r = await reader.read()) this.parts.push(chunk("IDAT", r.value));
    })();
    this.drained.catch(() => {});
    this.row = new Uint8Array(width * 3 + 1);
  }

  /** One row of RGB; written with the Sub filter (cheap, and it halves a faded image's size). */
  async writeRow(rgb: Uint8Array) {
    const row = this.row;
    row[0] = 1;
    for (let i = 0; i < 3 && i < rgb.length; i++) row[1 + i] = rgb[i] as number;
    for (let i = 3; i < rgb.length; i++) row[1 + i] = ((rgb[i] as number) - (rgb[i - 3] as number)) & 0xff;
    await this.writer.write(row.slice());
  }

  async finish(): Promise<Uint8Array[]> {
    await this.writer.close();
    await this.drained;
    this.parts.push(chunk("IEND", new Uint8Array(0)));
    return this.parts;
  }

  async abort() {
    await this.writer.abort().catch(() => {});
  }
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  const name = new Uint8Array([...type].map((c) => c.charCodeAt(0)));
  out.set(name, 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32Bytes(name, data));
  return out;
}
