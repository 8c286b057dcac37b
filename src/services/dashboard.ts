/**
 * Reads the dashboard's pages need, from the account's own database (the page runs in the
 * account's object, so each query is a local SQLite read). Another account's id finds
 * nothing here (the page answers 404).
 */
import { and, count, desc, eq, lt, ne, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import type { Db } from "../db/client";
import { decodeCursor, encodeCursor } from "../db/pagination";
import { runs, type Screenshot, scenarios, schedules, screenshots, webhooks, websites } from "../db/schema";
import { notFound } from "../lib/errors";

/** Screenshots shown on the overview. */
export const OVERVIEW_SHOTS = 8;
/** Screenshots per gallery page on a website's page. */
export const GALLERY_PAGE = 24;

/** A page of `limit` rows fetched as `limit + 1`, and the cursor of the next page. */
function paged<T extends { id: string }>(rows: T[], limit: number) {
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const last = page[page.length - 1];
  return { page, nextCursor: more && last ? encodeCursor(last.id) : null };
}

/** Captures of the website itself: a scenario's screenshots live with their runs, not in galleries. */
const websiteCaptures = ne(screenshots.source, "scenario");

/** The overview: how many websites, and the latest captures with the name of the website each is of. */
export async function overviewData(db: Db) {
  const sites = await db.select({ n: count() }).from(websites).get();
  const latest = await db
    .select({ shot: screenshots, websiteName: websites.name })
    .from(screenshots)
    .innerJoin(websites, eq(websites.id, screenshots.websiteId))
    .where(websiteCaptures)
    .orderBy(desc(screenshots.id))
    .limit(OVERVIEW_SHOTS);
  return { websites: sites?.n ?? 0, latest };
}

/** Every website of the account (the plan caps them at 100) with its newest completed screenshot. */
export async function websitesWithLatest(db: Db) {
  const sites = await db.select().from(websites).orderBy(desc(websites.id));
  const latest = await db
    .select()
    .from(screenshots)
    .where(
      sql`${screenshots.id} IN (SELECT max(s.id) FROM screenshots s WHERE s.status = 'completed' AND s.source != 'scenario' GROUP BY s.website_id)`,
    );
  const byWebsite = new Map(latest.map((s) => [s.websiteId, s]));
  return sites.map((website) => ({ website, latest: byWebsite.get(website.id) ?? null }));
}

/** A website's page: the website, one page of its screenshots (newest first), its schedules and scenarios. */
export async function websitePageData(db: Db, websiteId: string, cursor: string | undefined) {
  const before = decodeCursor(cursor);
  const website = await db.select().from(websites).where(eq(websites.id, websiteId)).get();
  if (!website) throw notFound("Website");
  const shots = await db
    .select()
    .from(screenshots)
    .where(and(eq(screenshots.websiteId, websiteId), websiteCaptures, before ? lt(screenshots.id, before) : undefined))
    .orderBy(desc(screenshots.id))
    .limit(GALLERY_PAGE + 1);
  const { page, nextCursor } = paged(shots, GALLERY_PAGE);
  return {
    website,
    screenshots: page,
    nextCursor,
    schedules: await db.select().from(schedules).where(eq(schedules.websiteId, websiteId)).orderBy(desc(schedules.id)),
    scenarios: await db.select().from(scenarios).where(eq(scenarios.websiteId, websiteId)).orderBy(desc(scenarios.id)),
  };
}

/** A screenshot with its website's name and id, in one query (the screenshot page). */
export async function screenshotWithWebsite(db: Db, id: string) {
  const row = await db
    .select({
      shot: screenshots,
      website: { id: websites.id, name: websites.name, baselineScreenshotId: websites.baselineScreenshotId },
    })
    .from(screenshots)
    .innerJoin(websites, eq(websites.id, screenshots.websiteId))
    .where(eq(screenshots.id, id))
    .get();
  if (!row) throw notFound("Screenshot");
  return row;
}

/** Runs per page of a scenario's run history. */
export const RUNS_PAGE = 20;

/** `/app/scenarios`: every scenario with its website's name and its latest run. */
export async function scenariosPageData(db: Db) {
  const scens = await db.select().from(scenarios).orderBy(desc(scenarios.id));
  const sites = await db
    .select({ id: websites.id, name: websites.name, url: websites.url })
    .from(websites)
    .orderBy(desc(websites.id));
  const latest = await db
    .select()
    .from(runs)
    .where(sql`${runs.id} IN (SELECT max(r.id) FROM runs r GROUP BY r.scenario_id)`);
  const names = new Map(sites.map((w) => [w.id, w.name]));
  const byScenario = new Map(latest.map((r) => [r.scenarioId, r]));
  return {
    websites: sites,
    scenarios: scens.map((scenario) => ({
      scenario,
      website: names.get(scenario.websiteId) ?? "",
      latest: byScenario.get(scenario.id) ?? null,
    })),
  };
}

/** A scenario's page: the scenario, its website, one page of its runs (newest first). */
export async function scenarioPageData(db: Db, scenarioId: string, cursor: string | undefined) {
  const before = decodeCursor(cursor);
  const scenario = await db.select().from(scenarios).where(eq(scenarios.id, scenarioId)).get();
  const website = scenario && (await db.select().from(websites).where(eq(websites.id, scenario.websiteId)).get());
  if (!scenario || !website) throw notFound("Scenario");
  const history = await db
    .select()
    .from(runs)
    .where(and(eq(runs.scenarioId, scenarioId), before ? lt(runs.id, before) : undefined))
    .orderBy(desc(runs.id))
    .limit(RUNS_PAGE + 1);
  const { page, nextCursor } = paged(history, RUNS_PAGE);
  return { scenario, website, runs: page, nextCursor };
}

/** A run's page: the run, its scenario and website, and the screenshots it took. */
export async function runPageData(db: Db, runId: string) {
  const run = await db.select().from(runs).where(eq(runs.id, runId)).get();
  const scenario =
    run &&
    (await db
      .select({ id: scenarios.id, name: scenarios.name })
      .from(scenarios)
      .where(eq(scenarios.id, run.scenarioId))
      .get());
  const website =
    run &&
    (await db
      .select({ id: websites.id, name: websites.name })
      .from(websites)
      .where(eq(websites.id, run.websiteId))
      .get());
  if (!run || !scenario || !website) throw notFound("Run");
  const shots: Screenshot[] = await db.select().from(screenshots).where(eq(screenshots.runId, runId));
  return { run, scenario, website, screenshots: shots };
}

/** `/app/schedules` and the schedule form: every schedule, and the websites and scenarios one can target. */
export async function schedulesPageData(db: Db) {
  return {
    schedules: await db.select().from(schedules).orderBy(desc(schedules.id)),
    websites: await db.select({ id: websites.id, name: websites.name }).from(websites).orderBy(desc(websites.id)),
    scenarios: await db
      .select({ id: scenarios.id, name: scenarios.name, websiteId: scenarios.websiteId })
      .from(scenarios)
      .orderBy(desc(scenarios.id)),
  };
}

/**
 * The compare page: a screenshot, its website (name, baseline choice, approved baseline) and
 * the screenshot it was compared with, in one query; a baseline deleted since is null.
 */
export async function compareData(db: Db, id: string) {
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
    .leftJoin(baseline, eq(baseline.id, screenshots.baselineId))
    .where(eq(screenshots.id, id))
    .get();
  if (!row) throw notFound("Screenshot");
  return row;
}

/** What the account holds, counted (the account deletion page says what goes). */
export async function accountSummary(db: Db) {
  const n = async (
    table: typeof websites | typeof screenshots | typeof scenarios | typeof schedules | typeof webhooks,
  ) => (await db.select({ n: count() }).from(table).get())?.n ?? 0;
  return {
    websites: await n(websites),
    screenshots: await n(screenshots),
    scenarios: await n(scenarios),
    schedules: await n(schedules),
    webhooks: await n(webhooks),
  };
}
