/**
 * Value sets shared by the data model (drizzle), the API schemas (zod) and the tests: each
 * list has this one home.
 */
export const PLAN_IDS = ["free", "starter", "pro", "business"] as const;
export type PlanId = (typeof PLAN_IDS)[number];

export const SCREENSHOT_STATUSES = ["queued", "processing", "completed", "failed"] as const;
export type ScreenshotStatus = (typeof SCREENSHOT_STATUSES)[number];

export const SCREENSHOT_SOURCES = ["api", "schedule", "scenario"] as const;
export type ScreenshotSource = (typeof SCREENSHOT_SOURCES)[number];

export const IMAGE_FORMATS = ["png", "jpeg", "webp"] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

export const RUN_STATUSES = ["queued", "running", "passed", "failed", "error"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const RUN_TRIGGERS = ["api", "schedule"] as const;
export type RunTrigger = (typeof RUN_TRIGGERS)[number];

/**
 * A step the run has not reached (yet, or ever: the run stopped before it) is `pending`;
 * `skipped` is a step the run reached and passed over on purpose (an optional click whose
 * element was absent).
 */
export const STEP_STATUSES = ["pending", "passed", "failed", "skipped"] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/** A scenario run's overall time budget unless the scenario sets `timeout_ms`. */
export const DEFAULT_RUN_TIMEOUT_MS = 120_000;

/** Request bodies are refused past this size (413). */
export const MAX_BODY_BYTES = 1024 * 1024;
export const MAX_BODY_TEXT = `${MAX_BODY_BYTES / (1024 * 1024)} MB`;

/** `Prefer: wait=<seconds>` on the POSTs that start work: the longest wait honoured (RFC 7240). */
export const MAX_PREFER_WAIT_SECONDS = 60;
