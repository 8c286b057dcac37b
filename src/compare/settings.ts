import { z } from "@hono/zod-openapi";

const selector = z.string().trim().min(1, "Must not be empty").max(500, "Must be at most 500 characters");
const px = (max: number) => z.number().int().min(0).max(max);

export const IgnoreRegionSchema = z
  .object({ x: px(100_000), y: px(100_000), width: px(100_000).min(1), height: px(100_000).min(1) })
  .strict();

/** A website's change detection (stored whole; every field has its contract default). */
export const ChangeDetectionSchema = z
  .object({
    enabled: z.boolean().default(true),
    threshold: z
      .number()
      .min(0)
      .max(100)
      .default(0.1)
      .openapi({ description: "% of the compared area that must differ." }),
    tile_threshold: z
      .number()
      .min(0)
      .max(100)
      .default(2)
      .openapi({ description: "% of any 64×64 tile that must differ." }),
    ignore_selectors: z.array(selector).max(20, "At most 20 selectors").default([]),
    ignore_regions: z.array(IgnoreRegionSchema).max(20, "At most 20 regions").default([]),
    baseline: z.enum(["previous", "approved"]).default("previous"),
  })
  .strict()
  .openapi("ChangeDetection");

export type ChangeDetection = z.output<typeof ChangeDetectionSchema>;
export type ChangeDetectionInput = z.input<typeof ChangeDetectionSchema>;

/** Stored settings (JSON) with defaults filled; an unreadable value means the defaults. */
export function parseChangeDetection(json: string | null | undefined): ChangeDetection {
  const parsed = ChangeDetectionSchema.safeParse(json ? JSON.parse(json) : {});
  return parsed.success ? parsed.data : ChangeDetectionSchema.parse({});
}

/** What a screenshot needs to match a "previous" baseline: viewport, scale, format, full page, clip. */
export function compareKey(o: {
  viewport: { width: number; height: number };
  device_scale_factor: number;
  format: string;
  full_page: boolean;
  selector?: string | null;
}): string {
  return JSON.stringify([
    o.viewport.width,
    o.viewport.height,
    o.device_scale_factor,
    o.format,
    o.full_page,
    o.selector ?? null,
  ]);
}
