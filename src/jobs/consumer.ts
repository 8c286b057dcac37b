import type { Browser } from "@cloudflare/puppeteer";
import {
  acquireBrowser,
  browserJobsArrived,
  browserKeepAlive,
  browserPages,
  browserWorkEnding,
  closeIdleBrowser,
  releaseBrowser,
} from "../capture/browser";
import { drainContexts } from "../capture/contexts";
import { describeError } from "../capture/errors";
import { type BrowserTask, runBrowserTasks } from "../capture/lanes";
import { PhaseTrace } from "../capture/trace";
import { guardPolicy } from "../config";
import { getDb } from "../db/client";
import { type Clock, systemClock } from "../lib/clock";
import { durableObjectLimiter } from "../limits/account-limiter";
import { DEAD_LETTER_QUEUE, enqueue, JobMessageSchema, type JobOf, type ParsedJob } from "../queue/messages";
import {
  type CaptureWork,
  captureGaveUp,
  captureTask,
  claimCaptures,
  retryCapture,
  retryDelaySeconds,
} from "./capture";
import { compareJob, comparisonGaveUp } from "./compare";
import { dispatchDue } from "./dispatch";
import { purgePrefix } from "./purge";
import { purgeExpired } from "./retention";
import { claimRuns, type RunWork, retryRun, runGaveUp, runTask } from "./run";
import { sweepStale } from "./sweep";
import { deliverWebhook, deliveryGaveUp, type WebhookWork } from "./webhook";

/**
 * The queue consumer. Messages are parsed against the one union; a body that does not
 * parse can never succeed, so it is logged and acked rather than retried forever.
 * Captures and scenario runs in a batch share one browser session. Messages arriving on
 * the dead-letter queue exhausted their retries: their rows end failed (or error).
 * `clock` decides every time-based outcome (claims, quotas, dispatch, sweep, retention).
 */
export async function handleQueue(
  batch: MessageBatch<unknown>,
  env: Env,
  _ctx: ExecutionContext,
  clock: Clock = systemClock,
): Promise<void> {
  const now = () => clock.now();
  const deadLetter = batch.queue === DEAD_LETTER_QUEUE;
  const captures: CaptureWork[] = [];
  const runs: RunWork[] = [];
  const deliveries: WebhookWork[] = [];
  const others: { message: Message<unknown>; job: ParsedJob }[] = [];
  for (const message of batch.messages) {
    const parsed = JobMessageSchema.safeParse(message.body);
    if (!parsed.success) {
      console.error(JSON.stringify({ level: "error", msg: "unparseable job", queue: batch.queue, id: message.id }));
      message.ack();
    } else if (deadLetter) others.push({ message, job: parsed.data });
    else if (parsed.data.type === "capture") captures.push({ message, job: parsed.data });
    else if (parsed.data.type === "run") runs.push({ message, job: parsed.data });
    else if (parsed.data.type === "webhook") deliveries.push({ message, job: parsed.data });
    else others.push({ message, job: parsed.data });
  }

  browserJobsArrived(captures.length + runs.length);
  // Webhook messages come on their own queue (never in a capture batch); attempts run side by side.
  if (deliveries.length > 0) await webhookJobs(env, deliveries, now);
  if (captures.length > 0 || runs.length > 0) await browserJobs(env, captures, runs, now);
  // Locally (keep-alive 0): a browser kept for jobs that then needed none closes here.
  await closeIdleBrowser(env.BROWSER);

  for (const { message, job } of others) {
    try {
      if (deadLetter) await onDeadLetter(env, job, now());
      else await runJob(env, job, now());
      message.ack();
    } catch (err) {
      console.error(
        JSON.stringify({
          level: "error",
          msg: "job failed",
          type: job.type,
          attempts: message.attempts,
          error: String(err),
        }),
      );
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
}

/** One browser session for the whole batch; pages, not browsers, are opened and closed. */
async function browserJobs(env: Env, captureWork: CaptureWork[], runWork: RunWork[], now: () => number) {
  const db = getDb(env.DB);
  const trace = new PhaseTrace();
  const captures = await trace.span("claim", () => claimCaptures(db, captureWork, now()));
  const runs = await claimRuns(db, runWork, now(), env.WEBHOOKS);
  if (captures.length === 0 && runs.length === 0) return;

  let browser: Browser;
  let keepAlive: number;
  try {
    keepAlive = browserKeepAlive(env);
    browser = await trace.span("browser", () => acquireBrowser(env.BROWSER, keepAlive));
  } catch (err) {
    const reason = new Error(`Browser unavailable: ${describeError(err)}`);
    for (const w of captures) await retryCapture(db, w, reason, now());
    for (const w of runs) await retryRun(db, w, reason, now());
    return;
  }
  const policy = guardPolicy(env);
  const limiter = durableObjectLimiter(env.LIMITER);
  const tasks: BrowserTask[] = [
    ...captures.map((w) => captureTask(env, db, browser, policy, w, now, trace.fork())),
    ...runs.map((w) => ({ run: () => runTask(env, db, browser, policy, limiter, w, now) })),
  ];
  let afterwards: Promise<void> = Promise.resolve();
  try {
    ({ afterwards } = await runBrowserTasks(tasks, browserPages(env), () => browserWorkEnding(browser)));
    // Locally the next batch comes only after this one returns: the browser stays until every
    // job is told, so a capture sent meanwhile is handed it rather than paying a launch.
    if (keepAlive === 0) await afterwards;
  } finally {
    // Otherwise it goes as soon as its work is done (to a batch waiting for it); storing does not need it.
    await drainContexts(browser);
    await releaseBrowser(browser);
  }
  await afterwards;
}

async function webhookJobs(env: Env, work: WebhookWork[], now: () => number) {
  const db = getDb(env.DB);
  await Promise.all(
    work.map(async ({ message, job }) => {
      try {
        const done = await deliverWebhook(env, db, job, now);
        if (done === "busy") message.retry({ delaySeconds: 30 });
        else message.ack();
      } catch (err) {
        console.error(
          JSON.stringify({ level: "error", msg: "webhook job failed", id: job.delivery_id, error: String(err) }),
        );
        message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      }
    }),
  );
}

/** Continuations stop after this many rounds; the next cron tick picks up anything left. */
const MAX_ROUNDS = 50;

async function runJob(env: Env, job: ParsedJob, now: number): Promise<void> {
  switch (job.type) {
    case "compare":
      return compareJob(env, job as JobOf<"compare">, now);
    case "purge_prefix":
      return purgePrefix(env, job as JobOf<"purge_prefix">);
    case "dispatch": {
      const result = await dispatchDue(env, durableObjectLimiter(env.LIMITER), now);
      if (result.more && job.round < MAX_ROUNDS) await enqueue(env.JOBS, { type: "dispatch", round: job.round + 1 });
      return;
    }
    case "sweep": {
      const swept = await sweepStale(env, now);
      if (swept.more && job.round < MAX_ROUNDS) await enqueue(env.JOBS, { type: "sweep", round: job.round + 1 });
      return;
    }
    case "retention": {
      const pass = await purgeExpired(env, now);
      if (pass.more && job.round < MAX_ROUNDS) await enqueue(env.JOBS, { type: "retention", round: job.round + 1 });
      return;
    }
    default:
      throw new Error(`no handler for ${job.type}`);
  }
}

async function onDeadLetter(env: Env, job: ParsedJob, now: number): Promise<void> {
  console.error(JSON.stringify({ level: "error", msg: "job dead-lettered", type: job.type }));
  if (job.type === "capture") await captureGaveUp(env, job, now);
  if (job.type === "run") await runGaveUp(getDb(env.DB), job, now, env.WEBHOOKS);
  if (job.type === "compare") await comparisonGaveUp(env, job, now);
  if (job.type === "webhook") await deliveryGaveUp(getDb(env.DB), job, now);
}
