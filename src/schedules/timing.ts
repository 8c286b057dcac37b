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

export function cronError(expression: string): string | null {
  try {
    const cron = parseCron(expression);
    if (cron.nextRun(new Date(0)) === null && cron.nextRun() === null) return "Never fires";
    return null;
  } catch (err) {
    return `Is not a valid 5-field cron expression (${String((err as Error).message).replace(/^CronPattern: /, "")})`;
  }
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
