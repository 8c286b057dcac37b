import cronstrue from "cronstrue";

/**
 * Schedules in words, for lists and previews: cron through cronstrue ("At 09:00, Monday
 * through Friday"), intervals by hand ("Every 15 minutes"), with the time zone a cron runs in.
 */
export function describeCron(expression: string): string {
  try {
    return cronstrue.toString(expression, {
      use24HourTimeFormat: true,
      verbose: false,
      throwExceptionOnParseError: true,
    });
  } catch {
    return expression;
  }
}

export const describeInterval = (minutes: number) =>
  minutes % 1440 === 0
    ? minutes === 1440
      ? "Every day"
      : `Every ${minutes / 1440} days`
    : minutes % 60 === 0
      ? minutes === 60
        ? "Every hour"
        : `Every ${minutes / 60} hours`
      : minutes === 1
        ? "Every minute"
        : `Every ${minutes} minutes`;

export function describeTiming(s: { cron: string | null; intervalMinutes: number | null; timezone: string }): string {
  if (s.cron) return `${describeCron(s.cron)}${s.timezone === "UTC" ? " (UTC)" : ` (${s.timezone})`}`;
  return describeInterval(s.intervalMinutes ?? 0);
}
