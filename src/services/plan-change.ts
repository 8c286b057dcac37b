/**
 * What a plan change would do to this account, said before it is made: what an upgrade
 * adds, and what a downgrade will stop or refuse (the contract: a downgrade never deletes
 * data, but over-limit resources cannot grow, features the plan lacks answer 403, schedules
 * faster than it pause, and retention keeps only the new plan's history).
 */
import { and, count, eq, lt, sql } from "drizzle-orm";
import type { Db, DirectoryDb } from "../db/client";
import { alertChannels, schedules, screenshots, webhooks, websites } from "../db/schema";
import { DAY } from "../lib/clock";
import type { Plan } from "../limits/plans";
import { tooFast } from "../schedules/timing";
import { seatsUsed } from "./accounts";

export interface PlanChangeEffects {
  direction: "upgrade" | "downgrade" | "same";
  /** What the target plan adds or raises (upgrades). */
  gains: string[];
  /** What it will stop, pause, delete or refuse (downgrades), with this account's numbers. */
  losses: string[];
  /** Enabled schedules that will be paused (too fast for the target), by website or scenario name. */
  paused: { id: string; label: string; reason: string }[];
}

const n = (x: number) => x.toLocaleString("en-US");
const plural = (x: number, one: string, many = `${one}s`) => `${n(x)} ${x === 1 ? one : many}`;
const every = (m: number) => (m % 60 === 0 ? `${m / 60} h` : `${m} min`);

export async function planChangeEffects(
  db: Db,
  directory: DirectoryDb,
  accountId: string,
  current: Plan,
  target: Plan,
  now: number,
): Promise<PlanChangeEffects> {
  const direction = target.rank > current.rank ? "upgrade" : target.rank < current.rank ? "downgrade" : "same";
  const gains: string[] = [];
  const losses: string[] = [];
  const paused: PlanChangeEffects["paused"] = [];
  if (direction === "upgrade") {
    if (target.apiAccess && !current.apiAccess)
      gains.push(`The REST API, ${n(target.requestsPerMinute)} requests a minute`);
    else if (target.requestsPerMinute > current.requestsPerMinute)
      gains.push(`${n(target.requestsPerMinute)} API requests a minute (from ${n(current.requestsPerMinute)})`);
    gains.push(`${plural(target.websites, "website")} (from ${n(current.websites)})`);
    gains.push(`${n(target.capturesPerDay)} captures a day and ${n(target.capturesPerMonth)} a month`);
    gains.push(`${n(target.historyDays)} days of history (from ${n(current.historyDays)})`);
    if (target.fastestScheduleMinutes < current.fastestScheduleMinutes)
      gains.push(`Schedules as often as every ${every(target.fastestScheduleMinutes)}`);
    if (target.bulkZip && !current.bulkZip) gains.push("Bulk ZIP downloads of screenshots");
    gains.push(
      `${plural(target.teamUsers, "team seat")}, ${plural(target.webhookEndpoints, "webhook endpoint")} and ${plural(target.alertChannels, "alert channel")}`,
    );
    return { direction, gains, losses, paused };
  }
  if (direction === "same") return { direction, gains, losses, paused };

  if (current.apiAccess && !target.apiAccess)
    losses.push("The API: every call with the account's token answers 403 (the token is kept).");
  else if (target.requestsPerMinute < current.requestsPerMinute)
    losses.push(
      `API requests are limited to ${n(target.requestsPerMinute)} a minute (now ${n(current.requestsPerMinute)}).`,
    );
  if (current.bulkZip && !target.bulkZip) losses.push("Bulk ZIP downloads answer 403.");

  const [sites] = await db.select({ n: count() }).from(websites);
  if ((sites?.n ?? 0) > target.websites)
    losses.push(
      `You have ${plural(sites?.n ?? 0, "website")}; ${target.id} allows ${n(target.websites)}. They stay readable, but no website can be added until ${n((sites?.n ?? 0) - target.websites)} ${(sites?.n ?? 0) - target.websites === 1 ? "is" : "are"} deleted.`,
    );
  const [hooks] = await db.select({ n: count() }).from(webhooks);
  if ((hooks?.n ?? 0) > target.webhookEndpoints)
    losses.push(
      `You have ${plural(hooks?.n ?? 0, "webhook endpoint")}; ${target.id} allows ${n(target.webhookEndpoints)}. They keep working, but no endpoint can be added.`,
    );
  const [channels] = await db.select({ n: count() }).from(alertChannels);
  if ((channels?.n ?? 0) > target.alertChannels)
    losses.push(
      `You have ${plural(channels?.n ?? 0, "alert channel")}; ${target.id} allows ${n(target.alertChannels)}. They keep alerting, but no channel can be added.`,
    );
  const seats = await seatsUsed(directory, accountId, now);
  if (seats > target.teamUsers)
    losses.push(
      `${plural(seats, "seat")} are taken (people and invitations); ${target.id} has ${n(target.teamUsers)}. Nobody is removed, but nobody new can be invited.`,
    );
  if (target.capturesPerDay < current.capturesPerDay)
    losses.push(`Captures are limited to ${n(target.capturesPerDay)} a day and ${n(target.capturesPerMonth)} a month.`);

  const cutoff = now - target.historyDays * DAY;
  const [old] = await db.select({ n: count() }).from(screenshots).where(lt(screenshots.createdAt, cutoff));
  if (target.historyDays < current.historyDays)
    losses.push(
      (old?.n ?? 0) > 0
        ? `History is kept ${n(target.historyDays)} days: ${plural(old?.n ?? 0, "screenshot")} older than that will be deleted by retention (today's count).`
        : `History is kept ${n(target.historyDays)} days (from ${n(current.historyDays)}): older screenshots and runs will be deleted.`,
    );

  const enabled = await db
    .select({
      id: schedules.id,
      gap: schedules.gapMinutes,
      label: sql<string>`coalesce((SELECT name FROM websites WHERE id = ${schedules.websiteId}), (SELECT name FROM scenarios WHERE id = ${schedules.scenarioId}), ${schedules.id})`,
    })
    .from(schedules)
    .where(and(eq(schedules.enabled, true)));
  for (const s of enabled) {
    const reason = tooFast(s.gap, target);
    if (reason) paused.push({ id: s.id, label: s.label, reason });
  }
  if (paused.length)
    losses.push(
      `${plural(paused.length, "schedule")} ${paused.length === 1 ? "runs" : "run"} more often than ${target.id} allows (every ${every(target.fastestScheduleMinutes)}) and will be paused.`,
    );
  return { direction, gains, losses, paused };
}
