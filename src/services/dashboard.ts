/**
 * Reads the dashboard's pages need, each page's in one D1 round trip (`db.batch`). Every
 * query is scoped by account; another account's id finds nothing (the page answers 404).
 */
import { and, count, desc, eq, lt, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import type { Db } from "../db/client";
import { decodeCursor, encodeCursor } from "../db/pagination";
import {
  type Run,
  runs,
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

/** Runs per page of a scenario's run history. */
export const RUNS_PAGE = 20;

/** `/app/scenarios`: every scenario with its website's name and its latest run. */
export async function scenariosPageData(db: Db, accountId: string) {
  const [scens, sites, latest] = await db.batch([
    db.select().from(scenarios).where(eq(scenarios.accountId, accountId)).orderBy(desc(scenarios.id)),
    db
      .select({ id: websites.id, name: websites.name, url: websites.url })
      .from(websites)
      .where(eq(websites.accountId, accountId))
      .orderBy(desc(websites.id)),
    db
      .select()
      .from(runs)
      .where(
        sql`${runs.id} IN (SELECT max(r.id) FROM runs r WHERE r.account_id = ${accountId} GROUP BY r.scenario_id)`,
      ),
  ]);
  const names = new Map(sites.map((w) => [w.id, w.name]));
  const byScenario = new Map((latest as Run[]).map((r) => [r.scenarioId, r]));
  return {
    websites: sites,
    scenarios: (scens as Scenario[]).map((scenario) => ({
      scenario,
      website: names.get(scenario.websiteId) ?? "",
      latest: byScenario.get(scenario.id) ?? null,
    })),
  };
}

/** A scenario's page: the scenario, its website, one page of its runs (newest first). */
export async function scenarioPageData(db: Db, accountId: string, scenarioId: string, cursor: string | undefined) {
  const before = decodeCursor(cursor);
  const [scen, site, history] = await db.batch([
    db
      .select()
      .from(scenarios)
      .where(and(eq(scenarios.id, scenarioId), eq(scenarios.accountId, accountId))),
    db
      .select()
      .from(websites)
      .where(
        and(
          eq(websites.accountId, accountId),
          sql`${websites.id} = (SELECT s.website_id FROM scenarios s WHERE s.id = ${scenarioId} AND s.account_id = ${accountId})`,
        ),
      ),
    db
      .select()
      .from(runs)
      .where(
        and(eq(runs.accountId, accountId), eq(runs.scenarioId, scenarioId), before ? lt(runs.id, before) : undefined),
      )
      .orderBy(desc(runs.id))
      .limit(RUNS_PAGE + 1),
  ]);
  const scenario = (scen as Scenario[])[0];
  const website = (site as Website[])[0];
  if (!scenario || !website) throw notFound("Scenario");
  const rows = history as Run[];
  const more = rows.length > RUNS_PAGE;
  const page = more ? rows.slice(0, RUNS_PAGE) : rows;
  const last = page[page.length - 1];
  return { scenario, website, runs: page, nextCursor: more && last ? encodeCursor(last.id) : null };
}

/** A run's page: the run, its scenario and website, and the screenshots it took. */
export async function runPageData(db: Db, accountId: string, runId: string) {
  const [run, scen, site, shots] = await db.batch([
    db
      .select()
      .from(runs)
      .where(and(eq(runs.id, runId), eq(runs.accountId, accountId))),
    db
      .select({ id: scenarios.id, name: scenarios.name })
      .from(scenarios)
      .where(
        and(
          eq(scenarios.accountId, accountId),
          sql`${scenarios.id} = (SELECT r.scenario_id FROM runs r WHERE r.id = ${runId} AND r.account_id = ${accountId})`,
        ),
      ),
    db
      .select({ id: websites.id, name: websites.name })
      .from(websites)
      .where(
        and(
          eq(websites.accountId, accountId),
          sql`${websites.id} = (SELECT r.website_id FROM runs r WHERE r.id = ${runId} AND r.account_id = ${accountId})`,
        ),
      ),
    db
      .select()
      .from(screenshots)
      .where(and(eq(screenshots.accountId, accountId), eq(screenshots.runId, runId))),
  ]);
  const row = (run as Run[])[0];
  const scenario = scen[0];
  const website = site[0];
  if (!row || !scenario || !website) throw notFound("Run");
  return { run: row, scenario, website, screenshots: shots as Screenshot[] };
}

/** `/app/schedules` and the schedule form: every schedule, and the websites and scenarios one can target. */
export async function schedulesPageData(db: Db, accountId: string) {
  const [scheds, sites, scens] = await db.batch([
    db.select().from(schedules).where(eq(schedules.accountId, accountId)).orderBy(desc(schedules.id)),
    db
      .select({ id: websites.id, name: websites.name })
      .from(websites)
      .where(eq(websites.accountId, accountId))
      .orderBy(desc(websites.id)),
    db
      .select({ id: scenarios.id, name: scenarios.name, websiteId: scenarios.websiteId })
      .from(scenarios)
      .where(eq(scenarios.accountId, accountId))
      .orderBy(desc(scenarios.id)),
  ]);
  return { schedules: scheds as Schedule[], websites: sites, scenarios: scens };
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
