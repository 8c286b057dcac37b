import { createRoute, z } from "@hono/zod-openapi";
import { downloadZip } from "client-zip";
import { CONTENT_TYPES, EXTENSIONS } from "../../capture/image";
import { CaptureOptionsSchema } from "../../capture/options";
import { getDb } from "../../db/client";
import { pageQuery, pageSchema } from "../../db/pagination";
import type { Screenshot } from "../../db/schema";
import { ApiError, validationError } from "../../lib/errors";
import {
  errorContent,
  IdempotencyHeader,
  idempotentResponses,
  idParam,
  json,
  jsonBody,
  v1ErrorResponses,
} from "../../lib/openapi";
import { effectivePlan } from "../../limits/subscription";
import { idempotent } from "../../middleware/idempotency";
import {
  completedInRange,
  countScreenshots,
  deleteScreenshot,
  getScreenshot,
  listScreenshots,
  queueCapture,
  screenshotsByIds,
  screenshotView,
} from "../../services/screenshots";
import { getWebsite } from "../../services/websites";
import { createRouter } from "../router";

export const MAX_BULK = 500;

const isoTime = z.iso.datetime({ offset: true, message: "Must be an ISO-8601 date-time" });
const toMs = (s: string | undefined) => (s === undefined ? undefined : Date.parse(s));

export const ScreenshotSchema = z
  .object({
    id: z.string().openapi({ example: "shot_01jf8z3k6m9q2w4e6r8t0y2u4i" }),
    website_id: z.string(),
    status: z.enum(["queued", "processing", "completed", "failed"]),
    source: z.enum(["api", "schedule", "scenario"]),
    url: z.string(),
    capture: z.record(z.string(), z.unknown()).openapi({ description: "The effective options the capture used." }),
    error: z.string().nullable(),
    format: z.enum(["png", "jpeg", "webp"]).nullable(),
    width: z.number().int().nullable(),
    height: z.number().int().nullable(),
    bytes: z.number().int().nullable(),
    sha256: z.string().nullable(),
    schedule_id: z.string().nullable(),
    run_id: z.string().nullable(),
    name: z.string().nullable().openapi({ description: "Scenario screenshots: the step's name." }),
    step_index: z.number().int().nullable(),
    created_at: z.string(),
    started_at: z.string().nullable(),
    captured_at: z.string().nullable(),
    expires_at: z.string().openapi({ description: "When retention deletes it (plan's history window)." }),
    download_url: z.string().nullable(),
  })
  .openapi("Screenshot");

const CreateScreenshot = z
  .object({ website_id: z.string().min(1, "Is required"), capture: CaptureOptionsSchema.optional() })
  .strict()
  .openapi("CreateScreenshot");

const ListQuery = pageQuery.extend({
  website_id: z.string().optional(),
  status: z.enum(["queued", "processing", "completed", "failed"]).optional(),
  source: z.enum(["api", "schedule", "scenario"]).optional(),
  since: isoTime.optional().openapi({ description: "Created at or after (ISO-8601)." }),
  until: isoTime.optional().openapi({ description: "Created at or before (ISO-8601)." }),
});

const BulkDownload = z
  .object({
    ids: z.array(z.string()).min(1, "Give at least one id").max(MAX_BULK, `At most ${MAX_BULK} ids`).optional(),
    website_id: z.string().optional(),
    since: isoTime.optional(),
    until: isoTime.optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    if ((b.ids === undefined) === (b.website_id === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: ["ids"],
        message: "Give either ids or website_id (with optional since/until)",
      });
    }
    if (b.ids && (b.since || b.until))
      ctx.addIssue({ code: "custom", path: ["since"], message: "Only with website_id" });
  })
  .openapi("BulkDownload");

const tags = ["Screenshots"];
const security = [{ bearerAuth: [] }];
const params = idParam("Screenshot", "shot_01jf8z3k6m9q2w4e6r8t0y2u4i");
const binary = (type: string, description: string) => ({
  description,
  content: { [type]: { schema: z.string().openapi({ format: "binary" }) } },
});

const create = createRoute({
  method: "post",
  path: "/v1/screenshots",
  tags,
  security,
  summary: "Take a screenshot (queued; poll it or list)",
  middleware: [idempotent()] as const,
  request: { headers: IdempotencyHeader, body: jsonBody(CreateScreenshot) },
  responses: { 202: json(ScreenshotSchema, "Queued."), ...v1ErrorResponses, ...idempotentResponses },
});

const list = createRoute({
  method: "get",
  path: "/v1/screenshots",
  tags,
  security,
  summary: "List screenshots, newest first",
  request: { query: ListQuery },
  responses: {
    200: json(pageSchema(ScreenshotSchema).openapi("ScreenshotPage"), "A page of screenshots."),
    ...v1ErrorResponses,
  },
});

const get = createRoute({
  method: "get",
  path: "/v1/screenshots/{id}",
  tags,
  security,
  summary: "Get a screenshot's record",
  request: { params },
  responses: { 200: json(ScreenshotSchema, "The screenshot."), ...v1ErrorResponses },
});

const download = createRoute({
  method: "get",
  path: "/v1/screenshots/{id}/download",
  tags,
  security,
  summary: "Download the image",
  description: "Streams the image with its Content-Type and an ETag (the SHA-256); `If-None-Match` answers 304.",
  request: { params },
  responses: {
    200: binary("image/*", "The image bytes."),
    304: { description: "Not modified." },
    409: errorContent("Not completed yet (`conflict`)."),
    ...v1ErrorResponses,
  },
});

const remove = createRoute({
  method: "delete",
  path: "/v1/screenshots/{id}",
  tags,
  security,
  summary: "Delete a screenshot (record and bytes)",
  request: { params },
  responses: { 204: { description: "Deleted." }, ...v1ErrorResponses },
});

const bulk = createRoute({
  method: "post",
  path: "/v1/screenshots/download-bulk",
  tags,
  security,
  summary: "Download many screenshots as one streamed ZIP (Pro and Business)",
  description: `Either \`ids\` (≤ ${MAX_BULK}) or \`website_id\` with optional \`since\`/\`until\` (≤ ${MAX_BULK} matches). Includes a manifest.json.`,
  request: { body: jsonBody(BulkDownload) },
  responses: {
    200: binary("application/zip", "The archive, streamed."),
    409: errorContent("Some screenshots are not completed (`conflict`)."),
    ...v1ErrorResponses,
  },
});

const fileName = (s: Screenshot) => `${s.id}.${EXTENSIONS[s.format ?? "png"]}`;

export const screenshotsRouter = createRouter()
  .openapi(create, async (c) => {
    const db = getDb(c.env.DB);
    const now = c.get("now");
    const account = c.get("account");
    const body = c.req.valid("json");
    const website = await getWebsite(db, account.id, body.website_id);
    const row = await queueCapture(
      db,
      c.get("deps").limiter(c.env),
      c.env.JOBS,
      { website, override: body.capture, source: "api" },
      now,
    );
    c.header("Location", `/v1/screenshots/${row.id}`);
    return c.json(screenshotView(row, effectivePlan(account, now)), 202);
  })
  .openapi(list, async (c) => {
    const q = c.req.valid("query");
    const account = c.get("account");
    const plan = effectivePlan(account, c.get("now"));
    const page = await listScreenshots(getDb(c.env.DB), account.id, plan, {
      ...q,
      since: toMs(q.since),
      until: toMs(q.until),
    });
    return c.json(page, 200);
  })
  .openapi(get, async (c) => {
    const account = c.get("account");
    const row = await getScreenshot(getDb(c.env.DB), account.id, c.req.valid("param").id);
    return c.json(screenshotView(row, effectivePlan(account, c.get("now"))), 200);
  })
  .openapi(download, async (c) => {
    const row = await getScreenshot(getDb(c.env.DB), c.get("account").id, c.req.valid("param").id);
    if (row.status !== "completed" || !row.r2Key || !row.format) {
      throw new ApiError("conflict", `The screenshot is ${row.status}; download it once it is completed.`);
    }
    const etag = `"${row.sha256}"`;
    const headers = {
      ETag: etag,
      "Cache-Control": "private, max-age=31536000, immutable",
    };
    const ifNoneMatch = c.req.header("If-None-Match");
    if (ifNoneMatch?.split(",").some((t) => t.trim() === etag || t.trim() === "*")) {
      return c.body(null, 304, headers);
    }
    const object = await c.env.SHOTS.get(row.r2Key);
    // Retention deletes bytes just before rows: between the two, the image is already gone.
    if (!object) throw new ApiError("not_found", "The image is no longer stored (past the plan's history window).");
    return c.body(object.body, 200, {
      ...headers,
      "Content-Type": CONTENT_TYPES[row.format],
      "Content-Length": String(object.size),
      "Content-Disposition": `attachment; filename="${fileName(row)}"`,
    }) as never;
  })
  .openapi(remove, async (c) => {
    await deleteScreenshot(getDb(c.env.DB), c.env.SHOTS, c.get("account").id, c.req.valid("param").id);
    return c.body(null, 204);
  })
  .openapi(bulk, async (c) => {
    const account = c.get("account");
    const now = c.get("now");
    const plan = effectivePlan(account, now);
    if (!plan.bulkZip)
      throw new ApiError(
        "feature_unavailable",
        `Bulk ZIP downloads need the Pro or Business plan (you are on ${plan.id}).`,
      );
    const db = getDb(c.env.DB);
    const body = c.req.valid("json");
    let rows: Screenshot[];
    if (body.ids) {
      rows = await screenshotsByIds(db, account.id, body.ids);
    } else {
      const website = await getWebsite(db, account.id, body.website_id as string);
      const filters = { website_id: website.id, since: toMs(body.since), until: toMs(body.until) };
      const total = await countScreenshots(db, account.id, { ...filters, status: "completed" });
      if (total > MAX_BULK) {
        throw validationError({
          since: [`The range holds ${total} screenshots; at most ${MAX_BULK} per archive. Narrow since/until.`],
        });
      }
      rows = await completedInRange(db, account.id, filters, MAX_BULK);
    }
    const manifest = JSON.stringify(
      rows.map((s) => ({ file: fileName(s), ...screenshotView(s, plan) })),
      null,
      2,
    );
    const bucket = c.env.SHOTS;
    // Entries are fetched from R2 one at a time as the client reads: memory stays flat.
    async function* entries() {
      for (const s of rows) {
        const object = await bucket.get(s.r2Key as string);
        if (!object) throw new Error(`R2 object missing for ${s.id}`);
        yield {
          name: fileName(s),
          lastModified: new Date(s.capturedAt ?? s.createdAt),
          input: object.body,
          size: object.size,
        };
      }
      yield { name: "manifest.json", lastModified: new Date(now), input: manifest };
    }
    const metadata = [
      ...rows.map((s) => ({ name: fileName(s), size: s.bytes ?? 0 })),
      { name: "manifest.json", size: new TextEncoder().encode(manifest).byteLength },
    ];
    const zip = downloadZip(entries(), { metadata });
    const headers = new Headers(zip.headers);
    headers.set("Content-Type", "application/zip");
    headers.set(
      "Content-Disposition",
      `attachment; filename="screenshots-${new Date(now).toISOString().slice(0, 10)}.zip"`,
    );
    return new Response(zip.body, { status: 200, headers }) as never;
  });
