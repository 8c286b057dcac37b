import { z } from "zod";

/** The queues in wrangler.toml and how often a message is delivered (a test checks they agree). */
export const JOBS_QUEUE = "snaptrack-jobs";
export const DEAD_LETTER_QUEUE = "snaptrack-jobs-dlq";
/** Webhook deliveries and alerts, consumed apart from captures (a slow receiver never holds up a capture batch). */
export const WEBHOOKS_QUEUE = "snaptrack-webhooks";
/** Deliveries before a message goes to the dead-letter queue: 1 + wrangler.toml's `max_retries`. */
export const MAX_DELIVERIES = 6;

/** Every message on the jobs queue. One union, parsed at the consumer. */
export const JobMessageSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("capture"), screenshot_id: z.string(), account_id: z.string() }),
  z.object({ type: z.literal("run"), run_id: z.string(), account_id: z.string() }),
  /** Change detection of a completed capture against its baseline. */
  z.object({ type: z.literal("compare"), screenshot_id: z.string(), account_id: z.string() }),
  /** Delete R2 objects under a prefix (a deleted website or scenario), resuming page by page. */
  z.object({ type: z.literal("purge_prefix"), prefix: z.string().min(4) }),
  /**
   * One delivery attempt (on the webhooks queue): `attempt` is the delivery's attempt number
   * it makes, so a redelivered message for an attempt already made sends nothing.
   */
  z.object({
    type: z.literal("webhook"),
    delivery_id: z.string(),
    account_id: z.string(),
    attempt: z.number().int().min(1),
  }),
  /** One attempt of an alert delivery (email, Slack, Discord), on the webhooks queue like webhook attempts. */
  z.object({
    type: z.literal("alert"),
    delivery_id: z.string(),
    account_id: z.string(),
    attempt: z.number().int().min(1),
  }),
]);

export type JobMessage = z.input<typeof JobMessageSchema>;
export type ParsedJob = z.output<typeof JobMessageSchema>;
export type JobOf<T extends ParsedJob["type"]> = Extract<ParsedJob, { type: T }>;

/** Sends one job, retrying a transient send failure twice before giving up. */
export async function enqueue(queue: Queue<JobMessage>, message: JobMessage, delaySeconds?: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await queue.send(message, delaySeconds ? { delaySeconds } : undefined);
      return;
    } catch (err) {
      if (attempt >= 3) throw err;
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
}

/** Up to 100 messages per `sendBatch` (the Queues limit). */
export async function enqueueMany(queue: Queue<JobMessage>, messages: JobMessage[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 100) {
    await queue.sendBatch(messages.slice(i, i + 100).map((body) => ({ body })));
  }
}
