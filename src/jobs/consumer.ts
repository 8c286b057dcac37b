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
import { accountStub } from "../db/account-stub";
import { type Clock, systemClock } from "../lib/clock";
import { DEAD_LETTER_QUEUE, JobMessageSchema, type JobOf, type ParsedJob } from "../queue/messages";
import { type AlertWork, alertGaveUp, deliverAlert } from "./alert";
import { type CaptureWork, captureTask, claimCaptures, retryCapture, retryDelaySeconds } from "./capture";
import { compareJob, comparisonGaveUp } from "./compare";
import { purgePrefix } from "./purge";
import { claimRuns, type RunWork, retryRun, runTask } from "./run";
import { deliverWebhook, deliveryGaveUp, type WebhookWork } from "./webhook";

/**
 * The queue consumer. Messages are parsed against the one union; a body that does not
 * parse can never succeed, so it is logged and acked rather than retried forever.
 * Captures and scenario runs in a batch share one browser session. Messages arriving on
 * the dead-letter queue exhausted their retries: their rows end failed (or error).
 * Every job names its account: claims and results go to that account's object.
 * `clock` decides every time-based outcome (claims, quotas, retries).
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
  const alerts: AlertWork[] = [];
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
    else if (parsed.data.type === "alert") alerts.push({ message, job: parsed.data });
    else others.push({ message, job: parsed.data });
  }

  browserJobsArrived(captures.length + runs.length);
  // Webhook messages come on their own queue (never in a capture batch); attempts run side by side.
  if (deliveries.length > 0 || alerts.length > 0) await httpJobs(env, deliveries, alerts, now);
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
  const trace = new PhaseTrace();
  const captures = await trace.span("claim", () => claimCaptures(env, captureWork, now()));
  const runs = await claimRuns(env, runWork, now());
  if (captures.length === 0 && runs.length === 0) return;

  let browser: Browser;
  let keepAlive: number;
  try {
    keepAlive = browserKeepAlive(env);
    browser = await trace.span("browser", () => acquireBrowser(env.BROWSER, keepAlive));
  } catch (err) {
    const reason = new Error(`Browser unavailable: ${describeError(err)}`);
    for (const w of captures) await retryCapture(env, w, reason, now());
    for (const w of runs) await retryRun(env, w, reason, now());
    return;
  }
  const policy = guardPolicy(env);
  const tasks: BrowserTask[] = [
    ...captures.map((w) => captureTask(env, browser, policy, w, now, trace.fork())),
    ...runs.map((w) => ({ run: () => runTask(env, browser, policy, w, now) })),
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

/** Webhook and alert attempts (the webhooks queue), side by side: each is one request out. */
async function httpJobs(env: Env, webhooks: WebhookWork[], alerts: AlertWork[], now: () => number) {
  const work = [
    ...webhooks.map((w) => ({
      message: w.message,
      id: w.job.delivery_id,
      send: () => deliverWebhook(env, w.job, now),
    })),
    ...alerts.map((w) => ({ message: w.message, id: w.job.delivery_id, send: () => deliverAlert(env, w.job, now) })),
  ];
  await Promise.all(
    work.map(async ({ message, id, send }) => {
      try {
        const done = await send();
        if (done === "busy") message.retry({ delaySeconds: 30 });
        else message.ack();
      } catch (err) {
        console.error(JSON.stringify({ level: "error", msg: "delivery job failed", id, error: String(err) }));
        message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      }
    }),
  );
}

async function runJob(env: Env, job: ParsedJob, now: number): Promise<void> {
  switch (job.type) {
    case "compare":
      return compareJob(env, job as JobOf<"compare">, now);
    case "purge_prefix":
      return purgePrefix(env, job as JobOf<"purge_prefix">);
    default:
      throw new Error(`no handler for ${job.type}`);
  }
}

async function onDeadLetter(env: Env, job: ParsedJob, now: number): Promise<void> {
  console.error(JSON.stringify({ level: "error", msg: "job dead-lettered", type: job.type }));
  if (job.type === "capture")
    await accountStub(env.ACCOUNT, job.account_id).captureGaveUp(job.account_id, job.screenshot_id, now);
  if (job.type === "run") await accountStub(env.ACCOUNT, job.account_id).runGaveUp(job.account_id, job.run_id, now);
  if (job.type === "compare") await comparisonGaveUp(env, job, now);
  if (job.type === "webhook") await deliveryGaveUp(env, job, now);
  if (job.type === "alert") await alertGaveUp(env, job, now);
}
