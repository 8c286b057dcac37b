/**
 * A failure caused by the target (navigation error, HTTP error status, timeout, missing
 * element, blocked request): retrying will not help, so the capture ends `failed` at once.
 * Anything else (browser unavailable or crashed, storage errors) is the platform's and is
 * retried with backoff.
 */
export class TargetError extends Error {
  override name = "TargetError";
}

const PLATFORM_PATTERNS = [
  /Target closed/i,
  /Session closed/i,
  /Connection closed/i,
  /Protocol error.*(closed|detached)/i,
  /browser has disconnected/i,
  /Unable to (create new browser|connect)/i,
  /WebSocket/i,
];

/** Errors puppeteer raises on a dead browser or connection, as opposed to the page's fault. */
export const isPlatformError = (err: unknown) =>
  !(err instanceof TargetError) && PLATFORM_PATTERNS.some((re) => re.test(String((err as Error)?.message ?? err)));

/**
 * Failures no retry can fix (the browser refused our input, or the page is beyond what it
 * can capture): the job ends `failed` at once with the reason, never retried as a platform error.
 */
const PERMANENT_PATTERNS: [RegExp, string][] = [
  [/Invalid (characters|header|value)/i, "The browser refused a capture option (invalid characters)"],
  [/Page is too large/i, "The page is too large to capture"],
  [/Cannot navigate to invalid URL/i, "The URL cannot be opened"],
  [
    /Unsupported image type|image is too large|Cannot take screenshot with 0 (width|height)/i,
    "The page cannot be captured",
  ],
];

/** The TargetError a permanent failure becomes, or null when a retry might help. */
export function permanentError(err: unknown): TargetError | null {
  if (err instanceof TargetError) return err;
  const message = String((err as Error)?.message ?? err);
  for (const [re, reason] of PERMANENT_PATTERNS) {
    if (re.test(message)) return new TargetError(`${reason}: ${describeError(err)}`);
  }
  return null;
}

/** A short, readable reason for a failed capture (no stack traces). */
export function describeError(err: unknown): string {
  const message = String((err as Error)?.message ?? err).split("\n")[0] ?? "Unknown error";
  return message.length > 500 ? `${message.slice(0, 497)}...` : message;
}
