import { z } from "@hono/zod-openapi";
import { CaptureOptionsSchema } from "../../capture/options";
import { ChangeDetectionSchema } from "../../compare/settings";

export const WebsiteSchema = z
  .object({
    id: z.string().openapi({ example: "web_01jf8z3k6m9q2w4e6r8t0y2u4i" }),
    name: z.string(),
    url: z.string(),
    capture: CaptureOptionsSchema,
    created_at: z.string(),
    updated_at: z.string(),
    last_capture_at: z.string().nullable(),
    change_detection: ChangeDetectionSchema,
    baseline_screenshot_id: z
      .string()
      .nullable()
      .openapi({ description: "The approved baseline (`POST /v1/screenshots/{id}/approve`), if any." }),
  })
  .openapi("Website");

export const name = z.string().trim().min(1, "Is required").max(100, "Must be at most 100 characters");

export const url = z.string().trim().min(1, "Is required").max(2048, "Must be at most 2048 characters");

export const CreateWebsite = z
  .object({ name, url, capture: CaptureOptionsSchema.optional(), change_detection: ChangeDetectionSchema.optional() })
  .strict()
  .openapi("CreateWebsite");

export const UpdateWebsite = z
  .object({
    name: name.optional(),
    url: url.optional(),
    capture: CaptureOptionsSchema.optional().openapi({ description: "Replaces the stored defaults." }),
    change_detection: ChangeDetectionSchema.optional().openapi({
      description: "Replaces the stored settings (fields left out take their defaults).",
    }),
  })
  .strict()
  .openapi("UpdateWebsite");
