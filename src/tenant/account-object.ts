import { DurableObject } from "cloudflare:workers";
import { eq, getTableColumns, sql } from "drizzle-orm";
import { createApp, defaultDeps } from "../app";
import type { AccountHost, Forwarded } from "../context";
import { accountDatabase, type Db, getDirectory, migrateAccountDatabase } from "../db/client";
import {
  type AlertDelivery,
  accounts,
  apiTokens,
  invitations,
  type Run,
  type Scenario,
  type Screenshot,
  screenshots,
  users,
  type WebhookDelivery,
  type Website,
} from "../db/schema";
import { MINUTE } from "../lib/clock";
import { type AccountSnapshot, Counters } from "../limits/counters";
import { PLANS } from "../limits/plans";
import { effectivePlan } from "../limits/subscription";
import type { KeptMail } from "../mail/mail";
import { keepMail } from "../mail/outbox";
import { Waiters } from "../queue/completion";
import { enqueue } from "../queue/messages";
import { channelByToken, type LinkedChannel, unsubscribeByToken, verifyByToken } from "../services/alert-channels";
import {
  type AlertClaim,
  type AlertOutcome,
  alertDeliveryGaveUp,
  claimAlertAttempt,
  recordAlertAttempt,
} from "../services/alerts";
import {
  afterCapture,
  type Claim,
  captureGaveUp,
  claimCapture,
  completeCapture,
  failScreenshot,
  requeueCapture,
  type StoredShot,
} from "../services/capture-jobs";
import {
  CONFIRM_DELAY_SECONDS,
  type ComparisonInput,
  comparisonInput,
  completeComparison,
  failComparison,
  screenshotExists,
  startScenarioComparison,
} from "../services/comparisons";
import {
  type AttemptClaim,
  type AttemptOutcome,
  claimAttempt,
  deliveryGaveUp,
  recordAttempt,
} from "../services/deliveries";
import {
  beginRunShot,
  claimRun,
  discardRunShots,
  finishRun,
  type RunClaim,
  requeueRun,
  runGaveUp,
} from "../services/run-jobs";
import type { AccountScope } from "../services/scope";
import type { ComparisonFigures } from "../services/screenshots";
import type { EventScope } from "../services/webhooks";
import { moveLegacyRows } from "./legacy-move";
import { AccountTimers } from "./timers";

/** `last_used_at` of the API token is written to D1 at most this often. */
const LAST_USED_PRECISION = MINUTE;

/**
 * One account's own database and everything that must be exact for it: an SQLite Durable
 * Object per account (named by the account id), so an account's data grows in its own 10 GB
 * and no query can reach another account's rows.
 *
 * - `serve`: every `/v1` call and dashboard page, once the Worker has authenticated it, runs
 *   here against this database (src/app.ts in its account role): one call per request.
 * - the account's request window and capture quotas (`Counters`), exact under concurrency.
 * - requests waiting for a job (`Prefer: wait`), woken when the job's end is recorded here.
 * - the queue consumer claims and finishes captures, runs, comparisons and deliveries here.
 * - its alarm runs the account's schedules, retention and stale-job sweep (./timers.ts).
 *
 * The schema is migrated when the object starts (drizzle-kit migrations, before any request).
 */
export class AccountObject extends DurableObject<Env> implements AccountHost {
  readonly db: Db;
  private readonly counters: Counters;
  private readonly waiters = new Waiters();
  private readonly timers: AccountTimers;
  private accountId: string | undefined;
  private account: AccountSnapshot | null | undefined;
  private generation = 0;
  private app: ReturnType<typeof createApp> | undefined;
  private readonly requests = new WeakMap<Request, Forwarded>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = accountDatabase(ctx.storage);
    this.counters = new Counters(ctx.storage.kv);
    this.timers = new AccountTimers(ctx, env, this.db, () => this.scopeFor());
    ctx.blockConcurrencyWhile(async () => {
      await migrateAccountDatabase(this.db);
      this.accountId = ctx.storage.kv.get<string>("account_id");
    });
  }

  /**
   * Every call names its account: the first one is remembered (alarms have no caller) and
   * rows of an account that used the shared D1 tables are moved in before anything is served.
   */
  private async enter(accountId: string): Promise<void> {
    if (this.accountId === accountId && this.ctx.storage.kv.get("directory_checked")) return;
    if (this.accountId !== undefined && this.accountId !== accountId) {
      throw new Error(`object of account ${this.accountId} called for ${accountId}`);
    }
    await this.ctx.blockConcurrencyWhile(async () => {
      if (this.accountId === undefined) {
        this.ctx.storage.kv.put("account_id", accountId);
        this.accountId = accountId;
      }
      if (this.ctx.storage.kv.get("directory_checked")) return;
      await moveLegacyRows(this.env.DB, this.ctx.storage, accountId);
      this.ctx.storage.kv.put("directory_checked", true);
    });
  }

  private get id(): string {
    if (!this.accountId) throw new Error("account object used before any call named its account");
    return this.accountId;
  }

  // ---- HTTP: the account's side of src/app.ts --------------------------------------------

  /** One request the Worker authenticated: the app's routes and pages against this database. */
  async serve(request: Request, forwarded: Forwarded): Promise<Response> {
    await this.enter(forwarded.accountId);
    this.app ??= createApp(defaultDeps(), this);
    this.requests.set(request, forwarded);
    try {
      return await this.app.fetch(request, this.env, {
        waitUntil: (p) => this.ctx.waitUntil(p),
        passThroughOnException: () => {},
        props: undefined,
      });
    } finally {
      if (request.method !== "GET" && request.method !== "HEAD") {
        // A signed-in person's write may change the directory row this object keeps (plan,
        // token, team): read it again on the next request. API calls never change it.
        if (forwarded.caller.kind === "session") this.invalidate();
        // What a write changed (a schedule, a job) may move the alarm; reads change nothing.
        await this.rearm(forwarded.now);
      }
    }
  }

  forwarded(request: Request): Forwarded {
    const forwarded = this.requests.get(request);
    if (!forwarded) throw new Error("request was not forwarded by the Worker");
    return forwarded;
  }

  scope(): AccountScope {
    return this.scopeFor();
  }

  private scopeFor(): AccountScope {
    return {
      accountId: this.id,
      db: this.db,
      quota: {
        // The plan as the directory has it (loaded by the request's gate, or by the job's call).
        consume: (captures: number, now: number) =>
          this.account
            ? this.counters.consume(this.account, captures, now)
            : { ok: false, period: "day", limit: 0, used: 0, resetAt: now },
        usage: (now: number) => this.counters.usage(now),
      },
      completions: this.waiters,
    };
  }

  gate(snapshot: AccountSnapshot | null, tokenHash: string, now: number) {
    const result = this.counters.gate(snapshot, tokenHash, now);
    if (result.outcome === "ok" && snapshot) this.touch(snapshot, now);
    return result;
  }

  /** The account's directory row and token hash, cached here until the directory changes. */
  async snapshot(): Promise<AccountSnapshot | null> {
    if (this.account !== undefined) return this.account;
    const generation = this.generation;
    const row = await getDirectory(this.env.DB)
      .select({
        ...getTableColumns(accounts),
        tokenHash: apiTokens.tokenHash,
        lastUsedAt: apiTokens.lastUsedAt,
        users: sql<number>`(SELECT count(*) FROM ${users} WHERE ${users.accountId} = ${accounts.id})`,
        invitations: sql<string>`(SELECT json_group_array(${invitations.expiresAt}) FROM ${invitations} WHERE ${invitations.accountId} = ${accounts.id})`,
      })
      .from(accounts)
      .leftJoin(apiTokens, eq(apiTokens.accountId, accounts.id))
      .where(eq(accounts.id, this.id))
      .get();
    const snapshot: AccountSnapshot | null = row
      ? (({ invitations: pending, ...rest }) => ({ ...rest, invitationExpiries: JSON.parse(pending) as number[] }))(row)
      : null;
    // An invalidate() that arrived while D1 answered makes this read stale: do not keep it.
    if (generation === this.generation) this.account = snapshot;
    return snapshot;
  }

  /** The directory changed (plan, token, name): the next request reads it again. */
  invalidate(): void {
    this.generation += 1;
    this.account = undefined;
  }

  /**
   * The account was deleted (its directory rows are gone): everything stored here goes — its
   * database, counters and alarm. The empty schema is put back, so a job still in flight for
   * it finds nothing (and ends) instead of failing on a missing table.
   */
  async erase(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    await migrateAccountDatabase(this.db);
    this.invalidate();
  }

  /** `last_used_at`, written to D1 at most once a minute, off the request's path. */
  private touch(account: AccountSnapshot, now: number): void {
    if (account.lastUsedAt !== null && account.lastUsedAt >= now - LAST_USED_PRECISION) return;
    account.lastUsedAt = now;
    this.ctx.waitUntil(
      this.env.DB.prepare("UPDATE api_tokens SET last_used_at = ? WHERE account_id = ? AND token_hash = ?")
        .bind(now, account.id, account.tokenHash)
        .run()
        .then(() => undefined),
    );
  }

  // ---- Calls from the Worker outside a request -------------------------------------------

  /** Capture usage (the log-in answer shows it). */
  async usage(accountId: string, now: number) {
    await this.enter(accountId);
    return this.counters.usage(now);
  }

  /** A message the Worker sent for this account (a password reset), kept in its local outbox. */
  async keepMail(accountId: string, mail: KeptMail, now: number): Promise<void> {
    await this.enter(accountId);
    await keepMail(this.db, mail, now);
  }

  /** The directory row changed outside this object (a plan change the Worker made). */
  async refresh(accountId: string): Promise<void> {
    await this.enter(accountId);
    this.invalidate();
  }

  // ---- Jobs: the queue consumer claims and finishes work here ------------------------------

  /** What a job's events need: the account's plan as of `now` (the row's `expires_at`). */
  private async events(accountId: string, now: number): Promise<EventScope> {
    await this.enter(accountId);
    const account = await this.snapshot();
    return {
      db: this.db,
      accountId,
      queue: this.env.WEBHOOKS,
      plan: account ? effectivePlan(account, now) : PLANS.free,
    };
  }

  /** After a job's final state change: a request waiting for it answers, and the alarm moves. */
  private async finished(id: string, now: number) {
    this.waiters.notify(id);
    await this.rearm(now);
  }

  async claimCapture(accountId: string, id: string, now: number): Promise<Claim> {
    await this.enter(accountId);
    const claim = await claimCapture(this.db, id, now);
    // A claim that goes stale (its worker died) is swept 3 minutes on, before a lost message would be.
    if ("claimed" in claim) await this.rearm(now);
    return claim;
  }

  /** A website capture stored: the row completes, its comparison starts, `screenshot.completed` goes out. */
  async completeCapture(
    accountId: string,
    row: Pick<Screenshot, "id" | "attempts" | "websiteId" | "scheduleId">,
    shot: StoredShot,
    now: number,
  ): Promise<boolean> {
    const events = await this.events(accountId, now);
    const done = await completeCapture(this.db, row, shot, now);
    if (done) {
      const full = await this.db.select().from(screenshots).where(eq(screenshots.id, row.id)).get();
      if (full) await afterCapture(events, this.env.JOBS, full, now);
    }
    await this.finished(row.id, now);
    return done;
  }

  async failCapture(accountId: string, id: string, attempts: number, error: string, now: number): Promise<void> {
    const events = await this.events(accountId, now);
    await failScreenshot(this.db, id, error, now, ["processing"], attempts, events);
    await this.finished(id, now);
  }

  async requeueCapture(accountId: string, id: string, attempts: number, error: string, now: number): Promise<void> {
    await this.enter(accountId);
    await requeueCapture(this.db, id, attempts, error, now);
  }

  /** Dead-lettered: the capture ends `failed` with its last reason. */
  async captureGaveUp(accountId: string, id: string, now: number): Promise<void> {
    await captureGaveUp(await this.events(accountId, now), id, now);
    await this.finished(id, now);
  }

  async claimRun(accountId: string, id: string, now: number): Promise<RunClaim> {
    const claim = await claimRun(this.db, id, now, await this.events(accountId, now));
    if ("done" in claim) await this.finished(id, now);
    return claim;
  }

  async requeueRun(accountId: string, id: string, error: string, now: number): Promise<void> {
    await this.enter(accountId);
    await requeueRun(this.db, id, error, now);
  }

  /** A run's `screenshot` step: quota reserved and the row written before the page is shot. */
  async beginRunShot(
    accountId: string,
    start: { runId: string; scenario: Scenario; website: Website },
    step: { index: number; name: string; compare: boolean },
    now: number,
  ) {
    await this.enter(accountId);
    await this.snapshot(); // the quota follows the account's plan
    return beginRunShot(this.db, this.scopeFor().quota, start, step, now);
  }

  /** A run's screenshot stored (reported with its run, so no event of its own). */
  async completeRunShot(
    accountId: string,
    row: Pick<Screenshot, "id" | "attempts" | "websiteId" | "scheduleId">,
    shot: StoredShot,
    now: number,
  ): Promise<boolean> {
    await this.enter(accountId);
    return completeCapture(this.db, row, shot, now);
  }

  /**
   * A run's screenshot with `compare`: marked pending against the latest passed run's
   * same-named screenshot. Queued here unless the run compares it itself (`inline`).
   */
  async startScenarioComparison(
    accountId: string,
    shot: { id: string; name: string },
    run: { id: string; scenarioId: string },
    inline: boolean,
    now: number,
  ): Promise<boolean> {
    await this.enter(accountId);
    const started = await startScenarioComparison(this.db, shot, run, now);
    if (started && !inline)
      await enqueue(this.env.JOBS, { type: "compare", screenshot_id: shot.id, account_id: accountId });
    return started;
  }

  /** A run ends (once); `run.finished` goes out and requests waiting for it answer. */
  async finishRun(accountId: string, run: Pick<Run, "id" | "startedAt">, fields: Partial<Run>, now: number) {
    const done = await finishRun(this.db, run, fields, now, await this.events(accountId, now));
    await this.finished(run.id, now);
    return done !== undefined;
  }

  /** A run whose page reached a disallowed address keeps none of its screenshots. */
  async discardRunShots(accountId: string, runId: string): Promise<void> {
    await this.enter(accountId);
    await discardRunShots(this.db, this.env.SHOTS, runId);
  }

  async runGaveUp(accountId: string, id: string, now: number): Promise<void> {
    await runGaveUp(await this.events(accountId, now), id, now);
    await this.finished(id, now);
  }

  async comparisonInput(accountId: string, id: string, now: number): Promise<ComparisonInput> {
    await this.enter(accountId);
    return comparisonInput(this.db, id, now);
  }

  async completeComparison(
    accountId: string,
    id: string,
    changed: boolean,
    figures: ComparisonFigures,
    diffKey: string | null,
    now: number,
  ): Promise<boolean> {
    const events = await this.events(accountId, now);
    const delay = Number(this.env.CONFIRM_DELAY_SECONDS ?? CONFIRM_DELAY_SECONDS);
    const done = await completeComparison(events, id, changed, figures, diffKey, now, {
      scope: this.scopeFor(),
      jobs: this.env.JOBS,
      delaySeconds: Number.isFinite(delay) && delay >= 0 ? delay : CONFIRM_DELAY_SECONDS,
    });
    await this.rearm(now);
    return done;
  }

  async failComparison(accountId: string, id: string, error: string, now: number): Promise<void> {
    await this.enter(accountId);
    await failComparison(this.db, id, error, now);
    await this.rearm(now);
  }

  async screenshotExists(accountId: string, id: string): Promise<boolean> {
    await this.enter(accountId);
    return screenshotExists(this.db, id);
  }

  async claimAttempt(accountId: string, deliveryId: string, attempt: number, now: number): Promise<AttemptClaim> {
    await this.enter(accountId);
    return claimAttempt(this.db, deliveryId, attempt, now);
  }

  async recordAttempt(
    accountId: string,
    claimed: WebhookDelivery,
    outcome: AttemptOutcome,
    retryInSeconds: number | null,
    now: number,
  ) {
    await this.enter(accountId);
    return recordAttempt(this.db, this.env.WEBHOOKS, accountId, claimed, outcome, retryInSeconds, now);
  }

  async deliveryGaveUp(accountId: string, deliveryId: string, now: number): Promise<void> {
    await this.enter(accountId);
    await deliveryGaveUp(this.db, deliveryId, now);
  }

  async claimAlertAttempt(accountId: string, deliveryId: string, attempt: number, now: number): Promise<AlertClaim> {
    await this.enter(accountId);
    return claimAlertAttempt(this.db, deliveryId, attempt, now);
  }

  async recordAlertAttempt(
    accountId: string,
    claimed: AlertDelivery,
    outcome: AlertOutcome,
    retryInSeconds: number | null,
    now: number,
  ) {
    await this.enter(accountId);
    return recordAlertAttempt(this.db, this.env.WEBHOOKS, accountId, claimed, outcome, retryInSeconds, now);
  }

  async alertDeliveryGaveUp(accountId: string, deliveryId: string, now: number): Promise<void> {
    await this.enter(accountId);
    await alertDeliveryGaveUp(this.db, deliveryId, now);
  }

  // ---- Links in alert emails (no session: the token is the authority) ---------------------

  /** The channel an address-confirmation or unsubscribe link names, to show before it is used. */
  async alertLink(accountId: string, kind: "verify" | "unsubscribe", token: string): Promise<LinkedChannel | null> {
    await this.enter(accountId);
    return channelByToken(this.db, kind, token);
  }

  /** Uses an address-confirmation (`verify`) or one-click unsubscribe link; null when it names nothing. */
  async useAlertLink(
    accountId: string,
    kind: "verify" | "unsubscribe",
    token: string,
    now: number,
  ): Promise<LinkedChannel | null> {
    await this.enter(accountId);
    return kind === "verify" ? verifyByToken(this.db, token, now) : unsubscribeByToken(this.db, token, now);
  }

  // ---- Timers: schedules, retention, stale jobs ------------------------------------------

  /** Sets the alarm for what is due next (after anything that may have changed it). */
  private async rearm(now: number): Promise<void> {
    await this.timers.rearm(now, await this.snapshot());
  }

  override async alarm(): Promise<void> {
    if (!this.accountId) return; // never called: nothing of its own to do
    await this.enter(this.accountId);
    await this.timers.run(Date.now(), await this.snapshot(), () => this.reread());
  }

  /** The minute cron's backstop for a lost alarm, and tests with a fixed clock. */
  async wake(accountId: string, now: number) {
    await this.enter(accountId);
    return this.timers.run(now, await this.snapshot(), () => this.reread());
  }

  /**
   * The timers changed the directory row (a downgrade took effect): read it again before they
   * go on, so the capture quota of the schedules they fire next follows the account's plan
   * (without a row the quota refuses every capture).
   */
  private async reread(): Promise<AccountSnapshot | null> {
    this.invalidate();
    return this.snapshot();
  }
}
