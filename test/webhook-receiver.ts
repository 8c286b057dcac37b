import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { expect, vi } from "vitest";
import { handleQueue } from "../src/jobs/consumer";
import type { Clock } from "../src/lib/clock";
import { type JobMessage, WEBHOOKS_QUEUE } from "../src/queue/messages";
import { FIXTURE } from "./helpers";

/** What the fixture receiver (test/fixtures/pages.mjs `/__hook`) got. */
export interface Received {
  method: string;
  headers: Record<string, string>;
  body: string;
}

export interface HookBody {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
  truncated?: boolean;
}

/** A receiver of its own on the loopback fixture server, answering `codes` in turn. */
export function receiver(options: { codes?: number[]; retryAfter?: string; delayMs?: number } = {}) {
  const t = `hook-${crypto.randomUUID()}`;
  const query = new URLSearchParams({ t });
  if (options.codes) query.set("codes", options.codes.join(","));
  if (options.retryAfter) query.set("retry_after", options.retryAfter);
  if (options.delayMs) query.set("delay_ms", String(options.delayMs));
  return { t, url: `${FIXTURE()}/__hook?${query}`, received: () => received(t) };
}

export async function received(t: string): Promise<Received[]> {
  return (await (await fetch(`${FIXTURE()}/__hooks?t=${t}`)).json()) as Received[];
}

/** Waits (real queue, real consumer) until the receiver has had `n` requests. */
export async function receivedAtLeast(t: string, n: number, timeout = 30_000): Promise<Received[]> {
  let got: Received[] = [];
  await vi.waitFor(
    async () => {
      got = await received(t);
      if (got.length < n) throw new Error(`${got.length} of ${n} received`);
    },
    { timeout, interval: 100 },
  );
  return got;
}

/**
 * Verifies a request with the `standardwebhooks` package (not our own code) and returns the
 * parsed body. The library checks the timestamp against its clock: `at` (the job's clock)
 * stands in for it when a test's clock is not the wall clock.
 */
export function verify(secret: string, req: Received, at?: number): HookBody {
  if (at === undefined) return new StandardWebhook(secret).verify(req.body, req.headers) as HookBody;
  vi.useFakeTimers({ toFake: ["Date"] });
  try {
    vi.setSystemTime(at);
    return new StandardWebhook(secret).verify(req.body, req.headers) as HookBody;
  } finally {
    vi.useRealTimers();
  }
}

/** A queue that keeps what is sent (and the delay asked for) and delivers nothing. */
export function heldQueue() {
  const sent: { body: JobMessage; delaySeconds?: number }[] = [];
  const queue = {
    send: async (body: JobMessage, options?: { delaySeconds?: number }) => {
      sent.push({ body, delaySeconds: options?.delaySeconds });
    },
    sendBatch: async (messages: { body: JobMessage; delaySeconds?: number }[]) => {
      sent.push(...messages.map((m) => ({ body: m.body, delaySeconds: m.delaySeconds })));
    },
  } as unknown as Queue;
  /** Takes the messages sent so far. */
  const take = () => sent.splice(0, sent.length);
  return { queue, sent, take };
}

/** Messages through the consumer as the webhooks queue delivers them, at `clock`; returns acks/retries. */
export async function consume(clock: Clock, webhooks: Queue, ...bodies: JobMessage[]) {
  const batch = createMessageBatch<JobMessage>(
    WEBHOOKS_QUEUE,
    bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(clock.now()), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await handleQueue(batch, { ...env, WEBHOOKS: webhooks }, ctx, clock);
  const result = await getQueueResult(batch, ctx);
  expect(result.retryMessages).toEqual([]);
  return result;
}
