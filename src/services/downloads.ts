import { downloadZip } from "client-zip";
import { eq, inArray } from "drizzle-orm";
import { CONTENT_TYPES, EXTENSIONS } from "../capture/image";
import { TEXT_TYPE, textKey } from "../capture/keys";
import type { Db } from "../db/client";
import { type Screenshot, websites } from "../db/schema";
import { ApiError, validationError } from "../lib/errors";
import type { Plan } from "../limits/plans";
import { completedInRange, countScreenshots, getScreenshot, screenshotsByIds, screenshotView } from "./screenshots";
import { getWebsite } from "./websites";

/** Screenshots in one bulk archive, at most. */
export const MAX_BULK = 500;

/** A name for files: lower-case ASCII letters, digits and dashes (accents dropped), at most 60 characters. */
export function slug(text: string, fallback = "screenshot"): string {
  const s = text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60)
    .replace(/-+$/, "");
  return s || fallback;
}

/** `20261204-155512`: when the capture was taken (UTC), to the second. */
const stamp = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "-");

/**
 * A download's file name: `<website>-<YYYYMMDD-HHMMSS>.<ext>` (a scenario's screenshot adds
 * its step's name: `<website>-<name>-<…>`), so a folder of downloads sorts by site and time.
 */
export function fileName(s: Screenshot, websiteName: string): string {
  const parts = [slug(websiteName), ...(s.name ? [slug(s.name)] : []), stamp(s.capturedAt ?? s.createdAt)];
  return `${parts.join("-")}.${EXTENSIONS[s.format ?? "png"]}`;
}

/** Names for an archive's entries: each unique (a second file of one second gets `-2`). */
function uniqueNames(rows: Screenshot[], names: Map<string, string>): string[] {
  const seen = new Map<string, number>();
  return rows.map((s) => {
    const name = fileName(s, names.get(s.websiteId) ?? "");
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    return n === 1 ? name : name.replace(/(\.[a-z]+)$/, `-${n}$1`);
  });
}

export type Download =
  | { status: 304; headers: Record<string, string> }
  | { status: 200; body: ReadableStream; headers: Record<string, string> };

/**
 * `If-None-Match` against our strong ETag, by the weak comparison RFC 9110 §13.1.2 asks
 * for (`W/"x"` matches `"x"`); `*` matches any current image.
 */
function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(",").some((raw) => {
    const tag = raw.trim().replace(/^W\//, "");
    return tag === "*" || tag === etag;
  });
}

/**
 * A completed screenshot's image from R2, with its ETag (the SHA-256); `If-None-Match`
 * naming it (weakly or strongly) answers 304 without touching R2.
 */
export async function screenshotDownload(
  db: Db,
  bucket: R2Bucket,
  id: string,
  ifNoneMatch: string | undefined,
): Promise<Download> {
  const row = await getScreenshot(db, id);
  const website = await db.select({ name: websites.name }).from(websites).where(eq(websites.id, row.websiteId)).get();
  if (row.status !== "completed" || !row.r2Key || !row.format) {
    throw new ApiError("conflict", `The screenshot is ${row.status}; download it once it is completed.`);
  }
  const etag = `"${row.sha256}"`;
  const headers = { ETag: etag, "Cache-Control": "private, max-age=31536000, immutable" };
  if (ifNoneMatchHits(ifNoneMatch, etag)) return { status: 304, headers };
  const object = await bucket.get(row.r2Key);
  // Retention deletes bytes just before rows: between the two, the image is already gone.
  if (!object) throw new ApiError("not_found", "The image is no longer stored (past the plan's history window).");
  return {
    status: 200,
    body: object.body,
    headers: {
      ...headers,
      "Content-Type": CONTENT_TYPES[row.format],
      "Content-Length": String(object.size),
      "Content-Disposition": `attachment; filename="${fileName(row, website?.name ?? "")}"`,
    },
  };
}

/**
 * `GET /v1/screenshots/{id}/text`: the page's visible text kept with a completed capture
 * (409 until then, 404 when it has none: captures from before texts were kept, or a page
 * whose text could not be read).
 */
export async function screenshotText(db: Db, bucket: R2Bucket, id: string) {
  const row = await getScreenshot(db, id);
  if (row.status !== "completed" || !row.r2Key) {
    throw new ApiError("conflict", `The screenshot is ${row.status}; its text is kept once it is completed.`);
  }
  const object = row.textSha256 ? await bucket.get(textKey(row.r2Key)) : null;
  if (!object) throw new ApiError("not_found", "This screenshot has no text.");
  return {
    // At most 256 KB: read whole.
    text: await object.text(),
    headers: {
      "Content-Type": TEXT_TYPE,
      ETag: `"${row.textSha256}"`,
      "Content-Disposition": `inline; filename="${row.id}.txt"`,
      "Cache-Control": "private, max-age=31536000, immutable",
    },
  };
}

/**
 * A screenshot's thumbnail (the small JPEG made at capture time) for galleries: 404 when it
 * has none (older rows; pages show a placeholder instead of the full image).
 */
export async function screenshotThumbnail(db: Db, bucket: R2Bucket, id: string): Promise<Download> {
  const row = await getScreenshot(db, id);
  const object = row.status === "completed" && row.thumbKey ? await bucket.get(row.thumbKey) : null;
  if (!object) throw new ApiError("not_found", "This screenshot has no thumbnail.");
  return {
    status: 200,
    body: object.body,
    headers: {
      "Content-Type": object.httpMetadata?.contentType ?? "image/jpeg",
      "Content-Length": String(object.size),
      "Cache-Control": "private, max-age=31536000, immutable",
    },
  };
}

export type BulkRequest = { ids: string[] } | { website_id: string; since?: number; until?: number };

/**
 * A streamed ZIP of completed screenshots (by ids, or a website's in a time range) with a
 * manifest.json. Entries are read from R2 one at a time as the client reads: memory stays flat.
 */
export async function bulkArchive(
  db: Db,
  bucket: R2Bucket,
  plan: Plan,
  request: BulkRequest,
  now: number,
): Promise<Response> {
  if (!plan.bulkZip)
    throw new ApiError(
      "feature_unavailable",
      `Bulk ZIP downloads need the Pro or Business plan (you are on ${plan.id}).`,
    );
  let rows: Screenshot[];
  if ("ids" in request) {
    rows = await screenshotsByIds(db, request.ids);
  } else {
    const website = await getWebsite(db, request.website_id);
    const filters = { website_id: website.id, since: request.since, until: request.until };
    const total = await countScreenshots(db, { ...filters, status: "completed" });
    if (total > MAX_BULK) {
      throw validationError({
        since: [`The range holds ${total} screenshots; at most ${MAX_BULK} per archive. Narrow since/until.`],
      });
    }
    rows = await completedInRange(db, filters, MAX_BULK);
  }
  const websiteIds = [...new Set(rows.map((s) => s.websiteId))];
  const names = new Map(
    websiteIds.length
      ? (
          await db
            .select({ id: websites.id, name: websites.name })
            .from(websites)
            .where(inArray(websites.id, websiteIds))
        ).map((w) => [w.id, w.name])
      : [],
  );
  const files = uniqueNames(rows, names);
  const manifest = JSON.stringify(
    rows.map((s, i) => ({ file: files[i], ...screenshotView(s, plan) })),
    null,
    2,
  );
  async function* entries() {
    for (const [i, s] of rows.entries()) {
      const object = await bucket.get(s.r2Key as string);
      if (!object) throw new Error(`R2 object missing for ${s.id}`);
      yield {
        name: files[i] as string,
        lastModified: new Date(s.capturedAt ?? s.createdAt),
        input: object.body,
        size: object.size,
      };
    }
    yield { name: "manifest.json", lastModified: new Date(now), input: manifest };
  }
  const metadata = [
    ...rows.map((s, i) => ({ name: files[i] as string, size: s.bytes ?? 0 })),
    { name: "manifest.json", size: new TextEncoder().encode(manifest).byteLength },
  ];
  const zip = downloadZip(entries(), { metadata });
  const headers = new Headers(zip.headers);
  headers.set("Content-Type", "application/zip");
  headers.set(
    "Content-Disposition",
    `attachment; filename="screenshots-${new Date(now).toISOString().slice(0, 10)}.zip"`,
  );
  return new Response(zip.body, { status: 200, headers });
}
