import { z } from "@hono/zod-openapi";
import safeRegex from "safe-regex2";

const selector = z.string().trim().min(1, "Must not be empty").max(500, "Must be at most 500 characters");
const px = (max: number) => z.number().int().min(0).max(max);

export const IgnoreRegionSchema = z
  .object({ x: px(100_000), y: px(100_000), width: px(100_000).min(1), height: px(100_000).min(1) })
  .strict();

/** Triggers per website, at most. */
export const MAX_TRIGGERS = 10;

/**
 * Whether a trigger's regex may be stored: it must compile, and safe-regex2 (star height ≤ 1,
 * at most 25 repetitions) must not call it prone to catastrophic backtracking — it runs
 * against up to 256 KB of page text on every comparison.
 */
export function regexProblem(source: string): string | null {
  try {
    new RegExp(source, "m");
  } catch (err) {
    return `Not a valid regular expression: ${(err as Error).message}`;
  }
  if (!safeRegex(source)) {
    return "This regular expression may take exponential time (nested repetition, catastrophic backtracking); simplify it";
  }
  return null;
}

export const TriggerSchema = z
  .object({
    type: z.enum(["text_appears", "text_disappears"]),
    value: z.string().trim().min(1, "Must not be empty").max(500, "Must be at most 500 characters"),
    regex: z.boolean().default(false),
  })
  .strict()
  .superRefine((t, ctx) => {
    const problem = t.regex ? regexProblem(t.value) : null;
    if (problem) ctx.addIssue({ code: "custom", path: ["value"], message: problem });
  })
  .openapi("ChangeTrigger", {
    description:
      "Fires when `value` (plain text, or a JavaScript regular expression with `regex: true`, matched per line with the `m` flag) is found in the capture's text and not in the baseline's (`text_appears`), or the other way round (`text_disappears`). Case-sensitive.",
  });

export type Trigger = z.output<typeof TriggerSchema>;

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
    text: z
      .boolean()
      .default(true)
      .openapi({ description: "Compare the page's visible text too (`comparison.text`)." }),
    triggers: z
      .array(TriggerSchema)
      .max(MAX_TRIGGERS, `At most ${MAX_TRIGGERS} triggers`)
      .default([])
      .openapi({ description: "With triggers, a comparison counts as changed only when one of them fires." }),
    confirm: z.boolean().default(false).openapi({
      description:
        "Report a change only once a second capture 60 s later shows it too; otherwise it is stored as `comparison.transient: true`.",
    }),
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
