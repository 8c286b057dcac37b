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

/** A short, readable reason for a failed capture (no stack traces). */
export function describeError(err: unknown): string {
  const message = String((err as Error)?.message ?? err).split("\n")[0] ?? "Unknown error";
  return message.length > 500 ? `${message.slice(0, 497)}...` : message;
}
