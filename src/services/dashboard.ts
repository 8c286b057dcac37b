/**
 * Reads the dashboard's pages need, each page's in one D1 round trip (`db.batch`). Every
 * query is scoped by account; another account's id finds nothing (the page answers 404).
 */
import { and, count, desc, eq, lt, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import type { Db } from "../db/client";
import { decodeCursor, encodeCursor } from "../db/pagination";
import {
  type Scenario,
  type Schedule,
  type Screenshot,
  scenarios,
  schedules,
  screenshots,
  type Website,
  websites,
} from "../db/schema";
import { notFound } from "../lib/errors";

/** Screenshots shown on the overview. */
export const OVERVIEW_SHOTS = 8;
/** Screenshots per gallery page on a website's page. */
export const GALLERY_PAGE = 24;

export async function overviewData(db: Db, accountId: string) {
  const [sites, latest] = await db.batch([
    db.select({ n: count() }).from(websites).where(eq(websites.accountId, accountId)),
    db
      .select()
      .from(screenshots)
      .where(eq(screenshots.accountId, accountId))
      .orderBy(desc(screenshots.id))
      .limit(OVERVIEW_SHOTS),
  ]);
  return { websites: sites[0]?.n ?? 0, latest: latest as Screenshot[] };
}

/** Every website of the account (the plan caps them at 100) with its newest completed screenshot. */
export async function websitesWithLatest(db: Db, accountId: string) {
  const [sites, latest] = await db.batch([
    db.select().from(websites).where(eq(websites.accountId, accountId)).orderBy(desc(websites.id)),
    db
      .select()
      .from(screenshots)
      .where(
        sql`${screenshots.id} IN (SELECT max(s.id) FROM screenshots s WHERE s.account_id = ${accountId} AND s.status = 'completed' GROUP BY s.website_id)`,
      ),
  ]);
  const byWebsite = new Map((latest as Screenshot[]).map((s) => [s.websiteId, s]));
  return (sites as Website[]).map((website) => ({ website, latest: byWebsite.get(website.id) ?? null }));
}

/** A website's page: the website, one page of its screenshots (newest first), its schedules and scenarios. */
export async function websitePageData(db: Db, accountId: string, websiteId: string, cursor: string | undefined) {
  const before = decodeCursor(cursor);
  const [site, shots, scheds, scens] = await db.batch([
    db
      .select()
      .from(websites)
      .where(and(eq(websites.id, websiteId), eq(websites.accountId, accountId))),
    db
      .select()
      .from(screenshots)
      .where(
        and(
          eq(screenshots.accountId, accountId),
          eq(screenshots.websiteId, websiteId),
          before ? lt(screenshots.id, before) : undefined,
        ),
      )
      .orderBy(desc(screenshots.id))
      .limit(GALLERY_PAGE + 1),
    db
      .select()
      .from(schedules)
      .where(and(eq(schedules.accountId, accountId), eq(schedules.websiteId, websiteId)))
      .orderBy(desc(schedules.id)),
    db
      .select()
      .from(scenarios)
      .where(and(eq(scenarios.accountId, accountId), eq(scenarios.websiteId, websiteId)))
      .orderBy(desc(scenarios.id)),
  ]);
  const website = (site as Website[])[0];
  if (!website) throw notFound("Website");
  const rows = shots as Screenshot[];
  const more = rows.length > GALLERY_PAGE;
  const page = more ? rows.slice(0, GALLERY_PAGE) : rows;
  const last = page[page.length - 1];
  return {
    website,
    screenshots: page,
    nextCursor: more && last ? encodeCursor(last.id) : null,
    schedules: scheds as Schedule[],
    scenarios: scens as Scenario[],
  };
}

/** A screenshot with its website's name and id, in one query (the screenshot page). */
export async function screenshotWithWebsite(db: Db, accountId: string, id: string) {
  const row = await db
    .select({
      shot: screenshots,
      website: { id: websites.id, name: websites.name, baselineScreenshotId: websites.baselineScreenshotId },
    })
    .from(screenshots)
    .innerJoin(websites, eq(websites.id, screenshots.websiteId))
    .where(and(eq(screenshots.id, id), eq(screenshots.accountId, accountId)))
    .get();
  if (!row) throw notFound("Screenshot");
  return row;
}

/**
 * The compare page: a screenshot, its website (name, baseline choice, approved baseline) and
 * the screenshot it was compared with, in one query. The baseline is looked up in the same
 * account only; one deleted since (or never there) is null.
 */
export async function compareData(db: Db, accountId: string, id: string) {
  const baseline = alias(screenshots, "baseline");
  const row = await db
    .select({
      shot: screenshots,
      website: {
        id: websites.id,
        name: websites.name,
        changeDetection: websites.changeDetection,
        baselineScreenshotId: websites.baselineScreenshotId,
      },
      baseline,
    })
    .from(screenshots)
    .innerJoin(websites, eq(websites.id, screenshots.websiteId))
    .leftJoin(baseline, and(eq(baseline.id, screenshots.baselineId), eq(baseline.accountId, accountId)))
    .where(and(eq(screenshots.id, id), eq(screenshots.accountId, accountId)))
    .get();
  if (!row) throw notFound("Screenshot");
  return row;
}
