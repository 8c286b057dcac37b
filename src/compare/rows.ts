/** A rectangle in image pixels. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** An image read top to bottom, one RGBA row at a time. */
export interface RowReader {
  width: number;
  height: number;
  /** The next row's first `columns` pixels as RGBA into `into`. */
  readRow(into: Uint8Array, columns: number): Promise<void>;
  close(): Promise<void>;
}

/** An image the comparison cannot or will not decode; the comparison ends `failed` with this reason. */
export class UnsupportedImage extends Error {
  override name = "UnsupportedImage";
}
