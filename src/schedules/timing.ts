import { Cron } from "croner";
import { DAY, MINUTE } from "../lib/clock";

/**
 * Schedule timing on croner (5-field cron, IANA time zones, DST-aware next runs).
 * Frequency limits are judged on the clock face: a daily job is "every 24 h" even on the
 * day a DST change makes that gap 23 hours.
 */
export function parseCron(expression: string): Cron {
  return new Cron(expression.trim(), { mode: "5-part", paused: true, timezone: "UTC" });
}

/** How a cron expression is written, appended to every complaint about one. */
export const CRON_HELP =
  "A cron expression has 5 fields: minute hour day-of-month month day-of-week, e.g. `*/15 * * * *`";

/** The five fields in order, with what each accepts. */
const CRON_FIELDS = [
  { name: "minute", min: 0, max: 59, accepts: "0–59" },
  { name: "hour", min: 0, max: 23, accepts: "0–23" },
  { name: "day-of-month", min: 1, max: 31, accepts: "1–31 or L" },
  { name: "month", min: 1, max: 12, accepts: "1–12 or JAN–DEC" },
  { name: "day-of-week", min: 0, max: 7, accepts: "0–7 or SUN–SAT (0 and 7 are Sunday)" },
] as const;

const parses = (expression: string) => {
  try {
    parseCron(expression);
    return true;
  } catch {
    return false;
  }
};

/** What is wrong with one field, judged alone (every other field `*`). */
function fieldProblem(fields: string[], index: number): string | null {
  const value = fields[index] as string;
  const field = CRON_FIELDS[index] as (typeof CRON_FIELDS)[number];
  if (parses(fields.map((f, i) => (i === index ? f : "*")).join(" "))) return null;
  // Values, not step sizes (after `/`) or nth weekdays (after `#`).
  const values = [...value.replace(/[/#]\d+/g, "").matchAll(/\d+/g)].map((m) => Number(m[0]));
  if (values.some((v) => v < field.min || v > field.max))
    return `The ${field.name} field \`${value}\` is out of range: use ${field.accepts}`;
  return `The ${field.name} field \`${value}\` is not valid: use ${field.accepts}, \`*\`, lists (\`1,15\`), ranges (\`1-5\`) and steps (\`*/10\`)`;
}

/**
 * Why a schedule's cron expression is unusable, in words a user can act on (the number of
 * fields, or which field is wrong and what it accepts), or null when it is fine.
 */
export function cronError(expression: string): string | null {
  const fields = expression.trim().split(/\s+/).filter(Boolean);
  if (fields.length !== CRON_FIELDS.length) {
    return `Has ${fields.length} field${fields.length === 1 ? "" : "s"}, not ${CRON_FIELDS.length}. ${CRON_HELP}`;
  }
  if (!parses(expression)) {
    const problem = CRON_FIELDS.map((_, i) => fieldProblem(fields, i)).find((p) => p !== null);
    return `${problem ?? "Is not a valid cron expression"}. ${CRON_HELP}`;
  }
  const cron = parseCron(expression);
  if (cron.nextRun(new Date(0)) === null && cron.nextRun() === null) return "Never fires";
  return null;
}

export function isValidTimezone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone }).format(0);
    return true;
  } catch {
    return false;
  }
}

const HORIZON_DAYS = 2 * 366;

/**
 * The shortest gap between two runs, in minutes, over every day of the next two years —
 * not just the first gap. A cron's times of day are the same on every day it matches, so
 * the gap is the smallest of: two times within a day, or last-to-first across the closest
 * two matching days. Infinity when it fires at most once in that span.
 */
export function shortestGapMinutes(expression: string, from = Date.UTC(2030, 0, 1)): number {
  const cron = parseCron(expression);
  const days: number[] = [];
  let cursor = new Date(from - 1);
  const end = from + HORIZON_DAYS * DAY;
  while (days.length < HORIZON_DAYS) {
    const next = cron.nextRun(cursor);
    if (!next || next.getTime() >= end) break;
    const day = Math.floor(next.getTime() / DAY);
    days.push(day);
    cursor = new Date((day + 1) * DAY - 1);
  }
  if (days.length === 0) return Number.POSITIVE_INFINITY;
  const first = days[0] as number;
  const times: number[] = [];
  let t = new Date(first * DAY - 1);
  for (;;) {
    const next = cron.nextRun(t);
    if (!next || next.getTime() >= (first + 1) * DAY) break;
    times.push((next.getTime() - first * DAY) / MINUTE);
    t = next;
  }
  let gap = Number.POSITIVE_INFINITY;
  for (let i = 1; i < times.length; i++) gap = Math.min(gap, (times[i] as number) - (times[i - 1] as number));
  const firstTime = times[0] as number;
  const lastTime = times[times.length - 1] as number;
  for (let i = 1; i < days.length; i++) {
    gap = Math.min(gap, ((days[i] as number) - (days[i - 1] as number)) * 1440 - lastTime + firstTime);
  }
  return gap;
}

/** The first cron run strictly after `after`, in the schedule's time zone. */
export function nextCronRun(expression: string, timezone: string, after: number): number | null {
  const next = new Cron(expression.trim(), { mode: "5-part", paused: true, timezone }).nextRun(new Date(after));
  return next ? next.getTime() : null;
}

/** Interval schedules keep their phase: anchor + k × interval, the first one after `after`. */
export function nextIntervalRun(anchor: number, minutes: number, after: number): number {
  const step = minutes * MINUTE;
  if (after < anchor) return anchor;
  return anchor + (Math.floor((after - anchor) / step) + 1) * step;
}

export interface Timing {
  cron: string | null;
  intervalMinutes: number | null;
  timezone: string;
  createdAt: number;
}

/** The next run strictly after `after`; a missed window is not replayed, it fires once now. */
export function nextRunAfter(s: Timing, after: number): number | null {
  if (s.cron) return nextCronRun(s.cron, s.timezone, after);
  return nextIntervalRun(s.createdAt, s.intervalMinutes as number, after);
}

export const gapOf = (s: Pick<Timing, "cron" | "intervalMinutes">) =>
  s.cron ? shortestGapMinutes(s.cron) : (s.intervalMinutes as number);

const describeMinutes = (m: number) => (m % 60 === 0 ? `${m / 60} h` : `${m} min`);

/** Why a schedule with this shortest gap is too fast for a plan, or null when it fits. */
export function tooFast(gap: number, plan: { id: string; fastestScheduleMinutes: number }): string | null {
  if (gap >= plan.fastestScheduleMinutes) return null;
  return `Runs as often as every ${describeMinutes(gap)}; the ${plan.id} plan allows at most every ${describeMinutes(plan.fastestScheduleMinutes)}`;
}

/** Daily alert digests go out at 08:00 in the account's time zone. */
export const DIGEST_CRON = "0 8 * * *";

/** The next 08:00 in `timezone` after `now`. */
export const nextDigestAt = (timezone: string, now: number) => nextCronRun(DIGEST_CRON, timezone, now);

/** The latest 08:00 in `timezone` at or before `now`: where the last full digest period ends. */
export function lastDigestAt(timezone: string, now: number): number {
  let at = nextCronRun(DIGEST_CRON, timezone, now - 27 * 60 * MINUTE) ?? now;
  for (;;) {
    const next = nextCronRun(DIGEST_CRON, timezone, at);
    if (next === null || next > now) return at;
    at = next;
  }
}
