import { type CaptureWork, captureGaveUp, retryDelaySeconds, runCaptures } from "./capture";
import { JobMessageSchema, type JobOf, type ParsedJob } from "./messages";
import { purgePrefix } from "./purge";

/**
 * The queue consumer. Messages are parsed against the one union; a body that does not
 * parse can never succeed, so it is logged and acked rather than retried forever.
 * Captures in a batch share one browser session. Messages arriving on the dead-letter
 * queue exhausted their retries: their rows are marked failed so nothing stays queued.
 */
export async function handleQueue(batch: MessageBatch<unknown>, env: Env, _ctx: ExecutionContext): Promise<void> {
  const now = () => Date.now();
  const deadLetter = batch.queue.endsWith("-dlq");
  const captures: CaptureWork[] = [];
  const others: { message: Message<unknown>; job: ParsedJob }[] = [];
  for (const message of batch.messages) {
    const parsed = JobMessageSchema.safeParse(message.body);
    if (!parsed.success) {
      console.error(JSON.stringify({ level: "error", msg: "unparseable job", queue: batch.queue, id: message.id }));
      message.ack();
    } else if (parsed.data.type === "capture" && !deadLetter) {
      captures.push({ message, job: parsed.data });
    } else {
      others.push({ message, job: parsed.data });
    }
  }

  if (captures.length > 0) await runCaptures(env, captures, now);

  for (const { message, job } of others) {
    try {
      if (deadLetter) await onDeadLetter(env, job, now());
      else await runJob(env, job);
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

async function runJob(env: Env, job: ParsedJob): Promise<void> {
  switch (job.type) {
    case "purge_prefix":
      return purgePrefix(env, job as JobOf<"purge_prefix">);
    default:
      throw new Error(`no handler for ${job.type}`);
  }
}

async function onDeadLetter(env: Env, job: ParsedJob, now: number): Promise<void> {
  console.error(JSON.stringify({ level: "error", msg: "job dead-lettered", job }));
  if (job.type === "capture") await captureGaveUp(env, job, now);
}
