import { z } from "@hono/zod-openapi";
import { CaptureOptionsSchema } from "../../capture/options";
import { TriggerSchema } from "../../compare/settings";
import { MAX_LISTED_LINES } from "../../compare/text";
import { pageQuery } from "../../db/pagination";
import { COMPARISON_STATUSES, IMAGE_FORMATS, SCREENSHOT_SOURCES, SCREENSHOT_STATUSES } from "../../lib/values";
import { MAX_BULK } from "../../services/downloads";

export const isoTime = z.iso.datetime({ offset: true, message: "Must be an ISO-8601 date-time" });

const TextComparisonSchema = z
  .object({
    changed: z.boolean(),
    added_count: z.number().int(),
    removed_count: z.number().int(),
    added: z.array(z.string()).openapi({ description: `Added lines, in page order (at most ${MAX_LISTED_LINES}).` }),
    removed: z
      .array(z.string())
      .openapi({ description: `Removed lines, in page order (at most ${MAX_LISTED_LINES}).` }),
  })
  .openapi("TextComparison");

const RegionSchema = z.object({
  x: z.number().int(),
  y: z.number().int(),
  width: z.number().int(),
  height: z.number().int(),
});

export const ComparisonSchema = z
  .object({
    status: z.enum(COMPARISON_STATUSES),
    baseline_id: z.string().nullable(),
    changed: z.boolean().nullable(),
    changed_pixels: z.number().int().nullable(),
    change_ratio: z.number().nullable().openapi({ description: "Changed ÷ compared pixels (0–1)." }),
    max_tile_ratio: z
      .number()
      .nullable()
      .openapi({ description: "The largest changed share of one 64×64 tile (0–1)." }),
    regions: z
      .array(RegionSchema)
      .openapi({ description: "Where it changed: at most 20 merged boxes (image pixels)." }),
    size_changed: z.boolean().nullable(),
    diff_url: z.string().nullable(),
    text: TextComparisonSchema.nullable().openapi({
      description:
        "The line diff of the page's text against the same baseline; null when text is off or either capture kept none.",
    }),
    triggered: z.array(TriggerSchema).openapi({
      description: "The triggers that fired (with triggers set, a comparison is `changed` only when one fires).",
    }),
    transient: z.boolean().openapi({
      description:
        "`confirm: true`: the change was gone when the confirming capture looked 60 s later, so it was not reported (`changed: false`).",
    }),
    error: z.string().optional().openapi({ description: "Why the comparison failed." }),
  })
  .openapi("Comparison");

export const ScreenshotSchema = z
  .object({
    id: z.string().openapi({ example: "shot_01jf8z3k6m9q2w4e6r8t0y2u4i" }),
    website_id: z.string(),
    status: z.enum(SCREENSHOT_STATUSES),
    source: z.enum(SCREENSHOT_SOURCES),
    url: z.string(),
    capture: z.record(z.string(), z.unknown()).openapi({ description: "The effective options the capture used." }),
    error: z.string().nullable(),
    format: z.enum(IMAGE_FORMATS).nullable(),
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
    comparison: ComparisonSchema.nullable().openapi({
      description: "Change detection against the website's baseline; null when there is none.",
    }),
  })
  .openapi("Screenshot");

export const CreateScreenshot = z
  .object({ website_id: z.string().min(1, "Is required"), capture: CaptureOptionsSchema.optional() })
  .strict()
  .openapi("CreateScreenshot");

export const ListQuery = pageQuery.extend({
  website_id: z.string().optional(),
  status: z.enum(SCREENSHOT_STATUSES).optional(),
  source: z.enum(SCREENSHOT_SOURCES).optional(),
  since: isoTime.optional().openapi({ description: "Created at or after (ISO-8601)." }),
  until: isoTime.optional().openapi({ description: "Created at or before (ISO-8601)." }),
});

export const BulkDownload = z
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
