import { JobMessageSchema, type JobOf, type ParsedJob } from "./messages";
import { purgePrefix } from "./purge";

/** Backoff for transient failures: 10 s, 20 s, 40 s … capped at 5 minutes. */
export const retryDelaySeconds = (attempts: number) => Math.min(300, 10 * 2 ** Math.max(0, attempts - 1));

type Handled = { type: ParsedJob["type"]; message: Message<unknown>; job: ParsedJob };

/**
 * The queue consumer. Messages are parsed against the one union; a body that does not
 * parse can never succeed, so it is logged and acked rather than retried forever.
 * Messages arriving on the dead-letter queue exhausted their retries: their rows are
 * marked failed so nothing stays queued or processing.
 */
export async function handleQueue(batch: MessageBatch<unknown>, env: Env, _ctx: ExecutionContext): Promise<void> {
  const deadLetter = batch.queue.endsWith("-dlq");
  const jobs: Handled[] = [];
  for (const message of batch.messages) {
    const parsed = JobMessageSchema.safeParse(message.body);
    if (!parsed.success) {
      console.error(JSON.stringify({ level: "error", msg: "unparseable job", queue: batch.queue, id: message.id }));
      message.ack();
      continue;
    }
    jobs.push({ type: parsed.data.type, message, job: parsed.data });
  }

  for (const { message, job } of jobs) {
    try {
      if (deadLetter) {
        await onDeadLetter(env, job);
        message.ack();
        continue;
      }
      await runJob(env, job);
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
      throw new Error(`no handler for ${job.type} yet`);
  }
}

async function onDeadLetter(_env: Env, job: ParsedJob): Promise<void> {
  console.error(JSON.stringify({ level: "error", msg: "job dead-lettered", job }));
}
