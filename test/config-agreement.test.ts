import { describe, expect, it } from "vitest";
import { DAILY, EVERY_MINUTE } from "../src/jobs/cron";
import { DEAD_LETTER_QUEUE, JOBS_QUEUE, MAX_DELIVERIES, WEBHOOKS_QUEUE } from "../src/queue/messages";
import wrangler from "../wrangler.toml?raw";

/** The facts wrangler.toml states for the platform and the code states for itself agree. */
describe("wrangler.toml and the code", () => {
  const consumer = (queue: string) => {
    const blocks: string[] = wrangler.split("[[queues.consumers]]").slice(1);
    const block = blocks.find((b) => new RegExp(`^queue = "${queue}"$`, "m").test(b));
    if (!block) throw new Error(`no consumer for ${queue} in wrangler.toml`);
    return block;
  };

  it("agree on the queues and how often a job is delivered before it is dead-lettered", () => {
    const jobs = consumer(JOBS_QUEUE);
    expect(jobs).toContain(`dead_letter_queue = "${DEAD_LETTER_QUEUE}"`);
    expect(Number(/max_retries = (\d+)/.exec(jobs)?.[1])).toBe(MAX_DELIVERIES - 1);
    expect(consumer(DEAD_LETTER_QUEUE)).not.toContain("dead_letter_queue");
  });

  it("give webhook deliveries a queue of their own (a slow receiver never shares a capture batch)", () => {
    expect(wrangler).toMatch(new RegExp(`binding = "WEBHOOKS"\nqueue = "${WEBHOOKS_QUEUE}"`));
    const webhooks = consumer(WEBHOOKS_QUEUE);
    expect(webhooks).toContain(`dead_letter_queue = "${DEAD_LETTER_QUEUE}"`);
    expect(Number(/max_retries = (\d+)/.exec(webhooks)?.[1])).toBe(MAX_DELIVERIES - 1);
    expect(WEBHOOKS_QUEUE).not.toBe(JOBS_QUEUE);
  });

  it("agree on the cron triggers", () => {
    const crons = /crons = \[([^\]]*)\]/.exec(wrangler)?.[1] ?? "";
    expect([...crons.matchAll(/"([^"]+)"/g)].map((m) => m[1])).toEqual([EVERY_MINUTE, DAILY]);
  });
});
