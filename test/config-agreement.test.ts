import { describe, expect, it } from "vitest";
import { AccountObject, LoginThrottle } from "../src";
import { EVERY_MINUTE } from "../src/jobs/cron";
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

  it("agree on the cron triggers: one, every minute (the backstop; each account's alarm does the rest)", () => {
    const crons = /crons = \[([^\]]*)\]/.exec(wrangler)?.[1] ?? "";
    expect([...crons.matchAll(/"([^"]+)"/g)].map((m) => m[1])).toEqual([EVERY_MINUTE]);
  });

  it("bind the account's object and the login throttle to the classes the Worker exports", () => {
    const blocks = wrangler.split("[[durable_objects.bindings]]").slice(1);
    const bindings = Object.fromEntries(
      blocks.map((b) => [/^name = "([^"]+)"$/m.exec(b)?.[1], /^class_name = "([^"]+)"$/m.exec(b)?.[1]]),
    );
    // The classes the Worker exports (src/index.ts), by their own names.
    expect(bindings).toEqual({ ACCOUNT: AccountObject.name, LOGIN_THROTTLE: LoginThrottle.name });
    // Every class in use is a SQLite-backed one (created or renamed from one by a migration).
    const sqlite = [...wrangler.matchAll(/new_sqlite_classes = \[([^\]]*)\]/g)].flatMap((m) =>
      [...(m[1] ?? "").matchAll(/"([^"]+)"/g)].map((c) => c[1]),
    );
    const renamed = [...wrangler.matchAll(/\{ from = "([^"]+)", to = "([^"]+)" \}/g)];
    const deleted = [...wrangler.matchAll(/deleted_classes = \[([^\]]*)\]/g)].flatMap((m) =>
      [...(m[1] ?? "").matchAll(/"([^"]+)"/g)].map((c) => c[1]),
    );
    const classes = new Set(sqlite);
    for (const [, from, to] of renamed) {
      expect(classes.has(from)).toBe(true);
      classes.delete(from);
      classes.add(to);
    }
    for (const name of deleted) classes.delete(name);
    expect([...classes].sort()).toEqual([AccountObject.name, LoginThrottle.name].sort());
  });

  it("bundle the account database's migrations (.sql) as text", () => {
    const rules = wrangler.split("[[rules]]").slice(1);
    expect(rules.some((r) => /^type = "Text"$/m.test(r) && /^globs = \["\*\*\/\*\.sql"\]$/m.test(r))).toBe(true);
  });
});
