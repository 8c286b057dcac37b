import { DurableObject } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { getDb } from "../db/client";
import { runs, screenshots } from "../db/schema";

/** What a request can wait for, and the statuses in which it has finished. */
export type JobKind = "screenshot" | "run";
const FINISHED: Record<JobKind, readonly string[]> = {
  screenshot: ["completed", "failed"],
  run: ["passed", "failed", "error"],
};

/** Whether the job's row has finished (a row deleted meanwhile has nothing left to wait for). */
async function finished(d1: D1Database, kind: JobKind, id: string): Promise<boolean> {
  const db = getDb(d1);
  const row =
    kind === "screenshot"
      ? await db.select({ status: screenshots.status }).from(screenshots).where(eq(screenshots.id, id)).get()
      : await db.select({ status: runs.status }).from(runs).where(eq(runs.id, id)).get();
  return row === undefined || FINISHED[kind].includes(row.status);
}

/**
 * Where a request waiting for a job (`Prefer: wait`) is woken when the job ends. One object
 * per account; the job runs in another invocation (the queue consumer), which calls
 * `notify` after its final state transition. Waiters live in memory only: an object with
 * a request waiting on it is not evicted, and one without waiters has nothing to keep.
 *
 * `wait` registers first and reads the row after, so a job that finished before the wait
 * began is seen by that read and one that finishes after it wakes the waiter: no D1 polling.
 */
export class JobWatch extends DurableObject<Env> {
  private readonly waiters = new Map<string, Set<() => void>>();

  /** True once the job has finished, false when `ms` passed first. */
  async wait(kind: JobKind, id: string, ms: number): Promise<boolean> {
    let wake = () => {};
    const woken = new Promise<true>((resolve) => {
      wake = () => resolve(true);
    });
    const set = this.waiters.get(id) ?? new Set();
    set.add(wake);
    this.waiters.set(id, set);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      if (await finished(this.env.DB, kind, id)) return true;
      return await Promise.race([
        woken,
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), ms);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      set.delete(wake);
      if (set.size === 0 && this.waiters.get(id) === set) this.waiters.delete(id);
    }
  }

  /** Wakes every request waiting for job `id`. */
  notify(id: string): void {
    for (const wake of this.waiters.get(id) ?? []) wake();
  }
}

/** What the API and the jobs need from the objects; tests may substitute a failing one. */
export interface Completions {
  /** True once the job has finished, false at the deadline. */
  wait(accountId: string, kind: JobKind, id: string, ms: number): Promise<boolean>;
  /** Wakes the job's waiters. Never throws: a lost notification only makes a waiter answer 202. */
  notify(accountId: string, id: string): Promise<void>;
}

export function jobCompletions(ns: DurableObjectNamespace<JobWatch>): Completions {
  const stub = (accountId: string) => ns.get(ns.idFromName(accountId));
  return {
    wait: async (accountId, kind, id, ms) => (await stub(accountId).wait(kind, id, ms)) as boolean,
    notify: async (accountId, id) => {
      try {
        await stub(accountId).notify(id);
      } catch (err) {
        console.error(JSON.stringify({ level: "error", msg: "completion notice failed", id, error: String(err) }));
      }
    },
  };
}
