import { createRoute, z } from "@hono/zod-openapi";
import { pageSchema } from "../../db/pagination";
import {
  errorContent,
  IdempotencyHeader,
  idempotentResponses,
  idParam,
  jobResponses,
  json,
  jsonBody,
  PreferHeader,
  v1ErrorResponses,
  v1Security,
} from "../../lib/openapi";
import { idempotent } from "../../middleware/idempotency";
import { MAX_BULK } from "../../services/downloads";
import { BulkDownload, CreateScreenshot, ListQuery, ScreenshotSchema } from "./screenshots.schemas";

const tags = ["Screenshots"];
const params = idParam("Screenshot", "shot_01jf8z3k6m9q2w4e6r8t0y2u4i");
const binary = (type: string, description: string) => ({
  description,
  content: { [type]: { schema: z.string().openapi({ format: "binary" }) } },
});

export const create = createRoute({
  method: "post",
  path: "/v1/screenshots",
  operationId: "createScreenshot",
  tags,
  security: v1Security,
  summary: "Take a screenshot (queued; poll it, or wait with Prefer: wait)",
  middleware: [idempotent()] as const,
  request: { headers: IdempotencyHeader.extend(PreferHeader.shape), body: jsonBody(CreateScreenshot) },
  responses: { ...jobResponses(ScreenshotSchema, "screenshot"), ...v1ErrorResponses, ...idempotentResponses },
});

export const list = createRoute({
  method: "get",
  path: "/v1/screenshots",
  operationId: "listScreenshots",
  tags,
  security: v1Security,
  summary: "List screenshots, newest first",
  request: { query: ListQuery },
  responses: {
    200: json(pageSchema(ScreenshotSchema).openapi("ScreenshotPage"), "A page of screenshots."),
    ...v1ErrorResponses,
  },
});

export const get = createRoute({
  method: "get",
  path: "/v1/screenshots/{id}",
  operationId: "getScreenshot",
  tags,
  security: v1Security,
  summary: "Get a screenshot's record",
  request: { params },
  responses: { 200: json(ScreenshotSchema, "The screenshot."), ...v1ErrorResponses },
});

const etag = { description: "The image's SHA-256, quoted.", schema: { type: "string" as const } };
const cacheControl = { description: "`private, max-age=31536000, immutable`", schema: { type: "string" as const } };

export const download = createRoute({
  method: "get",
  path: "/v1/screenshots/{id}/download",
  operationId: "downloadScreenshot",
  tags,
  security: v1Security,
  summary: "Download the image",
  description:
    'Streams the image with its Content-Type and an ETag (the SHA-256); `If-None-Match` naming it answers 304, compared weakly (`W/"…"` matches too).',
  request: {
    params,
    headers: z.object({
      "if-none-match": z
        .string()
        .optional()
        .openapi({
          param: { name: "if-none-match", in: "header" },
          description: "An ETag you hold (or `*`): 304 when it is still the image.",
        }),
    }),
  },
  responses: {
    200: { ...binary("image/*", "The image bytes."), headers: { ETag: etag, "Cache-Control": cacheControl } },
    304: { description: "Not modified.", headers: { ETag: etag } },
    409: errorContent("Not completed yet (`conflict`)."),
    ...v1ErrorResponses,
  },
});

export const text = createRoute({
  method: "get",
  path: "/v1/screenshots/{id}/text",
  operationId: "getScreenshotText",
  tags,
  security: v1Security,
  summary: "Download the page's visible text",
  description:
    "The `innerText` of the capture's `selector` element, else of `body`, whitespace-normalised, one line per block, at most 256 KB (UTF-8), kept next to the image and deleted with it. 409 until the capture has completed; 404 when it has no text.",
  request: { params },
  responses: {
    200: {
      description: "The text.",
      content: { "text/plain": { schema: z.string() } },
      headers: { ETag: { description: "The text's SHA-256, quoted.", schema: { type: "string" as const } } },
    },
    409: errorContent("Not completed yet (`conflict`)."),
    ...v1ErrorResponses,
  },
});

export const remove = createRoute({
  method: "delete",
  path: "/v1/screenshots/{id}",
  operationId: "deleteScreenshot",
  tags,
  security: v1Security,
  summary: "Delete a screenshot (record and bytes)",
  request: { params },
  responses: { 204: { description: "Deleted." }, ...v1ErrorResponses },
});

export const bulk = createRoute({
  method: "post",
  path: "/v1/screenshots/download-bulk",
  operationId: "downloadScreenshotsBulk",
  tags,
  security: v1Security,
  summary: "Download many screenshots as one streamed ZIP (Pro and Business)",
  description: `Either \`ids\` (≤ ${MAX_BULK}) or \`website_id\` with optional \`since\`/\`until\` (≤ ${MAX_BULK} matches). Includes a manifest.json.`,
  request: { body: jsonBody(BulkDownload) },
  responses: {
    200: binary("application/zip", "The archive, streamed."),
    409: errorContent("Some screenshots are not completed (`conflict`)."),
    ...v1ErrorResponses,
  },
});

export const diff = createRoute({
  method: "get",
  path: "/v1/screenshots/{id}/diff",
  operationId: "getScreenshotDiff",
  tags,
  security: v1Security,
  summary: "Download the comparison's diff PNG",
  description:
    "The capture faded, with the pixels that changed against its baseline in red. 409 while the comparison is pending; 404 when there is none (no baseline, detection off, a failed comparison, or identical bytes).",
  request: { params },
  responses: {
    200: binary("image/png", "The diff image."),
    409: errorContent("The comparison is still pending (`conflict`)."),
    ...v1ErrorResponses,
  },
});

export const approve = createRoute({
  method: "post",
  path: "/v1/screenshots/{id}/approve",
  operationId: "approveScreenshot",
  tags,
  security: v1Security,
  summary: "Make a completed capture its website's approved baseline",
  description:
    'The capture is the website\'s baseline from now on: its `change_detection.baseline` becomes `"approved"` (if it was `"previous"`), so new captures are compared with this one until another is approved or the website goes back to `"previous"` (`PATCH /v1/websites/{id}`). The approved baseline is kept past retention while it is the baseline.',
  request: { params },
  responses: {
    200: json(ScreenshotSchema, "The approved screenshot."),
    409: errorContent("Not a completed website capture (`conflict`)."),
    ...v1ErrorResponses,
  },
});

export type CreateRoute = typeof create;
export type DiffRoute = typeof diff;
export type TextRoute = typeof text;
export type ApproveRoute = typeof approve;
export type ListRoute = typeof list;
export type GetRoute = typeof get;
export type DownloadRoute = typeof download;
export type RemoveRoute = typeof remove;
export type BulkRoute = typeof bulk;
