import type { ImageFormat } from "../lib/values";
import { type CompareSettings, compareImages } from "./diff";
import { pngRows } from "./png";
import { type RowReader, UnsupportedImage } from "./rows";

/** One stored image: its format (from its row) and its bytes as a stream. */
export interface ImageSource {
  format: ImageFormat;
  stream(): Promise<ReadableStream<Uint8Array>>;
}

/**
 * The comparison the Worker runs (and `npm run bench compare` measures). PNG streams in
 * bands, so memory stays a few MB at any size. JPEG and WebP never come here as they are:
 * the decoders available decode whole images, and a pair of them does not fit a Worker's
 * 128 MB, so the compare job hands over their lossless PNG copies, transcoded in the
 * browser (src/capture/transcode.ts; README, "Change detection").
 */
export async function compareSources(baseline: ImageSource, current: ImageSource, settings: CompareSettings) {
  for (const s of [baseline, current]) {
    if (s.format !== "png")
      throw new UnsupportedImage(
        `${s.format.toUpperCase()} is not decoded here: only PNG can be decoded in bands within a Worker's 128 MB (transcode it to PNG first)`,
      );
  }
  const a = await pngRows(await baseline.stream());
  let b: RowReader;
  try {
    b = await pngRows(await current.stream());
  } catch (err) {
    await a.close();
    throw err;
  }
  return compareImages(a, b, settings);
}
